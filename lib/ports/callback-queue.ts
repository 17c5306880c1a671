import type { ConsumeOptions, Consumer } from './work-queue.ts';

/**
 * "Deliver this callback event now": the id of one stored event (the event itself stays in the
 * store, where its delivery state lives). Published by `BillingEvents.emit` after the event is
 * recorded; consumed by functions/callback-sender.ts in AWS and by the local worker.
 */
export interface CallbackRef {
  queueId: string;
  eventId: string;
}

export interface CallbackQueueDelivery {
  ref: CallbackRef;
  /** Broker message id (for logs and partial batch responses). */
  messageId: string;
  /** 1 on the first delivery; grows on redeliveries. */
  receiveCount: number;
}

/**
 * The callbacks queue (SQS standard or RabbitMQ): a fast path in front of the due-index poller.
 * At-least-once and unordered; duplicates are harmless because every attempt starts with the
 * store's conditional claim, and a lost message is harmless because the poller delivers what is due.
 */
export interface CallbackQueue {
  /** Publishes a ref durably (resolves once the broker has it). */
  publish(ref: CallbackRef): Promise<void>;
  /**
   * Hands each received ref to `handler`: resolving acknowledges it; throwing returns it for a
   * later redelivery, up to the queue's receive limit (then its dead-letter queue).
   */
  consume(
    handler: (delivery: CallbackQueueDelivery) => Promise<void>,
    options: ConsumeOptions,
  ): Promise<Consumer>;
  /** Stops this queue's consumers and releases connections. */
  close(): Promise<void>;
}

/** For deployments without a callbacks queue: nothing is published and the due-index poller delivers. */
export const noCallbackQueue: CallbackQueue = {
  publish: async () => undefined,
  // Nothing is ever published here, so a consumer of it has nothing to do.
  consume: async () => ({ stop: async () => undefined }),
  close: async () => undefined,
};
