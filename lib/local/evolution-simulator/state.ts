import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  EvolutionSimulatorOptions,
  SimAutoReply,
  SimFailureKind,
  SimInstanceSeed,
  SimInstanceState,
  SimSentMessage,
  SimWebhookBehaviour,
  SimWebhookDelivery,
} from './types.ts';

/** One instance as the simulator holds it (its view shows header names, not their values). */
export interface InstanceRecord {
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
  /** Scripted outcomes for this instance's next sends, taken before the global ones. */
  failures: SimFailureKind[];
}

/** Everything one running simulator holds; the functions of each concern take it as their first argument. */
export interface SimulatorState {
  /** The global apikey. */
  readonly apiKey: string;
  /** The instances `reset` goes back to. */
  readonly seeds: readonly SimInstanceSeed[];
  readonly onAccepted: EvolutionSimulatorOptions['onAccepted'];
  /** Its wall clock in ms (EvolutionSimulatorOptions.now). */
  readonly now: () => number;
  /** Aborted on close so pending delays (latency, typing, receipts, retries) and webhook posts stop. */
  readonly lifetime: AbortController;
  readonly instances: Map<string, InstanceRecord>;
  /** Set once listening; webhooks carry it as `server_url`. */
  serverUrl: string;
  globalLatencyMs: number;
  globalFailures: SimFailureKind[];
  /** JID users (see `brazilianJidUser`) that answer "not on WhatsApp". */
  notOnWhatsApp: Set<string>;
  /** JID users whose phone answers every message automatically. */
  autoReplies: Map<string, SimAutoReply>;
  /** Every accepted send, oldest first. */
  log: SimSentMessage[];
  /** Every webhook attempt, oldest first. */
  deliveries: SimWebhookDelivery[];
  /** Webhook work not finished yet (waiting for a receipt's delay, posting, retrying). */
  readonly inFlight: Set<Promise<unknown>>;
}

/** Every webhook in flight listens for the close: hundreds at once are normal under load, not a leak. */
const lifetimeSignal = (): AbortController => {
  const lifetime = new AbortController();
  setMaxListeners(0, lifetime.signal);
  return lifetime;
};

/** A simulator with no instances yet: `resetSimulator` seeds them. */
export const createSimulatorState = (options: EvolutionSimulatorOptions): SimulatorState => ({
  apiKey: options.apiKey ?? 'simulator-api-key',
  seeds: options.instances ?? [{ name: 'demo', state: 'open' }],
  onAccepted: options.onAccepted,
  now: options.now ?? Date.now,
  lifetime: lifetimeSignal(),
  instances: new Map(),
  serverUrl: '',
  globalLatencyMs: 0,
  globalFailures: [],
  notOnWhatsApp: new Set(),
  autoReplies: new Map(),
  log: [],
  deliveries: [],
  inFlight: new Set(),
});

/** Waits `ms`; rejects with an AbortError when the simulator closes first. */
export const pause = async (sim: SimulatorState, ms: number): Promise<void> => {
  if (ms > 0) await sleep(ms, undefined, { signal: sim.lifetime.signal });
};
