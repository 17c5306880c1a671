import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { QueueCounter, QueueRunFields, QueueStatus, QueueTransitionFields } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SendingStore } from '../../ports/store.ts';
import { type Item, tableOperations, withoutUndefined } from './dynamodb-operations.ts';
import { mergeQueueItems, PROGRESS_FIELDS, queueCountersOperations } from './queue-counters-item.ts';
import { GSI1, GSI2, hasExpired, indexPartitions, keys, PK, ttlSeconds } from './table-schema.ts';
import { Expression, setExpiry } from './update-expression.ts';

/** The queue's writes as the sender and the control make them (docs/data-model.md, Queue). */
type DynamoDbQueueRunPart = Pick<
  SendingStore,
  'transitionQueue' | 'updateQueueProgress' | 'addToQueueCounters' | 'nextPublishGeneration'
>;

export interface DynamoDbQueueRunStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Stamps queue writes (`updatedAt`, the due index) where the port passes no time. */
  clock: Clock;
}

/** Queue statuses the sweeper watches (docs/data-model.md, Queue): they carry the gsi2 due entry. */
export const OPEN_STATUSES: ReadonlySet<QueueStatus> = new Set([
  'pending',
  'scheduled',
  'running',
  'instance_down',
]);
export const QUEUE_RUN_FIELDS: ReadonlySet<string> = new Set<keyof QueueRunFields>([
  'currentRate',
  'startedAt',
  'completedAt',
  'pausedAt',
  'pauseReason',
  'nextRunAt',
  // Chosen when the queue runs (the tenant may have had no active instance at accept time).
  'instanceId',
]);
/** Tenant ids remembered by queue id: a queue's tenant never changes, so the entry never goes stale. */
const TENANT_CACHE_LIMIT = 10_000;

/**
 * A queue's status transitions (moving its gsi1 partition and its gsi2 due entry), its progress
 * (counters on the counters item, queue-counters-item.ts; run fields on the queue item) and its
 * publish generation: each one conditional write, merged with the counters item on the way back.
 * Beside the contacts' writes of dynamodb-sending-store.ts, spread into the same Store.
 */
export function createDynamoDbQueueRunStore(options: DynamoDbQueueRunStoreOptions): DynamoDbQueueRunPart {
  const { clock } = options;
  const { get, updateIfMatch } = tableOperations(options.client, options.tableName);
  const counters = queueCountersOperations(options.client, options.tableName, clock);
  const tenantOfQueue = new Map<string, string>();

  /** The queue's tenant (to name its gsi1 partition); undefined when the queue does not exist. */
  const tenantOf = async (queueId: string): Promise<string | undefined> => {
    const cached = tenantOfQueue.get(queueId);
    if (cached !== undefined) return cached;
    const item = await get(keys.queue(queueId));
    if (!item) return undefined;
    remember(item);
    return String(item.tenantId);
  };

  const remember = (queue: Item): void => {
    if (tenantOfQueue.size >= TENANT_CACHE_LIMIT) tenantOfQueue.clear();
    tenantOfQueue.set(String(queue.id), String(queue.tenantId));
  };

  /** The due-index entry of an open queue: the sweeper looks at it from `checkAt` on. */
  const dueSortKey = (queueId: string, nextRunAt: string | null | undefined): string =>
    keys.dueIndex('QUEUE', nextRunAt ?? clock.now().toISOString(), queueId).gsi2sk;

  /** SETs the run fields (only known ones: the type allows nothing else, a cast might). */
  const setRunFields = (expression: Expression, fields: QueueRunFields | undefined): void => {
    for (const [field, value] of Object.entries(withoutUndefined(fields ?? {}))) {
      if (!QUEUE_RUN_FIELDS.has(field)) throw new Error(`Not a queue run field: ${field}`);
      expression.set(field, value);
    }
  };

  /** Sets run fields on the queue item if it exists: the item after, or undefined. */
  const updateQueueFields = (queueId: string, fields: QueueRunFields): Promise<Item | undefined> => {
    const e = new Expression().set('updatedAt', clock.now().toISOString());
    setRunFields(e, fields);
    // Only the sort key: an open queue moves in the due index, a paused or finished one (no gsi2pk)
    // stays out of it, as an item lacking either index key is not indexed.
    if (fields.nextRunAt !== undefined) e.set(GSI2.sk, dueSortKey(queueId, fields.nextRunAt));
    return updateIfMatch({ Key: keys.queue(queueId), ...e.update(`attribute_exists(${e.name(PK)})`) });
  };

  /** The queue item (consistent read) unless it is missing or has expired. */
  const getLiveQueue = async (queueId: string): Promise<Item | undefined> => {
    const item = await get(keys.queue(queueId));
    return item && !hasExpired(item, clock.now()) ? item : undefined;
  };

  return {
    async transitionQueue(
      queueId: string,
      from: readonly QueueStatus[],
      to: QueueStatus,
      fields?: QueueTransitionFields,
      expiresAt?: string,
    ) {
      if (from.length === 0) return undefined;
      // The gsi1 partition names the tenant; a queue's tenant never changes, so it is read once.
      const tenantId = await tenantOf(queueId);
      if (tenantId === undefined) return undefined;
      const e = new Expression()
        .set('status', to)
        // gsi1sk (`<createdAt>#<id>`) stays: only the partition moves to the new status.
        .set(GSI1.pk, indexPartitions.queues(tenantId, to))
        .set('updatedAt', clock.now().toISOString());
      setRunFields(e, fields);
      if (expiresAt !== undefined) setExpiry(e, expiresAt);
      if (OPEN_STATUSES.has(to)) {
        e.set(GSI2.pk, indexPartitions.due('QUEUE')).set(GSI2.sk, dueSortKey(queueId, fields?.nextRunAt));
      } else {
        e.remove(GSI2.pk, GSI2.sk);
      }
      const allowed = from.map((status) => e.value(status));
      const [item, progress] = await Promise.all([
        updateIfMatch({
          Key: keys.queue(queueId),
          ...e.update(`${e.name('status')} IN (${allowed.join(', ')})`),
        }),
        counters.readCounters(queueId),
      ]);
      if (!item) return undefined;
      // A finished queue's progress expires with it.
      if (expiresAt !== undefined && progress) await counters.expireCounters(queueId, ttlSeconds(expiresAt));
      return mergeQueueItems(item, progress);
    },

    async updateQueueProgress(
      queueId: string,
      deltas: Partial<Record<QueueCounter, number>>,
      fields?: QueueRunFields,
    ) {
      // Counters and the rate go on the counters item (queue-counters-item.ts); the other run fields
      // on the queue item. Each write comes back whole, the item not written is read alongside.
      const progressFields: Item = {};
      const queueFields: QueueRunFields = {};
      for (const [field, value] of Object.entries(withoutUndefined(fields ?? {}))) {
        if (PROGRESS_FIELDS.has(field)) progressFields[field] = value;
        else (queueFields as Item)[field] = value;
      }
      const writesQueue = Object.keys(queueFields).length > 0;
      const writesProgress =
        Object.keys(progressFields).length > 0 ||
        Object.values(deltas).some((by) => by !== undefined && by !== 0);
      const [queueItem, progress] = await Promise.all([
        writesQueue ? updateQueueFields(queueId, queueFields) : getLiveQueue(queueId),
        writesProgress
          ? counters.writeProgress(queueId, deltas, progressFields)
          : counters.readCounters(queueId),
      ]);
      if (!queueItem) return undefined;
      remember(queueItem);
      return mergeQueueItems(queueItem, progress);
    },

    async addToQueueCounters(queueId: string, deltas: Partial<Record<QueueCounter, number>>) {
      // One write unit on the counters item, and no read of the queue item beside it.
      return (await counters.writeProgress(queueId, deltas, {})) !== undefined;
    },

    async nextPublishGeneration(queueId: string) {
      const e = new Expression().add('publishGeneration', 1);
      const item = await updateIfMatch({
        Key: keys.queue(queueId),
        ...e.update(`attribute_exists(${e.name(PK)})`),
        ReturnValues: 'UPDATED_NEW',
      });
      // Publishing work for a queue that does not exist is a bug upstream, not an outcome.
      if (!item) throw new Error(`nextPublishGeneration: queue ${queueId} does not exist`);
      return Number(item.publishGeneration);
    },
  };
}
