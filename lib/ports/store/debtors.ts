import type { DebtorErasureCounts } from '../../domain/debtor-erasure.ts';
import type { BillingContact, BillingQueue, Campaign, CancelReason, Page } from '../../domain/types.ts';
import type { QueuePosition } from './campaigns.ts';
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
  /**
   * Keeps the audit record of an erasure (no personal data in it); a later request of the same
   * erasure (same `at` and `id`) replaces it with its totals so far.
   */
  recordDebtorErasure(record: DebtorErasureRecord): Promise<void>;
  /**
   * Takes the progress of the erasure of the phone of `fresh.phoneDigest` for one request (`owner`),
   * held until `holdUntil`: the stored one when there is one that has not expired, `fresh` otherwise
   * (stored now, to expire at `expiresAt`). Not taken while another request holds it, or took it in
   * between: `progress` is then that request's (or `fresh`, if it has just finished).
   */
  takeErasureProgress(
    fresh: ErasureProgress,
    owner: string,
    now: string,
    holdUntil: string,
    expiresAt: string,
  ): Promise<{ taken: boolean; progress: ErasureProgress }>;
  /**
   * Stores where the erasure stands and lets go of it, if `owner` still holds it (false otherwise:
   * the request outlived its hold and another took over).
   */
  saveErasureProgress(progress: ErasureProgress, owner: string, now: string): Promise<boolean>;
  /** Removes the progress of a finished erasure, if `owner` still holds it. */
  deleteErasureProgress(tenantId: string, phoneDigest: string, owner: string): Promise<void>;
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
  /** Who asked, by the erasure's first request: `api_key:<key id>` or `cli`. */
  requestedBy: string;
  /** `erasedPhoneDigest(tenant's salt, phone)`: tells a later request for the same phone, not the phone. */
  phoneDigest: string;
  counts: DebtorErasureCounts;
  /** Contacts a pump was sending during the erasure, left as they were (erase again). */
  inFlight: number;
  /**
   * Whether every queue of the tenant was walked and nothing was left in flight. Until then the
   * record holds the totals so far, and the next request of the same erasure replaces it.
   */
  complete: boolean;
}

/**
 * Where the erasure of one phone stands between the requests that make it (a tenant with a long
 * history has more queues than one request has time to walk). Keyed by the phone's salted digest:
 * no personal data in it. Expires (a new erasure of the phone then starts from the top).
 */
export interface ErasureProgress {
  tenantId: string;
  /** `erasedPhoneDigest(tenant's salt, phone)`. */
  phoneDigest: string;
  /** The id of the erasure (and of its audit record), the same across its requests. */
  erasureId: string;
  /** When its first request began: the audit record's `at`, and how far back new queues are read. */
  startedAt: string;
  /**
   * Who made its first request (the audit record's `requestedBy`): the ones after it only go on
   * with it. Absent in progress saved before it was kept (then the request at hand).
   */
  requestedBy?: string;
  /**
   * The last queue of the tenant's queues oldest first whose walk ended: every queue the index
   * listed up to it is done. Null before the first.
   */
  walkedTo: QueuePosition | null;
  /** Queues that held a contact being sent: walked again by the next request, wherever the walk is. */
  inFlightQueueIds: string[];
  /** Queues walked so far (a queue walked again counts again). */
  queuesChecked: number;
  /** Totals of the requests so far. */
  counts: DebtorErasureCounts;
}
