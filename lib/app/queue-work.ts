import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import { retentionEnd } from '../domain/retention.ts';
import type { BillingQueue, QueueTransitionFields } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, SendingStore } from '../ports/store.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';
import { publishOrLeaveToSweeper } from './fallback-to-sweeper.ts';

/**
 * What every use case that moves a queue along shares: its work item, publishing that item again,
 * a status change that feeds the active-queues gauge, and the name of a deferral's schedule.
 */

export const workItemOf = (
  queue: BillingQueue,
  generation: number,
  handover?: WorkItem['handover'],
): WorkItem => ({
  queueId: queue.id,
  tenantId: queue.tenantId,
  instanceId: queue.instanceId ?? 'none',
  generation,
  ...(handover ? { handover } : {}),
});

/**
 * Publishes the queue's work item again (a new generation, so FIFO deduplication lets it through).
 * A work queue that is down does not fail the caller: the queue stays open in the due index and
 * the sweeper publishes it (fallback-to-sweeper.ts). `handover`: see WorkItem.
 */
export const publishContinuation = async (
  deps: { store: SendingStore; workQueue: WorkQueue; logger: Logger; metrics: Metrics },
  queue: BillingQueue,
  handover?: WorkItem['handover'],
): Promise<void> => {
  const generation = await deps.store.nextPublishGeneration(queue.id);
  await publishOrLeaveToSweeper(deps, workItemOf(queue, generation, handover));
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
  fields?: QueueTransitionFields,
  expiresAt?: string,
): Promise<BillingQueue | undefined> => {
  const moved = await deps.store.transitionQueue(queue.id, from, to, fields, expiresAt);
  if (moved && queue.status !== to) {
    deps.metrics.queueStatusChanged({ tenantId: queue.tenantId, queueId: queue.id, from: queue.status, to });
  }
  return moved;
};

/**
 * Moves a queue into a final status from any status that may move there, with its retention: the
 * queue item expires `retentionDays` after `completedAt`, and its campaign with it (the external
 * id can be used again from then on). Returns the finished queue, or undefined when it could not
 * move (already final). Its contacts, messages and events got their expiry in the writes that
 * settled them (docs/data-model.md, Retention), so finishing costs one write more than before: the
 * campaign's. That write comes after the queue's: a campaign expiring while its queue could still
 * send would let a replay of its external id send the batch again; a crash in between only leaves
 * the campaign kept (and its external id taken) for good.
 */
export const finishQueue = async (
  deps: { store: SendingStore & Pick<CampaignStore, 'expireCampaign'>; metrics: Metrics },
  queue: BillingQueue,
  to: 'completed' | 'cancelled' | 'failed',
  completedAt: string,
  retentionDays: number,
): Promise<BillingQueue | undefined> => {
  const expiresAt = retentionEnd(completedAt, retentionDays);
  const finished = await transitionWithMetrics(
    deps,
    queue,
    queueStatusesThatCanMoveTo(to),
    to,
    { completedAt },
    expiresAt,
  );
  if (finished) await deps.store.expireCampaign(queue.tenantId, queue.externalId, queue.id, expiresAt);
  return finished;
};

/** Which schedule defers a queue to `at` (deterministic, so a repeat is a no-op). */
export const resumeScheduleName = (queueId: string, at: Date): string =>
  `resume-${queueId}-${at.toISOString().replace(/[-:.]/g, '').slice(0, 13)}`;
