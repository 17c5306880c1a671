import { retentionStart } from '../domain/retention.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { BillingQueue, ContactStatus } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { CampaignStore, ContactSummary, CounterStore, SendingStore } from '../ports/store.ts';
import type { DeliveryWatchArmer } from './delivery-watch.ts';
import { scheduleOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import type { MissedEventsDeps } from './missed-events.ts';
import { cancelledEventOf, emitMissedEvents, failedEventOf, sentEventOf } from './missed-events.ts';
import { recountCounters } from './queue-progress.ts';
import { finishQueue, resumeScheduleName, workItemOf } from './queue-work.ts';
import { abandonAfterMs, claimTime, settleAbandonedClaims } from './send-claims.ts';

export interface FinishDeps {
  store: SendingStore & CampaignStore & CounterStore & MissedEventsDeps['store'];
  events: BillingEvents;
  deliveryWatch: DeliveryWatchArmer;
  metrics: Metrics;
  scheduler: Scheduler;
  logger: Logger;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
}

/** A pending contact the last listing missed is looked for again this soon. */
const MISSED_PENDING_WAIT_MS = 1000;

/**
 * Nothing claimable now: done, or wait for what is left. Decided from a strongly consistent read
 * of every contact, never from an index (an index can still show a contact as it was before its
 * last write: a queue would complete while a contact waits in `retry`). The queue is finished only
 * when no contact is `pending`, `retry` or `sending`; claims older than a send can take are settled
 * here; otherwise the pump waits (here when it fits the budget, else via the scheduler) for the
 * earliest retry or for a young claim to come back or age out. `wait`: look for contacts again.
 */
export const finishOrWait = async (
  deps: FinishDeps,
  queue: BillingQueue,
  tenant: Tenant,
  budgetEnd: number,
  options: { gatewayTimeoutMs: number; announced?: ReadonlySet<number> },
): Promise<'wait' | 'completed' | 'scheduled' | 'stopped'> => {
  const summary = await deps.store.summarizeContacts(queue.id);
  if ((await settleAbandonedClaims(deps, queue, tenant, summary.sending, options)) > 0) return 'wait';
  const n = (status: ContactStatus) => summary.byStatus[status] ?? 0;
  if (n('pending') + n('retry') + n('sending') === 0)
    return completeQueue(deps, queue, tenant, summary, options.announced);
  const now = deps.clock.now().getTime();
  const wakeAt = Math.min(
    summary.earliestRetryAt ? new Date(summary.earliestRetryAt).getTime() : Number.POSITIVE_INFINITY,
    // A young claim (a pump that may still be sending it) is taken for abandoned once it ages out.
    ...summary.sending.map((c) => claimTime(c) + abandonAfterMs(options)),
    n('pending') > 0 ? now + MISSED_PENDING_WAIT_MS : Number.POSITIVE_INFINITY,
  );
  // Retries already due (or contacts the last listing missed): look again now, nothing to wait for.
  if (wakeAt <= now) return 'wait';
  const retryAt = new Date(wakeAt).toISOString();
  if (wakeAt < budgetEnd) {
    // Tell the sweeper this pump is alive and waiting, not dead.
    await deps.store.updateQueueProgress(queue.id, {}, { nextRunAt: retryAt });
    await deps.sleep(wakeAt - now);
    return 'wait';
  }
  // The next retry is beyond this run: hand it to the scheduler instead of sleeping.
  const at = new Date(retryAt);
  await deps.store.updateQueueProgress(queue.id, {}, { nextRunAt: at.toISOString() });
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await scheduleOrLeaveToSweeper(deps, resumeScheduleName(queue.id, at), at, workItemOf(queue, generation));
  return 'scheduled';
};

/**
 * Every contact is settled (`summary`, a strongly consistent read, says none is pending, retrying or
 * sending): exact final counters, the `sent`, `failed` and `unknown` events a crashed pump never
 * emitted and the `cancelled` ones a crashed payment or erasure never emitted, `completed`, and the
 * `queue.completed` event. Also what a queue whose last contacts were cancelled one by one (paid,
 * erased) goes through (cancel-contacts.ts).
 */
export const completeQueue = async (
  deps: Pick<FinishDeps, 'store' | 'events' | 'deliveryWatch' | 'metrics' | 'logger' | 'clock'>,
  queue: BillingQueue,
  tenant: Tenant,
  summary: ContactSummary,
  /**
   * Positions whose event the caller emitted itself a moment ago (a pump's sends, a payment's
   * cancellations): not looked for again, since an eventually consistent listing of a moment
   * later may not show them yet and each would be published twice.
   */
  announced: ReadonlySet<number> = new Set(),
): Promise<'completed' | 'stopped'> => {
  // The final counters are exact whatever happened on the way (crashes between writes).
  const counted = (await recountCounters(deps, queue, summary)) ?? queue;
  // Before the queue is final: a crash here leaves it running, and the next run looks again.
  const missed = await emitMissedEvents(
    deps,
    queue,
    [
      ...summary.sent.map((contact) => sentEventOf(queue.id, contact)),
      ...summary.failed.map((contact) => failedEventOf(queue.id, contact)),
      // A payment or an erasure that died between its writes and its events: the completion its
      // cancellations lead to (here, or the pump's when the request died before it) tells the ERP.
      ...summary.cancelled.map((contact) => cancelledEventOf(queue.id, contact)),
    ].filter((candidate) => candidate.contactPosition === null || !announced.has(candidate.contactPosition)),
    retentionStart(deps.clock.now(), tenant.config.retentionDays),
  );
  if (missed > 0) deps.logger.warn('events a crash had lost were emitted', { queueId: queue.id, missed });
  const completedAt = deps.clock.now().toISOString();
  const completed = await finishQueue(deps, counted, 'completed', completedAt, tenant.config.retentionDays);
  if (!completed) return 'stopped';
  deps.logger.info('queue completed', {
    tenantId: completed.tenantId,
    queueId: completed.id,
    sent: completed.contactsSent,
    failed: completed.contactsFailed,
  });
  // A pump that died between recording a send and arming its watch left that contact unwatched.
  await deps.deliveryWatch.arm(queue.id, completedAt);
  await deps.events.emit({
    name: 'queue.completed',
    queueId: queue.id,
    contactPosition: null,
    occurredAt: completedAt,
  });
  return 'completed';
};
