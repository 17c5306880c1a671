import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isStalled } from '../../domain/delivery-stall.ts';
import { DomainError } from '../../domain/errors.ts';
import { shouldApplyReceipt } from '../../domain/queue-state.ts';
import { CONTACT_STATUSES, type ContactStatus, type OptOut, type ReceiptStatus } from '../../domain/types.ts';
import type { FeedbackStore } from '../../ports/store.ts';
import { type Item, isConditionFailure, tableOperations, toEntity } from './dynamodb-item.ts';
import { contactsIndexSortKey, GSI1, indexPartitions, keys, PK } from './table-schema.ts';

export interface DynamoDbFeedbackStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** First wait before asking again for a BatchGetItem's unprocessed keys (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/** BatchGetItem's limit of keys per call. */
const BATCH_GET_CONCURRENCY = 5;
const BATCH_GET_KEYS = 100;
/** Rounds of unprocessed keys before giving up: by then it is not throttling. */
const MAX_BATCH_ROUNDS = 8;
/** Attributes an opt-out item carries besides its keys (everything else is the table's). */
const OPT_OUT_FIELDS = ['tenantId', 'phone', 'source', 'reason', 'at'] as const;

/** The statuses a receipt may move a contact from: allowed by the state machine and forward in rank. */
const fromStatuses = (receipt: ReceiptStatus): ContactStatus[] =>
  CONTACT_STATUSES.filter((status) => shouldApplyReceipt(status, receipt));

const toOptOut = (item: Item): OptOut => {
  const entity = toEntity<Record<string, unknown>>(item);
  return Object.fromEntries(OPT_OUT_FIELDS.map((field) => [field, entity[field]])) as unknown as OptOut;
};

/** An opt-out listing cursor: the last returned gsi1 sort key (`<at>#<phone>`), base64url JSON. */
const encodeCursor = (sortKey: string): string =>
  Buffer.from(JSON.stringify({ o: sortKey }), 'utf8').toString('base64url');

const decodeCursor = (cursor: string): string => {
  const invalid = new DomainError('VALIDATION_FAILED', {}, [{ field: 'cursor', message: 'Cursor inválido' }]);
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  const o = (parsed as { o?: unknown } | null)?.o;
  if (typeof o !== 'string' || Object.keys(parsed as object).length !== 1 || !o.includes('#')) throw invalid;
  return o;
};

/**
 * Receipts, replies and opt-outs on the single table. A receipt is one conditional UpdateItem on the
 * contact whose condition lists the statuses it may move from, so duplicates and reordering can never
 * move a status backwards, and `UPDATED_OLD` tells the caller the status it replaced (to count it once).
 */
export function createDynamoDbFeedbackStore(options: DynamoDbFeedbackStoreOptions): FeedbackStore {
  const { client, tableName } = options;
  const { get, put, putNew } = tableOperations(client, tableName);
  const retryDelayMs = options.batchRetryDelayMs ?? 50;

  return {
    async applyReceipt(queueId, position, receipt, at, error) {
      const from = fromStatuses(receipt);
      const names: Record<string, string> = {
        '#status': 'status',
        '#gsk': GSI1.sk,
        '#updatedAt': 'updatedAt',
      };
      const values: Item = {
        ':to': receipt,
        ':gsk': contactsIndexSortKey(receipt, position),
        ':at': at,
        ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
      };
      const sets = ['#status = :to', '#gsk = :gsk', '#updatedAt = :at'];
      // A read that comes first implies the delivery, but not its time: deliveredAt stays as it was.
      if (receipt === 'delivered') {
        names['#deliveredAt'] = 'deliveredAt';
        sets.push('#deliveredAt = :at');
      }
      if (receipt === 'read') {
        names['#readAt'] = 'readAt';
        sets.push('#readAt = :at');
      }
      if (receipt === 'failed') {
        names['#lastError'] = 'lastError';
        names['#lastErrorAt'] = 'lastErrorAt';
        values[':error'] = error ?? 'falha de entrega informada pelo WhatsApp';
        sets.push('#lastError = :error', '#lastErrorAt = :at');
      }
      try {
        const out = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.contact(queueId, position),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            // The whole old item: its status to count the receipt once, and whether it was stalled.
            ReturnValues: 'ALL_OLD',
          }),
        );
        const old = out.Attributes ?? {};
        const previous = old.status as ContactStatus;
        return {
          applied: true,
          previous,
          wasStalled: isStalled({
            status: previous,
            serverAckAt: old.serverAckAt as string | undefined,
            stalledAt: old.stalledAt as string | undefined,
          }),
        };
      } catch (failure) {
        if (!isConditionFailure(failure)) throw failure;
      }
      // dynalite returns no item on a failed condition: read what refused it.
      const current = await get(keys.contact(queueId, position));
      return { applied: false, current: current?.status as ContactStatus | undefined };
    },

    async markContactReplied(queueId, position, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.contact(queueId, position),
            UpdateExpression: 'SET #repliedAt = :at',
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#repliedAt)',
            ExpressionAttributeNames: { '#pk': PK, '#repliedAt': 'repliedAt' },
            ExpressionAttributeValues: { ':at': at },
          }),
        );
        return true;
      } catch (failure) {
        if (isConditionFailure(failure)) return false;
        throw failure;
      }
    },

    async putOptOut(optOut) {
      // The marker first: a reader that sees the opt-out can never see "no opt-outs".
      await put({ ...keys.optOutMarker(optOut.tenantId), any: true });
      const created = await putNew({
        ...keys.optOut(optOut.tenantId, optOut.phone),
        ...keys.optOutsIndex(optOut.tenantId, optOut.at, optOut.phone),
        tenantId: optOut.tenantId,
        phone: optOut.phone,
        source: optOut.source,
        reason: optOut.reason,
        at: optOut.at,
      });
      return created ? 'created' : 'exists';
    },

    async getOptOut(tenantId, phone) {
      const item = await get(keys.optOut(tenantId, phone));
      return item ? toOptOut(item) : undefined;
    },

    async deleteOptOut(tenantId, phone) {
      const out = await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: keys.optOut(tenantId, phone),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes !== undefined;
    },

    async hasOptOuts(tenantId) {
      const marker = await get(keys.optOutMarker(tenantId));
      if (marker) return marker.any === true;
      // A tenant from before the marker: its listing answers once, and the answer is kept unless
      // an opt-out wrote the marker meanwhile (then that one stands).
      const listed = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: GSI1.name,
          KeyConditionExpression: '#gpk = :gpk',
          ExpressionAttributeNames: { '#gpk': GSI1.pk },
          ExpressionAttributeValues: { ':gpk': indexPartitions.optOuts(tenantId) },
          Limit: 1,
        }),
      );
      const any = (listed.Items ?? []).length > 0;
      await putNew({ ...keys.optOutMarker(tenantId), any });
      return any;
    },

    async findOptedOut(tenantId, phones) {
      const found = new Set<string>();
      const unique = [...new Set(phones)];
      const chunks: string[][] = [];
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        chunks.push(unique.slice(start, start + BATCH_GET_KEYS));
      }
      const lookUp = async (chunk: string[]) => {
        let pending: Item[] = chunk.map((phone) => keys.optOut(tenantId, phone));
        for (let round = 0; pending.length > 0; round++) {
          if (round >= MAX_BATCH_ROUNDS)
            throw new Error('findOptedOut: keys still unprocessed after 8 rounds');
          if (round > 0) await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (round - 1)));
          const out = await client.send(
            new BatchGetCommand({
              RequestItems: {
                [tableName]: { Keys: pending, ConsistentRead: true, ProjectionExpression: 'phone' },
              },
            }),
          );
          for (const item of out.Responses?.[tableName] ?? []) found.add(String(item.phone));
          pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
        }
      };
      // A 1000-contact batch is 10 calls: a few at a time keeps the Accept path fast.
      for (let i = 0; i < chunks.length; i += BATCH_GET_CONCURRENCY) {
        await Promise.all(chunks.slice(i, i + BATCH_GET_CONCURRENCY).map(lookUp));
      }
      return found;
    },

    async listOptOuts(tenantId, page) {
      const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      const items: Item[] = [];
      let startKey: Item | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: GSI1.name,
            KeyConditionExpression: after === undefined ? '#gpk = :gpk' : '#gpk = :gpk AND #gsk < :after',
            ExpressionAttributeNames: {
              '#gpk': GSI1.pk,
              ...(after === undefined ? {} : { '#gsk': GSI1.sk }),
            },
            ExpressionAttributeValues: {
              ':gpk': indexPartitions.optOuts(tenantId),
              ...(after === undefined ? {} : { ':after': after }),
            },
            // `<at>#<phone>` descending: newest first. One more than a page tells whether a next one exists.
            ScanIndexForward: false,
            Limit: page.limit + 1 - items.length,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey && items.length <= page.limit);
      const shown = items.slice(0, page.limit);
      const last = shown[shown.length - 1];
      return {
        items: shown.map(toOptOut),
        nextCursor: items.length > page.limit && last ? encodeCursor(String(last[GSI1.sk])) : null,
      };
    },
  };
}
