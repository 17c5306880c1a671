import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WorkItem, WorkQueue } from '../../ports/work-queue.ts';
import { createSqsQueue } from './sqs-queue.ts';
import { decodeWorkItem, encodeWorkItem, WorkDeliveryError, workItemKey } from './work-item-schema.ts';

export interface SqsWorkQueueOptions {
  client: SQSClient;
  /** A FIFO queue (`.fifo`) with a redrive policy to a FIFO dead-letter queue. */
  queueUrl: string;
  /** Long-poll wait per receive; also bounds how long `stop()` waits for the poll in progress. Default 2. */
  waitTimeSeconds?: number;
  /** Visibility timeout asked for on receive; default: the queue's own. Handlers in flight keep extending it. */
  visibilityTimeoutSeconds?: number;
  /** How long a failed item stays invisible before it comes back (its group waits with it). Default 2. */
  retryDelaySeconds?: number;
}

/**
 * One group per WhatsApp instance. Instance ids are unique per tenant only (two tenants may both
 * call theirs `demo`), so the group names both.
 */
export const messageGroupOf = (item: WorkItem): string => `${item.tenantId}:${item.instanceId}`;

/**
 * WorkQueue on an SQS FIFO queue, on the shared poller of sqs-queue.ts. The message group is the
 * WhatsApp instance, so SQS itself never hands out two items of one instance at once (while one is
 * in flight its group is locked), and the deduplication id is `queueId:generation`, so publishing
 * the same generation twice within SQS's 5-minute window delivers it once. A pump may outlast the
 * visibility timeout, so handlers in flight keep extending it.
 *
 * In AWS the sender Lambda's event source mapping is the consumer; `consume` is the local / test
 * poller and the one the contract tests exercise.
 */
export const createSqsWorkQueue = (options: SqsWorkQueueOptions): WorkQueue => ({
  ...createSqsQueue({
    ...options,
    encode: encodeWorkItem,
    decode: decodeWorkItem,
    deliveryError: (kind, messageId, receiveCount, errorOptions) =>
      new WorkDeliveryError(kind, messageId, receiveCount, errorOptions),
    messageAttributes: (item) => ({
      MessageGroupId: messageGroupOf(item),
      MessageDeduplicationId: workItemKey(item),
    }),
    keepInvisible: true,
  }),
  retryLater: async (receiptHandle, delaySeconds) => {
    await options.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: options.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: delaySeconds,
      }),
    );
  },
});
