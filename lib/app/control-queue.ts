import { DomainError } from '../domain/errors.ts';
import { isFinalQueueStatus, queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import { retentionEnd } from '../domain/retention.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { CampaignStore, SendingStore, TenantStore } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { settleOrScheduleRecount } from './cancelled-queue-counters.ts';
import { publishOrLeaveToSweeper } from './fallback-to-sweeper.ts';
import { getQueueForTenant, type QueueOwner } from './get-queue-for-tenant.ts';
import { finishQueue, transitionWithMetrics, workItemOf } from './queue-work.ts';
import { tenantRetentionDays } from './tenant-retention.ts';

export type QueueAction = 'pause' | 'resume' | 'cancel';

export interface ControlResult {
  message: string;
  queue: BillingQueue;
}

/**
 * The ERP steers a queue (the guide's QueueControlView), each action one conditional write from
 * the statuses the state machine lets move there (lib/domain/queue-state.ts), so it races safely
 * with the pump:
 * - pause: pending, scheduled or running -> paused (the pump stops before its next send);
 * - resume: paused or instance_down -> pending, and the work item is published again;
 * - cancel: any non-final status -> cancelled, and unsent contacts become cancelled; the queue,
 *   its campaign and the contacts cancelled here expire after the tenant's retention.
 */
export const controlQueue = async (
  deps: {
    store: CampaignStore & SendingStore & Pick<TenantStore, 'getTenant'>;
    clock: Clock;
    workQueue: WorkQueue;
    scheduler: Scheduler;
    metrics: Metrics;
    logger: Logger;
  },
  owner: string | QueueOwner,
  queueId: string,
  action: QueueAction,
): Promise<ControlResult> => {
  const { store } = deps;
  const queue = await getQueueForTenant(deps, owner, queueId);
  const at = deps.clock.now().toISOString();
  const refuse = (code: 'QUEUE_NOT_RUNNING' | 'QUEUE_NOT_PAUSED'): never => {
    if (isFinalQueueStatus(queue.status)) throw new DomainError('QUEUE_ALREADY_FINISHED');
    throw new DomainError(
      code === 'QUEUE_NOT_RUNNING' && queue.status === 'paused' ? 'QUEUE_ALREADY_PAUSED' : code,
    );
  };

  switch (action) {
    case 'pause': {
      const paused = await transitionWithMetrics(
        deps,
        queue,
        queueStatusesThatCanMoveTo('paused'),
        'paused',
        {
          pausedAt: at,
          pauseReason: 'Pausado via API',
        },
      );
      return paused ? { message: 'Fila pausada', queue: paused } : refuse('QUEUE_NOT_RUNNING');
    }
    case 'resume': {
      const resumed = await transitionWithMetrics(
        deps,
        queue,
        queueStatusesThatCanMoveTo('pending'),
        'pending',
        {
          pausedAt: null,
          pauseReason: '',
        },
      );
      if (!resumed) return refuse('QUEUE_NOT_PAUSED');
      // The pump decides what comes next (business hours, instance state): resuming only wakes it.
      // A work queue that is down does not fail the resume: the sweeper publishes the pending queue.
      await publishOrLeaveToSweeper(deps, workItemOf(resumed, await store.nextPublishGeneration(resumed.id)));
      return { message: 'Fila retomada', queue: resumed };
    }
    case 'cancel': {
      const retentionDays = await tenantRetentionDays(store, queue.tenantId);
      const cancelled = await finishQueue(deps, queue, 'cancelled', at, retentionDays);
      if (!cancelled) throw new DomainError('QUEUE_ALREADY_FINISHED');
      const {
        cancelled: count,
        fromRetry,
        fromDeferred,
      } = await store.cancelUnsentContacts(queue.id, at, retentionEnd(at, retentionDays));
      // A contact cancelled while waiting for its retry (or its deferral) no longer counts as such.
      const counted = count
        ? await store.updateQueueProgress(queue.id, {
            contactsCancelled: count,
            contactsPendingRetry: -fromRetry,
            contactsDeferred: -fromDeferred,
          })
        : cancelled;
      // What a pump that died left unwritten, no run will recount now: the cancel does, at once
      // when no pump of the queue holds its instance, else once that pump's lease is over (a
      // schedule). The queue is cancelled either way; a failed recount only leaves the counters as
      // they were.
      const recounted = await settleOrScheduleRecount(deps, counted ?? cancelled).catch((error: unknown) => {
        deps.logger.warn('could not recount the cancelled queue', { queueId: queue.id, error });
        return undefined;
      });
      return { message: 'Fila cancelada', queue: recounted ?? counted ?? cancelled };
    }
  }
};
