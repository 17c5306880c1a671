import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real HTTP server that speaks the part of Evolution API v2 we use (shared/evolution-contract.md),
 * for local runs and integration tests: sendText, connectionState, whatsappNumbers, webhook/set, with
 * the same guard order, error envelopes, ids and Brazilian 9th-digit quirk; and, for instances with a
 * webhook, Evolution's webhooks (send.message, messages.update receipts, scripted replies,
 * connection.update) with its envelope, headers (incl. the `jwt_key` JWT) and retries on 5xx.
 * Test control lives under `/_sim/` (no apikey) and as methods on the returned object.
 */

export type SimInstanceState = 'open' | 'connecting' | 'close';

/** Scripted outcomes for the next sends (see `injectFailures`). */
export type SimFailureKind =
  | 'http500'
  | 'connection_closed'
  | 'timeout'
  | 'rate_overlimit'
  | 'not_on_whatsapp'
  | 'reset'
  /** The message goes out, then a reverse proxy in front answers 502 Bad Gateway (nginx HTML). */
  | 'proxy_502'
  /** The message goes out, then the proxy gives up waiting: 504 Gateway Time-out (nginx HTML). */
  | 'proxy_504'
  /** The message goes out, then a 500 HTML page without Evolution's envelope (Cloudflare). */
  | 'proxy_html'
  // Accepted (201 PENDING) but never acknowledged: no SERVER_ACK, DELIVERY_ACK or READ webhooks.
  | 'no_receipts';

export interface SimInstanceSeed {
  name: string;
  /** Default `open`. */
  state?: SimInstanceState;
  /** The instance's own token, accepted besides the global key (as Evolution does). */
  apiKey?: string;
  /** Where this instance posts its webhooks (none when absent). */
  webhookUrl?: string;
  /** Static headers of every webhook; `jwt_key` becomes `Authorization: Bearer <HS256 JWT>`, as in Evolution. */
  webhookHeaders?: Record<string, string>;
  /** Evolution event names to post (`MESSAGES_UPDATE`, ...); empty = all. */
  webhookEvents?: string[];
  /** Post to `<url>/<event-kebab>` (Evolution's "webhook by events"). */
  webhookByEvents?: boolean;
  /** How this instance's webhooks misbehave (merged into the current behaviour). */
  webhook?: Partial<SimWebhookBehaviour>;
}

/** Knobs of an instance's webhooks, to test a receiver against Evolution's real habits. */
export interface SimWebhookBehaviour {
  /** After an accepted send, when each receipt is posted (ms); null = never. Default 20, 40, 60. */
  serverAckMs: number | null;
  deliveryAckMs: number | null;
  readMs: number | null;
  /** Post every webhook twice, concurrently. */
  duplicate: boolean;
  /** READ goes out before DELIVERY_ACK (their delays swap). */
  reorder: boolean;
  /** Also post each send as a `messages.upsert` with `fromMe: true` (as typed on the linked phone). */
  echoFromMe: boolean;
  /** Retries after a 5xx or a network error (Evolution: 10). */
  maxRetries: number;
  /** First wait before a retry, doubling, capped at 1 s (Evolution waits 5 s .. 300 s). */
  retryBackoffMs: number;
  /**
   * The envelope's `apikey` is the instance's token, as with `AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES=true`;
   * by default it is `null`, as real 2.x servers send it.
   */
  exposeApiKey: boolean;
  /**
   * The server's zone offset (minutes east of UTC) for `date_time`, which Evolution writes as local
   * wall-clock time with a `Z` suffix; null = this process's zone, as a real server does.
   */
  utcOffsetMinutes: number | null;
}

export const DEFAULT_WEBHOOK_BEHAVIOUR: SimWebhookBehaviour = {
  serverAckMs: 20,
  deliveryAckMs: 40,
  readMs: 60,
  duplicate: false,
  reorder: false,
  echoFromMe: false,
  maxRetries: 10,
  retryBackoffMs: 20,
  exposeApiKey: false,
  utcOffsetMinutes: null,
};

/** One attempt to post a webhook. */
export interface SimWebhookDelivery {
  instance: string;
  event: string;
  url: string;
  attempt: number;
  /** HTTP status, or null when the request failed (refused, timed out). */
  status: number | null;
  at: string;
  /** `data.keyId` or `data.key.id` when the event has one. */
  messageId?: string;
}

/** A debtor's reply, posted as `messages.upsert` (see `reply`). */
export interface SimReplyInput {
  instance: string;
  /** Digits of the phone that replies (either 9th-digit spelling). */
  number: string;
  text: string;
  /** Quote the last message sent to this number (`contextInfo.stanzaId`). */
  quote?: boolean;
  /** Send as an `@lid` sender with the phone JID in `remoteJidAlt`. */
  lid?: boolean;
  /** The reply's `key.id` (default: a new one); reuse one to replay a reply. */
  id?: string;
}

export interface SimInstanceView {
  name: string;
  instanceId: string;
  state: SimInstanceState;
  webhookUrl?: string;
  /** Names only: the values may be secrets. */
  webhookHeaderNames: string[];
  webhookEvents: string[];
  webhookByEvents: boolean;
  webhook: SimWebhookBehaviour;
  /** This instance's latency override; undefined = the global latency. */
  latencyMs?: number;
  pendingFailures: SimFailureKind[];
}

/** One send the simulator accepted (answered 201, or swallowed by a scripted `timeout`). */
export interface SimSentMessage {
  instance: string;
  number: string;
  text: string;
  id: string;
  remoteJid: string;
  /** ISO-8601 time of acceptance. */
  at: string;
}

export interface SimFailureInjection {
  /** Only this instance's sends; without it, the next sends of any instance. */
  instance?: string;
  kind: SimFailureKind;
  /** How many sends fail this way; default 1. */
  count?: number;
}

export interface EvolutionSimulatorOptions {
  port?: number;
  host?: string;
  /** The global apikey. */
  apiKey?: string;
  /** Default: one instance `demo`, `open`. */
  instances?: SimInstanceSeed[];
  /** Called for every accepted send (the webhooks of the instance, if any, go out as well). */
  onAccepted?: (message: SimSentMessage, instance: SimInstanceView) => void;
}

export interface EvolutionSimulator {
  url: string;
  port: number;
  apiKey: string;
  /** Stops the server, dropping held connections. */
  close(): Promise<void>;
  /** Creates the instance, or updates the given fields of an existing one. */
  upsertInstance(name: string, options?: Omit<SimInstanceSeed, 'name'>): SimInstanceView;
  /** Removes an instance; false when it did not exist. */
  removeInstance(name: string): boolean;
  /** Sets an existing instance's connection state; a change posts `connection.update` to its webhook. */
  setState(name: string, state: SimInstanceState): SimInstanceView;
  /** Changes how an instance's webhooks behave (duplicates, reordering, echoes, receipt timing). */
  setWebhookBehaviour(name: string, behaviour: Partial<SimWebhookBehaviour>): SimInstanceView;
  /**
   * Posts a debtor's reply to the last message sent to `number` on the instance; resolves with the
   * reply's id and the final HTTP status of its delivery (null: no webhook, or it never got through).
   */
  reply(input: SimReplyInput): Promise<{ id: string; status: number | null }>;
  /** Every webhook attempt so far, oldest first. */
  webhookDeliveries(): SimWebhookDelivery[];
  /** Webhooks scheduled or being posted (receipts waiting for their delay, retries). */
  pendingWebhooks(): number;
  /** Extra time before every API answer, globally or for one instance. */
  setLatency(ms: number, instance?: string): void;
  /** Queues scripted outcomes for the next sends. */
  injectFailures(injection: SimFailureInjection): void;
  /** These numbers (digits) answer "not on WhatsApp" from now on (either 9th-digit variant). */
  markNotOnWhatsApp(numbers: string[]): void;
  /** Every accepted send so far, oldest first. */
  sent(): SimSentMessage[];
  clearSent(): void;
  /** Back to the starting instances, with no log, latency, failures or unknown numbers. */
  reset(): void;
  instances(): SimInstanceView[];
}

/** A misuse of the control API; over HTTP it becomes this status with `{error}`. */
export class SimulatorControlError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorControlError';
  }
}

interface InstanceRecord {
  name: string;
  instanceId: string;
  state: SimInstanceState;
  apiKey?: string;
  webhookUrl?: string;
  webhookHeaders: Record<string, string>;
  webhookEvents: string[];
  webhookByEvents: boolean;
  webhook: SimWebhookBehaviour;
  latencyMs?: number;
  failures: SimFailureKind[];
}

const STATES: readonly SimInstanceState[] = ['open', 'connecting', 'close'];
const FAILURE_KINDS: readonly SimFailureKind[] = [
  'http500',
  'connection_closed',
  'timeout',
  'rate_overlimit',
  'not_on_whatsapp',
  'reset',
  'proxy_502',
  'proxy_504',
  'proxy_html',
  'no_receipts',
];
const MAX_BODY_BYTES = 1024 * 1024;
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The user part of the JID Evolution builds for a number (its `createJid`/`formatBRNumber`):
 * for 55 + DDD >= 31 + one digit + 8 digits starting at 7 or more, the extra digit is dropped.
 */
export const brazilianJidUser = (digits: string): string => {
  const m = /^(55)(\d{2})\d(\d{8})$/.exec(digits);
  if (!m?.[2] || !m[3]) return digits;
  const ddd = Number(m[2]);
  const next = Number(m[3][0]);
  return ddd >= 31 && next >= 7 ? `55${m[2]}${m[3]}` : digits;
};

/** The id WhatsApp Web clients (Baileys) give outgoing messages: `3EB0` + 18 upper-case hex digits. */
const newMessageId = (): string => `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
/** Ids of messages typed on phones look different (`3A...`, 20 hex digits). */
const newIncomingId = (): string => `3A${randomBytes(9).toString('hex').toUpperCase()}`;

/** A stable fake WhatsApp LID (the privacy id newer clients send instead of the phone) for a JID user. */
const lidOf = (jidUser: string): string =>
  `${BigInt(`0x${createHash('sha256').update(jidUser).digest('hex').slice(0, 12)}`) % 10n ** 14n}`.padStart(
    15,
    '1',
  );

/** Evolution's `jwt_key` option: an HS256 JWT valid for 10 minutes (its WebhookController). */
const webhookJwt = (key: string): string => {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iat: now, exp: now + 600, app: 'evolution', action: 'webhook' })}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
};

/** `messages.update` -> `MESSAGES_UPDATE`, the name in a webhook's `events` list. */
const eventConstant = (event: string): string => event.toUpperCase().replace(/\./g, '_');

const BEHAVIOUR_KEYS = Object.keys(DEFAULT_WEBHOOK_BEHAVIOUR) as (keyof SimWebhookBehaviour)[];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': JSON_TYPE });
  res.end(JSON.stringify(body));
};

/** Evolution's error envelope (its exception classes plus the global error handler). */
const envelope = (status: number, error: string, message: unknown) => ({
  status,
  error,
  response: { message },
});
const badRequest = (message: unknown) => envelope(400, 'Bad Request', message);

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

type ParsedJson = { ok: true; value: unknown } | { ok: false; error: string };
const parseJson = (raw: string): ParsedJson => {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
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

interface EvolutionRoute {
  action: 'sendText' | 'connectionState' | 'whatsappNumbers' | 'webhookSet' | 'webhookFind';
  instance: string;
}

const matchEvolutionRoute = (method: string, parts: string[]): EvolutionRoute | undefined => {
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

/** The messages Evolution's webhookSchema validation gives (`{webhook: {enabled, url, ...}}`, v2). */
const webhookSetErrors = (body: unknown): string[] => {
  if (!isRecord(body)) return ['instance is not of a type(s) object'];
  if (!('webhook' in body)) return ['instance requires property "webhook"'];
  const webhook = body.webhook;
  if (!isRecord(webhook)) return ['instance.webhook is not of a type(s) object'];
  const errors: string[] = [];
  if (!('enabled' in webhook)) errors.push('instance.webhook requires property "enabled"');
  else if (typeof webhook.enabled !== 'boolean')
    errors.push('instance.webhook.enabled is not of a type(s) boolean');
  if (!('url' in webhook)) errors.push('instance.webhook requires property "url"');
  else if (typeof webhook.url !== 'string' || webhook.url === '') errors.push('The "url" cannot be empty');
  for (const flag of ['byEvents', 'base64'] as const) {
    if (flag in webhook && typeof webhook[flag] !== 'boolean')
      errors.push(`instance.webhook.${flag} is not of a type(s) boolean`);
  }
  if ('headers' in webhook && !isRecord(webhook.headers))
    errors.push('instance.webhook.headers is not of a type(s) object');
  if ('events' in webhook) {
    const events = webhook.events;
    if (!Array.isArray(events) || events.some((e) => typeof e !== 'string' || !/^[A-Z_]+$/.test(e)))
      errors.push('instance.webhook.events is not one of enum values');
  }
  return errors;
};

const decodeParts = (pathname: string): string[] | undefined => {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
};

/** Starts the simulator on `host:port` (port 0 = any free port). */
export const startEvolutionSimulator = async (
  options: EvolutionSimulatorOptions = {},
): Promise<EvolutionSimulator> => {
  const apiKey = options.apiKey ?? 'simulator-api-key';
  const seeds = options.instances ?? [{ name: 'demo', state: 'open' }];
  const host = options.host ?? '127.0.0.1';
  // Aborted on close so pending latency and typing delays do not keep timers alive.
  const lifetime = new AbortController();

  const instances = new Map<string, InstanceRecord>();
  let deliveries: SimWebhookDelivery[] = [];
  /** Webhook work not finished yet (waiting for a receipt's delay, posting, retrying). */
  const inFlight = new Set<Promise<unknown>>();
  /** Set once listening; webhooks carry it as `server_url`. */
  let serverUrl = '';
  let globalFailures: SimFailureKind[] = [];

  const checkBehaviour = (given: Partial<SimWebhookBehaviour>): Partial<SimWebhookBehaviour> => {
    if (!isRecord(given)) throw new SimulatorControlError(400, 'webhook must be an object');
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given)) {
      if (!BEHAVIOUR_KEYS.includes(key as keyof SimWebhookBehaviour))
        throw new SimulatorControlError(400, `unknown webhook setting ${key}`);
      const flag = ['duplicate', 'reorder', 'echoFromMe', 'exposeApiKey'].includes(key);
      const nullable = key.endsWith('AckMs') || key === 'readMs' || key === 'utcOffsetMinutes';
      // A zone offset may be negative (west of UTC), within the real zones' -12 h .. +14 h.
      const signed = key === 'utcOffsetMinutes';
      const ok = flag
        ? typeof value === 'boolean'
        : (nullable && value === null) ||
          (Number.isInteger(value) &&
            (signed ? Math.abs(value as number) <= 14 * 60 : (value as number) >= 0));
      if (!ok) throw new SimulatorControlError(400, `bad value for webhook setting ${key}`);
      out[key] = value;
    }
    return out as Partial<SimWebhookBehaviour>;
  };
  let globalLatencyMs = 0;
  let notOnWhatsApp = new Set<string>();
  let log: SimSentMessage[] = [];

  const view = (r: InstanceRecord): SimInstanceView => ({
    name: r.name,
    instanceId: r.instanceId,
    state: r.state,
    ...(r.webhookUrl !== undefined ? { webhookUrl: r.webhookUrl } : {}),
    webhookHeaderNames: Object.keys(r.webhookHeaders),
    webhookEvents: [...r.webhookEvents],
    webhookByEvents: r.webhookByEvents,
    webhook: { ...r.webhook },
    ...(r.latencyMs !== undefined ? { latencyMs: r.latencyMs } : {}),
    pendingFailures: [...r.failures],
  });

  const requireInstance = (name: string): InstanceRecord => {
    const record = instances.get(name);
    if (!record) throw new SimulatorControlError(404, `instance "${name}" does not exist`);
    return record;
  };

  const checkState = (state: unknown): SimInstanceState => {
    if (!STATES.includes(state as SimInstanceState)) {
      throw new SimulatorControlError(400, `state must be one of ${STATES.join(', ')}`);
    }
    return state as SimInstanceState;
  };

  const upsertInstance = (name: string, seed: Omit<SimInstanceSeed, 'name'> = {}): SimInstanceView => {
    if (name.trim() === '') throw new SimulatorControlError(400, 'instance name is required');
    const state = seed.state === undefined ? undefined : checkState(seed.state);
    const existing = instances.get(name);
    const behaviour = seed.webhook === undefined ? undefined : checkBehaviour(seed.webhook);
    const record: InstanceRecord = existing ?? {
      name,
      instanceId: randomUUID(),
      state: 'open',
      failures: [],
      webhookHeaders: {},
      webhookEvents: [],
      webhookByEvents: false,
      webhook: { ...DEFAULT_WEBHOOK_BEHAVIOUR },
    };
    if (state !== undefined) record.state = state;
    if (seed.apiKey !== undefined) record.apiKey = seed.apiKey;
    if (seed.webhookUrl !== undefined) record.webhookUrl = seed.webhookUrl;
    if (seed.webhookHeaders !== undefined) record.webhookHeaders = { ...seed.webhookHeaders };
    if (seed.webhookEvents !== undefined) record.webhookEvents = [...seed.webhookEvents];
    if (seed.webhookByEvents !== undefined) record.webhookByEvents = seed.webhookByEvents;
    if (behaviour) record.webhook = { ...record.webhook, ...behaviour };
    instances.set(name, record);
    return view(record);
  };

  const reset = (): void => {
    instances.clear();
    for (const seed of seeds) upsertInstance(seed.name, seed);
    globalFailures = [];
    globalLatencyMs = 0;
    notOnWhatsApp = new Set();
    log = [];
    deliveries = [];
  };
  reset();

  const setLatency = (ms: number, instance?: string): void => {
    if (!Number.isInteger(ms) || ms < 0)
      throw new SimulatorControlError(400, 'ms must be a non-negative integer');
    if (instance === undefined) globalLatencyMs = ms;
    else requireInstance(instance).latencyMs = ms;
  };

  const injectFailures = (injection: SimFailureInjection): void => {
    const count = injection.count ?? 1;
    if (!FAILURE_KINDS.includes(injection.kind)) {
      throw new SimulatorControlError(400, `kind must be one of ${FAILURE_KINDS.join(', ')}`);
    }
    if (!Number.isInteger(count) || count < 1)
      throw new SimulatorControlError(400, 'count must be a positive integer');
    const queue =
      injection.instance === undefined ? globalFailures : requireInstance(injection.instance).failures;
    for (let i = 0; i < count; i++) queue.push(injection.kind);
  };

  const markNotOnWhatsApp = (numbers: string[]): void => {
    if (!Array.isArray(numbers) || numbers.some((n) => typeof n !== 'string' || !/^\d+$/.test(n))) {
      throw new SimulatorControlError(400, 'numbers must be an array of digit strings');
    }
    // Stored by JID user so both 9th-digit spellings of one phone match, as WhatsApp's lookup does.
    for (const n of numbers) notOnWhatsApp.add(brazilianJidUser(n));
  };

  const isOnWhatsApp = (number: string): boolean => !notOnWhatsApp.has(brazilianJidUser(number));

  const nextFailure = (record: InstanceRecord): SimFailureKind | undefined =>
    record.failures.shift() ?? globalFailures.shift();

  const pause = async (ms: number): Promise<void> => {
    if (ms > 0) await sleep(ms, undefined, { signal: lifetime.signal });
  };

  /** Runs webhook work in the background, counted by `pendingWebhooks` until it settles. */
  const track = <T>(work: () => Promise<T>): Promise<T | null> => {
    const task: Promise<T | null> = work()
      .catch(() => null)
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    return task;
  };

  /** Posts one webhook as Evolution does, retrying 5xx and network errors; the final status. */
  const deliverOnce = async (
    record: InstanceRecord,
    event: string,
    data: Record<string, unknown>,
  ): Promise<number | null> => {
    const base = record.webhookUrl as string;
    const url = record.webhookByEvents ? `${base.replace(/\/+$/, '')}/${event.replace(/\./g, '-')}` : base;
    // One payload for every attempt: a retry is the same event again. The envelope is a 2.3 server's:
    // `date_time` is local wall-clock time with a Z, `apikey` is null unless the server exposes tokens.
    const offsetMinutes = record.webhook.utcOffsetMinutes ?? -new Date().getTimezoneOffset();
    const body = JSON.stringify({
      event,
      instance: record.name,
      data,
      destination: url,
      date_time: new Date(Date.now() + offsetMinutes * 60_000).toISOString(),
      sender: `5511900000000@s.whatsapp.net`,
      server_url: serverUrl,
      apikey: record.webhook.exposeApiKey ? (record.apiKey ?? apiKey) : null,
    });
    const key = isRecord(data.key) ? data.key.id : undefined;
    const messageId = typeof data.keyId === 'string' ? data.keyId : typeof key === 'string' ? key : undefined;
    const { maxRetries, retryBackoffMs } = record.webhook;
    let status: number | null = null;
    for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
      const { jwt_key: jwtKey, ...headers } = record.webhookHeaders;
      if (jwtKey !== undefined) headers.Authorization = `Bearer ${webhookJwt(jwtKey)}`;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(5000)]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        if (lifetime.signal.aborted) return null;
        status = null;
      }
      deliveries.push({
        instance: record.name,
        event,
        url,
        attempt,
        status,
        at: new Date().toISOString(),
        ...(messageId ? { messageId } : {}),
      });
      // Evolution retries only what may succeed later: timeouts and server errors.
      if (status !== null && status < 500) return status;
      if (attempt <= maxRetries) await pause(Math.min(1000, retryBackoffMs * 2 ** (attempt - 1)));
    }
    return status;
  };

  /** Posts an event to the instance's webhook (twice when `duplicate`), if it has one and wants it. */
  const emit = (
    record: InstanceRecord,
    event: string,
    data: Record<string, unknown>,
  ): Promise<number | null> => {
    if (record.webhookUrl === undefined) return Promise.resolve(null);
    if (record.webhookEvents.length > 0 && !record.webhookEvents.includes(eventConstant(event)))
      return Promise.resolve(null);
    const first = track(() => deliverOnce(record, event, data));
    if (record.webhook.duplicate) void track(() => deliverOnce(record, event, data));
    return first;
  };

  /** After an accepted send: `send.message` at once, then the receipts on their schedule (unless `receipts` is false). */
  const emitForSend = (record: InstanceRecord, message: SimSentMessage, receipts = true): void => {
    if (record.webhookUrl === undefined) return;
    const sent = {
      key: { remoteJid: message.remoteJid, fromMe: true, id: message.id },
      pushName: 'Simulator',
      status: 'PENDING',
      message: { conversation: message.text },
      messageType: 'conversation',
      messageTimestamp: Math.floor(Date.parse(message.at) / 1000),
      instanceId: record.instanceId,
      source: 'web',
    };
    void emit(record, 'send.message', sent);
    if (record.webhook.echoFromMe) void emit(record, 'messages.upsert', { ...sent, status: 'SERVER_ACK' });
    if (!receipts) return;
    const { serverAckMs, deliveryAckMs, readMs, reorder } = record.webhook;
    const schedule: Array<[string, number | null]> = [
      ['SERVER_ACK', serverAckMs],
      ['DELIVERY_ACK', reorder ? readMs : deliveryAckMs],
      ['READ', reorder ? deliveryAckMs : readMs],
    ];
    for (const [status, delay] of schedule) {
      if (delay === null) continue;
      void track(async () => {
        await pause(delay);
        return emit(record, 'messages.update', {
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

  const reply = async (input: SimReplyInput): Promise<{ id: string; status: number | null }> => {
    const record = requireInstance(input.instance);
    if (typeof input.number !== 'string' || !/^\d+$/.test(input.number))
      throw new SimulatorControlError(400, 'number must be a digit string');
    if (typeof input.text !== 'string') throw new SimulatorControlError(400, 'text must be a string');
    const user = brazilianJidUser(input.number);
    const last = [...log]
      .reverse()
      .find((m) => m.instance === record.name && brazilianJidUser(m.number) === user);
    if (input.quote && !last)
      throw new SimulatorControlError(400, `nothing was sent to ${input.number} to quote`);
    const jid = last?.remoteJid ?? `${user}@s.whatsapp.net`;
    const id = input.id ?? newIncomingId();
    const key = input.lid
      ? { remoteJid: `${lidOf(user)}@lid`, fromMe: false, id, remoteJidAlt: jid }
      : { remoteJid: jid, fromMe: false, id };
    const status = await emit(record, 'messages.upsert', {
      key,
      pushName: 'Cliente',
      status: 'DELIVERY_ACK',
      message: { conversation: input.text },
      messageType: 'conversation',
      messageTimestamp: Math.floor(Date.now() / 1000),
      instanceId: record.instanceId,
      source: 'android',
      ...(input.quote && last
        ? { contextInfo: { stanzaId: last.id, participant: jid, quotedMessage: { conversation: last.text } } }
        : {}),
    });
    return { id, status };
  };

  const accept = (record: InstanceRecord, number: string, text: string, receipts = true): SimSentMessage => {
    const message: SimSentMessage = {
      instance: record.name,
      number,
      text,
      id: newMessageId(),
      remoteJid: `${brazilianJidUser(number)}@s.whatsapp.net`,
      at: new Date().toISOString(),
    };
    log.push(message);
    options.onAccepted?.({ ...message }, view(record));
    emitForSend(record, message, receipts);
    return message;
  };

  const notOnWhatsAppAnswer = (number: string) =>
    badRequest([{ jid: `${brazilianJidUser(number)}@s.whatsapp.net`, exists: false, number }]);

  const handleSendText = async (
    req: IncomingMessage,
    res: ServerResponse,
    record: InstanceRecord,
    raw: string,
  ): Promise<void> => {
    const parsed = parseJson(raw);
    if (!parsed.ok) return sendJson(res, 400, badRequest([parsed.error]));
    const errors = sendTextSchemaErrors(parsed.value);
    // Schema failures come as one array of messages inside the message array (nested).
    if (errors.length > 0) return sendJson(res, 400, badRequest([errors]));
    const body = parsed.value as { number: string; text: string; delay?: number };
    if (body.text.trim() === '') return sendJson(res, 400, badRequest(['Text is required']));

    const failure = nextFailure(record);
    switch (failure) {
      case 'http500':
        return sendJson(res, 500, envelope(500, 'Internal Server Error', 'Internal Server Error'));
      case 'connection_closed':
        return sendJson(res, 500, envelope(500, 'Internal Server Error', 'Connection Closed'));
      case 'rate_overlimit':
        return sendJson(res, 400, badRequest(['Error: rate-overlimit']));
      case 'not_on_whatsapp':
        return sendJson(res, 400, notOnWhatsAppAnswer(body.number));
      case 'reset':
        req.socket.destroy();
        return;
      case 'timeout':
        // The message goes out but the answer never comes: the client cannot know it was sent.
        accept(record, body.number, body.text);
        return;
      case 'proxy_502':
      case 'proxy_504':
      case 'proxy_html':
        // The message goes out, then the proxy in front loses Evolution's answer and sends its own.
        accept(record, body.number, body.text);
        return sendProxyPage(res, failure);
      case 'no_receipts':
      case undefined:
        break;
    }

    // Baileys' socket is not usable unless open; Evolution surfaces that as this 500.
    if (record.state !== 'open') {
      return sendJson(res, 500, envelope(500, 'Internal Server Error', 'Connection Closed'));
    }
    if (!isOnWhatsApp(body.number)) return sendJson(res, 400, notOnWhatsAppAnswer(body.number));
    // Evolution shows "typing..." for `delay` ms inside the HTTP call, then sends.
    await pause(body.delay ?? 0);
    const message = accept(record, body.number, body.text, failure !== 'no_receipts');
    sendJson(res, 201, {
      key: { remoteJid: message.remoteJid, fromMe: true, id: message.id },
      pushName: 'Simulator',
      status: 'PENDING',
      message: { conversation: body.text },
      messageType: 'conversation',
      messageTimestamp: Math.floor(Date.parse(message.at) / 1000),
      instanceId: record.instanceId,
      source: 'web',
    });
  };

  /** What Evolution answers for an instance's webhook (its stored Webhook row). */
  const webhookView = (record: InstanceRecord) =>
    record.webhookUrl === undefined
      ? null
      : {
          url: record.webhookUrl,
          enabled: true,
          events: [...record.webhookEvents],
          webhookByEvents: record.webhookByEvents,
          webhookBase64: false,
          headers: { ...record.webhookHeaders },
          instanceId: record.instanceId,
        };

  const handleWebhookSet = (res: ServerResponse, record: InstanceRecord, raw: string): void => {
    const parsed = parseJson(raw);
    const errors = parsed.ok ? webhookSetErrors(parsed.value) : [parsed.error];
    if (!parsed.ok || errors.length > 0) {
      // Schema failures come nested, as in sendText; a JSON error as a flat list.
      sendJson(res, 400, badRequest(parsed.ok ? [errors] : errors));
      return;
    }
    const webhook = (parsed.value as { webhook: Record<string, unknown> }).webhook;
    if (webhook.enabled === false) {
      delete record.webhookUrl;
    } else {
      record.webhookUrl = webhook.url as string;
      record.webhookHeaders = Object.fromEntries(
        Object.entries((webhook.headers as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [
          k,
          String(v),
        ]),
      );
      record.webhookEvents = [...((webhook.events as string[] | undefined) ?? [])];
      record.webhookByEvents = webhook.byEvents === true;
    }
    sendJson(
      res,
      201,
      webhookView(record) ?? { url: webhook.url, enabled: false, instanceId: record.instanceId },
    );
  };

  const handleWhatsappNumbers = (res: ServerResponse, raw: string): void => {
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
        return { exists: isOnWhatsApp(digits), jid: `${brazilianJidUser(digits)}@s.whatsapp.net`, number };
      }),
    );
  };

  const handleEvolution = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: EvolutionRoute,
  ): Promise<void> => {
    const raw = await readBody(req);
    const record = instances.get(route.instance);
    // Evolution's instance guard runs before its auth guard: a 404 leaks existence, not the key.
    if (!record) {
      return sendJson(
        res,
        404,
        envelope(404, 'Not Found', [`The "${route.instance}" instance does not exist`]),
      );
    }
    const key = req.headers.apikey;
    if (typeof key !== 'string' || (key !== apiKey && key !== record.apiKey)) {
      return sendJson(res, 401, envelope(401, 'Unauthorized', 'Unauthorized'));
    }
    await pause(record.latencyMs ?? globalLatencyMs);
    if (route.action === 'sendText') return handleSendText(req, res, record, raw);
    if (route.action === 'whatsappNumbers') return handleWhatsappNumbers(res, raw);
    if (route.action === 'webhookSet') return handleWebhookSet(res, record, raw);
    if (route.action === 'webhookFind') return sendJson(res, 200, webhookView(record));
    sendJson(res, 200, { instance: { instanceName: record.name, state: record.state } });
  };

  const handleControl = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    parts: string[],
  ): Promise<void> => {
    const parsed = parseJson(await readBody(req));
    if (!parsed.ok) throw new SimulatorControlError(400, `invalid JSON: ${parsed.error}`);
    const body = isRecord(parsed.value) ? parsed.value : {};
    const optionalString = (field: string): string | undefined => {
      const value = body[field];
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw new SimulatorControlError(400, `${field} must be a string`);
      return value;
    };
    const [area, name, sub] = parts;

    if (area === 'instances') {
      if (name === undefined && method === 'GET')
        return sendJson(res, 200, [...instances.values()].map(view));
      if (name !== undefined && sub === undefined && method === 'POST') {
        const seed: Omit<SimInstanceSeed, 'name'> = {};
        if (body.state !== undefined) seed.state = checkState(body.state);
        const token = optionalString('apiKey');
        if (token !== undefined) seed.apiKey = token;
        const webhookUrl = optionalString('webhookUrl');
        if (webhookUrl !== undefined) seed.webhookUrl = webhookUrl;
        if (body.webhookHeaders !== undefined) {
          if (
            !isRecord(body.webhookHeaders) ||
            Object.values(body.webhookHeaders).some((v) => typeof v !== 'string')
          )
            throw new SimulatorControlError(400, 'webhookHeaders must be an object of strings');
          seed.webhookHeaders = body.webhookHeaders as Record<string, string>;
        }
        if (body.webhook !== undefined) seed.webhook = body.webhook as Partial<SimWebhookBehaviour>;
        return sendJson(res, 200, upsertInstance(name, seed));
      }
      if (name !== undefined && sub === undefined && method === 'DELETE') {
        requireInstance(name);
        instances.delete(name);
        res.writeHead(204).end();
        return;
      }
      if (name !== undefined && sub === 'state' && method === 'POST') {
        return sendJson(res, 200, setState(name, checkState(body.state)));
      }
    }
    if (area === 'latency' && name === undefined && method === 'POST') {
      if (typeof body.ms !== 'number')
        throw new SimulatorControlError(400, 'ms must be a non-negative integer');
      setLatency(body.ms, optionalString('instance'));
      return sendJson(res, 200, { ms: body.ms, instance: optionalString('instance') ?? null });
    }
    if (area === 'failures' && name === undefined && method === 'POST') {
      if (body.count !== undefined && typeof body.count !== 'number') {
        throw new SimulatorControlError(400, 'count must be a positive integer');
      }
      const injection: SimFailureInjection = { kind: body.kind as SimFailureKind };
      const instance = optionalString('instance');
      if (instance !== undefined) injection.instance = instance;
      if (typeof body.count === 'number') injection.count = body.count;
      injectFailures(injection);
      return sendJson(res, 200, {
        queued: injection.count ?? 1,
        kind: injection.kind,
        instance: instance ?? null,
      });
    }
    if (area === 'not-on-whatsapp' && name === undefined && method === 'POST') {
      markNotOnWhatsApp(body.numbers as string[]);
      return sendJson(res, 200, { numbers: notOnWhatsApp.size });
    }
    if (area === 'replies' && name === undefined && method === 'POST') {
      const input: SimReplyInput = {
        instance: optionalString('instance') ?? '',
        number: optionalString('number') ?? '',
        text: optionalString('text') ?? '',
        quote: body.quote === true,
        lid: body.lid === true,
      };
      const id = optionalString('id');
      if (id !== undefined) input.id = id;
      return sendJson(res, 200, await reply(input));
    }
    if (area === 'webhooks' && name === undefined && method === 'GET') return sendJson(res, 200, deliveries);
    if (area === 'webhooks' && name === undefined && method === 'DELETE') {
      deliveries = [];
      res.writeHead(204).end();
      return;
    }
    if (area === 'sent' && name === undefined && method === 'GET') return sendJson(res, 200, sent());
    if (area === 'sent' && name === undefined && method === 'DELETE') {
      log = [];
      res.writeHead(204).end();
      return;
    }
    if (area === 'reset' && name === undefined && method === 'POST') {
      reset();
      res.writeHead(204).end();
      return;
    }
    sendJson(res, 404, { error: `no control route ${method} /_sim/${parts.join('/')}` });
  };

  const setState = (name: string, state: SimInstanceState): SimInstanceView => {
    const record = requireInstance(name);
    const previous = record.state;
    record.state = checkState(state);
    if (record.state !== previous) {
      // Evolution reports 401 (logged out) for a close it will not reconnect by itself.
      const statusReason = record.state === 'open' ? 200 : record.state === 'close' ? 401 : 0;
      void emit(record, 'connection.update', { instance: record.name, state: record.state, statusReason });
    }
    return view(record);
  };

  const sent = (): SimSentMessage[] => log.map((m) => ({ ...m }));

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://simulator').pathname;
    const parts = decodeParts(pathname);
    const work = async (): Promise<void> => {
      if (parts?.[0] === '_sim') return handleControl(req, res, method, parts.slice(1));
      const route = parts ? matchEvolutionRoute(method, parts) : undefined;
      if (!route) return sendJson(res, 404, envelope(404, 'Not Found', [`Cannot ${method} ${pathname}`]));
      return handleEvolution(req, res, route);
    };
    work().catch((error: unknown) => {
      if (lifetime.signal.aborted) return;
      if (error instanceof SimulatorControlError)
        return sendJson(res, error.status, { error: error.message });
      sendJson(res, 500, envelope(500, 'Internal Server Error', (error as Error).message));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  serverUrl = `http://${urlHost}:${port}`;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey,
    close: async () => {
      lifetime.abort();
      await Promise.allSettled([...inFlight]);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Held `timeout` sockets and idle keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
      await closed;
    },
    upsertInstance,
    removeInstance: (name) => instances.delete(name),
    setState,
    setWebhookBehaviour: (name, behaviour) => {
      requireInstance(name);
      return upsertInstance(name, { webhook: behaviour });
    },
    reply,
    webhookDeliveries: () => deliveries.map((d) => ({ ...d })),
    pendingWebhooks: () => inFlight.size,
    setLatency,
    injectFailures,
    markNotOnWhatsApp,
    sent,
    clearSent: () => {
      log = [];
    },
    reset,
    instances: () => [...instances.values()].map(view),
  };
};
