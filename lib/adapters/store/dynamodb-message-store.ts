import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConversationMessage, MessageRecord, TemplateType } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConversationStore } from '../../ports/store.ts';
import { RENDERED_MESSAGE_ATTRIBUTES, renderedMessageOf } from './contact-item.ts';
import { type Item, tableOperations, toEntity, withoutUndefined } from './dynamodb-operations.ts';
import { checkLimit } from './page-cursor.ts';
import {
  GSI1,
  hasExpired,
  indexPartitions,
  keys,
  PK,
  SK,
  TTL_ATTRIBUTE,
  ttlSeconds,
} from './table-schema.ts';

/**
 * The history entry that is also the gateway-id pointer (base table: receipts find it at once). A
 * send's record has no text (its contact's rendered message is it), so neither the item nor its
 * gsi1 copy grows with the template: both stay one write unit whatever the reminder says.
 */
export const messageItem = (message: MessageRecord | ConversationMessage, expiresAt: string): Item =>
  withoutUndefined({
    ...keys.message(message.tenantId, message.instanceId, message.id),
    ...keys.messagesIndex(message.tenantId, message.phone, message.at, message.id),
    ...message,
    [TTL_ATTRIBUTE]: ttlSeconds(expiresAt),
  });

/** A send's record: outbound, of a contact (whose rendered message is its text). */
const isSendRecord = (item: Item): boolean =>
  item.direction === 'outbound' &&
  typeof item.queueId === 'string' &&
  typeof item.contactPosition === 'number';

/** The key of the contact a send's record is of. */
const contactKeyOf = (item: Item): Item => keys.contact(String(item.queueId), Number(item.contactPosition));

/** A key as one string, for a Map. */
const keyText = (key: Item): string => `${key[PK]}\u0000${key[SK]}`;

/** A message item as a record: all but its text (a reply's, or an earlier send's, is on the item). */
const recordOf = (item: Item): MessageRecord => {
  const { text: _, ...record } = toEntity<ConversationMessage>(item);
  return record;
};

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
  const { get, putNew, queryAll, queryUpTo, batchGet } = tableOperations(options.client, options.tableName);

  /** The phone's message items, newest first, unexpired. */
  const listRecords = (tenantId: string, phone: string, limit: number): Promise<Item[]> => {
    checkLimit('listMessages', limit);
    return queryUpTo(
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
  };

  /** The texts of the sends among `items` (stored without one), read from their contacts: one BatchGet. */
  const sendTexts = async (items: readonly Item[]): Promise<Map<string, string>> => {
    const sends = items.filter((item) => typeof item.text !== 'string' && isSendRecord(item));
    if (sends.length === 0) return new Map();
    const names = Object.fromEntries(
      [PK, SK, ...RENDERED_MESSAGE_ATTRIBUTES].map((attribute, i) => [`#a${i}`, attribute]),
    );
    const contacts = await batchGet(sends.map(contactKeyOf), {
      expression: Object.keys(names).join(', '),
      names,
    });
    return new Map(
      contacts.flatMap((contact) => {
        const text = renderedMessageOf(contact);
        return text === undefined ? [] : [[keyText(contact), text] as const];
      }),
    );
  };

  return {
    async recordMessage(message: ConversationMessage, expiresAt: string) {
      // One write per message: the item is both the history entry (gsi1) and the gateway-id pointer
      // (base table, so a receipt arriving before any index catches up still finds it). Only if new:
      // a webhook replayed, or naming an id already recorded, must not replace what is there.
      return putNew(messageItem(message, expiresAt));
    },

    async listMessages(tenantId: string, phone: string, limit: number) {
      const records = await listRecords(tenantId, phone, limit);
      const texts = await sendTexts(records);
      return records.map(
        (item): ConversationMessage => ({
          ...toEntity<ConversationMessage>(item),
          // A send's contact shares its expiry (recordSent), so one listed here is there too; an
          // empty text would mean the contact was deleted by hand.
          text: typeof item.text === 'string' ? item.text : (texts.get(keyText(contactKeyOf(item))) ?? ''),
        }),
      );
    },

    async listMessageRecords(tenantId: string, phone: string, limit: number) {
      return (await listRecords(tenantId, phone, limit)).map(recordOf);
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
      return isAsked(item) ? recordOf(item as Item) : undefined;
    },
  };
}
