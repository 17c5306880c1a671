import type { ContactStatus, EventContact, OptOut, Page, ReceiptStatus } from '../../domain/types.ts';
import type { PageRequest } from './paging.ts';

/** Feedback from the gateway's webhooks: receipts, replies, and the tenant's opt-outs. */
export interface FeedbackStore {
  /**
   * Applies a delivery receipt to a sent contact in one conditional write that only moves forward
   * (sent -> delivered -> read; sent -> failed; an unknown one, whose message the receipt's is,
   * forward too), keeping its index entry in step. `send`, the message's gateway id and send time,
   * fills the contact's when it has none (an unknown contact's record was cut off). `applied` with
   * the status it had (to count exactly once), or the status that refused it (undefined: no contact).
   */
  applyReceipt(
    queueId: string,
    position: number,
    receipt: ReceiptStatus,
    at: string,
    error?: string,
    send?: { providerMessageId: string; sentAt: string },
  ): Promise<
    | {
        applied: true;
        previous: ContactStatus /** it was stalled until this receipt */;
        wasStalled?: boolean;
        /** The contact as the write found it, for the receipt's callback events. */
        contact: EventContact;
      }
    | { applied: false; current: ContactStatus | undefined }
  >;
  /** Records the contact's first reply (`repliedAt`); false when it had replied already or does not exist. */
  markContactReplied(queueId: string, position: number, at: string): Promise<boolean>;
  /**
   * Stores an opt-out unless the phone already has one (the first one, and its time, are kept), and
   * moves the tenant's opt-out stamp either way (a retry after a failure in between moves it too).
   */
  putOptOut(optOut: OptOut): Promise<'created' | 'exists'>;
  getOptOut(tenantId: string, phone: string): Promise<OptOut | undefined>;
  /** Removes an opt-out; false when there was none. */
  deleteOptOut(tenantId: string, phone: string): Promise<boolean>;
  /**
   * Whether the tenant may have opt-outs (false only when it never had one), from a strongly
   * consistent read: an opt-out stored a moment ago is never missed, unlike an index listing.
   */
  hasOptOuts(tenantId: string): Promise<boolean>;
  /**
   * The tenant's opt-out stamp, from one strongly consistent read of a small marker: 0 while the
   * tenant never had an opt-out, otherwise a number that changes with every opt-out stored
   * (`putOptOut`, a repeat included). The stamp moves after the opt-out's own item is written, so
   * a reader that sees a stamp and then looks phones up finds every opt-out that stamp counts.
   */
  optOutStamp(tenantId: string): Promise<number>;
  /** Which of these E.164 phones opted out (BatchGetItem, 100 keys a call). */
  findOptedOut(tenantId: string, phones: readonly string[]): Promise<Set<string>>;
  /** The tenant's opt-outs, newest first. */
  listOptOuts(tenantId: string, page: Omit<PageRequest<never>, 'status'>): Promise<Page<OptOut>>;
}
