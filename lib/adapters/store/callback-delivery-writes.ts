import type { CallbackAttemptResult } from '../../ports/store.ts';
import { deliveryItemOf, deliveryOf } from './callback-event-items.ts';
import type { Item, tableOperations } from './dynamodb-operations.ts';
import { GSI2, indexPartitions, keys, PK, TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';

type TableOperations = ReturnType<typeof tableOperations>;

/**
 * The writes of a callback event's delivery item (`CBDELIVERY#<eventId>`, docs/data-model.md,
 * Callback event): made due for the poller, claimed for an attempt (or taken over from the first
 * attempt of an event its consumer stored), and its attempt's result. The store
 * (dynamodb-callback-store.ts) decides which applies.
 */
export const callbackDeliveryWrites = ({
  get,
  putIfMatch,
  updateIfMatch,
}: Pick<TableOperations, 'get' | 'putIfMatch' | 'updateIfMatch'>) => {
  /** Makes an event nobody has attempted due at `at` (CallbackStore.makeCallbackDue). */
  const makeDue = async (queueId: string, eventId: string, at: string, expiresAt: string): Promise<void> => {
    // Only an event nobody has attempted: a claim creates the delivery item, so its absence says so.
    await updateIfMatch({
      Key: keys.callbackDelivery(queueId, eventId),
      UpdateExpression:
        'SET #status = :pending, #attempts = :zero, #next = :at, #gpk = :gpk, #gsk = :gsk, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: {
        '#pk': PK,
        '#status': 'status',
        '#attempts': 'attempts',
        '#next': 'nextAttemptAt',
        '#gpk': GSI2.pk,
        '#gsk': GSI2.sk,
        '#ttl': TTL_ATTRIBUTE,
      },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':zero': 0,
        ':at': at,
        ':gpk': indexPartitions.due('CALLBACK'),
        ':gsk': keys.dueIndex('CALLBACK', at, eventId).gsi2sk,
        ':ttl': ttlSeconds(expiresAt),
      },
      ReturnValues: 'NONE',
    });
  };

  /**
   * The claim of an event stored by its emitter: creates the delivery item on the first claim, or
   * moves a pending one's next attempt to the lease end. The delivery item after the claim, or
   * undefined when not due.
   */
  const claim = (
    queueId: string,
    eventId: string,
    item: Item,
    now: string,
    leaseUntil: string,
  ): Promise<Item | undefined> => {
    const ttl = item[TTL_ATTRIBUTE];
    return updateIfMatch({
      Key: keys.callbackDelivery(queueId, eventId),
      // The due key's sort part moves to the lease end, which matters only while the item is in gsi2
      // (a retry): without its partition key the item is in no index, so a first attempt writes no
      // index copy. The callbacks queue brings a first attempt back if its holder dies (the message
      // is not deleted).
      UpdateExpression: `SET #status = if_not_exists(#status, :pending), #attempts = if_not_exists(#attempts, :zero) + :one, #next = :lease, #gsk = :gsk${typeof ttl === 'number' ? ', #ttl = if_not_exists(#ttl, :ttl)' : ''}`,
      // `nextAttemptAt <= now` is the exclusivity: the winner moves it past `now` in this write.
      // An attempt never made is anyone's first, whatever its due time (a safety net's, set for
      // when its announcement is lost): the winner makes `attempts` 1 in this write.
      ConditionExpression:
        'attribute_not_exists(#pk) OR (#status = :pending AND (attribute_not_exists(#next) OR #next <= :now OR #attempts = :zero))',
      ExpressionAttributeNames: {
        '#pk': PK,
        '#status': 'status',
        '#attempts': 'attempts',
        '#next': 'nextAttemptAt',
        '#gsk': GSI2.sk,
        ...(typeof ttl === 'number' ? { '#ttl': TTL_ATTRIBUTE } : {}),
      },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':zero': 0,
        ':one': 1,
        ':lease': leaseUntil,
        ':now': now,
        ':gsk': keys.dueIndex('CALLBACK', leaseUntil, eventId).gsi2sk,
        ...(typeof ttl === 'number' ? { ':ttl': ttl } : {}),
      },
      ReturnValues: 'ALL_NEW',
    });
  };

  /**
   * The claim of an event its consumer stored (its first attempt made without a claim write): a
   * copy of its announcement, or the poller with a retry. The delivery item is read first (a rare
   * path: duplicates and retries), then written on exactly what was read, so the attempt number
   * stays each attempt's token: the first attempt is 1 until its lease ends, and whoever takes over
   * makes at least 2, so the first attempt's late result is not recorded over it.
   */
  const takeOverFromFirstAttempt = async (
    queueId: string,
    eventId: string,
    item: Item,
    firstAttemptUntil: string,
    now: string,
    leaseUntil: string,
  ): Promise<Item | undefined> => {
    const key = keys.callbackDelivery(queueId, eventId);
    const state = await get(key);
    const delivery = deliveryOf(state, firstAttemptUntil);
    if (delivery.status !== 'pending' || (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now))
      return undefined;
    const read = state ? Number(state.attempts) : undefined;
    // In gsi2 at the lease end: if this holder dies too, the poller retries it then (rare path).
    const claimed = deliveryItemOf(
      queueId,
      eventId,
      { ...delivery, attempts: delivery.attempts + 1, nextAttemptAt: leaseUntil },
      item[TTL_ATTRIBUTE],
    );
    const won = await putIfMatch(
      read === undefined
        ? {
            Item: claimed,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }
        : {
            Item: claimed,
            // Exactly as read: a claim moves the attempts, a result the status or the next attempt.
            ConditionExpression: `#status = :pending AND #attempts = :read AND ${
              state?.nextAttemptAt === undefined ? 'attribute_not_exists(#next)' : '#next = :readNext'
            }`,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#attempts': 'attempts',
              '#next': 'nextAttemptAt',
            },
            ExpressionAttributeValues: {
              ':pending': 'pending',
              ':read': read,
              ...(state?.nextAttemptAt === undefined ? {} : { ':readNext': state.nextAttemptAt }),
            },
          },
      (after) => after.nextAttemptAt === leaseUntil && Number(after.attempts) === delivery.attempts + 1,
    );
    return won ? claimed : undefined;
  };

  /**
   * Records attempt `attempt`'s result on the delivery item; false when the claim was lost meanwhile
   * (or there is no delivery item to match: the caller looks for a legacy event).
   */
  const recordResult = async (
    queueId: string,
    eventId: string,
    attempt: number,
    result: CallbackAttemptResult,
    expiresAt?: string,
  ): Promise<boolean> => {
    const names: Record<string, string> = {
      '#status': 'status',
      '#attempts': 'attempts',
      '#next': 'nextAttemptAt',
      '#error': 'lastError',
      '#last': 'lastAttemptAt',
      '#gpk': GSI2.pk,
      '#gsk': GSI2.sk,
    };
    const values: Item = { ':pending': 'pending', ':attempt': attempt, ':last': result.at };
    let update: string;
    if (result.status === 'pending') {
      // Into the due index at the next attempt: the poller makes every retry.
      values[':next'] = result.nextAttemptAt;
      values[':error'] = result.error;
      values[':gpk'] = indexPartitions.due('CALLBACK');
      values[':gsk'] = keys.dueIndex('CALLBACK', result.nextAttemptAt, eventId).gsi2sk;
      update = 'SET #next = :next, #error = :error, #last = :last, #gpk = :gpk, #gsk = :gsk';
    } else if (result.status === 'delivered') {
      names['#deliveredAt'] = 'deliveredAt';
      values[':status'] = result.status;
      update = 'SET #status = :status, #deliveredAt = :last, #last = :last REMOVE #next, #error, #gpk, #gsk';
    } else {
      values[':status'] = result.status;
      values[':error'] = result.error;
      update = 'SET #status = :status, #error = :error, #last = :last REMOVE #next, #gpk, #gsk';
    }
    // The attempt number is the claim's token: a claim lost to an expired lease records nothing.
    let condition = '#status = :pending AND #attempts = :attempt';
    if (attempt === 1 && expiresAt !== undefined) {
      // Maybe the first attempt of an event its consumer stored (no claim write): its result
      // creates the delivery item, or replaces a due entry a re-emission left (attempts 0). A
      // takeover made the attempts 2 or more, so a late result of this one matches neither.
      names['#pk'] = PK;
      names['#ttl'] = TTL_ATTRIBUTE;
      values[':zero'] = 0;
      values[':ttl'] = ttlSeconds(expiresAt);
      update = update.replace(
        'SET ',
        `SET #attempts = :attempt, #ttl = if_not_exists(#ttl, :ttl), ${result.status === 'pending' ? '#status = :pending, ' : ''}`,
      );
      condition = `(${condition}) OR attribute_not_exists(#pk) OR (#status = :pending AND #attempts = :zero)`;
    }
    const out = await updateIfMatch({
      Key: keys.callbackDelivery(queueId, eventId),
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  };

  return { makeDue, claim, takeOverFromFirstAttempt, recordResult };
};
