import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, SendingStore } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { publishContinuation } from './queue-work.ts';

const PAGE = 100;

/**
 * A tenant's queues parked in `instance_down` get their work item again, so they start at once
 * when an instance is added or reactivated instead of at their next scheduled re-check: the pump
 * picks the instance and decides (a queue still without a way to send parks again).
 * Returns how many were woken.
 */
export const wakeParkedQueues = async (
  deps: { store: CampaignStore & SendingStore; workQueue: WorkQueue; logger: Logger; metrics: Metrics },
  tenantId: string,
): Promise<number> => {
  let woken = 0;
  let cursor: string | undefined;
  do {
    // The listing is an index read (it may lag): a queue it misses still has its re-check.
    const page = await deps.store.listQueues(tenantId, { status: 'instance_down', limit: PAGE, cursor });
    for (const queue of page.items) {
      await publishContinuation(deps, queue);
      woken += 1;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return woken;
};
