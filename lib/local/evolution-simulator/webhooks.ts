import { createHmac } from 'node:crypto';
import { isRecord } from './http-io.ts';
import { type InstanceRecord, pause, type SimulatorState } from './state.ts';

/** Evolution's `jwt_key` option: an HS256 JWT valid for 10 minutes (its WebhookController). */
const webhookJwt = (key: string, atMs: number): string => {
  const now = Math.floor(atMs / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iat: now, exp: now + 600, app: 'evolution', action: 'webhook' })}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
};

/** `messages.update` -> `MESSAGES_UPDATE`, the name in a webhook's `events` list. */
const eventConstant = (event: string): string => event.toUpperCase().replace(/\./g, '_');

/** Runs webhook work in the background, counted by `pendingWebhooks` until it settles. */
export const track = <T>(sim: SimulatorState, work: () => Promise<T>): Promise<T | null> => {
  const task: Promise<T | null> = work()
    .catch(() => null)
    .finally(() => sim.inFlight.delete(task));
  sim.inFlight.add(task);
  return task;
};

/** The webhook URL, or with "webhook by events" `<url>/<event-kebab>`. */
const webhookUrlFor = (record: InstanceRecord, event: string): string => {
  const base = record.webhookUrl as string;
  return record.webhookByEvents ? `${base.replace(/\/+$/, '')}/${event.replace(/\./g, '-')}` : base;
};

/**
 * The body of every attempt: a retry is the same event again. The envelope is a 2.3 server's:
 * `date_time` is local wall-clock time with a Z, `apikey` is null unless the server exposes tokens.
 */
const envelopeBody = (
  sim: SimulatorState,
  record: InstanceRecord,
  event: string,
  url: string,
  data: Record<string, unknown>,
): string => {
  const offsetMinutes = record.webhook.utcOffsetMinutes ?? -new Date().getTimezoneOffset();
  return JSON.stringify({
    event,
    instance: record.name,
    data,
    destination: url,
    date_time: new Date(sim.now() + offsetMinutes * 60_000).toISOString(),
    sender: `5511900000000@s.whatsapp.net`,
    server_url: sim.serverUrl,
    apikey: record.webhook.exposeApiKey ? (record.apiKey ?? sim.apiKey) : null,
  });
};

/** `data.keyId` (receipts) or `data.key.id` (messages), for the delivery log. */
const messageIdOf = (data: Record<string, unknown>): string | undefined => {
  const key = isRecord(data.key) ? data.key.id : undefined;
  return typeof data.keyId === 'string' ? data.keyId : typeof key === 'string' ? key : undefined;
};

/** One POST: its HTTP status, null when it failed (refused, timed out), `aborted` when the simulator closed. */
const postOnce = async (
  sim: SimulatorState,
  record: InstanceRecord,
  url: string,
  body: string,
): Promise<number | null | 'aborted'> => {
  // A fresh JWT for every attempt, as its `iat` says when it was made.
  const { jwt_key: jwtKey, ...headers } = record.webhookHeaders;
  if (jwtKey !== undefined) headers.Authorization = `Bearer ${webhookJwt(jwtKey, sim.now())}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.any([sim.lifetime.signal, AbortSignal.timeout(5000)]),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return sim.lifetime.signal.aborted ? 'aborted' : null;
  }
};

/** Posts one webhook as Evolution does, retrying 5xx and network errors; the final status. */
const deliver = async (
  sim: SimulatorState,
  record: InstanceRecord,
  event: string,
  data: Record<string, unknown>,
): Promise<number | null> => {
  const url = webhookUrlFor(record, event);
  const body = envelopeBody(sim, record, event, url, data);
  const messageId = messageIdOf(data);
  const { maxRetries, retryBackoffMs } = record.webhook;
  let status: number | null = null;
  for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
    const outcome = await postOnce(sim, record, url, body);
    if (outcome === 'aborted') return null;
    status = outcome;
    sim.deliveries.push({
      instance: record.name,
      event,
      url,
      attempt,
      status,
      at: new Date(sim.now()).toISOString(),
      ...(messageId ? { messageId } : {}),
    });
    // Evolution retries only what may succeed later: timeouts and server errors.
    if (status !== null && status < 500) return status;
    // Doubling up to a second, or to the first wait when that is longer (an Evolution-like 5 s).
    if (attempt <= maxRetries)
      await pause(sim, Math.min(Math.max(1000, retryBackoffMs), retryBackoffMs * 2 ** (attempt - 1)));
  }
  return status;
};

/**
 * Posts an event to the instance's webhook (twice when `duplicate`), if it has one and wants it;
 * resolves with the final status of the first post (null: not posted, or never got through).
 */
export const emit = (
  sim: SimulatorState,
  record: InstanceRecord,
  event: string,
  data: Record<string, unknown>,
): Promise<number | null> => {
  if (record.webhookUrl === undefined) return Promise.resolve(null);
  if (record.webhookEvents.length > 0 && !record.webhookEvents.includes(eventConstant(event)))
    return Promise.resolve(null);
  const first = track(sim, () => deliver(sim, record, event, data));
  if (record.webhook.duplicate) void track(sim, () => deliver(sim, record, event, data));
  return first;
};
