import type { BillingQueue, QueueRunFields } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { SendingStore } from '../ports/store.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import { publishOrLeaveToSweeper } from './fallback-to-sweeper.ts';

/**
 * What every use case that moves a queue along shares: its work item, publishing that item again,
 * a status change that feeds the active-queues gauge, and the name of a deferral's schedule.
 */

export const workItemOf = (queue: BillingQueue, generation: number): WorkItem => ({
  queueId: queue.id,
  tenantId: queue.tenantId,
  instanceId: queue.instanceId ?? 'none',
  generation,
});

/**
 * Publishes the queue's work item again (a new generation, so FIFO deduplication lets it through).
 * A work queue that is down does not fail the caller: the queue stays open in the due index and
 * the sweeper publishes it (fallback-to-sweeper.ts).
 */
export const publishContinuation = async (
  deps: { store: SendingStore; workQueue: WorkQueue; logger: Logger; metrics: Metrics },
  queue: BillingQueue,
): Promise<void> => {
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await publishOrLeaveToSweeper(deps, workItemOf(queue, generation));
};

/**
 * A conditional status change that also feeds the active-queues gauge. `queue` is the queue as
 * last read: its status is what the gauge leaves. `from` is usually `queueStatusesThatCanMoveTo(to)`
 * (lib/domain/queue-state.ts), or a narrower list when only some of those may move here.
 */
export const transitionWithMetrics = async (
  deps: { store: SendingStore; metrics: Metrics },
  queue: BillingQueue,
  from: readonly BillingQueue['status'][],
  to: BillingQueue['status'],
  fields?: QueueRunFields,
): Promise<BillingQueue | undefined> => {
  const moved = await deps.store.transitionQueue(queue.id, from, to, fields);
  if (moved && queue.status !== to) {
    deps.metrics.queueStatusChanged({ tenantId: queue.tenantId, queueId: queue.id, from: queue.status, to });
  }
  return moved;
};

/** Which schedule defers a queue to `at` (deterministic, so a repeat is a no-op). */
export const resumeScheduleName = (queueId: string, at: Date): string =>
  `resume-${queueId}-${at.toISOString().replace(/[-:.]/g, '').slice(0, 13)}`;
