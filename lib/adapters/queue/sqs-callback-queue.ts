import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CallbackQueue } from '../../ports/callback-queue.ts';
import { CallbackDeliveryError, decodeCallbackRef, encodeCallbackRef } from './callback-ref-schema.ts';
import { createSqsQueue } from './sqs-queue.ts';

export interface SqsCallbackQueueOptions {
  client: SQSClient;
  /** A standard queue with a redrive policy to a dead-letter queue. */
  queueUrl: string;
  /** Long-poll wait per receive; also bounds how long `stop()` waits for the poll in progress. Default 2. */
  waitTimeSeconds?: number;
  /** How long a failed ref stays invisible before it comes back. Default 2. */
  retryDelaySeconds?: number;
}

/**
 * CallbackQueue on an SQS standard queue, on the shared poller of sqs-queue.ts: no groups and no
 * deduplication (a ref delivered twice is claimed once in the store), no throughput limit. One
 * attempt is one short POST, well inside the queue's visibility timeout, so handlers do not extend
 * it (the store's 30 s claim lease is what keeps a second attempt out meanwhile).
 *
 * In AWS functions/callback-sender.ts behind an event source mapping is the consumer; `consume` is
 * the local / test poller.
 */
export const createSqsCallbackQueue = (options: SqsCallbackQueueOptions): CallbackQueue => {
  const queue = createSqsQueue({
    ...options,
    encode: encodeCallbackRef,
    decode: decodeCallbackRef,
    deliveryError: (kind, messageId, receiveCount, errorOptions) =>
      new CallbackDeliveryError(kind, messageId, receiveCount, errorOptions),
  });
  return {
    publish: queue.publish,
    consume: (handler, consumeOptions) =>
      queue.consume(
        ({ item, messageId, receiveCount }) => handler({ ref: item, messageId, receiveCount }),
        consumeOptions,
      ),
    close: queue.close,
  };
};
