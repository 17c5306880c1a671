import type {
  BillingContact,
  BillingQueue,
  CancelReason,
  ContactSendResult,
  ContactStatus,
  MessageRecord,
  QueueCounter,
  QueueRunFields,
  QueueStatus,
  QueueTransitionFields,
  SendFailureCode,
} from '../../domain/types.ts';

/** Sending (design section 5): every step a single-item conditional write; queue transitions and progress; one pump per instance through its lease; the sweeper's due queues. */
export interface SendingStore {
  /**
   * Contacts the pump may try now, in batch order after `afterPosition`: `pending`, and `retry`
   * (deferred ones included) whose `retryAt` has come. Candidates only: the claim decides; after a
   * position the answer may be a moment stale (the pump's next page, ahead of what it touched).
   */
  listSendableContacts(
    queueId: string,
    now: string,
    limit: number,
    afterPosition?: number,
  ): Promise<BillingContact[]>;
  /**
   * Claims a contact before the gateway is called: `pending`, or `retry` due by `now`, becomes
   * `sending` and `attempts` grows by one (a `deferred` mark stays until the attempt's result).
   * undefined when it is not claimable (already claimed, sent, cancelled...), so a redelivered work
   * item never sends a contact twice. A claimable contact has no expiry (only the writes that settle
   * one give it one), so neither has the claim.
   */
  claimContact(queueId: string, position: number, now: string): Promise<BillingContact | undefined>;
  /**
   * Records a successful send: the claimed contact, rewritten whole as `sent` with the gateway's ids,
   * on the condition that it is still `sending` by this very claim (`claimed.claimedAt`), then its
   * conversation message (also the gateway-id pointer for webhooks). `false` when the claim was
   * settled by someone else meanwhile (a pump that took the contact for abandoned): the contact is
   * then left as that pump decided, and only the message is stored (it did go out). Both items
   * expire at `expiresAt` (retention). The message's text is the contact's rendered message:
   * `listMessages` reads it there, so it is stored once.
   */
  recordSent(
    claimed: BillingContact,
    result: Extract<ContactSendResult, { status: 'sent' }>,
    message: MessageRecord,
    expiresAt: string,
  ): Promise<boolean>;
  /**
   * Records the attempt's result on a contact in `sending` (clearing a `deferred` mark); false when
   * it was not in `sending` (or, given `claimedAt`, not by that claim any more). The contact expires
   * at `expiresAt`, or never while null (a result that leaves it work: `pending`, `retry`).
   */
  finishContact(
    queueId: string,
    position: number,
    result: ContactSendResult,
    expiresAt: string | null,
    claimedAt?: string,
  ): Promise<boolean>;
  /**
   * A contact whose phone opted out is skipped without a claim: `pending`, or `retry`, becomes
   * `skipped_opt_out`, expiring at `expiresAt`. The status it had, or undefined when it was neither
   * (claimed, cancelled...).
   */
  skipOptedOutContact(
    queueId: string,
    position: number,
    at: string,
    expiresAt: string,
  ): Promise<WaitingStatus | undefined>;
  /**
   * Holds a contact back without a claim (the per-debtor frequency cap): `pending`, or `retry`,
   * becomes `retry` marked `deferred` with `retryAt` = `until`, attempts unchanged (still work: no
   * expiry). The status it had, or undefined when it was neither (claimed, cancelled...).
   */
  deferContact(
    queueId: string,
    position: number,
    until: string,
    at: string,
  ): Promise<WaitingStatus | undefined>;
  /**
   * Contacts left in `sending` by a pump that died (candidates from a cheap read of the queue, each
   * confirmed by a consistent read). Called when a pump starts, not per message.
   */
  listStuckContacts(queueId: string): Promise<BillingContact[]>;
  /**
   * Every contact of the queue read from the base table with a strongly consistent read: how many
   * are in each status, how many `failed` ones had been sent (a receipt failed them), the earliest
   * `retryAt`, and the contacts in `sending`. What decides that a queue is finished, and what the
   * sender's counters must say (it recounts after a crash). Never from an index: an index can lag.
   */
  summarizeContacts(queueId: string): Promise<ContactSummary>;
  /**
   * `pending` and `retry` contacts become `cancelled`; how many changed, how many of those were
   * waiting in `retry` (the pending-retry counter gives them up), and how many of these were
   * deferred by the frequency cap (so does the deferred counter). Each expires at `expiresAt`.
   */
  cancelUnsentContacts(
    queueId: string,
    at: string,
    expiresAt: string,
  ): Promise<{ cancelled: number; fromRetry: number; fromDeferred: number }>;
  /**
   * Moves the queue to `to` if its status is one of `from`, setting `fields` in the same write;
   * the updated queue, or undefined when the status did not match. Into a final status the caller
   * gives `expiresAt` (retention): the queue item expires then.
   */
  transitionQueue(
    queueId: string,
    from: readonly QueueStatus[],
    to: QueueStatus,
    fields?: QueueTransitionFields,
    expiresAt?: string,
  ): Promise<BillingQueue | undefined>;
  /**
   * Adds to counters (negative allowed) and sets fields, in one write; returns the queue after the
   * change (its status tells a pump whether a pause or cancel arrived meanwhile).
   */
  updateQueueProgress(
    queueId: string,
    deltas: Partial<Record<QueueCounter, number>>,
    fields?: QueueRunFields,
  ): Promise<BillingQueue | undefined>;
  /**
   * Adds to counters (negative allowed) without reading the queue back: for the writers that decide
   * nothing from the answer (receipts, replies, stalls, settled claims). False when the queue does
   * not exist.
   */
  addToQueueCounters(queueId: string, deltas: Partial<Record<QueueCounter, number>>): Promise<boolean>;
  /**
   * The queue's status as of now (a strongly consistent read), or undefined when it does not exist:
   * the pump's check before each send that writes no counters (a pause or cancel stops it there).
   */
  getQueueStatus(queueId: string): Promise<QueueStatus | undefined>;
  /** Adds one to the queue's publish generation and returns the new value. */
  nextPublishGeneration(queueId: string): Promise<number>;

  /**
   * Takes the instance's lease (one pump per instance) for `holder.owner`, working for queue
   * `holder.queueId`, if it is free, expired, or already that owner's. Returns whether it was
   * acquired, when the instance last sent (for pacing across pumps), which queue held it last,
   * which queue is waiting for it (so queues on one instance take turns), and, when it was not
   * acquired, who holds it.
   */
  acquireInstanceLease(
    tenantId: string,
    instanceId: string,
    holder: LeaseHolder,
    now: string,
    until: string,
  ): Promise<InstanceLease>;
  /** Extends the lease and records the last send; false when `owner` lost it. */
  renewInstanceLease(
    tenantId: string,
    instanceId: string,
    owner: string,
    until: string,
    lastSendAt: string | null,
  ): Promise<boolean>;
  /**
   * Frees the lease (if `owner` holds it), keeping the last send time for the next pump's pacing and
   * which queue just had its turn.
   */
  releaseInstanceLease(
    tenantId: string,
    instanceId: string,
    owner: string,
    lastSendAt: string | null,
    queueId: string,
  ): Promise<void>;
  /**
   * The latest moment the instance may have sent at, from its lease, read strongly consistent: the
   * end of the lease while a pump holds it (it may send at any moment until then), else its last
   * recorded send; null when it never sent. A reply checks it before trusting the phone's history,
   * an index that may not show a send of the last seconds yet.
   */
  lastPossibleSendAt(tenantId: string, instanceId: string): Promise<string | null>;
  /** Notes that `queueId` waits for the instance (the latest waiter wins); `null` clears it if it is `queueId`'s. */
  noteInstanceWaiter(tenantId: string, instanceId: string, queueId: string, at: string | null): Promise<void>;
  /**
   * Open queues (pending, scheduled, running, instance_down) whose check time (`nextRunAt`, or
   * their last change) is at or before `upTo`, earliest first: the sweeper's candidates.
   */
  listDueQueues(upTo: string, limit: number): Promise<BillingQueue[]>;
}

/**
 * How a contact waited before it moved: `pending`, `retry` after a failed attempt, or `deferred`
 * (in `retry`, held back by the frequency cap).
 */
export type WaitingStatus = 'pending' | 'retry' | 'deferred';

/** What a strongly consistent read of all of a queue's contacts says (see `summarizeContacts`). */
export interface ContactSummary {
  byStatus: Partial<Record<ContactStatus, number>>;
  /** Contacts in `retry` held back by the frequency cap (`deferred`). */
  deferred: number;
  /** The earliest `retryAt` among contacts in `retry`; null when none waits. */
  earliestRetryAt: string | null;
  /** Contacts in `sending` (claimed; the gateway may be on it right now, or its pump died). */
  sending: BillingContact[];
  /**
   * Contacts the gateway took (a message id and a send time, whatever receipts came since), in
   * batch order: each had a `sent` event due (see lib/app/missed-events.ts).
   */
  sent: SentContact[];
  /**
   * Contacts an attempt ended `failed` or `unknown` (`lastErrorCode` set), in batch order: each had
   * that event due.
   */
  failed: FailedContact[];
  /**
   * Contacts cancelled on their own (an invoice `paid`, a debtor `erased`), in batch order: each had
   * a `cancelled` event due. A whole queue's cancel (the `cancel` action) sets no reason and tells
   * the ERP nothing per contact.
   */
  cancelled: CancelledOnItsOwn[];
}

/** A contact a payment or an erasure cancelled: where it is, why, and when. */
export interface CancelledOnItsOwn {
  position: number;
  reason: CancelReason;
  cancelledAt: string;
}

/** A contact an attempt ended without a send we know of: where it is, how, when, and why. */
export interface FailedContact {
  position: number;
  status: 'failed' | 'unknown';
  failedAt: string;
  code: SendFailureCode;
  /** null once its debtor was erased (the error could quote the number). */
  error: string | null;
}

/** A contact the gateway took: where it is, when, and the gateway's message id. */
export interface SentContact {
  position: number;
  sentAt: string;
  providerMessageId: string;
}

/** Who takes an instance's lease: a pump run (or a cancel's recount) and the queue it works for. */
export interface LeaseHolder {
  owner: string;
  queueId: string;
}

export interface InstanceLease {
  acquired: boolean;
  /**
   * Who holds the lease when it was not acquired: the queue its holder works for (null for a lease
   * taken before holders were recorded) and until when. null when acquired.
   */
  heldBy: { queueId: string | null; until: string } | null;
  lastSendAt: string | null;
  /** The queue whose pump held the lease last. */
  lastHolderQueueId: string | null;
  /** A queue that found the lease busy and waits for its turn. */
  waiter: { queueId: string; at: string } | null;
}
