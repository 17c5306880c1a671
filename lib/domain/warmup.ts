/**
 * Warm-up of a new WhatsApp number: WhatsApp bans numbers that send too much too soon, so a new
 * instance sends at most `firstDayLimit` messages on its first (tenant-local) day, `dailyGrowth`
 * times more each day after, until the ramp passes what the tenant's pace can send in a day: from
 * then on the pace is the only limit and the warm-up is over.
 */
import { describeOpening } from './business-hours.ts';
import { daysBetween } from './due-date.ts';
import { DomainError } from './errors.ts';
import type { DailySendCap } from './eta.ts';
import { baseIntervalMs, type PacingConfig } from './pacing.ts';
import type { InstanceWarmup } from './tenant-types.ts';

/** The ramp a new instance gets unless told otherwise: 30 on day 1, doubling each day. */
export const DEFAULT_WARMUP = { firstDayLimit: 30, dailyGrowth: 2 } as const;

const DAY_MS = 86_400_000;
const MAX_FIRST_DAY_LIMIT = 100_000;
const MAX_DAILY_GROWTH = 10;

/** Where an instance is on its ramp on a local day. */
export type WarmupToday =
  /** No ramp: switched off, or an instance stored before warm-up existed (an old number). */
  | { kind: 'off' }
  /** The ramp passed the tenant's pace on an earlier day: only the pace limits it now. */
  | { kind: 'complete'; day: number }
  /** Day `day` of the ramp (1 = the start date): at most `cap` messages today. */
  | { kind: 'ramping'; day: number; cap: number };

/** Messages the tenant's pace can send in a whole day (24 h at the base interval). */
export const paceDailyCapacity = (pace: Pick<PacingConfig, 'messagesPerMinute' | 'minIntervalSeconds'>) =>
  Math.floor(DAY_MS / baseIntervalMs(pace));

/**
 * The instance's ramp on the local day `today` (`yyyy-mm-dd`): day 1 is `startDate` (a day before
 * it, after a timezone change, counts as day 1 too); the cap of day n is
 * floor(firstDayLimit * dailyGrowth^(n-1)), and the ramp is complete once that reaches the pace.
 */
export const warmupOn = (
  warmup: InstanceWarmup | undefined,
  today: string,
  pace: Pick<PacingConfig, 'messagesPerMinute' | 'minIntervalSeconds'>,
): WarmupToday => {
  if (!warmup?.enabled) return { kind: 'off' };
  const day = Math.max(1, daysBetween(warmup.startDate, today) + 1);
  const cap = Math.floor(warmup.firstDayLimit * warmup.dailyGrowth ** (day - 1));
  if (cap >= paceDailyCapacity(pace)) return { kind: 'complete', day };
  return { kind: 'ramping', day, cap };
};

/**
 * The ramp as the daily cap of a sending plan (eta.ts `planSending`): each day's cap while it ramps,
 * `sentToday` counted against the cap of `today`. Undefined when the ramp is off or complete on `today`.
 */
export const warmupSendCap = (
  warmup: InstanceWarmup | undefined,
  pace: Pick<PacingConfig, 'messagesPerMinute' | 'minIntervalSeconds'>,
  timezone: string,
  today: string,
  sentToday: number,
): DailySendCap | undefined => {
  if (warmupOn(warmup, today, pace).kind !== 'ramping') return undefined;
  return {
    timezone,
    sent: { day: today, count: sentToday },
    capOn: (day) => {
      const ramp = warmupOn(warmup, day, pace);
      return ramp.kind === 'ramping' ? ramp.cap : undefined;
    },
  };
};

/** A new instance's ramp, starting on the local day `startDate`, with the given overrides. */
export const newWarmup = (
  startDate: string,
  settings: Partial<Pick<InstanceWarmup, 'firstDayLimit' | 'dailyGrowth' | 'enabled'>> = {},
): InstanceWarmup =>
  checkedWarmup({
    enabled: settings.enabled ?? true,
    startDate,
    firstDayLimit: settings.firstDayLimit ?? DEFAULT_WARMUP.firstDayLimit,
    dailyGrowth: settings.dailyGrowth ?? DEFAULT_WARMUP.dailyGrowth,
  });

/** The ramp's settings within bounds; INVALID_CONFIG with a Portuguese reason otherwise. */
export const checkedWarmup = (warmup: InstanceWarmup): InstanceWarmup => {
  const { firstDayLimit, dailyGrowth } = warmup;
  if (!Number.isInteger(firstDayLimit) || firstDayLimit < 1 || firstDayLimit > MAX_FIRST_DAY_LIMIT)
    throw new DomainError('INVALID_CONFIG', {
      reason: `limite do primeiro dia de aquecimento deve ser um inteiro de 1 a ${MAX_FIRST_DAY_LIMIT} (recebido ${String(firstDayLimit)})`,
    });
  if (!Number.isFinite(dailyGrowth) || dailyGrowth < 1 || dailyGrowth > MAX_DAILY_GROWTH)
    throw new DomainError('INVALID_CONFIG', {
      reason: `crescimento diário do aquecimento deve ser de 1 a ${MAX_DAILY_GROWTH} (recebido ${String(dailyGrowth)})`,
    });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(warmup.startDate))
    throw new DomainError('INVALID_CONFIG', {
      reason: `data de início do aquecimento inválida: ${warmup.startDate} (use aaaa-mm-dd)`,
    });
  return warmup;
};

/**
 * Why a queue waits for the next day, as its operator reads it (`pause_reason`):
 * `Aquecimento do número: limite de 30 mensagens hoje (dia 1) atingido; retoma quinta-feira, 17/12 às 09:00`.
 */
export const describeWarmupPause = (
  today: Extract<WarmupToday, { kind: 'ramping' }>,
  resumeAt: Date,
  timezone: string,
): string =>
  `Aquecimento do número: limite de ${today.cap} mensagens hoje (dia ${today.day}) atingido; ` +
  `retoma ${describeOpening(resumeAt, timezone)}`;
