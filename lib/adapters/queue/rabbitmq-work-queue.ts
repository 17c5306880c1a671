import type { WorkQueue } from '../../ports/work-queue.ts';
import { createRabbitMqQueue, type RabbitMqLogger, type RabbitMqQueueSettings } from './rabbitmq-queue.ts';
import { decodeWorkItem, encodeWorkItem, WorkDeliveryError } from './work-item-schema.ts';

/** The part of a logger this adapter uses; the Powertools Logger fits. */
export type WorkQueueLogger = RabbitMqLogger;

/** See RabbitMqQueueSettings; `connectionName` defaults to `billing-work-queue`. */
export type RabbitMqWorkQueueOptions = RabbitMqQueueSettings;

/**
 * WorkQueue on RabbitMQ: the shared quorum-queue machinery of rabbitmq-queue.ts (confirmed
 * publishes, manual acks, delivery limit into `<queueName>.dlq`, reconnect with backoff) carrying
 * work items.
 *
 * Semantics that differ from SQS FIFO: no message groups and no deduplication. Two items of one
 * instance may be handled at once and a generation published twice is delivered twice; that is
 * harmless because exclusivity comes from the instance lease in the store and each contact is
 * claimed before it is sent, never from the broker.
 */
export const createRabbitMqWorkQueue = (options: RabbitMqWorkQueueOptions): Promise<WorkQueue> =>
  createRabbitMqQueue({
    ...options,
    label: 'work queue',
    connectionName: options.connectionName ?? 'billing-work-queue',
    encode: encodeWorkItem,
    decode: decodeWorkItem,
    deliveryError: (kind, messageId, receiveCount, errorOptions) =>
      new WorkDeliveryError(kind, messageId, receiveCount, errorOptions),
  });
