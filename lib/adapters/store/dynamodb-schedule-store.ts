import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BillingQueue } from '../../domain/types.ts';
import type { ScheduleStore, SendingStore, StoredSchedule } from '../../ports/store.ts';
import { tableOperations, toEntity } from './dynamodb-operations.ts';
import { keys, PK } from './table-schema.ts';

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
  const { putNew, queryDue, deleteIfMatch } = tableOperations(options.client, options.tableName);
  return {
    async createSchedule(schedule) {
      const created = await putNew({
        ...keys.schedule(schedule.name),
        ...keys.dueIndex('SCHEDULE', schedule.dueAt, schedule.name),
        ...schedule,
      });
      return created ? 'created' : 'exists';
    },

    async listDueSchedules(now, limit) {
      return (await queryDue('SCHEDULE', now, limit)).map((item) => toEntity<StoredSchedule>(item));
    },

    async listDueQueues(upTo, limit) {
      // Candidates as the index holds them, without their counters item: the sweeper decides on
      // `getQueue`, which reads both.
      return (await queryDue('QUEUE', upTo, limit)).map((item) => toEntity<BillingQueue>(item));
    },

    async claimSchedule(name) {
      const claimed = await deleteIfMatch({
        Key: keys.schedule(name),
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      });
      return claimed ? toEntity<StoredSchedule>(claimed) : undefined;
    },
  };
};
