import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ContactDelivery } from '../../domain/delivery-stall.ts';
import type { ContactStatus } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DeliveryWatch, DeliveryWatchStore } from '../../ports/store.ts';
import { contactPositionOf, newReceiptMark, RECEIPT_MARK } from './contact-item.ts';
import { dueFlagWrites } from './due-flag-item.ts';
import { type Item, tableOperations, toEntity } from './dynamodb-operations.ts';
import { keys, PK, SK } from './table-schema.ts';

export interface DynamoDbDeliveryWatchStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Dates a server ack's write in its mark (as a receipt's: the receipt recount reads it). */
  clock: Clock;
}

/** Highest batch position a contact key can hold (4 digits, see table-schema.ts). */
const MAX_POSITION = 9_999;
const WATCH_FIELDS = ['queueId', 'tenantId', 'templateType', 'checkAt', 'fromPosition', 'token'] as const;
/** What stall detection reads of a contact; its position comes from the sort key (contact-item.ts). */
const DELIVERY_FIELDS = [SK, 'status', 'sentAt', 'serverAckAt', 'stalledAt', 'providerMessageId'];

const toWatch = (item: Item): DeliveryWatch => {
  const entity = toEntity<Record<string, unknown>>(item);
  const watch = Object.fromEntries(WATCH_FIELDS.map((f) => [f, entity[f]])) as unknown as DeliveryWatch;
  return { ...watch, fromPosition: Number(watch.fromPosition ?? 0) };
};

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const toDelivery = (item: Item): ContactDelivery => ({
  position: contactPositionOf(item),
  status: item.status as ContactStatus,
  sentAt: text(item.sentAt),
  serverAckAt: text(item.serverAckAt),
  stalledAt: text(item.stalledAt),
  providerMessageId: text(item.providerMessageId),
});

/**
 * Delivery watches and the contact writes of stall detection, on the single table. The watch is its
 * own small item under the queue's partition with a sparse due-index entry (`DUE#STALL`), so neither
 * the queue item nor the contacts carry another index key; every contact change here is one
 * conditional UpdateItem that leaves the contact's status (and its index entry) alone.
 */
export function createDynamoDbDeliveryWatchStore(
  options: DynamoDbDeliveryWatchStoreOptions,
): DeliveryWatchStore {
  const operations = tableOperations(options.client, options.tableName);
  const { get, updateIfMatch, queryAll, queryDue } = operations;
  const flags = dueFlagWrites(operations, 'STALL');

  return {
    async armDeliveryWatch(watch, token) {
      const { queueId, tenantId, templateType, checkAt } = watch;
      return toWatch(
        await flags.flag(keys.deliveryWatch(queueId), queueId, checkAt, token, {
          tenantId,
          templateType,
          fromPosition: 0,
        }),
      );
    },

    async listDueDeliveryWatches(now, limit) {
      return (await queryDue('STALL', now, limit)).map(toWatch);
    },

    async getDeliveryWatch(queueId) {
      const item = await get(keys.deliveryWatch(queueId));
      return item ? toWatch(item) : undefined;
    },

    rescheduleDeliveryWatch: (queueId, checkAt, fromPosition) =>
      flags.reschedule(keys.deliveryWatch(queueId), queueId, checkAt, { fromPosition }),

    removeDeliveryWatch: (queueId, token) => flags.remove(keys.deliveryWatch(queueId), token),

    async listContactDeliveries(queueId, fromPosition) {
      if (fromPosition > MAX_POSITION) return [];
      // The base table (strongly consistent): what is stalled is a decision, never an index read.
      // The sort key range keeps the queue item, the watch and callback events out.
      const items = await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: {
          '#pk': PK,
          '#sk': SK,
          ...Object.fromEntries(DELIVERY_FIELDS.map((f) => [`#${f}`, f])),
        },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, Math.max(0, fromPosition)).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
        },
        ProjectionExpression: DELIVERY_FIELDS.map((f) => `#${f}`).join(', '),
        ConsistentRead: true,
      });
      return items.map(toDelivery);
    },

    async markContactStalled(queueId, position, at, sentBefore) {
      const item = await updateIfMatch({
        Key: keys.contact(queueId, position),
        UpdateExpression: 'SET #stalledAt = :at',
        ConditionExpression:
          '#status = :sent AND #sentAt <= :before AND attribute_not_exists(#serverAckAt) AND attribute_not_exists(#stalledAt)',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#sentAt': 'sentAt',
          '#serverAckAt': 'serverAckAt',
          '#stalledAt': 'stalledAt',
        },
        ExpressionAttributeValues: { ':sent': 'sent', ':at': at, ':before': sentBefore },
        ReturnValues: 'NONE',
      });
      return item !== undefined;
    },

    async recordServerAck(queueId, position, at) {
      const key = keys.contact(queueId, position);
      // The write's own mark: a retry whose first answer was lost finds it (as applyReceipt does).
      const mark = newReceiptMark(options.clock.now());
      const item = await updateIfMatch({
        Key: key,
        UpdateExpression: 'SET #serverAckAt = :at, #mark = :mark',
        ConditionExpression: '#status = :sent AND attribute_not_exists(#serverAckAt)',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#serverAckAt': 'serverAckAt',
          '#mark': RECEIPT_MARK,
        },
        ExpressionAttributeValues: { ':sent': 'sent', ':at': at, ':mark': mark },
        // The old item says whether this ended a stall (the condition guarantees it was `sent`).
        ReturnValues: 'ALL_OLD',
      });
      if (item) return { recorded: true, wasStalled: Boolean(item.stalledAt) };
      // dynalite returns no item on a failed condition: read what refused it. Its own write, whose
      // answer was lost, left `stalledAt` as it found it.
      const current = await get(key);
      if (current?.[RECEIPT_MARK] === mark) return { recorded: true, wasStalled: Boolean(current.stalledAt) };
      return { recorded: false, current: current?.status as ContactStatus | undefined };
    },
  };
}
