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
  /**
   * Set only by a run that stopped at its time budget (or a stop request) with each of its claims
   * settled and its counters written: nothing is left for the next run to repair, so it skips the
   * stuck-contact lookup and the recount (each a read of the whole queue) and lists contacts after
   * `afterPosition` (the last contact the run took; null: it took none). Any other item (a first
   * publish, the sweeper's, a schedule's) has none, and its run checks everything.
   */
  handover?: { afterPosition: number | null };
  /**
   * Set only on a schedule a cancel made because a pump of the cancelled queue held its instance:
   * when it fires, the release recounts the queue's counters instead of publishing a run
   * (lib/app/cancelled-queue-counters.ts). Never published to the work queue.
   */
  recount?: true;
}

/**
 * The work queue (SQS FIFO or RabbitMQ). On SQS the message group is the WhatsApp instance and
 * duplicates of (queueId, generation) are dropped; on RabbitMQ neither, and the instance lease and
 * contact claims in the store keep sends single.
 */
export type WorkQueue = MessageQueue<WorkItem>;
