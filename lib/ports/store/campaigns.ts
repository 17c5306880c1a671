import type {
  BillingContact,
  BillingQueue,
  Campaign,
  ContactStatus,
  Page,
  QueueStatus,
} from '../../domain/types.ts';
import type { PageRequest } from './paging.ts';

/** Where a queue stands in a tenant's queues oldest first: its creation time, then its id. */
export type QueuePosition = Pick<BillingQueue, 'createdAt' | 'id'>;

/** Accepting a batch: the campaign (the idempotency point), its queue and contacts, and reading them back. */
export interface CampaignStore {
  /**
   * Creates the campaign (state `creating`, held by `campaign.owner`) unless the tenant already has
   * this external id; one whose retention has passed counts as gone, so the id can be used again.
   */
  createCampaign(campaign: Campaign): Promise<'created' | 'exists'>;
  /** The tenant's campaign of this external id; undefined when there is none or it has expired. */
  getCampaign(tenantId: string, externalId: string): Promise<Campaign | undefined>;
  /**
   * The campaign of a finished queue expires with it, at `expiresAt` (the external id can be used
   * again from then on). Only the campaign that names `queueId`; nothing when there is none.
   */
  expireCampaign(tenantId: string, externalId: string, queueId: string, expiresAt: string): Promise<void>;
  /**
   * Takes over a `creating` campaign whose lease ended before `now` (its request died, or is too
   * slow): sets `owner` and `leaseUntil`; false when it is `created` or another request still holds it.
   */
  takeOverCampaign(
    tenantId: string,
    externalId: string,
    owner: string,
    now: string,
    leaseUntil: string,
  ): Promise<boolean>;
  /**
   * Extends the lease of a `creating` campaign `owner` still holds; false when a retry took it over
   * (or it is `created`, or gone): the caller must stop writing.
   */
  holdCampaign(tenantId: string, externalId: string, owner: string, leaseUntil: string): Promise<boolean>;
  /** Records that the daily quota was reserved for this campaign. */
  markCampaignQuotaReserved(tenantId: string, externalId: string): Promise<void>;
  /**
   * `creating -> created` if `owner` still holds it; false when it already was `created` or another
   * request took it over.
   */
  completeCampaign(tenantId: string, externalId: string, owner: string): Promise<boolean>;
  /**
   * Removes a campaign still `creating` and held by `owner` (its request was refused after the put,
   * e.g. daily limit); false when there was none to remove (created, taken over, or gone).
   */
  deleteCreatingCampaign(tenantId: string, externalId: string, owner: string): Promise<boolean>;

  /**
   * Writes the contacts of a queue id no stored campaign names yet (BatchWriteItem, 25 a call,
   * unprocessed items retried), unconditionally. Only for a new batch, before its campaign is
   * stored: nobody else can know the queue id, so no write can land on a contact that moved on.
   */
  putFreshContacts(contacts: readonly BillingContact[]): Promise<void>;
  /** Removes contacts written by `putFreshContacts` whose campaign was never stored (or was removed). */
  deleteFreshContacts(queueId: string, positions: readonly number[]): Promise<void>;
  /**
   * Creates the contacts that do not exist yet (one conditional put each, bounded parallelism) and
   * never rewrites an existing one, so a late writer cannot send a contact that moved on back to
   * `pending`. Returns how many it created.
   */
  putContacts(contacts: readonly BillingContact[]): Promise<number>;
  /** Creates the queue unless it exists. */
  createQueue(queue: BillingQueue): Promise<'created' | 'exists'>;
  /** The queue by id, whatever its tenant (callers check `tenantId`); undefined once it has expired. */
  getQueue(queueId: string): Promise<BillingQueue | undefined>;
  /**
   * A tenant's queues, newest first (expired ones left out). Through an index on DynamoDB: a queue
   * created or moved a moment ago may be missing, or listed in its former status.
   */
  listQueues(tenantId: string, page: PageRequest<QueueStatus>): Promise<Page<BillingQueue>>;
  /**
   * The tenant's queues created at or after `since` by the store's clock, as they are now (read
   * strongly consistent, no index): what `listQueues` may not show yet. Oldest first; expired ones
   * left out. Meant for a short look back (minutes): it reads one small marker per queue created.
   */
  listQueuesCreatedSince(tenantId: string, since: Date): Promise<BillingQueue[]>;
  /**
   * Up to `limit` of the tenant's queues created before `createdBefore`, oldest first (by `createdAt`,
   * then id), after the queue at `after` when given (expired ones left out). Through the same index as
   * `listQueues`, so it lags the same way. For a walk that resumes where it stopped (an erasure).
   */
  listQueuesOldestFirst(
    tenantId: string,
    range: { after?: QueuePosition; createdBefore: string; limit: number },
  ): Promise<BillingQueue[]>;
  /**
   * A queue's contacts in batch order. Filtered by status, a page may hold fewer than `limit` (even
   * none) and still have a `nextCursor`: a store may read only a bounded part of the queue per page.
   */
  listContacts(queueId: string, page: PageRequest<ContactStatus>): Promise<Page<BillingContact>>;
  /** One contact of a queue (an event's payload names it). */
  getContact(queueId: string, position: number): Promise<BillingContact | undefined>;
}
