import { z } from 'zod';
import type { ConnectionState } from '../../domain/tenant-types.ts';
import type {
  GatewayConnection,
  GatewayEvent,
  GatewayIgnored,
  GatewayReceipt,
  GatewayReceiptStatus,
  GatewayReply,
  GatewayWebhook,
} from '../../ports/gateway-events.ts';
import type { WebhookIgnoredReason } from '../../ports/metrics.ts';
import { isGroupOrBroadcastJid, phoneOfJid } from './evolution-jid.ts';

/**
 * Evolution's webhooks read into GatewayEvents (shared/evolution-contract.md, "Webhooks Evolution
 * sends to us"), as a tolerant reader: only the body's `event` (else the by-events path suffix),
 * `data` and `instance` are read, and every other envelope field (apikey, sender, date_time,
 * destination, server_url, extra keys) may be null, absent or of any type. What cannot be used
 * becomes an `ignored` event with its reason, never an error: Evolution never retries a 4xx, so
 * refusing a webhook would only lose it.
 */

/** Where Evolution posts an instance's events; the tenant is in the path because instance ids are per tenant. */
const WEBHOOK_BASE_PATH = '/api/v1/billing/webhooks/evolution';

/** The webhook URL of one of our instances under a public base URL (what `instance webhook` configures). */
export const evolutionWebhookUrl = (publicBaseUrl: string, tenantId: string, instanceId: string): string =>
  `${publicBaseUrl.replace(/\/+$/, '')}${WEBHOOK_BASE_PATH}/${encodeURIComponent(tenantId)}/${encodeURIComponent(instanceId)}`;

/**
 * Evolution's webhook envelope, for the OpenAPI document only: the reader below is more tolerant
 * than any schema (a non-string `event` falls back to the path suffix), so nothing here is enforced.
 * Descriptions are `.meta` (plain zod) so this adapter needs no OpenAPI extension.
 */
export const evolutionWebhookSchema = z
  .looseObject({
    event: z
      .string()
      .optional()
      .meta({
        description:
          'Nome do evento (`messages.update`, `messages.upsert`, `connection.update`, `send.message`); ' +
          'sem ele vale o sufixo do caminho (modo "por eventos").',
        example: 'messages.update',
      }),
    instance: z.unknown().optional().meta({ description: 'Nome da instância na Evolution (só para logs).' }),
    data: z.unknown().optional().meta({ description: 'O conteúdo do evento.' }),
    date_time: z
      .unknown()
      .optional()
      .meta({
        description:
          'Hora local do servidor com sufixo `Z` (não é UTC); só se usa sua posição no quarto de hora. ' +
          'O cabeçalho `X-Timestamp` (2.4) tem precedência.',
      }),
    destination: z.unknown().optional().meta({ description: 'Ignorado.' }),
    sender: z.unknown().optional().meta({ description: 'Ignorado (ausente antes da primeira conexão).' }),
    server_url: z.unknown().optional().meta({ description: 'Ignorado.' }),
    apikey: z.unknown().optional().meta({ description: 'Ignorado (`null` na maioria dos servidores 2.x).' }),
  })
  .meta({
    id: 'EvolutionWebhook',
    example: {
      event: 'messages.update',
      instance: 'demo',
      data: {
        keyId: '3EB0A1B2C3D4E5F6A7B8C9',
        remoteJid: '5511999999999@s.whatsapp.net',
        fromMe: true,
        status: 'READ',
        instanceId: 'b7e4c1d2-0f4a-4c55-9d61-2f0b3c9e8a10',
      },
      destination: 'https://billing.example.com/api/v1/billing/webhooks/evolution/demo/demo',
      date_time: '2025-12-17T07:00:00.000Z',
      sender: '5511900000000@s.whatsapp.net',
      server_url: 'https://evolution.example.com',
      apikey: null,
    },
  });

/** What the HTTP layer knows of one webhook besides its parsed body. */
export interface EvolutionWebhookContext {
  /** The by-events path suffix (`messages-update`), used when the body names no event. */
  pathEvent?: string;
  /** Lower-case request headers (2.4's `x-timestamp` dates the event). */
  headers?: Record<string, string>;
  /** Why the body could not be read as JSON (the body is then undefined). */
  bodyProblem?: string;
  /** When it arrived: the latest instant the event can have happened. */
  receivedAt: Date;
}

/**
 * `date_time` is the server's wall-clock time with a `Z` suffix (not UTC unless the server runs in
 * UTC), and zone offsets are whole quarter hours: only its position within a quarter hour is
 * trusted, which gives the event's age as long as it is under 7.5 minutes.
 */
const QUARTER_HOUR_MS = 15 * 60_000;
/** 2.4's `X-Timestamp` (epoch ms, one per event, repeated by retries) is trusted within this age. */
const MAX_HEADER_AGE_MS = 86_400_000;
/** At most this much of a value Evolution sent goes into a log line or an event's detail. */
const DETAIL_CHARS = 60;

const READ_EVENTS = ['messages.update', 'messages.upsert', 'connection.update'];

/** `messages.update` statuses, with Baileys' numeric ones, which some Evolution versions pass through. */
const RECEIPT_BY_STATUS: ReadonlyMap<string, GatewayReceiptStatus> = new Map([
  ['SERVER_ACK', 'server_ack'],
  ['DELIVERY_ACK', 'delivered'],
  ['READ', 'read'],
  ['PLAYED', 'read'],
  ['ERROR', 'failed'],
  ['0', 'failed'],
  ['2', 'server_ack'],
  ['3', 'delivered'],
  ['4', 'read'],
  ['5', 'read'],
]);
/** Statuses Evolution sends that we know and do not track (still on the way); any other is unknown. */
const UNTRACKED_STATUSES: ReadonlySet<string> = new Set(['PENDING', '1']);
/** What a failed contact keeps as its error. */
const FAILURE_REPORTED = 'WhatsApp informou falha na entrega (ERROR)';

const CONNECTION_STATES: ReadonlyMap<string, Exclude<ConnectionState, 'unknown'>> = new Map([
  ['open', 'open'],
  ['connecting', 'connecting'],
  ['close', 'close'],
  // Only in webhooks: WhatsApp refused the session; for sending it is the same as closed.
  ['refused', 'close'],
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const shown = (value: unknown): string =>
  (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, DETAIL_CHARS);
const ignored = (reason: WebhookIgnoredReason, detail: string): GatewayIgnored => ({
  kind: 'ignored',
  reason,
  detail,
});

/** `messages.update`, `MESSAGES_UPDATE` and the by-events suffix `messages-update` all name one event. */
export const normalizeEventName = (name: string): string => name.trim().toLowerCase().replace(/[_-]/g, '.');

/**
 * When Evolution saw the event: 2.4's `X-Timestamp` header when it is a plausible epoch in ms, else
 * the envelope's `date_time` read within a quarter hour (see QUARTER_HOUR_MS), else now. Never
 * after now; retries repeat the same instant, so its age tells a retry from a first attempt.
 */
export const eventInstant = (dateTime: unknown, xTimestamp: string | undefined, now: Date): Date => {
  const nowMs = now.getTime();
  const header = xTimestamp !== undefined && /^\d{10,16}$/.test(xTimestamp.trim()) ? Number(xTimestamp) : NaN;
  if (Number.isFinite(header) && header > nowMs - MAX_HEADER_AGE_MS) return new Date(Math.min(header, nowMs));
  const wallClock = typeof dateTime === 'string' ? Date.parse(dateTime) : NaN;
  if (!Number.isFinite(wallClock)) return now;
  // The age within a quarter hour, in [-7.5, 7.5) minutes: a small negative age is clock skew.
  const age =
    ((((nowMs - wallClock) % QUARTER_HOUR_MS) + QUARTER_HOUR_MS * 1.5) % QUARTER_HOUR_MS) -
    QUARTER_HOUR_MS / 2;
  return new Date(nowMs - Math.max(0, age));
};

/**
 * Reads one Evolution webhook (its parsed body, or undefined when it was not JSON):
 * - `messages.update` of our sends (`fromMe`): SERVER_ACK, DELIVERY_ACK, READ/PLAYED, ERROR
 *   become receipts; PENDING, an update of an incoming message, DELETED or any unknown status is ignored;
 * - `messages.upsert` from a person: a reply, from the JID that is a phone (`remoteJid`,
 *   `remoteJidAlt` or `senderPn`: a privacy `@lid` sender may carry its phone in either), quoting
 *   `contextInfo.stanzaId`; one typed on the linked phone (`fromMe`), a group's or a broadcast's is ignored;
 * - `connection.update`: the state (`refused` counts as `close`);
 * - `send.message` (our own send echoed) and any other event: ignored.
 */
export const readEvolutionWebhook = (body: unknown, context: EvolutionWebhookContext): GatewayWebhook => {
  const envelope = isRecord(body) ? body : undefined;
  const event = typeof envelope?.event === 'string' ? envelope.event : context.pathEvent;
  const label = { event: shown(event ?? null), instance: shown(envelope?.instance ?? null) };
  if (!envelope) {
    const problem = context.bodyProblem
      ? `body is not JSON (${context.bodyProblem})`
      : 'body is not a JSON object';
    return { label, events: [ignored('unreadable_body', problem)] };
  }
  return { label, events: [readEvent(envelope, event, context)] };
};

const readEvent = (
  envelope: Record<string, unknown>,
  event: string | undefined,
  context: EvolutionWebhookContext,
): GatewayEvent => {
  const name = normalizeEventName(event ?? '');
  if (name === 'send.message') return ignored('own_send', 'our own send, recorded by the sender');
  if (!READ_EVENTS.includes(name))
    return ignored('unknown_event', `event not used: ${shown(event ?? '(none)')}`);
  if (!isRecord(envelope.data)) return ignored('missing_data', `${name} without a data object`);
  const at = eventInstant(envelope.date_time, context.headers?.['x-timestamp'], context.receivedAt);
  if (name === 'messages.update') return readReceipt(envelope.data, at);
  if (name === 'messages.upsert') return readReply(envelope.data, at);
  return readConnection(envelope.data);
};

const readReceipt = (data: Record<string, unknown>, at: Date): GatewayReceipt | GatewayIgnored => {
  if (data.fromMe === false) return ignored('incoming_message_receipt', 'receipt of an incoming message');
  const status =
    typeof data.status === 'string' || typeof data.status === 'number' ? String(data.status) : '';
  const receipt = RECEIPT_BY_STATUS.get(status);
  if (!receipt && UNTRACKED_STATUSES.has(status))
    return ignored('status_not_tracked', `status not tracked: ${status}`);
  // DELETED (2.3's fallback for a status it does not know), or anything newer.
  if (!receipt) return ignored('unknown_status', `unknown status: ${shown(data.status ?? null)}`);
  const messageId = text(data.keyId) ?? text(record(data.key).id);
  if (!messageId) return ignored('missing_data', 'receipt without a message id');
  return {
    kind: 'receipt',
    messageId,
    status: receipt,
    at,
    error: receipt === 'failed' ? FAILURE_REPORTED : undefined,
  };
};

/** The text of an incoming message (plain or extended text, a caption); '' for media without one. */
const messageText = (message: Record<string, unknown>): string =>
  text(message.conversation) ??
  text(record(message.extendedTextMessage).text) ??
  text(record(message.imageMessage).caption) ??
  text(record(message.videoMessage).caption) ??
  text(record(message.buttonsResponseMessage).selectedDisplayText) ??
  text(record(message.listResponseMessage).title) ??
  '';

/**
 * WhatsApp's `messageTimestamp` (unix seconds; a number, a digit string, or the `{low, high}` of a
 * 64-bit Long as Baileys may serialize it), never after `at`; undefined when absent or implausible.
 */
const sentInstant = (value: unknown, at: Date): Date | undefined => {
  const long = record(value);
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{9,11}$/.test(value.trim())
        ? Number(value)
        : typeof long.low === 'number' && (long.high === 0 || long.high === undefined)
          ? long.low >>> 0
          : Number.NaN;
  if (!Number.isInteger(seconds) || seconds < 1e9 || seconds >= 1e11) return undefined;
  return new Date(Math.min(seconds * 1000, at.getTime()));
};

const readReply = (data: Record<string, unknown>, at: Date): GatewayReply | GatewayIgnored => {
  const key = record(data.key);
  const messageId = text(key.id);
  if (!messageId) return ignored('missing_data', 'message without an id');
  // Typed on the linked phone, or our own send echoed: not a reply.
  if (key.fromMe === true) return ignored('sent_from_linked_phone', 'sent by us');
  const jids = [key.remoteJid, key.remoteJidAlt, key.senderPn].filter(
    (j): j is string => typeof j === 'string',
  );
  if (jids.some(isGroupOrBroadcastJid)) return ignored('group_or_broadcast', 'group or broadcast');
  const fromPhone = jids.map(phoneOfJid).find((p) => p !== undefined);
  const message = record(data.message);
  return {
    kind: 'reply',
    messageId,
    fromPhone,
    sender: fromPhone ?? jids[0] ?? 'unknown',
    text: messageText(message),
    contentType: text(data.messageType),
    quotedMessageId:
      text(record(data.contextInfo).stanzaId) ??
      text(record(record(message.extendedTextMessage).contextInfo).stanzaId),
    at,
    sentAt: sentInstant(data.messageTimestamp, at),
  };
};

const readConnection = (data: Record<string, unknown>): GatewayConnection | GatewayIgnored => {
  const state = CONNECTION_STATES.get(String(data.state ?? ''));
  if (!state)
    return ignored('unknown_connection_state', `connection state not tracked: ${shown(data.state ?? null)}`);
  return { kind: 'connection', state, reportedAs: `connection.update: ${String(data.state)}` };
};
