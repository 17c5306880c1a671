import type { CallbackAttemptResult } from '../../ports/store.ts';
import { toStoredEvent } from './callback-event-items.ts';
import type { Item, tableOperations } from './dynamodb-operations.ts';
import { GSI2, keys } from './table-schema.ts';

/**
 * The delivery of a callback event written before its delivery state moved to an item of its own
 * (docs/data-model.md, Callback event): the state is the event item's `delivery` map, claimed and
 * finished there, until such events expire.
 */
export const legacyDeliveryOperations = (
  updateIfMatch: ReturnType<typeof tableOperations>['updateIfMatch'],
) => {
  /** The claim of an item written before the split: the old single-item claim. */
  const claimLegacy = async (queueId: string, eventId: string, now: string, leaseUntil: string) => {
    const item = await updateIfMatch({
      Key: keys.callback(queueId, eventId),
      UpdateExpression: 'SET #d.#next = :lease, #d.#attempts = #d.#attempts + :one, #gsk = :gsk',
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
    return item ? toStoredEvent(item, undefined) : undefined;
  };

  /** The result of an attempt on an item written before the split: the old single-item finish. */
  const finishLegacy = async (
    queueId: string,
    eventId: string,
    attempt: number,
    result: CallbackAttemptResult,
  ): Promise<boolean> => {
    const names: Record<string, string> = {
      '#d': 'delivery',
      '#status': 'status',
      '#attempts': 'attempts',
      '#next': 'nextAttemptAt',
      '#error': 'lastError',
      '#last': 'lastAttemptAt',
      '#gsk': GSI2.sk,
    };
    const values: Item = { ':pending': 'pending', ':attempt': attempt, ':last': result.at };
    let update: string;
    if (result.status === 'pending') {
      values[':next'] = result.nextAttemptAt;
      values[':error'] = result.error;
      values[':gsk'] = keys.dueIndex('CALLBACK', result.nextAttemptAt, eventId).gsi2sk;
      update = 'SET #d.#next = :next, #d.#error = :error, #d.#last = :last, #gsk = :gsk';
    } else {
      names['#gpk'] = GSI2.pk;
      values[':null'] = null;
      values[':status'] = result.status;
      values[':error'] = result.status === 'dead' ? result.error : null;
      const deliveredAt = result.status === 'delivered' ? ', #d.#deliveredAt = :last' : '';
      if (deliveredAt) names['#deliveredAt'] = 'deliveredAt';
      update = `SET #d.#status = :status, #d.#next = :null, #d.#error = :error${deliveredAt}, #d.#last = :last REMOVE #gpk, #gsk`;
    }
    const out = await updateIfMatch({
      Key: keys.callback(queueId, eventId),
      UpdateExpression: update,
      ConditionExpression: '#d.#status = :pending AND #d.#attempts = :attempt',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'NONE',
    });
    return out !== undefined;
  };

  return { claimLegacy, finishLegacy };
};
