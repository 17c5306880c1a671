import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import type { BillingQueue } from '../domain/types.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { CampaignStore, SendingStore } from '../ports/store.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import { recountWhenLeaseIsOver } from './cancelled-queue-counters.ts';
import { workItemOf } from './queue-work.ts';

export interface ReleaseDeps {
  store: CampaignStore & SendingStore;
  workQueue: WorkQueue;
  clock: Clock;
  logger: Logger;
}

export type ReleaseResult =
  | { released: true; generation: number }
  | { released: false; reason: 'queue_missing' | 'other_tenant' | 'not_waiting' }
  /** A recount schedule (`WorkItem.recount`) fired: nothing is published. */
  | { released: false; reason: 'counters_checked' };

/**
 * How far ahead of `now` a check time may be and still count as due. EventBridge Scheduler fires
 * within the minute of its expression (rounded up from `at`), and the release function's clock
 * may trail the scheduler's a little. Releasing a few seconds early is harmless: the pump checks
 * business hours and retry times itself.
 */
const DUE_TOLERANCE_MS = 60_000;

/**
 * A schedule fired (EventBridge Scheduler -> release function, or the local store-backed poller):
 * 1. load the item's queue; ignore it when it is gone or belongs to another tenant;
 * 2. ignore it unless the queue still waits for this release: `scheduled`, or `pending`/`running`/
 *    `instance_down` whose check time (`nextRunAt`) has come. A paused, cancelled or finished
 *    queue, or one a later deferral moved, is left alone;
 * 3. publish the queue's work item with a new publish generation, so FIFO deduplication (queue id
 *    + generation) lets it through and the pump treats it as the current item.
 * A recount schedule (`item.recount`, made by a cancel) publishes nothing: it settles the cancelled
 * queue's counters (lib/app/cancelled-queue-counters.ts).
 * Safe to repeat: a duplicate release only publishes an item the lease and the claims make harmless.
 */
export const releaseWork = async (deps: ReleaseDeps, item: WorkItem): Promise<ReleaseResult> => {
  const log = deps.logger.createChild({ persistentKeys: { queueId: item.queueId, tenantId: item.tenantId } });
  const queue = await deps.store.getQueue(item.queueId);
  if (!queue) {
    log.warn('schedule released a queue that does not exist; ignored');
    return { released: false, reason: 'queue_missing' };
  }
  if (queue.tenantId !== item.tenantId) {
    log.error('schedule names a queue of another tenant; ignored');
    return { released: false, reason: 'other_tenant' };
  }
  if (item.recount) {
    await recountWhenLeaseIsOver({ ...deps, logger: log }, queue);
    return { released: false, reason: 'counters_checked' };
  }
  if (!isWaitingForRelease(queue, deps.clock.now())) {
    log.info('queue no longer waits for this schedule; nothing released', { status: queue.status });
    return { released: false, reason: 'not_waiting' };
  }
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await deps.workQueue.publish(workItemOf(queue, generation));
  log.info('schedule released the queue', { status: queue.status, generation });
  return { released: true, generation };
};

/**
 * `releaseWork` bound to its ports, as the store-backed scheduler takes it (`release`). Without a
 * logger the releases are silent.
 */
export const releaserOf =
  (deps: Omit<ReleaseDeps, 'logger'> & { logger?: Logger }) =>
  (item: WorkItem): Promise<ReleaseResult> =>
    releaseWork({ ...deps, logger: deps.logger ?? createLogger('SILENT') }, item);

/** Whether a fired schedule is still the queue's next step (see `releaseWork`, step 2). */
export const isWaitingForRelease = (queue: BillingQueue, now: Date): boolean => {
  if (queue.status === 'scheduled') return true;
  // Only a queue its pump may run (not paused, not finished), once its check time has come. No
  // check time: nobody asked for a wake-up (a live pump clears it when it takes the queue).
  return (
    queueStatusesThatCanMoveTo('running').includes(queue.status) &&
    queue.nextRunAt !== null &&
    Date.parse(queue.nextRunAt) <= now.getTime() + DUE_TOLERANCE_MS
  );
};
