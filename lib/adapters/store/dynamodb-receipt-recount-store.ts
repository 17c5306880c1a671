import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { receiptCountsOfContacts, receiptCountsOfQueue } from '../../domain/receipt-counts.ts';
import type { ContactStatus } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ReceiptRecount, ReceiptRecountStore } from '../../ports/store.ts';
import { RECEIPT_MARK, receiptMarkTime } from './contact-item.ts';
import { dueFlagWrites } from './due-flag-item.ts';
import { type Item, tableOperations } from './dynamodb-operations.ts';
import { queueCountersOperations } from './queue-counters-item.ts';
import { keys, PK, SK } from './table-schema.ts';

export interface DynamoDbReceiptRecountStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Decides whether the queue has expired (as every queue read). */
  clock: Clock;
}

/** Highest batch position a contact key can hold (4 digits, see table-schema.ts). */
const MAX_POSITION = 9_999;

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const toRecount = (item: Item): ReceiptRecount => ({
  queueId: String(item.queueId),
  tenantId: String(item.tenantId),
  checkAt: String(item.checkAt),
  token: String(item.token),
});

/**
 * Receipt recount flags and the tally behind them, on the single table. The flag is its own small
 * item under the queue's partition (`RECEIPTRECOUNT`) with a sparse due-index entry
 * (`DUE#RECOUNT`), as the delivery watch: written only by a duplicate receipt, never on the path of
 * one that applies. The tally reads the queue's counters and then its contacts, both strongly
 * consistent, and the correction is conditional on the counters' last write (`lastWrite`).
 */
export function createDynamoDbReceiptRecountStore(
  options: DynamoDbReceiptRecountStoreOptions,
): ReceiptRecountStore {
  const operations = tableOperations(options.client, options.tableName);
  const { queryAll, queryDue } = operations;
  const flags = dueFlagWrites(operations, 'RECOUNT');
  const counters = queueCountersOperations(options.client, options.tableName, options.clock);

  return {
    async flagReceiptRecount(flag, token) {
      // A stream of duplicates does not push the recount back: the first one's due time stays.
      await flags.flag(keys.receiptRecount(flag.queueId), flag.queueId, flag.checkAt, token, {
        tenantId: flag.tenantId,
      });
    },

    async listDueReceiptRecounts(now, limit) {
      return (await queryDue('RECOUNT', now, limit)).map(toRecount);
    },

    rescheduleReceiptRecount: (queueId, checkAt) =>
      flags.reschedule(keys.receiptRecount(queueId), queueId, checkAt),

    removeReceiptRecount: (queueId, token) => flags.remove(keys.receiptRecount(queueId), token),

    async tallyReceipts(queueId) {
      // The counters first: a receipt whose contact write the contacts' read below misses has not
      // written its counters yet either, so it is in neither count (see the port).
      const read = await counters.readQueueAndVersion(queueId);
      if (!read) return undefined;
      const contacts = await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: {
          '#pk': PK,
          '#sk': SK,
          '#status': 'status',
          '#mark': RECEIPT_MARK,
          '#stalledAt': 'stalledAt',
          '#serverAckAt': 'serverAckAt',
        },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, 0).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
        },
        ProjectionExpression: '#status, #mark, #stalledAt, #serverAckAt',
        ConsistentRead: true,
      });
      let lastWrite: number | undefined;
      const wrote = (at: number | undefined) => {
        if (at !== undefined && !Number.isNaN(at) && (lastWrite === undefined || at > lastWrite))
          lastWrite = at;
      };
      for (const contact of contacts) {
        wrote(receiptMarkTime(contact[RECEIPT_MARK]));
        // A stall is written by the sweeper at the time it sets (its counters write comes after it).
        if (typeof contact.stalledAt === 'string') wrote(Date.parse(contact.stalledAt));
      }
      const { queue } = read;
      return {
        stored: receiptCountsOfQueue(queue),
        counted: receiptCountsOfContacts(
          contacts.map((contact) => ({
            status: contact.status as ContactStatus,
            stalledAt: text(contact.stalledAt),
            serverAckAt: text(contact.serverAckAt),
          })),
        ),
        lastReceiptWriteAt: lastWrite === undefined ? null : new Date(lastWrite).toISOString(),
        countersVersion: read.countersVersion,
        queue: { status: queue.status, totalContacts: queue.totalContacts },
        contactsCounted: contacts.length,
      };
    },

    correctReceiptCounters: (queueId, deltas, countersVersion) =>
      counters.correctCounters(queueId, deltas, countersVersion),
  };
}
