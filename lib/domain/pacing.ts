/**
 * Pacing math for one WhatsApp instance: how long to wait between two messages.
 * Pure numbers; the pacing slot in the store is what enforces them across senders.
 */
import { DomainError } from './errors.ts';
import type { BillingConfig } from './tenant-types.ts';

/** The pacing fields of a tenant's BillingConfig. */
export type PacingConfig = Pick<BillingConfig, 'messagesPerMinute' | 'minIntervalSeconds' | 'jitterSeconds'>;

type RateConfig = Pick<PacingConfig, 'messagesPerMinute' | 'minIntervalSeconds'>;

const invalid = (reason: string): DomainError => new DomainError('INVALID_CONFIG', { reason });

const checkRate = ({ messagesPerMinute, minIntervalSeconds }: RateConfig): void => {
  if (
    typeof messagesPerMinute !== 'number' ||
    !Number.isFinite(messagesPerMinute) ||
    messagesPerMinute <= 0
  ) {
    throw invalid(`messages_per_minute deve ser maior que zero (recebido ${String(messagesPerMinute)})`);
  }
  if (
    typeof minIntervalSeconds !== 'number' ||
    !Number.isFinite(minIntervalSeconds) ||
    minIntervalSeconds < 0
  ) {
    throw invalid(`min_interval_seconds deve ser zero ou positivo (recebido ${String(minIntervalSeconds)})`);
  }
};

/** The interval the configured rate allows: max(60 s / messagesPerMinute, minIntervalSeconds), in ms. */
export function baseIntervalMs(config: RateConfig): number {
  checkRate(config);
  return Math.max(60_000 / config.messagesPerMinute, config.minIntervalSeconds * 1000);
}

/**
 * The next interval in whole ms: the base plus a jitter uniform in [-jitter, +jitter] seconds, so sends do
 * not tick like a robot. Floored at the minimum interval; when base - jitter stays above that minimum the
 * floor never bites and the mean interval is exactly the base (the configured rate holds on average).
 * `random` returns [0, 1) like Math.random; tests inject a seeded one.
 */
export function nextIntervalMs(config: PacingConfig, random: () => number): number {
  const base = baseIntervalMs(config);
  const { jitterSeconds } = config;
  if (typeof jitterSeconds !== 'number' || !Number.isFinite(jitterSeconds) || jitterSeconds < 0) {
    throw invalid(`jitter deve ser zero ou positivo (recebido ${String(jitterSeconds)})`);
  }
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`nextIntervalMs: random() must return [0, 1), got ${r}`);
  const jitterMs = (2 * r - 1) * jitterSeconds * 1000;
  return Math.max(Math.round(base + jitterMs), minIntervalMs(config));
}

/**
 * The shortest interval `nextIntervalMs` can draw: the base less the whole jitter, floored at the
 * minimum interval. An interval shortened to win back a late send stays within what the
 * configuration itself produces: without jitter that is the base, so nothing is won back.
 */
export function shortestIntervalMs(config: PacingConfig): number {
  return Math.max(Math.round(baseIntervalMs(config) - config.jitterSeconds * 1000), minIntervalMs(config));
}

/** The floor no two messages may come closer than: `min_interval_seconds`, in whole ms. */
export function minIntervalMs({ minIntervalSeconds }: Pick<PacingConfig, 'minIntervalSeconds'>): number {
  return Math.ceil(Math.max(minIntervalSeconds * 1000, 0));
}

/** A plain estimate of how long `count` messages take at the base interval (no calendar, no jitter). */
export function estimateSendDurationMs(count: number, config: RateConfig): number {
  if (!Number.isInteger(count) || count < 0) {
    throw invalid(`quantidade de mensagens deve ser um inteiro não negativo (recebido ${String(count)})`);
  }
  return count * baseIntervalMs(config);
}
