import type { IncomingMessage, ServerResponse } from 'node:http';
import { envelope, isRecord, parseJson, readBody, sendJson } from './http-io.ts';
import { isOnWhatsApp, latencyOf } from './instances.ts';
import { phoneJid } from './jids.ts';
import { handleSendText } from './messages.ts';
import { pause, type SimulatorState } from './state.ts';
import { handleWebhookSet, webhookView } from './webhook-settings.ts';

/** One of the Evolution API v2 routes the simulator speaks, for a named instance. */
export interface EvolutionRoute {
  action: 'sendText' | 'connectionState' | 'whatsappNumbers' | 'webhookSet' | 'webhookFind';
  instance: string;
}

/** `/{group}/{action}/{instanceName}` with the method Evolution expects; undefined for anything else. */
export const matchEvolutionRoute = (method: string, parts: string[]): EvolutionRoute | undefined => {
  if (parts.length !== 3 || !parts[2]) return undefined;
  const [group, action, instance] = parts;
  if (method === 'POST' && group === 'message' && action === 'sendText') return { action, instance };
  if (method === 'GET' && group === 'instance' && action === 'connectionState') return { action, instance };
  if (method === 'POST' && group === 'chat' && action === 'whatsappNumbers') return { action, instance };
  if (method === 'POST' && group === 'webhook' && action === 'set') return { action: 'webhookSet', instance };
  if (method === 'GET' && group === 'webhook' && action === 'find')
    return { action: 'webhookFind', instance };
  return undefined;
};

/** `POST /chat/whatsappNumbers/{instance}`: whether each number is on WhatsApp, and its JID. */
const handleWhatsappNumbers = (sim: SimulatorState, res: ServerResponse, raw: string): void => {
  const parsed = parseJson(raw);
  const value = parsed.ok ? parsed.value : undefined;
  const numbers = isRecord(value) ? value.numbers : undefined;
  // This route answers its own errors without the `response` wrapper.
  if (!Array.isArray(numbers) || numbers.some((n) => typeof n !== 'string')) {
    const message =
      isRecord(value) && 'numbers' in value
        ? 'numbers is not of a type(s) array'
        : 'instance requires property "numbers"';
    sendJson(res, 400, { status: 400, error: 'Bad Request', message: [[message]] });
    return;
  }
  sendJson(
    res,
    200,
    (numbers as string[]).map((number) => {
      const digits = number.replace(/\D/g, '');
      return { exists: isOnWhatsApp(sim, digits), jid: phoneJid(digits), number };
    }),
  );
};

/** An Evolution API call: Evolution's guards in its order, the latency, then the route. */
export const handleEvolution = async (
  sim: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  route: EvolutionRoute,
): Promise<void> => {
  const raw = await readBody(req);
  const record = sim.instances.get(route.instance);
  // Evolution's instance guard runs before its auth guard: a 404 leaks existence, not the key.
  if (!record) {
    return sendJson(
      res,
      404,
      envelope(404, 'Not Found', [`The "${route.instance}" instance does not exist`]),
    );
  }
  const key = req.headers.apikey;
  if (typeof key !== 'string' || (key !== sim.apiKey && key !== record.apiKey)) {
    return sendJson(res, 401, envelope(401, 'Unauthorized', 'Unauthorized'));
  }
  await pause(sim, latencyOf(sim, record));
  if (route.action === 'sendText') return handleSendText(sim, req, res, record, raw);
  if (route.action === 'whatsappNumbers') return handleWhatsappNumbers(sim, res, raw);
  if (route.action === 'webhookSet') return handleWebhookSet(res, record, raw);
  if (route.action === 'webhookFind') return sendJson(res, 200, webhookView(record));
  sendJson(res, 200, { instance: { instanceName: record.name, state: record.state } });
};
