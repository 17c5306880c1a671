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

export interface Delivery {
  item: WorkItem;
  /** Broker message id (for logs and partial batch responses). */
  messageId: string;
  /** 1 on the first delivery; grows on redeliveries. */
  receiveCount: number;
}

export interface ConsumeOptions {
  /** Items handled at the same time by this consumer. */
  concurrency: number;
  /** Called when a delivery could not be parsed or was dead-lettered (for logs/metrics). */
  onError?: (error: unknown) => void;
}

export interface Consumer {
  /** Stops receiving, waits for the handlers in flight, then returns. */
  stop(): Promise<void>;
}

/** What a dependency's health probe found. */
export type Reachability = 'ok' | 'unreachable' | 'not_configured';

export interface WorkQueue {
  /** Publishes an item durably (resolves once the broker has it). Duplicates of (queueId, generation) may be dropped. */
  publish(item: WorkItem): Promise<void>;
  /**
   * Hands each received item to `handler`: resolving acknowledges it; throwing returns it for a
   * later redelivery; after `maxReceiveCount` deliveries it goes to the dead-letter queue.
   */
  consume(handler: (delivery: Delivery) => Promise<void>, options: ConsumeOptions): Promise<Consumer>;
  /**
   * Whether the broker can take a publish now, for `/health` (never throws): `not_configured` for
   * a function deployed without a work queue.
   */
  reachability(): Promise<Reachability>;
  /** Releases connections. */
  close(): Promise<void>;
  /**
   * Brings back, after `delaySeconds`, an item that someone else received (the Lambda runtime,
   * which holds its receipt handle) and that failed; without it the item would wait out the whole
   * visibility timeout, holding back its instance's group. Only brokers with receipt handles (SQS).
   */
  retryLater?(receiptHandle: string, delaySeconds: number): Promise<void>;
}
