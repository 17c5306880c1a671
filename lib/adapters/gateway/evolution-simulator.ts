import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real HTTP server that speaks the part of Evolution API v2 we use (shared/evolution-contract.md),
 * for local runs and integration tests: sendText, connectionState, whatsappNumbers, with the same
 * guard order, error envelopes, ids and Brazilian 9th-digit quirk. Test control lives under
 * `/_sim/` (no apikey) and as methods on the returned object.
 */

export type SimInstanceState = 'open' | 'connecting' | 'close';

/** Scripted outcomes for the next sends (see `injectFailures`). */
export type SimFailureKind =
  | 'http500'
  | 'connection_closed'
  | 'timeout'
  | 'rate_overlimit'
  | 'not_on_whatsapp'
  | 'reset';

export interface SimInstanceSeed {
  name: string;
  /** Default `open`. */
  state?: SimInstanceState;
  /** The instance's own token, accepted besides the global key (as Evolution does). */
  apiKey?: string;
  /** Where this instance will post its webhooks; stored only, until the webhook issue lands. */
  webhookUrl?: string;
}

export interface SimInstanceView {
  name: string;
  instanceId: string;
  state: SimInstanceState;
  webhookUrl?: string;
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
  /**
   * Called for every accepted send. Extension point for the webhook emitter (a later issue):
   * it will post `send.message` and `messages.update` to the instance's `webhookUrl` from here.
   */
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
  /** Sets an existing instance's connection state. */
  setState(name: string, state: SimInstanceState): SimInstanceView;
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
  action: 'sendText' | 'connectionState' | 'whatsappNumbers';
  instance: string;
}

const matchEvolutionRoute = (method: string, parts: string[]): EvolutionRoute | undefined => {
  if (parts.length !== 3 || !parts[2]) return undefined;
  const [group, action, instance] = parts;
  if (method === 'POST' && group === 'message' && action === 'sendText') return { action, instance };
  if (method === 'GET' && group === 'instance' && action === 'connectionState') return { action, instance };
  if (method === 'POST' && group === 'chat' && action === 'whatsappNumbers') return { action, instance };
  return undefined;
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
  let globalFailures: SimFailureKind[] = [];
  let globalLatencyMs = 0;
  let notOnWhatsApp = new Set<string>();
  let log: SimSentMessage[] = [];

  const view = (r: InstanceRecord): SimInstanceView => ({
    name: r.name,
    instanceId: r.instanceId,
    state: r.state,
    ...(r.webhookUrl !== undefined ? { webhookUrl: r.webhookUrl } : {}),
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
    const record: InstanceRecord = existing ?? {
      name,
      instanceId: randomUUID(),
      state: 'open',
      failures: [],
    };
    if (state !== undefined) record.state = state;
    if (seed.apiKey !== undefined) record.apiKey = seed.apiKey;
    if (seed.webhookUrl !== undefined) record.webhookUrl = seed.webhookUrl;
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

  const accept = (record: InstanceRecord, number: string, text: string): SimSentMessage => {
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
    const message = accept(record, body.number, body.text);
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
    record.state = checkState(state);
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

  return {
    url: `http://${urlHost}:${port}`,
    port,
    apiKey,
    close: async () => {
      lifetime.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Held `timeout` sockets and idle keep-alive sockets would otherwise keep close() waiting.
      server.closeAllConnections();
      await closed;
    },
    upsertInstance,
    removeInstance: (name) => instances.delete(name),
    setState,
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
