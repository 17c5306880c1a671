import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { QueueStatus } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SendingStore } from '../../ports/store.ts';
import { hasExpired, keys, TTL_ATTRIBUTE } from './table-schema.ts';

export interface DynamoDbQueueStatusOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Says whether the queue item has expired (as `getQueue` does). */
  clock: Clock;
}

/**
 * The pump's status check before a send that writes no counters (docs/data-model.md, Queue): one
 * strongly consistent GetItem of the queue item. DynamoDB bills a GetItem by the whole item's size
 * whatever it returns (a queue item is well under 4 KB: one read unit, a fifth of a write unit's
 * price); the projection only keeps the answer small.
 */
export function createDynamoDbQueueStatusRead(
  options: DynamoDbQueueStatusOptions,
): Pick<SendingStore, 'getQueueStatus'> {
  const { client, tableName, clock } = options;
  return {
    async getQueueStatus(queueId: string) {
      const out = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: keys.queue(queueId),
          ConsistentRead: true,
          ProjectionExpression: '#status, #ttl',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TTL_ATTRIBUTE },
        }),
      );
      const item = out.Item;
      if (!item || hasExpired(item, clock.now())) return undefined;
      return item.status as QueueStatus;
    },
  };
}
