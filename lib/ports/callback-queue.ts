import type { MessageQueue } from './message-queue.ts';

/**
 * "Deliver this callback event now": the id of one stored event (the event itself stays in the
 * store, where its delivery state lives). Published by `BillingEvents.emit` after the event is
 * recorded; consumed by functions/callback-sender.ts in AWS and by the local worker.
 */
export interface CallbackRef {
  queueId: string;
  eventId: string;
}

/**
 * The callbacks queue (SQS standard or RabbitMQ): a fast path in front of the due-index poller.
 * At-least-once and unordered; duplicates are harmless because every attempt starts with the
 * store's conditional claim, and a lost message is harmless because the poller delivers what is due.
 */
export type CallbackQueue = MessageQueue<CallbackRef>;

/** For deployments without a callbacks queue: nothing is published and the due-index poller delivers. */
export const noCallbackQueue: CallbackQueue = {
  publish: async () => undefined,
  // Nothing is ever published here, so a consumer of it has nothing to do.
  consume: async () => ({ stop: async () => undefined }),
  reachability: async () => 'not_configured',
  close: async () => undefined,
};
