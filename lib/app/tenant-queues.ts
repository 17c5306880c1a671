import { type BillingQueue, QUEUE_STATUSES, type QueueStatus } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { CampaignStore, ContactIdentity, DebtorStore } from '../ports/store.ts';
import { forEachBounded, groupsWithin, type WeightedBound } from './bounded.ts';
import { ownsQueue, type QueueOwner } from './get-queue-for-tenant.ts';

/** Queues read per listing page (the store's largest). */
const PAGE = 100;

/**
 * A request that walks a tenant's queues (payments, erasure) reads their contacts a group at a time:
 * up to 100 queues and 4000 contacts, which the store reads together (hundreds of one-contact
 * queues, as a tenant that posts one batch per invoice has, in a few requests), two groups at once.
 */
const QUEUE_GROUP: WeightedBound<BillingQueue> = {
  count: 100,
  weight: 4000,
  weightOf: (queue) => queue.totalContacts,
};
const GROUPS_AT_ONCE = 2;
/** Queues of a group whose own work (writes for the contacts matched) runs at once. */
export const QUEUE_TASKS_AT_ONCE = 32;

/** A group of queues and their contacts, each queue's as matching a debtor reads it. */
export interface QueueGroup {
  queues: BillingQueue[];
  contactsOf: (queue: BillingQueue) => ContactIdentity[];
}

/**
 * Runs `task` for each group of `queues` (`QUEUE_GROUP`) with the group's contacts read, two groups
 * at once; the first failure rejects, once the groups already started have ended. With `invoices`,
 * only the contacts of those invoices are needed (a queue the store knows holds none is not read).
 * With `keepGoing` (a deadline, say), a group after the first starts only while it holds, and none
 * after one that did not. Resolves with how many of `queues`, from the first, were done.
 */
export const forEachQueueGroup = async (
  deps: { store: DebtorStore },
  queues: readonly BillingQueue[],
  task: (group: QueueGroup) => Promise<void>,
  options: { invoices?: ReadonlySet<string>; keepGoing?: () => boolean } = {},
): Promise<number> => {
  const { invoices, keepGoing } = options;
  let started = 0;
  let stopped = false;
  const groups = groupsWithin(queues, QUEUE_GROUP);
  // forEachBounded starts groups in order, so the groups started are the first `started`.
  await forEachBounded(groups, GROUPS_AT_ONCE, async (group) => {
    stopped ||= started > 0 && keepGoing !== undefined && !keepGoing();
    if (stopped) return;
    started += 1;
    const contacts = await deps.store.listContactIdentities(group, invoices ? { invoices } : {});
    await task({ queues: group, contactsOf: (queue) => contacts.get(queue.id) ?? [] });
  });
  return groups.slice(0, started).reduce((done, group) => done + group.length, 0);
};

/**
 * How far back the queues created lately are read without the index, on top of its listing.
 * DynamoDB's indexes usually catch up within a second; minutes cover a throttled index too, and the
 * look back costs two small item reads per queue created in it (in batches of 50 queues).
 */
export const INDEX_LAG_ALLOWANCE_MS = 10 * 60_000;

/**
 * Every queue the owner sees (its tenant's, only of its template types when it has some), of the
 * given statuses (each its own index partition) or of all, following the store's cursors. The
 * listing goes through an index that lags: a batch accepted a moment ago may not be in it yet, so
 * the queues created within `INDEX_LAG_ALLOWANCE_MS` are also read as they are now (a payment or an
 * erasure posted right after a batch must still find its queue), and their status decides.
 */
export const ownedQueues = async (
  deps: { store: CampaignStore; clock: Clock },
  owner: QueueOwner,
  statuses?: readonly QueueStatus[],
): Promise<BillingQueue[]> => {
  const since = new Date(deps.clock.now().getTime() - INDEX_LAG_ALLOWANCE_MS);
  const [listed, recent] = await Promise.all([
    listedQueues(deps, owner, statuses),
    deps.store.listQueuesCreatedSince(owner.tenantId, since),
  ]);
  const wanted = (queue: BillingQueue) => statuses === undefined || statuses.includes(queue.status);
  // A queue whose status changed between two partitions' Queries shows up in both; a recent one
  // read as it is now replaces its listed copy, which may be stale.
  const unique = new Map(listed.map((queue) => [queue.id, queue]));
  for (const queue of recent) {
    if (wanted(queue)) unique.set(queue.id, queue);
    else unique.delete(queue.id);
  }
  return [...unique.values()].filter((queue) => ownsQueue(owner, queue));
};

/**
 * The owner's queues of the given statuses as the index shows them: every page of each status,
 * without `ownedQueues`' look back, which reads each queue created within the index lag as it is
 * now (a tenant that posts one batch per invoice may have hundreds in it). For figures that may lag a
 * second, such as an ETA; a request that must find every queue uses `ownedQueues`.
 */
export const indexedQueues = async (
  deps: { store: CampaignStore },
  owner: QueueOwner,
  statuses: readonly QueueStatus[],
): Promise<BillingQueue[]> => {
  // A queue whose status changed between two partitions' Queries shows up in both: once here.
  const unique = new Map((await listedQueues(deps, owner, statuses)).map((queue) => [queue.id, queue]));
  return [...unique.values()].filter((queue) => ownsQueue(owner, queue));
};

/**
 * The index's listing, every page of each status asked for (of every status when none), each
 * status's partition walked on its own, all at once: a walk needs no order, and the merged listing
 * of all statuses (the API's, newest first) reads a page's worth of each partition for each page.
 */
const listedQueues = async (
  deps: { store: CampaignStore },
  owner: QueueOwner,
  statuses: readonly QueueStatus[] | undefined,
): Promise<BillingQueue[]> => {
  const walk = async (status: QueueStatus): Promise<BillingQueue[]> => {
    const all: BillingQueue[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.store.listQueues(owner.tenantId, { limit: PAGE, cursor, status });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  };
  return (await Promise.all((statuses ?? QUEUE_STATUSES).map(walk))).flat();
};
