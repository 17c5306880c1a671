import { randomUUID } from 'node:crypto';
import type { BillingQueue } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type { CampaignStore, SendingStore } from '../ports/store.ts';
import { recountCounters } from './queue-progress.ts';
import { workItemOf } from './queue-work.ts';

/**
 * A cancelled queue's counters settled (issue 12, "without ever losing a count"). The pump writes
 * its counters every few sends (queue-progress.ts); a pump that dies leaves its last changes only
 * on the contacts, and the next run recounts them. A cancelled queue has no next run, so the cancel
 * recounts, now or, while the queue's own pump may still write, once that pump's lease is over.
 */

/** How long a cancel holds the instance's lease for its recount (released right after). */
const RECOUNT_LEASE_MS = 10_000;
/**
 * How long after the holding pump's lease ends the recount looks again: past it, a pump that died
 * can no longer write, and one that lives has renewed it (and writes its own counters as it stops).
 */
export const RECOUNT_RECHECK_MARGIN_MS = 5_000;

/**
 * What settling a cancelled queue's counters did: `recounted` (the queue as now stored; undefined
 * when there was nothing to recount) or, while a pump of this very queue holds its instance,
 * `checkAgainAt`: the moment its lease ends, plus a margin.
 */
export type CounterSettlement = { recounted: BillingQueue | undefined } | { checkAgainAt: Date };

/**
 * A cancelled queue's counters made to match its contacts, unless a pump of the queue may still
 * write them. A pump that died with counter changes unwritten (up to COUNTERS_FLUSH_EVERY_SENDS)
 * leaves them short, and no later run recounts a cancelled queue (a run checks the status before
 * it takes the instance). The lease of the instance the queue last ran on decides, as it does for
 * a take-over:
 * - free (or run out): taken here for the moment of the recount, so no pump can write meanwhile
 *   (a live one writes its counters before it lets the lease go; one whose lease ran out forgets
 *   them); recounted;
 * - held for another queue: no pump of this one holds the instance, so none writes; recounted;
 * - held for this queue (or for a holder not recorded): its pump may be alive (it sees the cancel
 *   before its next send and writes its own counters as it stops) or dead with its lease running;
 *   nothing is recounted now, and the caller looks again at `checkAgainAt` (a schedule).
 */
export const settleCancelledCounters = async (
  deps: { store: SendingStore & CampaignStore; clock: Clock },
  queue: BillingQueue,
): Promise<CounterSettlement> => {
  // A queue that never ran on an instance never sent: its counters are the accept's and the cancel's.
  if (!queue.instanceId) return { recounted: undefined };
  const holder = { owner: `recount-${randomUUID()}`, queueId: queue.id };
  const now = deps.clock.now();
  const until = new Date(now.getTime() + RECOUNT_LEASE_MS).toISOString();
  const lease = await deps.store.acquireInstanceLease(
    queue.tenantId,
    queue.instanceId,
    holder,
    now.toISOString(),
    until,
  );
  if (!lease.acquired) {
    const heldFor = lease.heldBy?.queueId ?? null;
    if (heldFor !== null && heldFor !== queue.id) return { recounted: await recountCounters(deps, queue) };
    const heldUntil = Date.parse(lease.heldBy?.until ?? until);
    return { checkAgainAt: new Date(Math.max(heldUntil, now.getTime()) + RECOUNT_RECHECK_MARGIN_MS) };
  }
  try {
    return { recounted: await recountCounters(deps, queue) };
  } finally {
    // The turn order is left as it was: the queue that had the instance last still counts as such.
    await deps.store.releaseInstanceLease(
      queue.tenantId,
      queue.instanceId,
      holder.owner,
      lease.lastSendAt,
      lease.lastHolderQueueId ?? queue.id,
    );
  }
};

/** The schedule of a cancelled queue's recount: a repeated cancel makes the same one (a no-op). */
export const recountScheduleName = (queueId: string): string => `recount-${queueId}`;

/**
 * The cancel's part: settles the queue's counters now (`settleCancelledCounters`) or, while a pump
 * of the queue holds its instance, schedules a recount for when that pump's lease is over (an item
 * with `recount`, which the release hands to `recountWhenLeaseIsOver` instead of publishing work).
 * Returns the queue as recounted now (undefined when nothing was recounted now).
 */
export const settleOrScheduleRecount = async (
  deps: { store: SendingStore & CampaignStore; clock: Clock; scheduler: Scheduler },
  queue: BillingQueue,
): Promise<BillingQueue | undefined> => {
  const settlement = await settleCancelledCounters(deps, queue);
  if ('recounted' in settlement) return settlement.recounted;
  // The generation is not read: a recount item publishes nothing.
  const item = { ...workItemOf(queue, 0), recount: true as const };
  await deps.scheduler.schedule(recountScheduleName(queue.id), settlement.checkAgainAt, item);
  return undefined;
};

/**
 * The recount schedule's part, once the lease the cancel found has ended: the pump that held it
 * either died (it can write nothing now) or lived on and wrote its counters as it stopped, so the
 * instance is free or held for another queue and the counters are recounted. Found held for this
 * queue again, its pump renewed the lease after the cancel, so it is alive and writes its own
 * counters as it stops (it sees the cancel before its next send); only its dying in that moment
 * too would leave a count short, and that is logged.
 */
export const recountWhenLeaseIsOver = async (
  deps: { store: SendingStore & CampaignStore; clock: Clock; logger: Logger },
  queue: BillingQueue,
): Promise<void> => {
  if (queue.status !== 'cancelled') return;
  const settlement = await settleCancelledCounters(deps, queue);
  if ('recounted' in settlement) {
    deps.logger.info('cancelled queue recounted after its pump', { queueId: queue.id });
    return;
  }
  deps.logger.warn('a pump of the cancelled queue still holds its instance; it writes its own counters', {
    queueId: queue.id,
  });
};
