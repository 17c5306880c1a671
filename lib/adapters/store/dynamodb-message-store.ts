import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConversationMessage, TemplateType } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConversationStore } from '../../ports/store.ts';
import { type Item, tableOperations, toEntity, withoutUndefined } from './dynamodb-operations.ts';
import { checkLimit } from './page-cursor.ts';
import { GSI1, hasExpired, indexPartitions, keys, TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';

/** The history entry that is also the gateway-id pointer (base table: receipts find it at once). */
export const messageItem = (message: ConversationMessage, expiresAt: string): Item =>
  withoutUndefined({
    ...keys.message(message.tenantId, message.instanceId, message.id),
    ...keys.messagesIndex(message.tenantId, message.phone, message.at, message.id),
    ...message,
    [TTL_ATTRIBUTE]: ttlSeconds(expiresAt),
  });

/**
 * The conversation history on the single table (docs/data-model.md, Message): one item per message,
 * keyed by (tenant, instance, gateway id) so a receipt finds it at once, and listed by (tenant,
 * phone) newest first in gsi1. The sender writes its sends through `recordSent` (messageItem).
 */
export function createDynamoDbMessageStore(options: {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Says which messages have expired. */
  clock: Clock;
}): ConversationStore {
  const { clock } = options;
  const { get, putNew, queryAll, queryUpTo } = tableOperations(options.client, options.tableName);
  return {
    async recordMessage(message: ConversationMessage, expiresAt: string) {
      // One write per message: the item is both the history entry (gsi1) and the gateway-id pointer
      // (base table, so a receipt arriving before any index catches up still finds it). Only if new:
      // a webhook replayed, or naming an id already recorded, must not replace what is there.
      return putNew(messageItem(message, expiresAt));
    },

    async listMessages(tenantId: string, phone: string, limit: number) {
      checkLimit('listMessages', limit);
      const items = await queryUpTo(
        {
          IndexName: GSI1.name,
          KeyConditionExpression: '#gpk = :gpk',
          ExpressionAttributeNames: { '#gpk': GSI1.pk },
          ExpressionAttributeValues: { ':gpk': indexPartitions.messages(tenantId, phone) },
          // gsi1sk starts with the instant: descending is newest first.
          ScanIndexForward: false,
        },
        limit,
        { keep: (item) => !hasExpired(item, clock.now()) },
      );
      return items.map((item) => toEntity<ConversationMessage>(item));
    },

    async listRemindersSince(
      tenantId: string,
      phone: string,
      since: string,
      templateTypes: readonly TemplateType[],
    ) {
      if (templateTypes.length === 0) return [];
      const types = Object.fromEntries(templateTypes.map((type, i) => [`:type${i}`, type]));
      const items = await queryAll({
        IndexName: GSI1.name,
        KeyConditionExpression: '#gpk = :gpk AND #gsk >= :since',
        FilterExpression: `#direction = :outbound AND #templateType IN (${Object.keys(types).join(', ')})`,
        ExpressionAttributeNames: {
          '#gpk': GSI1.pk,
          '#gsk': GSI1.sk,
          '#direction': 'direction',
          '#templateType': 'templateType',
        },
        ExpressionAttributeValues: {
          ':gpk': indexPartitions.messages(tenantId, phone),
          ':since': since,
          ':outbound': 'outbound',
          ...types,
        },
        ScanIndexForward: false,
      });
      // Past its retention a message is gone, for the cap as for every read.
      return items.filter((item) => !hasExpired(item, clock.now())).map((item) => String(item.at));
    },

    async getMessage(tenantId: string, instanceId: string, messageId: string) {
      // The item's own tenant, instance and id are checked: only that makes a legacy key (no tenant)
      // safe to read, and a legacy key that happens to spell a new one (instance `<t>`, message id
      // `<i>#<m>`) never passes for it.
      const isAsked = (item: Item | undefined) =>
        item?.tenantId === tenantId &&
        item.instanceId === instanceId &&
        item.id === messageId &&
        !hasExpired(item, clock.now());
      // Eventually consistent first, half the read on every receipt (three a message): a message is
      // written once, so a read that finds it is right; one that misses (written a moment ago, or
      // not ours) is read again consistently before anyone is told it is not there.
      const key = keys.message(tenantId, instanceId, messageId);
      let item = (await get(key, { eventually: true })) ?? (await get(key));
      // Until no message written before the tenant joined the key is left (docs/data-model.md).
      if (!item) item = await get(keys.legacyMessage(instanceId, messageId));
      return isAsked(item) ? toEntity<ConversationMessage>(item as Item) : undefined;
    },
  };
}
