/** What a dependency's health probe found. */
export type Reachability = 'ok' | 'unreachable' | 'not_configured';

/** One received message, as handed to a consumer's handler. */
export interface MessageDelivery<T> {
  item: T;
  /** Broker message id (for logs and partial batch responses). */
  messageId: string;
  /** 1 on the first delivery; grows on redeliveries. */
  receiveCount: number;
}

export interface ConsumeOptions {
  /** Items handled at the same time by this consumer. */
  concurrency: number;
  /** Called when a delivery could not be parsed, failed, or was dead-lettered (for logs/metrics). */
  onError?: (error: unknown) => void;
}

export interface Consumer {
  /** Stops receiving, waits for the handlers in flight, then returns. */
  stop(): Promise<void>;
}

/**
 * A durable, at-least-once queue of messages of one type `T` (SQS or RabbitMQ), with a dead-letter
 * queue behind it: the work queue (`WorkQueue`) and the callbacks queue (`CallbackQueue`) are this
 * port with their own message. Ordering and deduplication are the driver's (an SQS FIFO queue keeps
 * a message group in order and drops duplicates; RabbitMQ does neither), so a handler must be safe
 * to run twice and side by side: what must be exclusive is made so by the store.
 */
export interface MessageQueue<T> {
  /** Publishes a message durably (resolves once the broker has it). */
  publish(item: T): Promise<void>;
  /**
   * Hands each received message to `handler`: resolving acknowledges it; throwing returns it for a
   * later redelivery; after the queue's receive limit it goes to the dead-letter queue. A body that
   * is not a valid `T` never reaches the handler and goes the same way.
   */
  consume(
    handler: (delivery: MessageDelivery<T>) => Promise<void>,
    options: ConsumeOptions,
  ): Promise<Consumer>;
  /**
   * Whether the broker can take a publish now, for `/health` (never throws): `not_configured` for
   * a function deployed without this queue.
   */
  reachability(): Promise<Reachability>;
  /** Stops this queue's consumers and releases connections (never the injected clients of others). */
  close(): Promise<void>;
  /**
   * Brings back, after `delaySeconds`, a message that someone else received (the Lambda runtime,
   * which holds its receipt handle) and that failed; without it the message would wait out the
   * whole visibility timeout (on FIFO, holding back its group). Only brokers with receipt handles (SQS).
   */
  retryLater?(receiptHandle: string, delaySeconds: number): Promise<void>;
}
