import type { DebtorErasureCounts } from '../../domain/debtor-erasure.ts';
import type { BillingContact, BillingQueue, Campaign, CancelReason, Page } from '../../domain/types.ts';
import type { WaitingStatus } from './sending.ts';

/**
 * One debtor across a tenant's queues: the reminders of a paid invoice (cancelled one by one) and
 * the LGPD erasure of a person's data. No index finds a debtor (one would cost every accepted contact
 * a write): the use cases walk the tenant's queues and match each queue's contacts.
 */
export interface DebtorStore {
  /**
   * Every contact of each queue as matching a debtor needs it, in batch order, from strongly
   * consistent reads of the base table; a queue without contacts maps to []. Many small queues are
   * read in one request (a tenant that posts one batch per invoice has hundreds of one-contact
   * queues), a larger one by a read of its own. With `invoices`, a queue the store knows holds no
   * contact of any of them may map to [] unread (a payment needs only those contacts).
   */
  listContactIdentities(
    queues: readonly QueueContactsRef[],
    options?: { invoices?: ReadonlySet<string> },
  ): Promise<Map<string, ContactIdentity[]>>;
  /**
   * A contact not sent yet (`pending`, or `retry`) becomes `cancelled` with `reason`, to expire at
   * `expiresAt` (settled: the tenant's retention runs), in one conditional write; how it waited
   * (`deferred`: a retry the frequency cap set), or undefined when it did not (claimed, sent,
   * gone...): a claimed send is never undone.
   */
  cancelUnsentContact(
    queueId: string,
    position: number,
    at: string,
    expiresAt: string,
    reason: CancelReason,
  ): Promise<WaitingStatus | undefined>;
  /**
   * Replaces the contact's personal data with the marker (`erasedContactFields`); one not sent yet is
   * cancelled (reason `erased`, expiring at `expiresAt`) in the same write, a settled one keeps its
   * expiry. A contact in `sending` is left to its pump (`in_flight`): the send may be under way, and
   * its record would write the data back.
   */
  eraseContact(queueId: string, position: number, at: string, expiresAt: string): Promise<ContactErasure>;
  /**
   * Replaces the phone, name, reply text and error text in the callback events of one contact with
   * the marker (their delivery state stays); how many events it changed.
   */
  eraseContactEvents(queueId: string, position: number): Promise<number>;
  /**
   * Deletes the tenant's conversation messages of each of `phones` (sent and received, found through
   * each phone's history, an index) and the `known` ones by their key (sent a moment ago: the
   * history may not show them yet); how many distinct messages were deleted.
   */
  deleteMessages(tenantId: string, phones: readonly string[], known: readonly MessageRef[]): Promise<number>;
  /**
   * The refused contacts (`rejected`) of each of the tenant's stored campaign answers, by external
   * id; a campaign there is none of is left out. Many campaigns are read in one request.
   */
  listCampaignRejections(tenantId: string, externalIds: readonly string[]): Promise<Map<string, Rejection[]>>;
  /**
   * Replaces the phone of the refused contacts at `indexes` of a stored campaign answer (`rejected`)
   * with the marker; false when the campaign is gone.
   */
  eraseCampaignRejections(tenantId: string, externalId: string, indexes: readonly number[]): Promise<boolean>;
  /**
   * The tenant's erasure salt, set to `candidate` if it has none yet (the first one stays, so
   * concurrent erasures agree); undefined when the tenant does not exist.
   */
  ensureErasureSalt(tenantId: string, candidate: string): Promise<string | undefined>;
  /** Keeps the audit record of an erasure (no personal data in it). */
  recordDebtorErasure(record: DebtorErasureRecord): Promise<void>;
  /** A tenant's erasure records, newest first. */
  listDebtorErasures(
    tenantId: string,
    page: { limit: number; cursor?: string },
  ): Promise<Page<DebtorErasureRecord>>;
}

/**
 * What the debtor use cases match and count a contact by (where it is, how far it got, whose and
 * which invoice, the gateway's id of its send), and, for one they cancelled before, its reason and
 * when (`updatedAt`: a cancelled contact changes no more), for the event a crash lost.
 */
/** A refused contact of a stored campaign answer. */
export type Rejection = Campaign['rejected'][number];

/** A queue whose contacts are read: its id, and how many contacts it holds. */
export type QueueContactsRef = Pick<BillingQueue, 'id' | 'totalContacts'>;

export type ContactIdentity = Pick<
  BillingContact,
  'position' | 'status' | 'phone' | 'invoiceNumber' | 'updatedAt' | 'providerMessageId'
> & {
  cancelReason: CancelReason | null;
};

/** A conversation message by its key: the instance it went through and the gateway's id. */
export interface MessageRef {
  instanceId: string;
  messageId: string;
}

export type ContactErasure =
  /** Erased; `cancelledFrom`: it had not been sent (how it waited) and is now cancelled. */
  | { outcome: 'erased'; cancelledFrom: WaitingStatus | null }
  /** Claimed by a pump (`sending`): left as it is, erase again once it settled. */
  | { outcome: 'in_flight' }
  /** No such contact. */
  | { outcome: 'missing' };

/** The audit record of one erasure: who asked, when, what changed; of the person only a digest. */
export interface DebtorErasureRecord {
  id: string;
  tenantId: string;
  at: string;
  /** `api_key:<key id>` or `cli`. */
  requestedBy: string;
  /** `erasedPhoneDigest(tenant's salt, phone)`: tells a later request for the same phone, not the phone. */
  phoneDigest: string;
  counts: DebtorErasureCounts;
  /** Contacts a pump was sending during the erasure, left as they were (erase again). */
  inFlight: number;
}
