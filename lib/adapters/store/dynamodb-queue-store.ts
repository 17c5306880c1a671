import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BillingQueue, type Page, QUEUE_STATUSES, type QueueStatus } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CampaignStore, PageRequest } from '../../ports/store.ts';
import { type Item, tableOperations } from './dynamodb-operations.ts';
import { checkPageRequest, decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import { mergeQueueItems, queueCountersOperations, splitNewQueue } from './queue-counters-item.ts';
import {
  GSI1,
  hasExpired,
  indexPartitions,
  keys,
  NEW_QUEUE_MARKER_PREFIX,
  PK,
  SK,
  TTL_ATTRIBUTE,
  ttlSeconds,
} from './table-schema.ts';

/**
 * How long a new-queue marker is kept: far past any index lag (`listQueuesCreatedSince` looks back
 * minutes), short enough that the tenant partition does not fill with them.
 */
const NEW_QUEUE_MARKER_TTL_MS = 24 * 60 * 60_000;

/** Statuses the sweeper must watch (design: paused and finished queues stay out of the sparse due index). */
const SWEPT_STATUSES: ReadonlySet<QueueStatus> = new Set([
  'pending',
  'scheduled',
  'running',
  'instance_down',
]);

/** After the queue whose gsi1 sort key is `a` (`<createdAt>#<queueId>`), in every status partition. */
interface QueueCursor {
  a: string;
}

const QUEUE_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[^#]+$/;

function decodeQueueCursor(cursor: string): QueueCursor {
  const { a, ...rest } = decodeCursor(cursor);
  if (typeof a !== 'string' || a.length > 400 || !QUEUE_SORT_KEY.test(a) || Object.keys(rest).length > 0) {
    throw invalidCursor();
  }
  return { a };
}

/**
 * The status partitions' pages in one order of gsi1 sort key (creation time, then id); a queue seen
 * twice (its index entry moving between statuses) counts once.
 */
function mergeByCreation(pages: Item[][], order: 'newest_first' | 'oldest_first'): Item[] {
  const seen = new Set<string>();
  const sign = order === 'newest_first' ? -1 : 1;
  return pages
    .flat()
    .sort((x, y) => {
      const a = String(x[GSI1.sk]);
      const b = String(y[GSI1.sk]);
      return a < b ? -sign : a > b ? sign : 0;
    })
    .filter((item) => {
      const id = String(item.id);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
}

/** The queue item and its counters item (queue-counters-item.ts) of a new queue. */
function queueToItems(queue: BillingQueue): { queue: Item; counters: Item } {
  // A new open queue is due for the sweeper at once (or at its next run): if the accept request dies
  // before publishing its work item, the sweeper is what publishes it. The sweeper allows a grace.
  const due = SWEPT_STATUSES.has(queue.status)
    ? keys.dueIndex('QUEUE', queue.nextRunAt ?? queue.createdAt, queue.id)
    : {};
  const split = splitNewQueue(queue);
  return {
    queue: {
      ...keys.queue(queue.id),
      ...keys.queuesIndex(queue.tenantId, queue.status, queue.createdAt, queue.id),
      ...due,
      ...split.queue,
    },
    counters: split.counters,
  };
}

/**
 * Queues on the single table (docs/data-model.md: Queue, Queue counters, New-queue marker): created
 * once with their counters item and a new-queue marker, read with their counters, listed by tenant
 * through gsi1 (one partition per status) and, for the last minutes the index may not show yet,
 * through the markers.
 */
export function createDynamoDbQueueStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
}): Pick<
  CampaignStore,
  'createQueue' | 'getQueue' | 'listQueuesCreatedSince' | 'listQueues' | 'listQueuesOldestFirst'
> {
  const { clock } = options;
  const { put, putNew, queryAll, queryUpTo } = tableOperations(options.client, options.tableName);
  const counters = queueCountersOperations(options.client, options.tableName, clock);
  return {
    async createQueue(queue: BillingQueue) {
      const items = queueToItems(queue);
      const at = clock.now();
      // The counters item and the new-queue marker first: a queue item never exists without them,
      // except after a crash between the puts (the first progress write mends the counters,
      // `writeProgress`; a queue without a marker is one the index has long shown).
      await Promise.all([
        counters.createCounters(items.counters),
        put({
          ...keys.newQueueMarker(queue.tenantId, at.toISOString(), queue.id),
          queueId: queue.id,
          [TTL_ATTRIBUTE]: ttlSeconds(new Date(at.getTime() + NEW_QUEUE_MARKER_TTL_MS)),
        }),
      ]);
      return (await putNew(items.queue)) ? 'created' : 'exists';
    },

    getQueue: (queueId: string) => counters.readQueue(queueId),

    /*
     * One strongly consistent Query of the tenant partition's markers from `since` on, then each
     * queue they name read as `getQueue` reads it (a marker whose queue was never created, its
     * request having died in between, names nothing).
     */
    async listQueuesCreatedSince(tenantId: string, since: Date) {
      const from = keys.newQueueMarker(tenantId, since.toISOString(), '');
      const markers = await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': from.pk, ':from': from.sk, ':to': `${NEW_QUEUE_MARKER_PREFIX}~` },
        ConsistentRead: true,
      });
      return counters.readQueues([...new Set(markers.map((marker) => String(marker.queueId)))]);
    },

    /*
     * One Query per status partition (one when filtered, eight otherwise), each asking for one more
     * than a page, merged newest first. The cursor is the last returned sort key; every partition
     * resumes with `gsi1sk < :after`, which is right for the merge and for a single partition alike.
     */
    async listQueues(tenantId: string, page: PageRequest<QueueStatus>): Promise<Page<BillingQueue>> {
      checkPageRequest(page, QUEUE_STATUSES);
      const after = page.cursor === undefined ? undefined : decodeQueueCursor(page.cursor).a;
      const statuses = page.status ? [page.status] : QUEUE_STATUSES;
      const now = clock.now();
      const pages = await Promise.all(
        statuses.map((status) =>
          queryUpTo(
            {
              IndexName: GSI1.name,
              KeyConditionExpression: after ? '#gpk = :gpk AND #gsk < :after' : '#gpk = :gpk',
              ExpressionAttributeNames: after ? { '#gpk': GSI1.pk, '#gsk': GSI1.sk } : { '#gpk': GSI1.pk },
              ExpressionAttributeValues: {
                ':gpk': indexPartitions.queues(tenantId, status),
                ...(after ? { ':after': after } : {}),
              },
              ScanIndexForward: false,
            },
            page.limit + 1,
            { keep: (item) => !hasExpired(item, now) },
          ),
        ),
      );
      const merged = mergeByCreation(pages, 'newest_first');
      const items = merged.slice(0, page.limit);
      const last = items.at(-1);
      const progress = await counters.countersOf(items.map((item) => String(item.id)));
      return {
        items: items.map((item) => mergeQueueItems(item, progress.get(String(item.id)))),
        nextCursor: merged.length > page.limit && last ? encodeCursor({ a: String(last[GSI1.sk]) }) : null,
      };
    },

    /*
     * One Query per status partition, oldest first, each of up to `limit` queues between the one at
     * `after` (BETWEEN is inclusive: that one is dropped) and `createdBefore` (every sort key of that
     * instant is longer, so none is included), merged oldest first.
     */
    async listQueuesOldestFirst(tenantId, { after, createdBefore, limit }) {
      const from = after ? `${after.createdAt}#${after.id}` : undefined;
      const now = clock.now();
      const pages = await Promise.all(
        QUEUE_STATUSES.map((status) =>
          queryUpTo(
            {
              IndexName: GSI1.name,
              KeyConditionExpression: from
                ? '#gpk = :gpk AND #gsk BETWEEN :from AND :before'
                : '#gpk = :gpk AND #gsk < :before',
              ExpressionAttributeNames: { '#gpk': GSI1.pk, '#gsk': GSI1.sk },
              ExpressionAttributeValues: {
                ':gpk': indexPartitions.queues(tenantId, status),
                ':before': createdBefore,
                ...(from ? { ':from': from } : {}),
              },
            },
            limit,
            { keep: (item) => item[GSI1.sk] !== from && !hasExpired(item, now) },
          ),
        ),
      );
      const items = mergeByCreation(pages, 'oldest_first').slice(0, limit);
      const progress = await counters.countersOf(items.map((item) => String(item.id)));
      return items.map((item) => mergeQueueItems(item, progress.get(String(item.id))));
    },
  };
}
