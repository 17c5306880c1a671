import { randomUUID } from 'node:crypto';
import { SimulatorControlError } from './control-error.ts';
import { isRecord } from './http-io.ts';
import { brazilianJidUser } from './jids.ts';
import type { InstanceRecord, SimulatorState } from './state.ts';
import type {
  SimAutoReply,
  SimFailureInjection,
  SimFailureKind,
  SimInstanceSeed,
  SimInstanceState,
  SimInstanceView,
  SimWebhookBehaviour,
} from './types.ts';
import { emit } from './webhooks.ts';

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
const BEHAVIOUR_KEYS = Object.keys(DEFAULT_WEBHOOK_BEHAVIOUR) as (keyof SimWebhookBehaviour)[];

/** An instance's view for callers: copies, and header names only (the values may be secrets). */
export const viewOf = (r: InstanceRecord): SimInstanceView => ({
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

export const instanceViews = (sim: SimulatorState): SimInstanceView[] =>
  [...sim.instances.values()].map(viewOf);

export const requireInstance = (sim: SimulatorState, name: string): InstanceRecord => {
  const record = sim.instances.get(name);
  if (!record) throw new SimulatorControlError(404, `instance "${name}" does not exist`);
  return record;
};

export const checkState = (state: unknown): SimInstanceState => {
  if (!STATES.includes(state as SimInstanceState)) {
    throw new SimulatorControlError(400, `state must be one of ${STATES.join(', ')}`);
  }
  return state as SimInstanceState;
};

/** The given webhook settings, each checked (known key, right type and range). */
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
        (Number.isInteger(value) && (signed ? Math.abs(value as number) <= 14 * 60 : (value as number) >= 0));
    if (!ok) throw new SimulatorControlError(400, `bad value for webhook setting ${key}`);
    out[key] = value;
  }
  return out as Partial<SimWebhookBehaviour>;
};

const newRecord = (name: string): InstanceRecord => ({
  name,
  instanceId: randomUUID(),
  state: 'open',
  failures: [],
  webhookHeaders: {},
  webhookEvents: [],
  webhookByEvents: false,
  webhook: { ...DEFAULT_WEBHOOK_BEHAVIOUR },
});

/** Creates the instance, or updates the given fields of an existing one; checks them all first. */
export const upsertInstance = (
  sim: SimulatorState,
  name: string,
  seed: Omit<SimInstanceSeed, 'name'> = {},
): SimInstanceView => {
  if (name.trim() === '') throw new SimulatorControlError(400, 'instance name is required');
  const state = seed.state === undefined ? undefined : checkState(seed.state);
  const behaviour = seed.webhook === undefined ? undefined : checkBehaviour(seed.webhook);
  const record = sim.instances.get(name) ?? newRecord(name);
  if (state !== undefined) record.state = state;
  if (seed.apiKey !== undefined) record.apiKey = seed.apiKey;
  if (seed.webhookUrl !== undefined) record.webhookUrl = seed.webhookUrl;
  if (seed.webhookHeaders !== undefined) record.webhookHeaders = { ...seed.webhookHeaders };
  if (seed.webhookEvents !== undefined) record.webhookEvents = [...seed.webhookEvents];
  if (seed.webhookByEvents !== undefined) record.webhookByEvents = seed.webhookByEvents;
  if (behaviour) record.webhook = { ...record.webhook, ...behaviour };
  sim.instances.set(name, record);
  return viewOf(record);
};

export const setWebhookBehaviour = (
  sim: SimulatorState,
  name: string,
  behaviour: Partial<SimWebhookBehaviour>,
): SimInstanceView => {
  requireInstance(sim, name);
  return upsertInstance(sim, name, { webhook: behaviour });
};

/** Sets an existing instance's connection state; a change posts `connection.update` to its webhook. */
export const setState = (sim: SimulatorState, name: string, state: SimInstanceState): SimInstanceView => {
  const record = requireInstance(sim, name);
  const previous = record.state;
  record.state = checkState(state);
  if (record.state !== previous) {
    // Evolution reports 401 (logged out) for a close it will not reconnect by itself.
    const statusReason = record.state === 'open' ? 200 : record.state === 'close' ? 401 : 0;
    void emit(sim, record, 'connection.update', { instance: record.name, state: record.state, statusReason });
  }
  return viewOf(record);
};

/** Back to the seeded instances, with no log, deliveries, latency, failures, unknown numbers or automatic replies. */
export const resetSimulator = (sim: SimulatorState): void => {
  sim.instances.clear();
  for (const seed of sim.seeds) upsertInstance(sim, seed.name, seed);
  sim.globalFailures = [];
  sim.globalLatencyMs = 0;
  sim.notOnWhatsApp = new Set();
  sim.autoReplies = new Map();
  sim.log = [];
  sim.deliveries = [];
};

/** Extra time before every API answer, globally or for one instance. */
export const setLatency = (sim: SimulatorState, ms: number, instance?: string): void => {
  if (!Number.isInteger(ms) || ms < 0)
    throw new SimulatorControlError(400, 'ms must be a non-negative integer');
  if (instance === undefined) sim.globalLatencyMs = ms;
  else requireInstance(sim, instance).latencyMs = ms;
};

/** The latency an instance's calls wait before being answered. */
export const latencyOf = (sim: SimulatorState, record: InstanceRecord): number =>
  record.latencyMs ?? sim.globalLatencyMs;

export const injectFailures = (sim: SimulatorState, injection: SimFailureInjection): void => {
  const count = injection.count ?? 1;
  if (!FAILURE_KINDS.includes(injection.kind)) {
    throw new SimulatorControlError(400, `kind must be one of ${FAILURE_KINDS.join(', ')}`);
  }
  if (!Number.isInteger(count) || count < 1)
    throw new SimulatorControlError(400, 'count must be a positive integer');
  const queue =
    injection.instance === undefined ? sim.globalFailures : requireInstance(sim, injection.instance).failures;
  for (let i = 0; i < count; i++) queue.push(injection.kind);
};

/** The scripted outcome of an instance's next send: its own queue first, then the global one. */
export const nextFailure = (sim: SimulatorState, record: InstanceRecord): SimFailureKind | undefined =>
  record.failures.shift() ?? sim.globalFailures.shift();

export const markNotOnWhatsApp = (sim: SimulatorState, numbers: string[]): void => {
  if (!Array.isArray(numbers) || numbers.some((n) => typeof n !== 'string' || !/^\d+$/.test(n))) {
    throw new SimulatorControlError(400, 'numbers must be an array of digit strings');
  }
  // Stored by JID user so both 9th-digit spellings of one phone match, as WhatsApp's lookup does.
  for (const n of numbers) sim.notOnWhatsApp.add(brazilianJidUser(n));
};

export const setAutoReply = (sim: SimulatorState, number: string, autoReply: SimAutoReply | null): void => {
  if (typeof number !== 'string' || !/^\d+$/.test(number))
    throw new SimulatorControlError(400, 'number must be a digit string');
  if (autoReply === null) {
    sim.autoReplies.delete(brazilianJidUser(number));
    return;
  }
  if (typeof autoReply.text !== 'string' || autoReply.text === '')
    throw new SimulatorControlError(400, 'text must be a non-empty string');
  if (!Number.isInteger(autoReply.afterMs) || autoReply.afterMs < 0)
    throw new SimulatorControlError(400, 'afterMs must be a non-negative integer');
  sim.autoReplies.set(brazilianJidUser(number), { text: autoReply.text, afterMs: autoReply.afterMs });
};

export const isOnWhatsApp = (sim: SimulatorState, number: string): boolean =>
  !sim.notOnWhatsApp.has(brazilianJidUser(number));
