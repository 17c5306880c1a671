import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../../domain/errors.ts';
import {
  type BillingContact,
  type BillingQueue,
  type Campaign,
  CONTACT_STATUSES,
  type ContactStatus,
  type Page,
  QUEUE_STATUSES,
  type QueueStatus,
} from '../../domain/types.ts';
import type { CampaignStore, PageRequest } from '../../ports/store.ts';
import {
  type Item,
  isConditionFailure,
  tableOperations,
  toEntity,
  withoutUndefined,
} from './dynamodb-item.ts';
import { GSI1, indexPartitions, keys, PK, SK } from './table-schema.ts';

export interface DynamoDbCampaignStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** First backoff before re-sending a batch's unprocessed items (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/** BatchWriteItem's hard limit of requests per call. */
const BATCH_SIZE = 25;
/** BatchWriteItem calls in flight at once: 1000 contacts = 40 calls in 10 rounds, without bursting a new table. */
const BATCH_CONCURRENCY = 4;
/** Tries per batch (the first send included) before unprocessed items are an error, not throttling. */
const MAX_BATCH_ATTEMPTS = 8;
const MAX_BATCH_DELAY_MS = 2_000;
/**
 * Conditional PutItems in flight at once in `putContacts` (BatchWriteItem cannot carry a
 * condition, so each contact is its own request), within the SDK's 50 sockets. Only a retry that
 * takes a campaign over writes this way; a new batch goes by `putFreshContacts`.
 */
const CONTACT_CREATE_CONCURRENCY = 32;
/** A position is padded to 4 digits in keys; anything beyond would break the sort order. */
const MAX_POSITION = 9_999;
/** Statuses the sweeper must watch (design: paused and finished queues stay out of the sparse due index). */
const SWEPT_STATUSES: ReadonlySet<QueueStatus> = new Set([
  'pending',
  'scheduled',
  'running',
  'instance_down',
]);

/*
 * Cursors are base64url JSON, opaque to callers. They carry only what positions the next Query
 * (a sort key value or a batch position), never a partition: the partition always comes from the
 * request's own tenant or queue, so a forged cursor can at worst skip items the caller may see.
 */

/** After the queue whose gsi1 sort key is `a` (`<createdAt>#<queueId>`), in every status partition. */
interface QueueCursor {
  a: string;
}
/** After the contact at position `p`; `i` is its gsi1 sort key when the listing is filtered by status. */
interface ContactCursor {
  p: number;
  i?: string;
}

const QUEUE_SORT_KEY = /^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[^#]+$/;

const invalidPage = (field: string, message: string): DomainError =>
  new DomainError('VALIDATION_FAILED', {}, [{ field, message }]);

const encodeCursor = (cursor: QueueCursor | ContactCursor): string =>
  Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/** The JSON object inside a cursor; a VALIDATION_FAILED (400) for anything that is not one of ours. */
function decodeCursor(cursor: string): Record<string, unknown> {
  const invalid = invalidPage('cursor', 'Cursor inválido');
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid;
  return parsed as Record<string, unknown>;
}

function decodeQueueCursor(cursor: string): QueueCursor {
  const { a, ...rest } = decodeCursor(cursor);
  if (typeof a !== 'string' || a.length > 400 || !QUEUE_SORT_KEY.test(a) || Object.keys(rest).length > 0) {
    throw invalidPage('cursor', 'Cursor inválido');
  }
  return { a };
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
    throw invalidPage('cursor', 'Cursor inválido');
  }
  return status === undefined ? { p: p as number } : { p: p as number, i: i as string };
}

function checkPageRequest<S extends string>(page: PageRequest<S>, statuses: readonly string[]): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 100) {
    throw invalidPage('limit', 'Deve ser um inteiro entre 1 e 100');
  }
  if (page.status !== undefined && !statuses.includes(page.status)) {
    throw invalidPage('status', 'Status inválido');
  }
}

/** Newest first by gsi1 sort key; a queue seen twice (its index entry moving between statuses) counts once. */
function mergeNewestFirst(pages: Item[][]): Item[] {
  const seen = new Set<string>();
  return pages
    .flat()
    .sort((x, y) => {
      const a = String(x[GSI1.sk]);
      const b = String(y[GSI1.sk]);
      return a < b ? 1 : a > b ? -1 : 0;
    })
    .filter((item) => {
      const id = String(item.id);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
}

function contactToItem(contact: BillingContact): Item {
  const { queueId, position, status } = contact;
  if (!Number.isInteger(position) || position < 0 || position > MAX_POSITION) {
    throw new Error(`putContacts: position ${position} of ${contact.id} is outside 0..${MAX_POSITION}`);
  }
  return withoutUndefined({
    ...keys.contact(queueId, position),
    // A contact written in `retry` (a rewrite) must already sort by its retry time, or nextRetryAt misses it.
    ...keys.contactsIndex(queueId, status, position, contact.retryAt),
    ...contact,
  });
}

function queueToItem(queue: BillingQueue): Item {
  // A new open queue is due for the sweeper at once (or at its next run): if the accept request dies
  // before publishing its work item, the sweeper is what publishes it. The sweeper allows a grace.
  const due = SWEPT_STATUSES.has(queue.status)
    ? keys.dueIndex('QUEUE', queue.nextRunAt ?? queue.createdAt, queue.id)
    : {};
  return {
    ...keys.queue(queue.id),
    ...keys.queuesIndex(queue.tenantId, queue.status, queue.createdAt, queue.id),
    ...due,
    ...queue,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Each contact's key once; two contacts at one position are a bug, refused before anything is written. */
function uniqueItems(contacts: readonly BillingContact[]): Item[] {
  const items = contacts.map(contactToItem);
  const seen = new Set<string>();
  for (const item of items) {
    const key = `${item[PK]}|${item[SK]}`;
    if (seen.has(key)) throw new Error(`putContacts: two contacts share the key ${key}`);
    seen.add(key);
  }
  return items;
}

/**
 * Campaigns, queues and contacts on the single table (docs/data-model.md: Campaign, Queue, Contact).
 * A campaign change is one conditional write on its state and owner. Contacts are never rewritten
 * once their campaign exists (the sender owns them): a new batch's contacts go by BatchWriteItem
 * into a queue id nobody else knows yet, before its campaign is stored; later writers only create
 * the missing ones, each with a condition. (`getContact` lives with the callback reads.)
 */
export function createDynamoDbCampaignStore(
  options: DynamoDbCampaignStoreOptions,
): Omit<CampaignStore, 'getContact'> {
  const { client, tableName } = options;
  const baseDelayMs = options.batchRetryDelayMs ?? 50;
  const table = tableOperations(client, tableName);
  const { get, putNew } = table;
  /** Runs an update whose condition may fail; false when it did. */
  const updateIfMatch = async (input: Parameters<typeof table.updateIfMatch>[0]): Promise<boolean> =>
    (await table.updateIfMatch(input)) !== undefined;

  /**
   * Up to `count` items of a Query, following LastEvaluatedKey only when a response stopped short
   * (the 1 MB cap): asking for one more than a page tells whether a next page exists.
   */
  const queryUpTo = async (input: Omit<QueryCommandInput, 'TableName' | 'Limit'>, count: number) => {
    const items: Item[] = [];
    let startKey = input.ExclusiveStartKey;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          ...input,
          ExclusiveStartKey: startKey,
          Limit: count - items.length,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < count);
    return items;
  };

  /** Sends one BatchWriteItem and re-sends what comes back unprocessed, with exponential backoff. */
  const writeBatch = async (
    requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string],
  ): Promise<void> => {
    let pending = requests;
    for (let attempt = 1; ; attempt++) {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= MAX_BATCH_ATTEMPTS) {
        throw new Error(
          `putContacts: ${pending.length} contacts still unprocessed after ${MAX_BATCH_ATTEMPTS} tries`,
        );
      }
      const delay = Math.min(MAX_BATCH_DELAY_MS, baseDelayMs * 2 ** (attempt - 1));
      // Half fixed, half random: concurrent batches throttled together do not retry in lockstep.
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  };

  /** Batches of 25, BATCH_CONCURRENCY calls in flight. */
  const writeBatches = async (requests: NonNullable<BatchWriteCommandInput['RequestItems']>[string]) => {
    const batches: (typeof requests)[] = [];
    for (let i = 0; i < requests.length; i += BATCH_SIZE) batches.push(requests.slice(i, i + BATCH_SIZE));
    const worker = async () => {
      // Workers share the list; shift() between awaits hands each batch to exactly one of them.
      for (let batch = batches.shift(); batch; batch = batches.shift()) await writeBatch(batch);
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, batches.length) }, worker));
  };

  return {
    async createCampaign(campaign: Campaign) {
      const created = await putNew({
        ...keys.campaign(campaign.tenantId, campaign.externalId),
        ...campaign,
        // The ERP's free-form JSON, kept as text: any key (`constructor`, `__proto__`) and any number
        // (beyond DynamoDB's 38 digits) round-trips exactly.
        metadata: JSON.stringify(campaign.metadata),
      });
      return created ? 'created' : 'exists';
    },

    async getCampaign(tenantId: string, externalId: string) {
      const item = await get(keys.campaign(tenantId, externalId));
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

    async markCampaignQuotaReserved(tenantId: string, externalId: string) {
      // A campaign deleted meanwhile (refused, or taken over and refused) must not come back as a stub.
      await updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: 'SET #reserved = :true',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK, '#reserved': 'quotaReserved' },
        ExpressionAttributeValues: { ':true': true },
      });
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
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: keys.campaign(tenantId, externalId),
            // A `created` campaign is an answer someone already got, and one a retry took over is
            // that retry's to finish: never delete either.
            ConditionExpression: '#state = :creating AND #owner = :owner',
            ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
            ExpressionAttributeValues: { ':creating': 'creating', ':owner': owner },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return false;
      }
    },

    async putFreshContacts(contacts: readonly BillingContact[]) {
      await writeBatches(uniqueItems(contacts).map((Item) => ({ PutRequest: { Item } })));
    },

    async deleteFreshContacts(queueId: string, positions: readonly number[]) {
      await writeBatches(positions.map((p) => ({ DeleteRequest: { Key: keys.contact(queueId, p) } })));
    },

    async putContacts(contacts: readonly BillingContact[]) {
      const items = uniqueItems(contacts);
      let next = 0;
      let created = 0;
      let failed = false;
      const worker = async () => {
        // Workers share the index; `next++` between awaits hands each item to exactly one of them.
        // After a failure the others stop taking items (the error goes to the caller).
        while (!failed && next < items.length) {
          // biome-ignore lint/style/noNonNullAssertion: next < items.length
          const item = items[next++]!;
          try {
            // An existing contact is skipped, not rewritten: it may be sent already.
            if (await putNew(item)) created += 1;
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONTACT_CREATE_CONCURRENCY, items.length) }, worker));
      return created;
    },

    async createQueue(queue: BillingQueue) {
      return (await putNew(queueToItem(queue))) ? 'created' : 'exists';
    },

    async getQueue(queueId: string) {
      const item = await get(keys.queue(queueId));
      return item ? toEntity<BillingQueue>(item) : undefined;
    },

    /*
     * One Query per status partition (one when filtered, eight otherwise), each asking for one more
     * than a page, merged newest first. The cursor is the last returned sort key; every partition
     * resumes with `gsi1sk < :after`, which is right for the merge and for a single partition alike.
     */
    async listQueues(tenantId: string, page: PageRequest<QueueStatus>): Promise<Page<BillingQueue>> {
      checkPageRequest(page, QUEUE_STATUSES);
      const after = page.cursor === undefined ? undefined : decodeQueueCursor(page.cursor).a;
      const statuses = page.status ? [page.status] : QUEUE_STATUSES;
      const pages = await Promise.all(
        statuses.map((status) =>
          queryUpTo(
            {
              IndexName: GSI1.name,
              KeyConditionExpression: after ? '#gpk = :gpk AND #gsk < :after' : '#gpk = :gpk',
              ExpressionAttributeNames: after ? { '#gpk': GSI1.pk, '#gsk': GSI1.sk } : { '#gpk': GSI1.pk },
              ExpressionAttributeValues: {
                ':gpk': indexPartitions.queues(tenantId, status),
                ...(after ? { ':after': after } : {}),
              },
              ScanIndexForward: false,
            },
            page.limit + 1,
          ),
        ),
      );
      const merged = mergeNewestFirst(pages);
      const items = merged.slice(0, page.limit);
      const last = items.at(-1);
      return {
        items: items.map((item) => toEntity<BillingQueue>(item)),
        nextCursor: merged.length > page.limit && last ? encodeCursor({ a: String(last[GSI1.sk]) }) : null,
      };
    },

    /*
     * Unfiltered: the base table (strongly consistent), contacts sort by position under the queue.
     * By status: gsi1 `QUEUE#<q>#CONTACTS`, `<status>#...`, also in position order within a status.
     * The cursor rebuilds the ExclusiveStartKey from the last contact's position (and index sort key).
     */
    async listContacts(queueId: string, page: PageRequest<ContactStatus>): Promise<Page<BillingContact>> {
      checkPageRequest(page, CONTACT_STATUSES);
      const { status } = page;
      const cursor = page.cursor === undefined ? undefined : decodeContactCursor(page.cursor, status);
      const input: Omit<QueryCommandInput, 'TableName' | 'Limit'> =
        status === undefined
          ? {
              KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
              ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
              ExpressionAttributeValues: { ':pk': keys.queue(queueId).pk, ':prefix': 'CONTACT#' },
              ConsistentRead: true,
              ExclusiveStartKey: cursor ? keys.contact(queueId, cursor.p) : undefined,
            }
          : {
              IndexName: GSI1.name,
              KeyConditionExpression: '#gpk = :gpk AND begins_with(#gsk, :prefix)',
              ExpressionAttributeNames: { '#gpk': GSI1.pk, '#gsk': GSI1.sk },
              ExpressionAttributeValues: {
                ':gpk': indexPartitions.contacts(queueId),
                ':prefix': `${status}#`,
              },
              ExclusiveStartKey: cursor
                ? {
                    ...keys.contact(queueId, cursor.p),
                    [GSI1.pk]: indexPartitions.contacts(queueId),
                    [GSI1.sk]: cursor.i,
                  }
                : undefined,
            };
      const found = await queryUpTo(input, page.limit + 1);
      const items = found.slice(0, page.limit);
      const last = items.at(-1);
      const nextCursor =
        found.length > page.limit && last
          ? encodeCursor(
              status === undefined
                ? { p: Number(last.position) }
                : { p: Number(last.position), i: String(last[GSI1.sk]) },
            )
          : null;
      return { items: items.map((item) => toEntity<BillingContact>(item)), nextCursor };
    },
  };
}
