import type { ReceiptCounts } from '../../domain/receipt-counts.ts';
import type { QueueStatus } from '../../domain/types.ts';

export type { ReceiptCounts } from '../../domain/receipt-counts.ts';

/**
 * Receipt counters made to match the contacts (docs/data-model.md, Receipt recount). A receipt is
 * two writes: the contact's (which decides) and then the queue's counters'. When the second is lost
 * (the invocation dies, or the store is out past the SDK's retries, between them) the gateway's retry
 * finds the contact moved and reads as a duplicate, and `contacts_delivered` / `contacts_read` would
 * stay short for good (`contacts_stalled` high, for a receipt or a server ack that ended a stall;
 * `contacts_sent` high, for a failure). So a duplicate receipt or ack flags its queue, and the
 * sweeper recounts a flagged queue's receipt counters from its contacts once no receipt has been
 * written to it for a while.
 */
export interface ReceiptRecountStore {
  /**
   * Makes sure the queue is flagged: creates the flag due at `flag.checkAt`, or keeps an existing
   * one's due time; either way stamps `token`, so a sweeper that read an older token does not remove
   * it (a duplicate that came during its recount gets a recount of its own).
   */
  flagReceiptRecount(flag: Omit<ReceiptRecount, 'token'>, token: string): Promise<void>;
  /** Flags due by `now`, earliest first (candidates from the due index: a flag may be gone since). */
  listDueReceiptRecounts(now: string, limit: number): Promise<ReceiptRecount[]>;
  /** Moves a flag to a later check; false when it is gone. */
  rescheduleReceiptRecount(queueId: string, checkAt: string): Promise<boolean>;
  /** Removes the flag if its token is still `token`; false otherwise. */
  removeReceiptRecount(queueId: string, token: string): Promise<boolean>;
  /**
   * The queue's receipt counters as stored, then (strongly consistent, in that order) what its
   * contacts say and when a receipt, a server ack or a stall was last written to any of them;
   * undefined when the queue does not exist (or has expired).
   */
  tallyReceipts(queueId: string): Promise<ReceiptTally | undefined>;
  /**
   * Adds `deltas` to the queue's receipt counters if no counter write happened since `tally` read
   * them (its `countersVersion`); false when one did (tally again later) or the queue is gone.
   */
  correctReceiptCounters(
    queueId: string,
    deltas: ReceiptCounterDeltas,
    countersVersion: string | null,
  ): Promise<boolean>;
}

/** A queue whose receipt counters the sweeper recounts once due. */
export interface ReceiptRecount {
  queueId: string;
  tenantId: string;
  /** When the recount is due. */
  checkAt: string;
  /** Changes on every flag: a remove conditional on it never drops a flag a later duplicate set. */
  token: string;
}

/** What the recount adds to a queue's counters. */
export type ReceiptCounterDeltas = Partial<
  Record<
    | 'contactsDelivered'
    | 'contactsRead'
    | 'contactsStalled'
    | 'contactsSent'
    | 'contactsFailed'
    | 'contactsUnknown',
    number
  >
>;

/** Receipt counts of one queue: what its counters say and what its contacts say. */
export interface ReceiptTally {
  /** The counters as stored. */
  stored: ReceiptCounts;
  /** The same counts from the contacts, read after the counters. */
  counted: ReceiptCounts;
  /**
   * The latest receipt, server ack or stall written on any of the queue's contacts; null when none
   * carries its time (none yet, or all written by a version that did not record it).
   */
  lastReceiptWriteAt: string | null;
  /** The counters' state as read (opaque): `correctReceiptCounters` applies only over it. */
  countersVersion: string | null;
  /** The queue's status and size as read with the counters. */
  queue: { status: QueueStatus; totalContacts: number };
  /** How many contacts the count read (fewer than `totalContacts` once some have expired). */
  contactsCounted: number;
}
