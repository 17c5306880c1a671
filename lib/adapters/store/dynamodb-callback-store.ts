import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { BillingContact } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CallbackStore, CampaignStore, StoredCallbackEvent } from '../../ports/store.ts';
import {
  decodeCursor,
  encodeCursor,
  type Item,
  invalidCursor,
  tableOperations,
  toEntity,
} from './dynamodb-operations.ts';
import {
  GSI1,
  GSI2,
  hasExpired,
  indexPartitions,
  keys,
  PK,
  SK,
  TTL_ATTRIBUTE,
  ttlSeconds,
} from './table-schema.ts';

/** The part of the Store that records ERP callback events and drives their delivery. */
type DynamoDbCallbackPart = CallbackStore & Pick<CampaignStore, 'getContact'>;

export interface DynamoDbCallbackStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Says which events have expired (listings leave them out until they are deleted). */
  clock: Clock;
}

const CALLBACK_PREFIX = 'CALLBACK#';
/** Sorts after every character of an event id, so `<now>#~` includes every entry due at `now`. */
const AFTER_ANY_ID = '~';

/** Cursors are `{ k }` holding the last returned sort key (never a partition). */
const decodeEventCursor = (cursor: string, isValid: (sortKey: string) => boolean): string => {
  const { k } = decodeCursor(cursor);
  if (typeof k !== 'string' || k.length > 600 || !isValid(k)) throw invalidCursor();
  return k;
};

const toEvent = (item: Item): StoredCallbackEvent => toEntity<StoredCallbackEvent>(item);

/**
 * Callback events on the single table (docs/data-model.md, Callback event): one item per event
 * under its queue, keyed by the deterministic event id, so the conditional put is the dedup.
 * While `pending` it sits in the sparse due index (gsi2 `DUE#CALLBACK`); a claim moves its
 * `nextAttemptAt` forward by a lease in one conditional write, so two deliverers never post the
 * same attempt. gsi1 lists a tenant's events in time order.
 */
export const createDynamoDbCallbackStore = (options: DynamoDbCallbackStoreOptions): DynamoDbCallbackPart => {
  const { get, putNew, updateIfMatch, queryUpTo, queryDue } = tableOperations(
    options.client,
    options.tableName,
  );

  /**
   * A page of a Query: asks for `limit + 1` matches (following LastEvaluatedKey while a filter or
   * the 1 MB cap stopped short), so the last page has no cursor.
   */
  const queryPage = async (
    input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey' | 'Limit'>,
    limit: number,
    sortKeyOf: (item: Item) => string,
    exclude?: string,
  ) => {
    const now = options.clock.now();
    const found = await queryUpTo(input, limit + 1, {
      pageSize: limit + 2,
      keep: (item) => sortKeyOf(item) !== exclude && !hasExpired(item, now),
    });
    const items = found.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toEvent),
      nextCursor: found.length > limit && last ? encodeCursor({ k: sortKeyOf(last) }) : null,
    };
  };

  return {
    async putCallbackEvent(event, expiresAt) {
      const item = {
        ...keys.callback(event.queueId, event.eventId),
        ...keys.callbackEventsIndex(event.tenantId, event.occurredAt, event.eventId),
        ...(event.delivery.status === 'pending' && event.delivery.nextAttemptAt
          ? keys.dueIndex('CALLBACK', event.delivery.nextAttemptAt, event.eventId)
          : {}),
        ...event,
        [TTL_ATTRIBUTE]: ttlSeconds(expiresAt),
      };
      return (await putNew(item)) ? 'created' : 'exists';
    },

    async getCallbackEvent(queueId, eventId) {
      const item = await get(keys.callback(queueId, eventId));
      return item ? toEvent(item) : undefined;
    },

    async listDueCallbacks(now, limit) {
      return (await queryDue('CALLBACK', now, limit)).map(toEvent);
    },

    async claimCallback(queueId, eventId, now, leaseUntil) {
      const item = await updateIfMatch({
        Key: keys.callback(queueId, eventId),
        UpdateExpression: 'SET #d.#next = :lease, #d.#attempts = #d.#attempts + :one, #gsk = :gsk',
        // `nextAttemptAt <= now` is the exclusivity: the winner moves it past `now` in this write.
        ConditionExpression: '#d.#status = :pending AND #d.#next <= :now',
        ExpressionAttributeNames: {
          '#d': 'delivery',
          '#next': 'nextAttemptAt',
          '#attempts': 'attempts',
          '#status': 'status',
          '#gsk': GSI2.sk,
        },
        ExpressionAttributeValues: {
          ':lease': leaseUntil,
          ':now': now,
          ':one': 1,
          ':pending': 'pending',
          ':gsk': keys.dueIndex('CALLBACK', leaseUntil, eventId).gsi2sk,
        },
        ReturnValues: 'ALL_NEW',
      });
      return item ? toEvent(item) : undefined;
    },

    async finishCallbackAttempt(queueId, eventId, attempt, result) {
      const names: Record<string, string> = {
        '#d': 'delivery',
        '#status': 'status',
        '#attempts': 'attempts',
        '#next': 'nextAttemptAt',
        '#error': 'lastError',
        '#last': 'lastAttemptAt',
      };
      const values: Item = { ':pending': 'pending', ':attempt': attempt, ':last': result.at };
      let update: string;
      if (result.status === 'pending') {
        names['#gsk'] = GSI2.sk;
        values[':next'] = result.nextAttemptAt;
        values[':error'] = result.error;
        values[':gsk'] = keys.dueIndex('CALLBACK', result.nextAttemptAt, eventId).gsi2sk;
        update = 'SET #d.#next = :next, #d.#error = :error, #d.#last = :last, #gsk = :gsk';
      } else {
        names['#gpk'] = GSI2.pk;
        names['#gsk'] = GSI2.sk;
        values[':null'] = null;
        values[':status'] = result.status;
        if (result.status === 'delivered') {
          names['#deliveredAt'] = 'deliveredAt';
          update =
            'SET #d.#status = :status, #d.#next = :null, #d.#error = :null, #d.#deliveredAt = :last, #d.#last = :last REMOVE #gpk, #gsk';
        } else {
          values[':error'] = result.error;
          update =
            'SET #d.#status = :status, #d.#next = :null, #d.#error = :error, #d.#last = :last REMOVE #gpk, #gsk';
        }
      }
      const out = await updateIfMatch({
        Key: keys.callback(queueId, eventId),
        UpdateExpression: update,
        // The attempt number is the claim's token: a claim lost to an expired lease records nothing.
        ConditionExpression: '#d.#status = :pending AND #d.#attempts = :attempt',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return out !== undefined;
    },

    async listCallbackEvents(tenantId, query) {
      const { queueId, since, limit, cursor } = query;
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error('listCallbackEvents: limit must be positive');
      if (queueId) {
        const prefix = `${CALLBACK_PREFIX}${queueId}:`;
        const after = cursor ? decodeEventCursor(cursor, (k) => k.startsWith(prefix)) : undefined;
        return queryPage(
          {
            // After a cursor: the range from it to the end of the queue's events (BETWEEN is
            // inclusive, so the cursor's own item is dropped below).
            KeyConditionExpression: after
              ? '#pk = :pk AND #sk BETWEEN :after AND :end'
              : '#pk = :pk AND begins_with(#sk, :prefix)',
            // The tenant is re-checked on the item too: the queue partition is not the tenant's key.
            FilterExpression: since
              ? '#tenantId = :tenantId AND #occurredAt >= :since'
              : '#tenantId = :tenantId',
            ExpressionAttributeNames: {
              '#pk': PK,
              '#sk': SK,
              '#tenantId': 'tenantId',
              ...(since ? { '#occurredAt': 'occurredAt' } : {}),
            },
            ExpressionAttributeValues: {
              ':pk': keys.queue(queueId).pk,
              ...(after ? { ':after': after, ':end': `${prefix}${AFTER_ANY_ID}` } : { ':prefix': prefix }),
              ':tenantId': tenantId,
              ...(since ? { ':since': since } : {}),
            },
            ConsistentRead: true,
          },
          limit,
          (item) => String(item[SK]),
          after,
        );
      }
      const after = cursor ? decodeEventCursor(cursor, (k) => /^\d{4}-\d{2}-\d{2}T/.test(k)) : undefined;
      return queryPage(
        {
          IndexName: GSI1.name,
          KeyConditionExpression: after
            ? '#gpk = :gpk AND #gsk > :after'
            : since
              ? '#gpk = :gpk AND #gsk >= :since'
              : '#gpk = :gpk',
          ExpressionAttributeNames: { '#gpk': GSI1.pk, ...(after || since ? { '#gsk': GSI1.sk } : {}) },
          ExpressionAttributeValues: {
            ':gpk': indexPartitions.callbackEvents(tenantId),
            ...(after ? { ':after': after } : since ? { ':since': since } : {}),
          },
        },
        limit,
        (item) => String(item[GSI1.sk]),
      );
    },

    async getContact(queueId, position) {
      const item = await get(keys.contact(queueId, position));
      return item ? toEntity<BillingContact>(item) : undefined;
    },
  };
};
