import type { MessageQueue } from './message-queue.ts';

/**
 * The work items that drive sending: one item = "run the pump of this queue" (the guide publishes
 * one message per queue). In AWS the consumer is the sender Lambda behind an SQS event source
 * mapping; locally (and in the contract tests) `consume` feeds the same handler.
 */
export interface WorkItem {
  queueId: string;
  tenantId: string;
  /** FIFO message group: one pump per WhatsApp instance at a time, queues on it take turns. */
  instanceId: string;
  /** Publish generation of the queue; with the queue id it is the deduplication id. */
  generation: number;
}

/**
 * The work queue (SQS FIFO or RabbitMQ). On SQS the message group is the WhatsApp instance and
 * duplicates of (queueId, generation) are dropped; on RabbitMQ neither, and the instance lease and
 * contact claims in the store keep sends single.
 */
export type WorkQueue = MessageQueue<WorkItem>;
