import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type BillingContact,
  type Campaign,
  CONTACT_STATUSES,
  type ContactStatus,
  type Page,
} from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import type { CampaignStore, PageRequest } from '../../ports/store.ts';
import { contactPositionOf, contactToItem } from './contact-item.ts';
import { type Item, mapBounded, tableOperations, toEntity } from './dynamodb-operations.ts';
import { createDynamoDbQueueStore } from './dynamodb-queue-store.ts';
import { invoiceFilterOf, SMALL_QUEUE_CONTACTS } from './invoice-filter.ts';
import { checkPageRequest, decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import { epochSeconds, hasExpired, keys, PK, SK, TTL_ATTRIBUTE, ttlSeconds } from './table-schema.ts';

export interface DynamoDbCampaignStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Says which campaigns and queues have expired (their retention passed, DynamoDB may not have deleted them yet). */
  clock: Clock;
  /** First backoff before re-sending a batch's unprocessed items (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
  /** Contacts one page of a listing by status reads at most; default `STATUS_LISTING_READ_BUDGET`. */
  statusListingReadBudget?: number;
}

/**
 * Conditional PutItems in flight at once in `putContacts` (BatchWriteItem cannot carry a
 * condition, so each contact is its own request), within the SDK's 50 sockets. Only a retry that
 * takes a campaign over writes this way; a new batch goes by `putFreshContacts`.
 */
const CONTACT_CREATE_CONCURRENCY = 32;
/** A position is padded to 4 digits in keys; anything beyond would break the sort order. */
const MAX_POSITION = 9_999;
/**
 * Contacts one page of a listing by status reads at most, by default: a status few contacts have
 * must not read a whole 10 000-contact queue for one request, so such a page may hold fewer than
 * asked, with a cursor to go on. A batch of the default maximum size (1000) and one more: listing
 * such a queue never ends on an empty page (a Query that stops at its limit cannot tell that
 * nothing follows).
 */
const STATUS_LISTING_READ_BUDGET = 1_001;
/**
 * After the contact at position `p`. A listing by status also carries `i`, `<status>#<position>`:
 * it ties the cursor to that status (the form is the one of the gsi1 sort key contacts had, so a
 * cursor from before keeps working, resuming after its position).
 */
interface ContactCursor {
  p: number;
  i?: string;
}

/** A contact cursor fits only the listing it came from: filtered by the same status, or unfiltered. */
function decodeContactCursor(cursor: string, status: ContactStatus | undefined): ContactCursor {
  const { p, i, ...rest } = decodeCursor(cursor);
  const positionOk = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= MAX_POSITION;
  const indexKeyOk =
    status === undefined
      ? i === undefined
      : typeof i === 'string' && i.length <= 400 && i.startsWith(`${status}#`);
  if (!positionOk || !indexKeyOk || Object.keys(rest).length > 0) {
    throw invalidCursor();
  }
  return status === undefined ? { p: p as number } : { p: p as number, i: i as string };
}

/** A contact's item (contact-item.ts), after checking that its position fits the key. */
function checkedContactItem(contact: BillingContact): Item {
  const { position } = contact;
  if (!Number.isInteger(position) || position < 0 || position > MAX_POSITION) {
    throw new Error(`putContacts: position ${position} of ${contact.id} is outside 0..${MAX_POSITION}`);
  }
  return contactToItem(contact);
}

/** Each contact's key once; two contacts at one position are a bug, refused before anything is written. */
function uniqueItems(contacts: readonly BillingContact[]): Item[] {
  const items = contacts.map(checkedContactItem);
  const seen = new Set<string>();
  for (const item of items) {
    const key = `${item[PK]}|${item[SK]}`;
    if (seen.has(key)) throw new Error(`putContacts: two contacts share the key ${key}`);
    seen.add(key);
  }
  return items;
}

/**
 * How long an invoice filter is kept: it holds no personal data (bits of hashed invoice numbers),
 * and one gone only makes a payment read that queue's contacts, as it reads a queue without one.
 * A year and more covers a queue paused for long; its retention deletes it well after the queue's.
 */
const INVOICE_FILTER_TTL_MS = 400 * 86_400_000;

/**
 * The invoice filter item of each queue among `contacts` that holds more than a small queue's
 * contacts (invoice-filter.ts): `contacts` is how many it covers, so a reader trusts it only for a
 * queue of that many.
 */
function invoiceFilterItems(contacts: readonly BillingContact[], now: Date): Item[] {
  const byQueue = new Map<string, BillingContact[]>();
  for (const contact of contacts) {
    const queued = byQueue.get(contact.queueId) ?? [];
    queued.push(contact);
    byQueue.set(contact.queueId, queued);
  }
  return [...byQueue]
    .filter(([, queued]) => queued.length > SMALL_QUEUE_CONTACTS)
    .map(([queueId, queued]) => ({
      ...keys.queueInvoices(queueId),
      filter: invoiceFilterOf(queued.flatMap((c) => (c.invoiceNumber === null ? [] : [c.invoiceNumber]))),
      contacts: queued.length,
      [TTL_ATTRIBUTE]: ttlSeconds(new Date(now.getTime() + INVOICE_FILTER_TTL_MS)),
    }));
}

/**
 * Campaigns and contacts on the single table (docs/data-model.md: Campaign, Contact), and the
 * queues of dynamodb-queue-store.ts: what accepting a batch writes. A campaign change is one
 * conditional write on its state and owner. Contacts are never rewritten
 * once their campaign exists (the sender owns them): a new batch's contacts go by BatchWriteItem
 * into a queue id nobody else knows yet, before its campaign is stored; later writers only create
 * the missing ones, each with a condition. (`getContact` lives with the callback reads.)
 */
export function createDynamoDbCampaignStore(
  options: DynamoDbCampaignStoreOptions,
): Omit<CampaignStore, 'getContact'> {
  const { clock } = options;
  const table = tableOperations(options.client, options.tableName, options);
  const { get, put, putNew, putIfMatch, setIfExists, deleteIfMatch, queryUpTo, queryWithin, batchWrite } =
    table;
  /** The item under `key` unless it has expired (DynamoDB deletes expired items days later, dynalite never). */
  const getLive = async (key: Item): Promise<Item | undefined> => {
    const item = await get(key);
    return item && !hasExpired(item, clock.now()) ? item : undefined;
  };
  /** Runs an update whose condition may fail; false when it did. */
  const updateIfMatch = async (input: Parameters<typeof table.updateIfMatch>[0]): Promise<boolean> =>
    (await table.updateIfMatch(input)) !== undefined;

  return {
    ...createDynamoDbQueueStore(options),

    async createCampaign(campaign: Campaign) {
      const created = await putIfMatch(
        {
          Item: {
            ...keys.campaign(campaign.tenantId, campaign.externalId),
            ...campaign,
            // The ERP's free-form JSON, kept as text: any key (`constructor`, `__proto__`) and any number
            // (beyond DynamoDB's 38 digits) round-trips exactly.
            metadata: JSON.stringify(campaign.metadata),
          },
          // An expired campaign (its queue finished more than the retention ago) is replaced: the
          // external id is free again, whether or not DynamoDB has deleted the old item yet.
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#pk': PK, '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': epochSeconds(clock.now()) },
        },
        // A retry that finds this very campaign (its random id): taken for another request's, it
        // would discard its own contacts and wait on its own lease (a 409 after 25 s).
        (current) => current.id === campaign.id,
      );
      return created ? 'created' : 'exists';
    },

    async getCampaign(tenantId: string, externalId: string) {
      const item = await getLive(keys.campaign(tenantId, externalId));
      if (!item) return undefined;
      const campaign = toEntity<Campaign & { metadata: unknown }>(item);
      return {
        ...campaign,
        metadata: typeof campaign.metadata === 'string' ? JSON.parse(campaign.metadata) : campaign.metadata,
      } as Campaign;
    },

    takeOverCampaign(tenantId: string, externalId: string, owner: string, now: string, leaseUntil: string) {
      // ISO-8601 UTC strings compare in time order, so the lease check is a plain string `<`.
      return updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: 'SET #owner = :owner, #leaseUntil = :leaseUntil',
        ConditionExpression: '#state = :creating AND #leaseUntil < :now',
        ExpressionAttributeNames: { '#state': 'state', '#leaseUntil': 'leaseUntil', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':creating': 'creating',
          ':now': now,
          ':leaseUntil': leaseUntil,
          ':owner': owner,
        },
      });
    },

    holdCampaign(tenantId: string, externalId: string, owner: string, leaseUntil: string) {
      return updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: 'SET #leaseUntil = :leaseUntil',
        ConditionExpression: '#state = :creating AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#leaseUntil': 'leaseUntil', '#owner': 'owner' },
        ExpressionAttributeValues: { ':creating': 'creating', ':owner': owner, ':leaseUntil': leaseUntil },
        ReturnValues: 'NONE',
      });
    },

    async expireCampaign(tenantId: string, externalId: string, queueId: string, expiresAt: string) {
      // Only the campaign of this queue: never one that took the external id over after an expiry.
      await updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: 'SET #ttl = :ttl',
        ConditionExpression: '#queueId = :queueId',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE, '#queueId': 'queueId' },
        ExpressionAttributeValues: { ':ttl': ttlSeconds(expiresAt), ':queueId': queueId },
        ReturnValues: 'NONE',
      });
    },

    async markCampaignQuotaReserved(tenantId: string, externalId: string) {
      // A campaign deleted meanwhile (refused, or taken over and refused) must not come back as a stub.
      await setIfExists(keys.campaign(tenantId, externalId), 'quotaReserved', true);
    },

    completeCampaign(tenantId: string, externalId: string, owner: string) {
      return updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: 'SET #state = :created',
        ConditionExpression: '#state = :creating AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: { ':creating': 'creating', ':created': 'created', ':owner': owner },
        ReturnValues: 'NONE',
      });
    },

    async deleteCreatingCampaign(tenantId: string, externalId: string, owner: string) {
      const deleted = await deleteIfMatch({
        Key: keys.campaign(tenantId, externalId),
        // A `created` campaign is an answer someone already got, and one a retry took over is
        // that retry's to finish: never delete either.
        ConditionExpression: '#state = :creating AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: { ':creating': 'creating', ':owner': owner },
      });
      return deleted !== undefined;
    },

    async putFreshContacts(contacts: readonly BillingContact[]) {
      const items = [...uniqueItems(contacts), ...invoiceFilterItems(contacts, clock.now())];
      await batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
    },

    async deleteFreshContacts(queueId: string, positions: readonly number[]) {
      const contactKeys = positions.map((p) => keys.contact(queueId, p));
      // With their invoice filter, if they had one.
      await batchWrite(
        [...contactKeys, keys.queueInvoices(queueId)].map((Key) => ({ DeleteRequest: { Key } })),
      );
    },

    async putContacts(contacts: readonly BillingContact[]) {
      // An existing contact is skipped, not rewritten: it may be sent already. The filter made from
      // the same contacts is the same: written again as it is.
      const items = uniqueItems(contacts);
      const [created] = await Promise.all([
        mapBounded(items, CONTACT_CREATE_CONCURRENCY, putNew),
        mapBounded(invoiceFilterItems(contacts, clock.now()), CONTACT_CREATE_CONCURRENCY, put),
      ]);
      return created.filter(Boolean).length;
    },

    /*
     * The base table, contacts in batch order under their queue (the sort key range keeps the queue
     * item and its callback events out). Unfiltered: strongly consistent, one more than a page. By
     * status: a FilterExpression, eventually consistent (a listing decides nothing), reading at most
     * `STATUS_LISTING_READ_BUDGET` contacts; when those hold too few of the status, the page is short
     * and the cursor resumes after the last contact read. The cursor holds a position either way.
     */
    async listContacts(queueId: string, page: PageRequest<ContactStatus>): Promise<Page<BillingContact>> {
      checkPageRequest(page, CONTACT_STATUSES);
      const { status } = page;
      const cursor = page.cursor === undefined ? undefined : decodeContactCursor(page.cursor, status);
      const range = {
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, 0).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
        },
        ExclusiveStartKey: cursor ? keys.contact(queueId, cursor.p) : undefined,
      };
      const cursorAt = (position: number) =>
        encodeCursor(
          status === undefined
            ? { p: position }
            : { p: position, i: `${status}#${String(position).padStart(4, '0')}` },
        );
      if (status === undefined) {
        const found = await queryUpTo({ ...range, ConsistentRead: true }, page.limit + 1);
        const items = found.slice(0, page.limit);
        const last = items.at(-1);
        const nextCursor = found.length > page.limit && last ? cursorAt(contactPositionOf(last)) : null;
        return { items: items.map((item) => toEntity<BillingContact>(item)), nextCursor };
      }
      const { items: found, lastKey } = await queryWithin(
        {
          ...range,
          FilterExpression: '#status = :status',
          ExpressionAttributeNames: { ...range.ExpressionAttributeNames, '#status': 'status' },
          ExpressionAttributeValues: { ...range.ExpressionAttributeValues, ':status': status },
        },
        page.limit + 1,
        options.statusListingReadBudget ?? STATUS_LISTING_READ_BUDGET,
      );
      const items = found.slice(0, page.limit);
      const last = items.at(-1);
      const nextCursor =
        found.length > page.limit && last
          ? cursorAt(contactPositionOf(last))
          : lastKey
            ? cursorAt(contactPositionOf(lastKey))
            : null;
      return { items: items.map((item) => toEntity<BillingContact>(item)), nextCursor };
    },
  };
}
