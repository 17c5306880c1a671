import type { CallbackQueue } from '../../ports/callback-queue.ts';
import { CallbackDeliveryError, decodeCallbackRef, encodeCallbackRef } from './callback-ref-schema.ts';
import { createRabbitMqQueue, type RabbitMqQueueSettings } from './rabbitmq-queue.ts';

/** See RabbitMqQueueSettings; `connectionName` defaults to `billing-callback-queue`. */
export type RabbitMqCallbackQueueOptions = RabbitMqQueueSettings;

/**
 * CallbackQueue on RabbitMQ: the same quorum-queue machinery as the work queue (rabbitmq-queue.ts)
 * carrying callback refs. Unordered and at-least-once like SQS standard: each attempt starts with
 * the store's conditional claim, so a ref delivered twice posts once.
 */
export const createRabbitMqCallbackQueue = async (
  options: RabbitMqCallbackQueueOptions,
): Promise<CallbackQueue> => {
  const queue = await createRabbitMqQueue({
    ...options,
    label: 'callbacks queue',
    connectionName: options.connectionName ?? 'billing-callback-queue',
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
