import type { MessageQueue } from './message-queue.ts';
import type { StoredCallbackEvent } from './store/callbacks.ts';

/**
 * "Deliver this callback event now": the id of one event (its delivery state lives in the store).
 * Published by `BillingEvents.emit` just before it stores the event; consumed by
 * functions/callback-sender.ts in AWS and by the local worker.
 */
export interface CallbackRef {
  queueId: string;
  eventId: string;
  /**
   * The event as its emitter built it, and when it expires. The emitter announces before it
   * stores: one that dies in between leaves the event here, and the consumer stores it when the
   * store does not have it (never over a stored one). So no event is stored unannounced. Absent on
   * refs published before this field existed.
   */
  stored?: { event: StoredCallbackEvent; expiresAt: string };
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
