import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { BillingQueue } from '../../domain/types.ts';
import type { ScheduleStore, SendingStore, StoredSchedule } from '../../ports/store.ts';
import { isConditionFailure, toEntity } from './dynamodb-item.ts';
import { GSI2, indexPartitions, keys } from './table-schema.ts';

/** The part of the Store the store-backed scheduler and the sweeper read: schedules and due queues. */
type DynamoDbSchedulePart = ScheduleStore & Pick<SendingStore, 'listDueQueues'>;

/**
 * The due index's readers: open queues for the sweeper, and the schedules of the local scheduler: one item per name (a conditional put makes a repeat a no-op,
 * like EventBridge's unique names), found through the sparse due index until fired. Claiming is
 * a conditional delete that returns the item, so two pollers never publish the same schedule.
 */
export const createDynamoDbScheduleStore = (options: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): DynamoDbSchedulePart => {
  const { client, tableName: TableName } = options;
  return {
    async createSchedule(schedule) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.schedule(schedule.name),
              ...keys.dueIndex('SCHEDULE', schedule.dueAt, schedule.name),
              ...schedule,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'created';
      } catch (error) {
        if (isConditionFailure(error)) return 'exists';
        throw error;
      }
    },

    async listDueSchedules(now, limit) {
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: GSI2.name,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': GSI2.pk, '#sk': GSI2.sk },
          // `~` sorts after every character of a name, so every schedule due at `now` is included.
          ExpressionAttributeValues: { ':pk': indexPartitions.due('SCHEDULE'), ':upTo': `${now}#~` },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((item) => toEntity<StoredSchedule>(item));
    },

    async listDueQueues(upTo, limit) {
      const out = await client.send(
        new QueryCommand({
          TableName,
          IndexName: GSI2.name,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': GSI2.pk, '#sk': GSI2.sk },
          ExpressionAttributeValues: { ':pk': indexPartitions.due('QUEUE'), ':upTo': `${upTo}#~` },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((item) => toEntity<BillingQueue>(item));
    },

    async claimSchedule(name) {
      try {
        const out = await client.send(
          new DeleteCommand({
            TableName,
            Key: keys.schedule(name),
            ConditionExpression: 'attribute_exists(pk)',
            ReturnValues: 'ALL_OLD',
          }),
        );
        return out.Attributes ? toEntity<StoredSchedule>(out.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
  };
};
