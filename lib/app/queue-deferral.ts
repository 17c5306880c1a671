import { describeOpening, nextOpening } from '../domain/business-hours.ts';
import { nextLocalMidnight } from '../domain/due-date.ts';
import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import type { BusinessCalendar } from '../domain/tenant-types.ts';
import type { BillingQueue } from '../domain/types.ts';
import { describeWarmupPause, type WarmupToday } from '../domain/warmup.ts';
import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { SendingStore } from '../ports/store.ts';
import type { GatewayConnectionState } from '../ports/whatsapp-gateway.ts';
import { scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { resumeScheduleName, transitionWithMetrics, workItemOf } from './queue-work.ts';

/**
 * The ways a pump stops and leaves its queue waiting for a schedule: outside business hours or
 * past its instance's warm-up cap for the day (`scheduled`), or without a way to send
 * (`instance_down`, re-checked with backoff).
 */

export interface DeferralDeps {
  store: SendingStore;
  metrics: Metrics;
  scheduler: Scheduler;
  logger: Logger;
  clock: Clock;
  random: () => number;
}

/** Re-checks of a down instance back off: 1, 2, 5, 10, then every 15 minutes. */
const RECHECK_MINUTES = [1, 2, 5, 10, 15];

/**
 * Outside business hours: `scheduled` until the next opening (plus a small jitter), via the
 * scheduler. `stopped` when the queue moved meanwhile (paused, cancelled).
 */
export const deferToOpening = (
  deps: DeferralDeps,
  queue: BillingQueue,
  calendar: BusinessCalendar,
  now: Date,
): Promise<'scheduled' | 'stopped'> => {
  const at = withStartJitter(deps, nextOpening(calendar, now));
  return scheduleAt(
    deps,
    queue,
    at,
    `Fora do horário comercial; começa ${describeOpening(at, calendar.timezone)}`,
    calendar.timezone,
  );
};

/**
 * The instance's warm-up cap for today is reached (warmup.ts): `scheduled` until the next day's
 * opening (its midnight for a notification, which has no business hours), with the ramp in the
 * reason. The contacts wait `pending`; nothing is lost.
 */
export const waitForWarmup = (
  deps: DeferralDeps,
  queue: BillingQueue,
  calendar: BusinessCalendar | undefined,
  timezone: string,
  today: Extract<WarmupToday, { kind: 'ramping' }>,
  now: Date,
): Promise<'scheduled' | 'stopped'> => {
  const midnight = nextLocalMidnight(timezone, now);
  const at = withStartJitter(deps, calendar ? nextOpening(calendar, midnight) : midnight);
  return scheduleAt(deps, queue, at, describeWarmupPause(today, at, timezone), timezone);
};

/** Up to a minute of jitter so tenants with the same hours do not all start on the same second. */
const withStartJitter = (deps: { random: () => number }, at: Date): Date =>
  new Date(at.getTime() + Math.floor(deps.random() * 60_000));

/** `scheduled` with `reason` until `at`, and a schedule that publishes the queue's work then. */
const scheduleAt = async (
  deps: DeferralDeps,
  queue: BillingQueue,
  at: Date,
  reason: string,
  timezone: string,
): Promise<'scheduled' | 'stopped'> => {
  const scheduled = await transitionWithMetrics(
    deps,
    queue,
    queueStatusesThatCanMoveTo('scheduled'),
    'scheduled',
    { nextRunAt: at.toISOString(), pauseReason: reason },
  );
  if (!scheduled) return 'stopped';
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(deps, resumeScheduleName(queue.id, at), at, workItemOf(queue, generation), {
    // EventBridge writes the time in the tenant's own clock.
    timezone,
  });
  return 'scheduled';
};

/**
 * The instance is not `open`: the queue waits in `instance_down` (nothing is sent, nothing lost)
 * and re-checks itself with backoff; it resumes by itself when the instance is back (or on a
 * `connection.update` webhook, or a resume).
 */
export const markInstanceDown = (deps: DeferralDeps, queue: BillingQueue, state: GatewayConnectionState) =>
  parkUntilRecheck(deps, queue, `Instância WhatsApp desconectada (estado: ${state})`);

/**
 * No way to send now (the instance is down, or the tenant has none active): `instance_down` with
 * the reason in Portuguese, and a re-check scheduled after 1, 2, 5, 10, then every 15 minutes, so
 * the queue starts by itself once it can (adding or reactivating an instance also wakes it).
 */
export const parkUntilRecheck = async (
  deps: DeferralDeps,
  queue: BillingQueue,
  reason: string,
): Promise<'instance_down' | 'stopped'> => {
  const now = deps.clock.now();
  const downSince = queue.status === 'instance_down' && queue.pausedAt ? new Date(queue.pausedAt) : now;
  const delay = recheckDelayMinutes((now.getTime() - downSince.getTime()) / 60_000);
  const at = new Date(now.getTime() + delay * 60_000);
  const down = await transitionWithMetrics(
    deps,
    queue,
    queueStatusesThatCanMoveTo('instance_down'),
    'instance_down',
    {
      pausedAt: downSince.toISOString(),
      pauseReason: `${reason}; nova verificação em ${delay} min`,
      nextRunAt: at.toISOString(),
    },
  );
  if (!down) return 'stopped';
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(
    deps,
    `recheck-${queue.id}-${at.getTime()}`,
    at,
    workItemOf(queue, generation),
  );
  return 'instance_down';
};

/**
 * The next re-check delay for a queue down this long: cumulative checkpoints 1, 3, 8, 18 min...;
 * the first one not yet reached picks the delay.
 */
const recheckDelayMinutes = (elapsedMinutes: number): number => {
  let passed = 0;
  for (const minutes of RECHECK_MINUTES) {
    passed += minutes;
    if (elapsedMinutes < passed) return minutes;
  }
  return RECHECK_MINUTES[RECHECK_MINUTES.length - 1] as number;
};
