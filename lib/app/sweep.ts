import { queueStatusesThatCanMoveTo } from '../domain/queue-state.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type {
  CampaignStore,
  CounterStore,
  DeliveryWatchStore,
  ReceiptRecountStore,
  SendingStore,
  TenantStore,
} from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { checkStalledDeliveries } from './delivery-watch.ts';
import { publishContinuation } from './queue-work.ts';
import { type ReceiptRecountResult, recountDueReceipts } from './receipt-recount.ts';

export interface SweepDeps {
  store: SendingStore & CampaignStore & DeliveryWatchStore & ReceiptRecountStore & TenantStore & CounterStore;
  workQueue: WorkQueue;
  clock: Clock;
  logger: Logger;
  /** For stalled deliveries: the `delivery_stalled` event and metric. */
  events: BillingEvents;
  metrics: Metrics;
}

export interface SweepResult {
  republished: string[];
  /** Sent contacts found stalled by this sweep (lib/app/delivery-watch.ts). */
  stalled: number;
  /** Due delivery watches this sweep checked. */
  watchesChecked: number;
  /** Queues flagged by a duplicate receipt whose receipt counters this sweep recounted, and corrected. */
  receiptRecounts: ReceiptRecountResult;
}

const PAGE = 100;

/**
 * The sweeper (cron in AWS, a timer locally): no queue stays stuck and no message is lost.
 * 1. list open queues whose check time passed more than `graceMs` ago (the due index);
 * 2. for each: a `pending` queue whose work item never arrived, a `running` one whose pump died
 *    (no progress for longer than a lease), or a `scheduled` one whose release was lost: publish
 *    its work item again and move its check time forward, so the next sweep leaves it alone;
 * 3. `instance_down` queues are left to their re-check schedule, unless its time passed (a
 *    scheduler that failed, or a queue parked before re-checks existed): published like the rest;
 * 4. due delivery watches: sent messages with no acknowledgement past the tenant's delivery timeout
 *    become stalled (lib/app/delivery-watch.ts);
 * 5. due receipt recounts: the receipt counters of a queue a duplicate receipt flagged, set to what
 *    its contacts say once its receipts are quiet (lib/app/receipt-recount.ts).
 * Idempotent: a republished item for a queue that is fine just finds nothing to do (the lease
 * and the contact claims make a duplicate pump harmless).
 */
export const sweep = async (deps: SweepDeps, options: { graceMs: number }): Promise<SweepResult> => {
  const now = deps.clock.now();
  const upTo = new Date(now.getTime() - options.graceMs).toISOString();
  const republished: string[] = [];
  const candidates = await deps.store.listDueQueues(upTo, PAGE);
  for (const candidate of candidates) {
    // The index may lag: decide on the current item.
    const queue = await deps.store.getQueue(candidate.id);
    if (!queue || !isStuck(queue, upTo)) continue;
    const next = new Date(now.getTime() + options.graceMs).toISOString();
    await deps.store.updateQueueProgress(
      queue.id,
      {},
      { nextRunAt: queue.status === 'scheduled' ? queue.nextRunAt : next },
    );
    await publishContinuation(deps, queue);
    republished.push(queue.id);
    deps.logger.warn('sweeper republished a stuck queue', { queueId: queue.id, status: queue.status });
  }
  const { stalled, checked } = await checkStalledDeliveries(deps);
  const receiptRecounts = await recountDueReceipts(deps);
  return { republished, stalled, watchesChecked: checked, receiptRecounts };
};

/**
 * Only a queue its pump may run (not paused, not finished) can be stuck, once its check time
 * passed; a `pending` or `running` one also needs no change since (a live pump writes progress).
 */
const isStuck = (queue: BillingQueue, upTo: string): boolean => {
  if (!queueStatusesThatCanMoveTo('running').includes(queue.status)) return false;
  const due = (queue.nextRunAt ?? '') <= upTo;
  if (queue.status === 'scheduled' || queue.status === 'instance_down') return due;
  return due && (queue.updatedAt ?? queue.createdAt) <= upTo;
};
