import type { BillingQueue, QueueStatus } from '../domain/types.ts';
import type { CampaignStore } from '../ports/store.ts';
import { ownsQueue, type QueueOwner } from './get-queue-for-tenant.ts';

/** Queues read per listing page (the store's largest). */
const PAGE = 100;

/**
 * Every queue the owner sees (its tenant's, only of its template types when it has some), of the
 * given statuses (each its own index partition) or of all, following the store's cursors.
 */
export const ownedQueues = async (
  deps: { store: CampaignStore },
  owner: QueueOwner,
  statuses?: readonly QueueStatus[],
): Promise<BillingQueue[]> => {
  const all: BillingQueue[] = [];
  for (const status of statuses ?? [undefined]) {
    let cursor: string | undefined;
    do {
      const page = await deps.store.listQueues(owner.tenantId, {
        limit: PAGE,
        cursor,
        ...(status ? { status } : {}),
      });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  // A queue whose status changed between two partitions' Queries shows up in both.
  const unique = new Map(all.map((queue) => [queue.id, queue]));
  return [...unique.values()].filter((queue) => ownsQueue(owner, queue));
};
