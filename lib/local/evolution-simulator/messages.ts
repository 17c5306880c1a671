import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, envelope, isRecord, parseJson, sendJson } from './http-io.ts';
import { isOnWhatsApp, nextFailure, viewOf } from './instances.ts';
import { brazilianJidUser, phoneJid } from './jids.ts';
import { reply } from './replies.ts';
import { type InstanceRecord, pause, type SimulatorState } from './state.ts';
import type { SimFailureKind, SimSentMessage } from './types.ts';
import { emit, track } from './webhooks.ts';

/** The id WhatsApp Web clients (Baileys) give outgoing messages: `3EB0` + 18 upper-case hex digits. */
const newMessageId = (): string => `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;

/** The error pages a reverse proxy in front of Evolution answers with (not Evolution's envelope). */
const PROXY_PAGES: Record<'proxy_502' | 'proxy_504' | 'proxy_html', { status: number; page: string }> = {
  proxy_502: {
    status: 502,
    page: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
  },
  proxy_504: {
    status: 504,
    page: '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
  },
  proxy_html: {
    status: 500,
    page: '<!DOCTYPE html>\n<html><head><title>Internal Server Error | Cloudflare</title></head><body><h1>Internal server error</h1><p>Error code 500</p></body></html>\n',
  },
};

const sendProxyPage = (res: ServerResponse, kind: keyof typeof PROXY_PAGES): void => {
  if (res.destroyed || res.writableEnded) return;
  const { status, page } = PROXY_PAGES[kind];
  res.writeHead(status, { 'content-type': 'text/html' });
  res.end(page);
};

/**
 * The messages Evolution's jsonschema validation of textMessageSchema produces: a property's
 * `description` when it has one, else the validator's stack without `instance.`.
 */
const sendTextSchemaErrors = (body: unknown): string[] => {
  if (!isRecord(body)) return ['instance is not of a type(s) object'];
  const errors: string[] = [];
  // Evolution only checks the type; the simulator also wants digits, to catch our own formatting bugs.
  if ('number' in body && (typeof body.number !== 'string' || !/^\d+$/.test(body.number))) {
    errors.push('Invalid format');
  }
  if ('text' in body && typeof body.text !== 'string') errors.push('text is not of a type(s) string');
  if ('delay' in body && !Number.isInteger(body.delay)) errors.push('Enter a value in milliseconds');
  if (!('number' in body)) errors.push('instance requires property "number"');
  if (!('text' in body)) errors.push('instance requires property "text"');
  return errors;
};

interface SendTextBody {
  number: string;
  text: string;
  delay?: number;
}

/** A valid sendText body, or the 400 answer Evolution gives for it. */
const readSendTextBody = (raw: string): { body: SendTextBody } | { invalid: unknown } => {
  const parsed = parseJson(raw);
  if (!parsed.ok) return { invalid: badRequest([parsed.error]) };
  const errors = sendTextSchemaErrors(parsed.value);
  // Schema failures come as one array of messages inside the message array (nested).
  if (errors.length > 0) return { invalid: badRequest([errors]) };
  const body = parsed.value as SendTextBody;
  if (body.text.trim() === '') return { invalid: badRequest(['Text is required']) };
  return { body };
};

/** A sent message as Evolution shows it: the 201 answer of sendText and the `send.message` webhook. */
const sentMessagePayload = (record: InstanceRecord, message: SimSentMessage) => ({
  key: { remoteJid: message.remoteJid, fromMe: true, id: message.id },
  pushName: 'Simulator',
  status: 'PENDING',
  message: { conversation: message.text },
  messageType: 'conversation',
  messageTimestamp: Math.floor(Date.parse(message.at) / 1000),
  instanceId: record.instanceId,
  source: 'web',
});

/** The receipts of a send (`messages.update`), each after its delay; `reorder` swaps DELIVERY_ACK and READ. */
const scheduleReceipts = (sim: SimulatorState, record: InstanceRecord, message: SimSentMessage): void => {
  const { serverAckMs, deliveryAckMs, readMs, reorder } = record.webhook;
  const schedule: Array<[string, number | null]> = [
    ['SERVER_ACK', serverAckMs],
    ['DELIVERY_ACK', reorder ? readMs : deliveryAckMs],
    ['READ', reorder ? deliveryAckMs : readMs],
  ];
  for (const [status, delay] of schedule) {
    if (delay === null) continue;
    void track(sim, async () => {
      await pause(sim, delay);
      return emit(sim, record, 'messages.update', {
        messageId: randomUUID(),
        keyId: message.id,
        remoteJid: message.remoteJid,
        fromMe: true,
        participant: null,
        status,
        instanceId: record.instanceId,
      });
    });
  }
};

/** A phone that answers every message automatically (`setAutoReply`) answers this one, unquoted. */
const scheduleAutoReply = (sim: SimulatorState, record: InstanceRecord, number: string): void => {
  const autoReply = sim.autoReplies.get(brazilianJidUser(number));
  if (!autoReply || record.webhookUrl === undefined) return;
  void track(sim, async () => {
    await pause(sim, autoReply.afterMs);
    return (await reply(sim, { instance: record.name, number, text: autoReply.text })).status;
  });
};

/** After an accepted send: `send.message` at once, then the receipts on their schedule (unless `receipts` is false). */
const emitForSend = (
  sim: SimulatorState,
  record: InstanceRecord,
  message: SimSentMessage,
  receipts: boolean,
): void => {
  if (record.webhookUrl === undefined) return;
  const sent = sentMessagePayload(record, message);
  void emit(sim, record, 'send.message', sent);
  if (record.webhook.echoFromMe) void emit(sim, record, 'messages.upsert', { ...sent, status: 'SERVER_ACK' });
  if (receipts) scheduleReceipts(sim, record, message);
};

/** Logs a send as gone out, tells `onAccepted`, and starts its webhooks. */
const accept = (
  sim: SimulatorState,
  record: InstanceRecord,
  number: string,
  text: string,
  receipts = true,
): SimSentMessage => {
  const message: SimSentMessage = {
    instance: record.name,
    number,
    text,
    id: newMessageId(),
    remoteJid: phoneJid(number),
    at: new Date(sim.now()).toISOString(),
  };
  sim.log.push(message);
  sim.onAccepted?.({ ...message }, viewOf(record));
  emitForSend(sim, record, message, receipts);
  scheduleAutoReply(sim, record, number);
  return message;
};

/** Every accepted send so far, oldest first (copies). */
export const sentMessages = (sim: SimulatorState): SimSentMessage[] => sim.log.map((m) => ({ ...m }));

const notOnWhatsAppAnswer = (number: string) =>
  badRequest([{ jid: phoneJid(number), exists: false, number }]);

/** Answers a send the way a scripted failure says (some of them send the message first). */
const answerScriptedFailure = (
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  record: InstanceRecord,
  body: SendTextBody,
  failure: Exclude<SimFailureKind, 'no_receipts'>,
): void => {
  switch (failure) {
    case 'http500':
      sendJson(res, 500, envelope(500, 'Internal Server Error', 'Internal Server Error'));
      return;
    case 'connection_closed':
      sendJson(res, 500, envelope(500, 'Internal Server Error', 'Connection Closed'));
      return;
    case 'rate_overlimit':
      sendJson(res, 400, badRequest(['Error: rate-overlimit']));
      return;
    case 'not_on_whatsapp':
      sendJson(res, 400, notOnWhatsAppAnswer(body.number));
      return;
    case 'reset':
      req.socket.destroy();
      return;
    case 'timeout':
      // The message goes out but the answer never comes: the client cannot know it was sent.
      accept(sim, record, body.number, body.text);
      return;
    case 'proxy_502':
    case 'proxy_504':
    case 'proxy_html':
      // The message goes out, then the proxy in front loses Evolution's answer and sends its own.
      accept(sim, record, body.number, body.text);
      sendProxyPage(res, failure);
      return;
  }
};

/** `POST /message/sendText/{instance}`, after the guards: validation, scripted failures, then the send. */
export const handleSendText = async (
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  record: InstanceRecord,
  raw: string,
): Promise<void> => {
  const read = readSendTextBody(raw);
  if ('invalid' in read) return sendJson(res, 400, read.invalid);
  const { body } = read;
  const failure = nextFailure(sim, record);
  if (failure !== undefined && failure !== 'no_receipts') {
    return answerScriptedFailure(sim, req, res, record, body, failure);
  }
  // Baileys' socket is not usable unless open; Evolution surfaces that as this 500.
  if (record.state !== 'open') {
    return sendJson(res, 500, envelope(500, 'Internal Server Error', 'Connection Closed'));
  }
  if (!isOnWhatsApp(sim, body.number)) return sendJson(res, 400, notOnWhatsAppAnswer(body.number));
  // Evolution shows "typing..." for `delay` ms inside the HTTP call, then sends.
  await pause(sim, body.delay ?? 0);
  const message = accept(sim, record, body.number, body.text, failure !== 'no_receipts');
  sendJson(res, 201, sentMessagePayload(record, message));
};
