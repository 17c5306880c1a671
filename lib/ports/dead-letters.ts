import type { WorkItem } from './work-queue.ts';

/**
 * One message a queue gave up on: delivered `maxReceiveCount` times without success (its consumer
 * crashed or threw each time), or a body that is not a message of the queue at all (poison). The
 * work queue's carry work items; the callbacks queue's, callback refs.
 */
export interface DeadLetter<T = WorkItem> {
  /** The broker's id of the dead message (SQS MessageId, AMQP message-id). */
  messageId: string;
  /** The message it carries; null for a body that is not a valid one. */
  item: T | null;
  /** The raw body, for an operator looking at a poison message (cut to a readable length). */
  body: string;
  /** How many times the work queue delivered it before giving up. */
  deliveries: number;
  /** What went wrong, when the broker or the body tells (e.g. the delivery limit, a malformed body). */
  lastError: string | null;
  /** When it was dead-lettered, when the broker records it (RabbitMQ does, SQS does not). */
  deadLetteredAt: string | null;
}

/** What became of one dead letter handed to `DeadLetters.settle`. */
export type DeadLetterVerdict = 'remove' | 'keep';

export interface DeadLetterSettlement {
  /** Dead letters handed to `decide`. */
  seen: number;
  /** Of those, the ones taken off the dead-letter queue. */
  removed: number;
}

/**
 * A queue's dead-letter queue (SQS DLQ or RabbitMQ `<queue>.dlq`), as an operator sees it: look at
 * what is there, and take items off it one by one once they were dealt with. Putting an item back
 * on its queue is the queue's job (`MessageQueue.publish`); this port only reads and removes, so
 * redriving is publish-then-remove and a crash in between leaves a duplicate (harmless: the sender's
 * and the callback sender's claims), never a loss.
 */
export interface DeadLetters<T = WorkItem> {
  /**
   * The first dead letters, oldest first, at most `limit`, left where they are. On a FIFO queue
   * only the head of each message group may be visible while the others wait behind it (fauxqs
   * shows one per group); `count` tells how many there are in all.
   */
  list(limit: number): Promise<DeadLetter<T>[]>;
  /** How many dead letters wait (approximate on SQS). */
  count(): Promise<number>;
  /**
   * Walks the dead letters, oldest first, at most `limit`, each at most once, handing each to
   * `decide`: 'remove' takes it off the dead-letter queue, 'keep' leaves it there. When `decide`
   * throws, that letter and every one not yet decided stay, and the error is rethrown.
   */
  settle(
    decide: (letter: DeadLetter<T>) => Promise<DeadLetterVerdict>,
    limit: number,
  ): Promise<DeadLetterSettlement>;
  /** Releases connections (never the injected clients of others). */
  close(): Promise<void>;
}
