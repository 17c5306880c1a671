import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { RetentionStore } from '../../ports/store.ts';
import { mapBounded, tableOperations } from './dynamodb-operations.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import { epochSeconds, PK, SK, TTL_ATTRIBUTE } from './table-schema.ts';

export interface DynamoDbRetentionStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** Deletes in flight at once: the sweep is background work and must not crowd out the pumps. */
const DELETE_CONCURRENCY = 4;

/** The table key a sweep resumes after (its cursor holds nothing else). */
const decodeSweepCursor = (cursor: string): Record<string, string> => {
  const { pk, sk, ...rest } = decodeCursor(cursor);
  if (typeof pk !== 'string' || typeof sk !== 'string' || Object.keys(rest).length > 0) throw invalidCursor();
  return { [PK]: pk, [SK]: sk };
};

/**
 * The expiry sweep of local mode (docs/data-model.md, Retention): dynalite keeps items past their
 * TTL forever, so the local worker deletes them, one bounded Scan page per tick. A Scan reads the
 * whole table over its pages, which is why nothing on AWS calls this: DynamoDB's TTL deletes
 * expired items there for free (no write units), and the functions are not granted Scan.
 */
export const createDynamoDbRetentionStore = (options: DynamoDbRetentionStoreOptions): RetentionStore => {
  const { client, tableName } = options;
  const { deleteIfMatch } = tableOperations(client, tableName);
  return {
    async deleteExpired(now, page) {
      if (!Number.isInteger(page.limit) || page.limit < 1)
        throw new Error('deleteExpired: limit must be a positive integer');
      const nowSeconds = epochSeconds(now);
      const names = { '#ttl': TTL_ATTRIBUTE };
      const out = await client.send(
        new ScanCommand({
          TableName: tableName,
          // Limit bounds the items read (before the filter): one page of work per tick, whatever expired.
          Limit: page.limit,
          ExclusiveStartKey: page.cursor ? decodeSweepCursor(page.cursor) : undefined,
          FilterExpression: '#ttl <= :now',
          ProjectionExpression: '#pk, #sk',
          ExpressionAttributeNames: { ...names, '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      const deleted = await mapBounded(out.Items ?? [], DELETE_CONCURRENCY, (item) =>
        deleteIfMatch({
          Key: { [PK]: item[PK], [SK]: item[SK] },
          // Re-checked on the item: one written again since the Scan stays (a counter restarted, a
          // campaign whose external id was taken again after its expiry).
          ConditionExpression: '#ttl <= :now',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      const last = out.LastEvaluatedKey;
      return {
        deleted: deleted.filter((item) => item !== undefined).length,
        nextCursor: last ? encodeCursor({ pk: last[PK], sk: last[SK] }) : null,
      };
    },
  };
};
