import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BillingQueue, QueueCounter } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { type Item, tableOperations, toEntity } from './dynamodb-operations.ts';
import { hasExpired, keys, PK, SK, TTL_ATTRIBUTE } from './table-schema.ts';
import { addOnce, Expression, LAST_WRITE } from './update-expression.ts';

/**
 * A queue's progress lives on an item of its own, `QUEUE#<id>` / `COUNTERS` (docs/data-model.md,
 * Queue): its counters, the measured rate and the time of the last progress write. The queue item
 * is in gsi1 and gsi2 with every attribute, so each counter write there cost three write units
 * (the item and its two index copies); on this item, which has no index key, it costs one. The
 * pumps write it once per 10 sends, the webhooks once per receipt.
 *
 * Readers see one queue: the two items merged (`mergeQueueItems`). A queue stored before the split
 * kept its counters on the queue item, and its first progress write since creates its counters
 * item (`writeProgress`), so the merge adds the two: nothing is moved and nothing is lost.
 */

export const QUEUE_COUNTERS: ReadonlySet<string> = new Set<QueueCounter>([
  'contactsSent',
  'contactsDelivered',
  'contactsRead',
  'contactsReplied',
  'contactsFailed',
  'contactsPendingRetry',
  'contactsCancelled',
  'contactsUnknown',
  'contactsSkipped',
  'contactsStalled',
  'contactsDeferred',
]);

/** Run fields written with the counters (the pump's flush), so on the counters item too. */
export const PROGRESS_FIELDS: ReadonlySet<string> = new Set<keyof BillingQueue>(['currentRate']);

/** Counter values of a queue being stored: they go on its counters item, not on the queue item. */
export const splitNewQueue = (queue: BillingQueue): { queue: Item; counters: Item } => {
  const queueFields: Item = {};
  // No `updatedAt` of its own until the first progress write: the queue's is the one that counts.
  const counters: Item = { ...keys.queueCounters(queue.id) };
  for (const [field, value] of Object.entries(queue)) {
    if (QUEUE_COUNTERS.has(field) || PROGRESS_FIELDS.has(field)) counters[field] = value;
    else queueFields[field] = value;
  }
  return { queue: queueFields, counters };
};

const numberOr0 = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * The queue as readers see it, from its item and its counters item (undefined when it has none):
 * each counter is the sum of the two (a queue stored before the split counts on both), the rate
 * the counters item's, the last write the later of the two.
 */
export const mergeQueueItems = (queueItem: Item, countersItem: Item | undefined): BillingQueue => {
  const queue = toEntity<BillingQueue>(queueItem) as unknown as Item;
  if (!countersItem) return queue as unknown as BillingQueue;
  for (const counter of QUEUE_COUNTERS) {
    if (queue[counter] === undefined && countersItem[counter] === undefined) continue;
    queue[counter] = numberOr0(queue[counter]) + numberOr0(countersItem[counter]);
  }
  for (const field of PROGRESS_FIELDS) {
    if (countersItem[field] !== undefined) queue[field] = countersItem[field];
  }
  const progressAt = countersItem.updatedAt;
  if (typeof progressAt === 'string' && progressAt > String(queue.updatedAt ?? ''))
    queue.updatedAt = progressAt;
  return queue as unknown as BillingQueue;
};

/**
 * The reads and writes of counters items, bound to one table. The queue item's own writes stay in
 * the stores that make them; these only ever touch `COUNTERS`.
 */
export const queueCountersOperations = (client: DynamoDBDocumentClient, tableName: string, clock: Clock) => {
  const { get, putNew, updateIfMatch, queryAll, batchGet } = tableOperations(client, tableName);

  const progressExpression = (deltas: Partial<Record<QueueCounter, number>>, fields: Item): Expression => {
    const e = new Expression().set('updatedAt', clock.now().toISOString());
    for (const [counter, by] of Object.entries(deltas)) {
      if (!QUEUE_COUNTERS.has(counter)) throw new Error(`Not a queue counter: ${counter}`);
      if (by !== undefined && by !== 0) e.add(counter, by);
    }
    for (const [field, value] of Object.entries(fields)) e.set(field, value);
    return e;
  };

  const readQueueAndVersion = async (
    queueId: string,
  ): Promise<{ queue: BillingQueue; countersVersion: string | null } | undefined> => {
    const { pk } = keys.queue(queueId);
    const items = await queryAll({
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :counters AND :queue',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: {
        ':pk': pk,
        ':counters': keys.queueCounters(queueId).sk,
        ':queue': keys.queue(queueId).sk,
      },
      ConsistentRead: true,
    });
    const queueItem = items.find((item) => item[SK] === keys.queue(queueId).sk);
    if (!queueItem || hasExpired(queueItem, clock.now())) return undefined;
    const countersItem = items.find((item) => item[SK] === keys.queueCounters(queueId).sk);
    const version = countersItem?.[LAST_WRITE];
    return {
      queue: mergeQueueItems(queueItem, countersItem),
      countersVersion: typeof version === 'string' ? version : null,
    };
  };

  return {
    /** Stores a new queue's counters item (false when it exists already: a retried accept). */
    createCounters: (counters: Item): Promise<boolean> => putNew(counters),

    /**
     * Adds `deltas` and sets `fields` (PROGRESS_FIELDS) on the queue's counters item; the item after
     * the write, or undefined when the queue does not exist (or has expired). A queue with no
     * counters item (stored before the split, or whose accept died between its two puts) gets one
     * here, carrying the queue item's expiry if it has one.
     */
    async writeProgress(
      queueId: string,
      deltas: Partial<Record<QueueCounter, number>>,
      fields: Item,
    ): Promise<Item | undefined> {
      const key = keys.queueCounters(queueId);
      // Once only (receipt counters are never recounted): a retry that finds this write is it, done.
      const e = progressExpression(deltas, fields);
      const once = addOnce(e);
      const written = await updateIfMatch(
        { Key: key, ...e.update(`attribute_exists(${e.name(PK)}) AND ${once.notYet}`) },
        once.isThisWrite,
      );
      if (written) return written;
      const queue = await get(keys.queue(queueId));
      if (!queue || hasExpired(queue, clock.now())) return undefined;
      const create = progressExpression(deltas, fields);
      if (typeof queue[TTL_ATTRIBUTE] === 'number') create.set(TTL_ATTRIBUTE, queue[TTL_ATTRIBUTE]);
      const createOnce = addOnce(create);
      return updateIfMatch({ Key: key, ...create.update(createOnce.notYet) }, createOnce.isThisWrite);
    },

    /** The queue's counters item (consistent read), or undefined. */
    readCounters: (queueId: string): Promise<Item | undefined> => get(keys.queueCounters(queueId)),

    /**
     * The queue item and its counters item in one consistent Query (`COUNTERS` sorts right before
     * `QUEUE`): the queue as readers see it, or undefined when it does not exist or has expired.
     */
    readQueue: async (queueId: string): Promise<BillingQueue | undefined> =>
      (await readQueueAndVersion(queueId))?.queue,

    /**
     * `readQueue` and the id of the counters item's last write (`lastWrite`; null when it has none
     * or there is no counters item): `correctCounters` applies only while it is still that one.
     */
    readQueueAndVersion,

    /**
     * Adds `deltas` to the counters item if its last write is still `version` (a write of any kind
     * since, the pump's, a receipt's or another correction's, refuses it); false when refused or
     * when there is no counters item. Once only, like every progress write.
     */
    async correctCounters(
      queueId: string,
      deltas: Partial<Record<QueueCounter, number>>,
      version: string | null,
    ): Promise<boolean> {
      const e = progressExpression(deltas, {});
      const last = e.name(LAST_WRITE);
      const unchanged = version === null ? `attribute_not_exists(${last})` : `${last} = ${e.value(version)}`;
      const once = addOnce(e);
      const written = await updateIfMatch(
        {
          Key: keys.queueCounters(queueId),
          ...e.update(`attribute_exists(${e.name(PK)}) AND ${unchanged} AND ${once.notYet}`),
        },
        once.isThisWrite,
      );
      return written !== undefined;
    },

    /**
     * The queues of `queueIds` as readers see them, like `readQueue` each, in one consistent
     * BatchGetItem of their queue and counters items (100 keys a call): a few requests for hundreds
     * of queues, where a Query each took one round trip per queue. Missing and expired ones are left
     * out; the order is that of `queueIds`.
     */
    async readQueues(queueIds: readonly string[]): Promise<BillingQueue[]> {
      const found = await batchGet(queueIds.flatMap((id) => [keys.queue(id), keys.queueCounters(id)]));
      const byKey = new Map(found.map((item) => [`${item[PK]}\u0000${item[SK]}`, item]));
      const itemAt = (key: { pk: string; sk: string }) => byKey.get(`${key.pk}\u0000${key.sk}`);
      const now = clock.now();
      return queueIds.flatMap((id) => {
        const queueItem = itemAt(keys.queue(id));
        if (!queueItem || hasExpired(queueItem, now)) return [];
        return [mergeQueueItems(queueItem, itemAt(keys.queueCounters(id)))];
      });
    },

    /** The counters items of `queueIds` by queue id (those that have one). */
    async countersOf(queueIds: readonly string[]): Promise<Map<string, Item>> {
      const found = await batchGet(queueIds.map((id) => keys.queueCounters(id)));
      return new Map(found.map((item) => [String(item[PK]).slice('QUEUE#'.length), item]));
    },

    /** Gives the counters item the queue's expiry (a queue that finished), if it has one. */
    async expireCounters(queueId: string, ttl: number): Promise<void> {
      const e = new Expression().set(TTL_ATTRIBUTE, ttl);
      await updateIfMatch({
        Key: keys.queueCounters(queueId),
        ...e.update(`attribute_exists(${e.name(PK)})`),
        ReturnValues: 'NONE',
      });
    },
  };
};
