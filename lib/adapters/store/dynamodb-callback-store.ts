import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { BillingContact } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CallbackStore, CampaignStore, StoredCallbackEvent } from '../../ports/store.ts';
import { callbackDeliveryWrites } from './callback-delivery-writes.ts';
import {
  after,
  CALLBACK_PREFIX,
  contactPositionOfEvent,
  DELIVERY_PREFIX,
  deliveryItemOf,
  erasedCallbackPayload,
  eventItemOf,
  firstAttemptUntilOf,
  holdsDebtorData,
  isAnnounced,
  isLegacyEvent,
  payloadErasureOf,
  QUEUE_PREFIX,
  toStoredEvent,
} from './callback-event-items.ts';
import { type Item, tableOperations, toEntity } from './dynamodb-operations.ts';
import { legacyDeliveryOperations } from './legacy-callback-delivery.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import { GSI1, hasExpired, indexPartitions, keys, PK, SK, ttlSeconds } from './table-schema.ts';

/** The part of the Store that records ERP callback events and drives their delivery. */
type DynamoDbCallbackPart = CallbackStore & Pick<CampaignStore, 'getContact'>;

export interface DynamoDbCallbackStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Says which events have expired (listings leave them out until they are deleted). */
  clock: Clock;
}

/** Sorts after every character of an event id, so `<now>#~` includes every entry due at `now`. */
const AFTER_ANY_ID = '~';

/** Cursors are `{ k }` holding the last returned sort key (never a partition). */
const decodeEventCursor = (cursor: string, isValid: (sortKey: string) => boolean): string => {
  const { k } = decodeCursor(cursor);
  if (typeof k !== 'string' || k.length > 600 || !isValid(k)) throw invalidCursor();
  return k;
};

/**
 * Callback events on the single table (docs/data-model.md, Callback event): one immutable item per
 * event under its queue, keyed by the deterministic event id (the conditional put is the dedup) and
 * listed by tenant in time order in gsi1; its delivery state on a small item of its own
 * (`CBDELIVERY#<eventId>`), created by the first claim, so a claim or a result never rewrites the
 * event or its gsi1 copy. A new event is announced on the callbacks queue and in no due index; the
 * delivery item enters gsi2 (`DUE#CALLBACK`) only while a retry waits (or when the announcement
 * failed). A claim moves `nextAttemptAt` forward by a lease in one conditional write, so two
 * deliverers never post the same attempt. Items written before the split (a `delivery` map on the
 * event) keep their old claim and finish until they settle or expire.
 */
export const createDynamoDbCallbackStore = (options: DynamoDbCallbackStoreOptions): DynamoDbCallbackPart => {
  const { get, put, putIfMatch, updateIfMatch, queryAll, queryUpTo, queryDue, batchGet } = tableOperations(
    options.client,
    options.tableName,
  );
  const { claimLegacy, finishLegacy } = legacyDeliveryOperations(updateIfMatch);
  const deliveryWrites = callbackDeliveryWrites({ get, putIfMatch, updateIfMatch });

  /** The events of event items, with their delivery items (one BatchGetItem). */
  const withDeliveries = async (items: readonly Item[]): Promise<StoredCallbackEvent[]> => {
    const wanted = items.filter((item) => !isLegacyEvent(item));
    const states = new Map<string, Item>();
    if (wanted.length > 0) {
      const found = await batchGet(
        wanted.map((item) =>
          keys.callbackDelivery(
            after(String(item[PK]), QUEUE_PREFIX),
            after(String(item[SK]), CALLBACK_PREFIX),
          ),
        ),
      );
      for (const state of found) states.set(`${state[PK]}\u0000${state[SK]}`, state);
    }
    return items.map((item) => {
      const deliveryKey = keys.callbackDelivery(
        after(String(item[PK]), QUEUE_PREFIX),
        after(String(item[SK]), CALLBACK_PREFIX),
      );
      return toStoredEvent(item, states.get(`${deliveryKey.pk}\u0000${deliveryKey.sk}`));
    });
  };

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
      items: await withDeliveries(items),
      nextCursor: found.length > limit && last ? encodeCursor({ k: sortKeyOf(last) }) : null,
    };
  };

  /**
   * Stores a new event (conditional put), erased if its contact was erased first; for the consumer
   * that stores it from its announcement, with the lease of the first attempt it is about to make
   * (`firstAttemptUntil`, which a retry of this very put finds as its own). The item as stored, or
   * undefined when the event was there already (a stored copy is then erased if its contact was).
   */
  const storeNewEvent = async (
    event: StoredCallbackEvent,
    expiresAt: string,
    firstAttemptUntil?: string,
  ): Promise<Item | undefined> => {
    const item = eventItemOf(event, expiresAt, firstAttemptUntil);
    const created = await putIfMatch(
      {
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
      firstAttemptUntil === undefined
        ? undefined
        : (stored) => firstAttemptUntilOf(stored) === firstAttemptUntil,
    );
    if (!created) {
      await eraseStoredIfContactErased(event);
      return undefined;
    }
    return eraseIfContactErased(event, expiresAt, item, firstAttemptUntil);
  };

  const putCallbackEvent = async (
    event: StoredCallbackEvent,
    expiresAt: string,
  ): Promise<'created' | 'exists'> => {
    if (!isAnnounced(event.delivery)) {
      // The delivery item first: dying between the two leaves a due entry whose event a re-emit
      // stores (the poller skips it meanwhile), never an event nobody will deliver. It exists
      // already when the event does and was attempted: then the condition keeps its state.
      await putIfMatch({
        Item: deliveryItemOf(event.queueId, event.eventId, event.delivery, ttlSeconds(expiresAt)),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      });
    }
    return (await storeNewEvent(event, expiresAt)) ? 'created' : 'exists';
  };

  const isContactErased = async (queueId: string, position: number): Promise<boolean> =>
    typeof (await get(keys.contact(queueId, position)))?.erasedAt === 'string';

  /*
   * An event built from its contact before that contact's erasure, and stored after the erasure
   * looked for the contact's events, would keep the debtor's phone and name. The erasure writes the
   * contact first and then reads its events, both strongly consistent; this reads the contact after
   * the put, consistently. So one of the two sees the other: the erasure finds the event, or this
   * finds `erasedAt` and stores the event erased.
   */
  const eraseIfContactErased = async (
    event: StoredCallbackEvent,
    expiresAt: string,
    stored: Item,
    firstAttemptUntil?: string,
  ): Promise<Item> => {
    const position = contactPositionOfEvent(event.queueId, event.eventId);
    if (position === undefined || !holdsDebtorData(event.payload)) return stored;
    if (!(await isContactErased(event.queueId, position))) return stored;
    const erased = eventItemOf(
      { ...event, payload: erasedCallbackPayload(event.payload) },
      expiresAt,
      firstAttemptUntil,
    );
    await put(erased);
    return erased;
  };

  /*
   * The same check when the event was stored already: its first put may have been a process that
   * died before its own check, with an erasure passing in between. Whoever stores it again (a
   * webhook Evolution repeats, a re-emission, the consumer storing an announcement) then erases the
   * stored copy. Whatever it holds in hand: a repeat built after the erasure carries the marker while
   * the stored copy may not. A rare path, so one more read is nothing.
   */
  const eraseStoredIfContactErased = async (event: StoredCallbackEvent): Promise<void> => {
    const position = contactPositionOfEvent(event.queueId, event.eventId);
    if (position === undefined || !(await isContactErased(event.queueId, position))) return;
    const stored = await get(keys.callback(event.queueId, event.eventId));
    const erasure = stored && payloadErasureOf(stored);
    if (erasure) await updateIfMatch(erasure);
  };

  return {
    putCallbackEvent,

    async getCallbackEvent(queueId, eventId) {
      const item = await get(keys.callback(queueId, eventId));
      if (!item) return undefined;
      if (isLegacyEvent(item)) return toStoredEvent(item, undefined);
      return toStoredEvent(item, await get(keys.callbackDelivery(queueId, eventId)));
    },

    async makeCallbackDue(queueId, eventId, at, expiresAt) {
      await deliveryWrites.makeDue(queueId, eventId, at, expiresAt);
    },

    async listDueCallbacks(now, limit) {
      const due = await queryDue('CALLBACK', now, limit);
      const eventKeys = due
        .filter((item) => String(item[SK]).startsWith(DELIVERY_PREFIX))
        .map((item) =>
          keys.callback(after(String(item[PK]), QUEUE_PREFIX), after(String(item[SK]), DELIVERY_PREFIX)),
        );
      const events = new Map(
        (eventKeys.length > 0 ? await batchGet(eventKeys) : []).map((item) => [
          `${item[PK]}\u0000${item[SK]}`,
          item,
        ]),
      );
      const out: StoredCallbackEvent[] = [];
      for (const item of due) {
        const sk = String(item[SK]);
        if (sk.startsWith(CALLBACK_PREFIX)) {
          out.push(toStoredEvent(item, undefined));
          continue;
        }
        const eventId = after(sk, DELIVERY_PREFIX);
        const event = events.get(`${item[PK]}\u0000${CALLBACK_PREFIX}${eventId}`);
        // A due entry whose event was never stored (its writer died in between): nothing to post yet.
        if (event) out.push(toStoredEvent(event, item));
      }
      return out;
    },

    async claimCallback(queueId, eventId, now, leaseUntil, storeIfMissing) {
      let item: Item | undefined;
      if (storeIfMissing) {
        // An announcement: its event is stored here, and the put that creates it is the claim of its
        // first attempt (the lease on the event item), so a first attempt writes no delivery item
        // before its result. A copy of the announcement finds it stored and goes on to the claim.
        const stored = await storeNewEvent(storeIfMissing.event, storeIfMissing.expiresAt, leaseUntil);
        if (stored) return toStoredEvent(stored, undefined);
        item = await get(keys.callback(queueId, eventId));
      } else {
        // Eventually consistent, half the price: the event is written once (an erasure's rewrite of
        // the last moment may be missed, as a read just before it would). The poller's candidate a
        // lagging read misses is not due this round and is taken at the next.
        item = await get(keys.callback(queueId, eventId), { eventually: true });
      }
      if (!item) return undefined;
      if (isLegacyEvent(item)) return claimLegacy(queueId, eventId, now, leaseUntil);
      const firstAttemptUntil = firstAttemptUntilOf(item);
      const state =
        firstAttemptUntil === undefined
          ? await deliveryWrites.claim(queueId, eventId, item, now, leaseUntil)
          : await deliveryWrites.takeOverFromFirstAttempt(
              queueId,
              eventId,
              item,
              firstAttemptUntil,
              now,
              leaseUntil,
            );
      return state ? toStoredEvent(item, state) : undefined;
    },

    async finishCallbackAttempt(queueId, eventId, attempt, result, expiresAt) {
      if (await deliveryWrites.recordResult(queueId, eventId, attempt, result, expiresAt)) return true;
      // No delivery item to match: maybe an event stored before the split, which keeps its own state.
      const item = await get(keys.callback(queueId, eventId));
      return item !== undefined && isLegacyEvent(item)
        ? finishLegacy(queueId, eventId, attempt, result)
        : false;
    },

    async listCallbackEventIds(queueId) {
      const items = await queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':prefix': `${CALLBACK_PREFIX}${queueId}:`,
        },
      });
      return items.map((item) => String(item[SK]).slice(CALLBACK_PREFIX.length));
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
            // `since` against the gsi1 sort key (`<occurredAt>#<eventId>`): the item keeps no other copy.
            FilterExpression: since ? '#tenantId = :tenantId AND #gsk >= :since' : '#tenantId = :tenantId',
            ExpressionAttributeNames: {
              '#pk': PK,
              '#sk': SK,
              '#tenantId': 'tenantId',
              ...(since ? { '#gsk': GSI1.sk } : {}),
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
