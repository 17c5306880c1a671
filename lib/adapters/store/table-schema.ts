import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { RequestBudget } from '../../ports/store.ts';

/**
 * The single table's physical layout and key scheme (docs/data-model.md explains every choice).
 * Every entity lives under generic key attributes so one table and two indexes serve the whole product.
 */

/** Partition key attribute of the base table. */
export const PK = 'pk';
/** Sort key attribute of the base table. */
export const SK = 'sk';

/**
 * "Owner" index: lists the children of an owner (a tenant's keys, queues, opt-outs, a phone's
 * messages). Contacts are not in it (docs/data-model.md, Upgrading: contacts out of gsi1).
 */
export const GSI1 = { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' } as const;
/** "Due" index: sparse, time-ordered work (schedules, queues to check, callbacks to retry). */
export const GSI2 = { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' } as const;

/**
 * Epoch seconds after which DynamoDB may delete the item. Not `expiresAt`: `ApiKey.expiresAt` is an
 * entity field (an ISO string) and must not be mistaken for, or stripped as, the TTL.
 * `ttl` is a DynamoDB reserved word: always refer to it through ExpressionAttributeNames.
 */
export const TTL_ATTRIBUTE = 'ttl';

/** The TTL attribute's value for an expiry instant: epoch seconds, rounded up (never deleted early). */
export const ttlSeconds = (expiresAt: string | Date): number =>
  Math.ceil(new Date(expiresAt).getTime() / 1000);

/** An instant as the TTL compares it: whole epoch seconds; an item whose `ttl` is at or below it has expired. */
export const epochSeconds = (at: string | Date): number => Math.floor(new Date(at).getTime() / 1000);

/** Whether an item's TTL has passed at `now`: such an item is absent to every read that cares. */
export const hasExpired = (item: Record<string, unknown>, now: Date): boolean => {
  const ttl = item[TTL_ATTRIBUTE];
  return typeof ttl === 'number' && ttl <= epochSeconds(now);
};

/** Attributes that exist only for the table's sake; adapters remove them before returning entities. */
export const TABLE_ATTRIBUTES: readonly string[] = [
  PK,
  SK,
  GSI1.pk,
  GSI1.sk,
  GSI2.pk,
  GSI2.sk,
  TTL_ATTRIBUTE,
];

/** Partition values of the two indexes, for queries (the item-side builders are in `keys`). */
export const indexPartitions = {
  tenants: 'TENANTS',
  apiKeys: (tenantId: string) => `TENANT#${tenantId}#APIKEYS`,
  queues: (tenantId: string, status: string) => `TENANT#${tenantId}#QUEUES#${status}`,
  optOuts: (tenantId: string) => `TENANT#${tenantId}#OPTOUTS`,
  messages: (tenantId: string, phone: string) => `PHONE#${tenantId}#${phone}#MSGS`,
  due: (kind: DueKind) => `DUE#${kind}`,
  callbackEvents: (tenantId: string) => `TENANT#${tenantId}#EVENTS`,
} as const;

/**
 * What the sparse due index holds: store-backed schedules, queues the sweeper checks, callbacks to
 * retry, delivery watches (queues with sent messages not yet acknowledged), queues whose receipt
 * counters the sweeper recounts.
 */
export type DueKind = 'SCHEDULE' | 'QUEUE' | 'CALLBACK' | 'STALL' | 'RECOUNT';

/** The sort key prefix of the markers of new queues (`keys.newQueueMarker`), time-ordered after it. */
export const NEW_QUEUE_MARKER_PREFIX = 'NEWQUEUE#';

/** A batch position (0..9999) zero-padded, so string order is batch order. */
const position4 = (position: number) => String(position).padStart(4, '0');

/** Counters share one key shape: the counter's name in the partition key. */
const counterKey = (name: string) => ({ pk: `COUNTER#${name}`, sk: 'COUNTER' });

/**
 * Key builders, the code form of docs/data-model.md (which says why each key is what it is).
 * Ids inside a composite partition key (tenant, instance, queue ids) must not contain `#`;
 * free-form values (external ids, provider message ids) only ever end a key.
 * Instants in keys are ISO-8601 UTC with milliseconds (`toISOString()`), so string order is time order.
 */
export const keys = {
  tenant: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  tenantsIndex: (tenantId: string) => ({ gsi1pk: indexPartitions.tenants, gsi1sk: `TENANT#${tenantId}` }),
  apiKey: (keyHash: string) => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' }),
  apiKeysIndex: (tenantId: string, createdAt: string, keyId: string) => ({
    gsi1pk: indexPartitions.apiKeys(tenantId),
    gsi1sk: `${createdAt}#${keyId}`,
  }),
  template: (tenantId: string, type: string) => ({ pk: `TENANT#${tenantId}`, sk: `TEMPLATE#${type}` }),
  instance: (tenantId: string, instanceId: string) => ({
    pk: `TENANT#${tenantId}`,
    sk: `INSTANCE#${instanceId}`,
  }),
  calendar: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'CALENDAR' }),
  /** Whether the tenant has ever had an opt-out: a consistent read spares the Accept path its lookups. */
  optOutMarker: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'OPTOUTS' }),
  /** A tenant's messages reserved on its local day (YYYY-MM-DD). */
  dailyQuota: (tenantId: string, day: string) => counterKey(`DAILY#${tenantId}#${day}`),
  /** Sends of a warming-up instance on the tenant's local day (YYYY-MM-DD): its ramp's cap. */
  instanceSends: (tenantId: string, instanceId: string, day: string) =>
    counterKey(`INSTDAY#${tenantId}#${instanceId}#${day}`),
  /**
   * An API key's requests of one budget in the UTC hour starting at `hourStart` (the hour as
   * `YYYY-MM-DDTHH`); the writes budget keeps the key it had before reads got their own.
   */
  keyRequests: (keyId: string, budget: RequestBudget, hourStart: Date) =>
    counterKey(
      `${budget === 'reads' ? 'RATEREAD' : 'RATE'}#${keyId}#${hourStart.toISOString().slice(0, 13)}`,
    ),
  /**
   * A tenant's sending figures of the UTC hour starting at `hourStart` (the hour as `YYYY-MM-DDTHH`,
   * so string order is time order): one partition per tenant, read as a range of hours by /stats,
   * apart from the tenant partition that every request reads.
   */
  tenantFigures: (tenantId: string, hourStart: Date) => ({
    pk: `TENANT#${tenantId}#FIGURES`,
    sk: `HOUR#${hourStart.toISOString().slice(0, 13)}`,
  }),
  campaign: (tenantId: string, externalId: string) => ({
    pk: `TENANT#${tenantId}`,
    sk: `CAMPAIGN#${externalId}`,
  }),
  queue: (queueId: string) => ({ pk: `QUEUE#${queueId}`, sk: 'QUEUE' }),
  /**
   * That a queue was created at `at` (the store's clock): written with the queue, read strongly
   * consistent by time range, so a request that must see every queue of a tenant (payments,
   * erasure) also sees the ones its index (gsi1, which lags) may not show yet.
   */
  newQueueMarker: (tenantId: string, at: string, queueId: string) => ({
    pk: `TENANT#${tenantId}`,
    sk: `${NEW_QUEUE_MARKER_PREFIX}${at}#${queueId}`,
  }),
  /**
   * A queue's progress (its counters, measured rate and last progress time) apart from the queue
   * item, with no index key: the queue item is in gsi1 and gsi2 with every attribute, so a counter
   * write there costs three index-sized writes, here one. `COUNTERS` sorts right before `QUEUE`
   * (nothing else of the partition sorts between them), so one Query reads both.
   */
  queueCounters: (queueId: string) => ({ pk: `QUEUE#${queueId}`, sk: 'COUNTERS' }),
  /**
   * A queue's invoice filter (invoice-filter.ts), written with its contacts. `QUEUE#INVOICES` sorts
   * right after `QUEUE`, outside the counters-and-queue range `readQueue` reads.
   */
  queueInvoices: (queueId: string) => ({ pk: `QUEUE#${queueId}`, sk: 'QUEUE#INVOICES' }),
  queuesIndex: (tenantId: string, status: string, createdAt: string, queueId: string) => ({
    gsi1pk: indexPartitions.queues(tenantId, status),
    gsi1sk: `${createdAt}#${queueId}`,
  }),
  contact: (queueId: string, position: number) => ({
    pk: `QUEUE#${queueId}`,
    sk: `CONTACT#${position4(position)}`,
  }),
  /**
   * One item per message, keyed by the gateway's id on a tenant's instance: webhook receipts find it
   * by GetItem. Instance ids are unique only per tenant, so the tenant is part of the key.
   */
  message: (tenantId: string, instanceId: string, messageId: string) => ({
    pk: `MSG#${tenantId}#${instanceId}#${messageId}`,
    sk: 'MSG',
  }),
  /**
   * Where messages written before the tenant joined their key live (docs/data-model.md, Upgrading:
   * message keys). Only read, as a fallback that trusts the item's `tenantId`; removed once no such
   * item is left.
   */
  legacyMessage: (instanceId: string, messageId: string) => ({
    pk: `MSG#${instanceId}#${messageId}`,
    sk: 'MSG',
  }),
  /** A (tenant, phone)'s history in time order; the message id breaks ties between equal instants. */
  messagesIndex: (tenantId: string, phone: string, at: string, messageId: string) => ({
    gsi1pk: indexPartitions.messages(tenantId, phone),
    gsi1sk: `${at}#${messageId}`,
  }),
  optOut: (tenantId: string, phone: string) => ({ pk: `PHONE#${tenantId}#${phone}`, sk: 'OPTOUT' }),
  optOutsIndex: (tenantId: string, at: string, phone: string) => ({
    gsi1pk: indexPartitions.optOuts(tenantId),
    gsi1sk: `${at}#${phone}`,
  }),
  instanceLease: (tenantId: string, instanceId: string) => ({
    pk: `INSTANCE#${tenantId}#${instanceId}`,
    sk: 'LEASE',
  }),
  schedule: (name: string) => ({ pk: `SCHEDULE#${name}`, sk: 'SCHEDULE' }),
  callback: (queueId: string, eventId: string) => ({ pk: `QUEUE#${queueId}`, sk: `CALLBACK#${eventId}` }),
  /**
   * The delivery state of a callback event, apart from the event (which is immutable and in gsi1),
   * so a claim or a result rewrites a small item with no index copy. Created by the first claim;
   * in gsi2 only while a retry waits. `CBDELIVERY#` never matches a `CALLBACK#` prefix query.
   */
  callbackDelivery: (queueId: string, eventId: string) => ({
    pk: `QUEUE#${queueId}`,
    sk: `CBDELIVERY#${eventId}`,
  }),
  /** A queue's delivery watch: its own item, so the hot queue item carries no extra index key. */
  deliveryWatch: (queueId: string) => ({ pk: `QUEUE#${queueId}`, sk: 'STALLWATCH' }),
  /** A queue flagged for a recount of its receipt counters: its own small item, as the watch. */
  receiptRecount: (queueId: string) => ({ pk: `QUEUE#${queueId}`, sk: 'RECEIPTRECOUNT' }),
  /** A tenant's callback events in time order (the events API without a queue). */
  callbackEventsIndex: (tenantId: string, occurredAt: string, eventId: string) => ({
    gsi1pk: indexPartitions.callbackEvents(tenantId),
    gsi1sk: `${occurredAt}#${eventId}`,
  }),
  /**
   * The audit record of one debtor erasure (LGPD), in a partition of the tenant's erasures so that
   * listing them newest first is one Query that reads nothing else.
   */
  debtorErasure: (tenantId: string, at: string, erasureId: string) => ({
    pk: `TENANT#${tenantId}#ERASURES`,
    sk: `ERASURE#${at}#${erasureId}`,
  }),
  /** The partition of a tenant's erasure records (what `debtorErasure` keys). */
  debtorErasures: (tenantId: string) => ({ pk: `TENANT#${tenantId}#ERASURES` }),
  /**
   * Where the erasure of one phone stands between its requests, by the phone's salted digest (no
   * phone in the key); apart from the erasure records, whose partition is listed whole.
   */
  erasureProgress: (tenantId: string, phoneDigest: string) => ({
    pk: `ERASING#${tenantId}#${phoneDigest}`,
    sk: 'PROGRESS',
  }),
  dueIndex: (kind: DueKind, dueAt: string, id: string) => ({
    gsi2pk: indexPartitions.due(kind),
    gsi2sk: `${dueAt}#${id}`,
  }),
} as const;

/** The CreateTable request for the single table (on-demand billing, two generic GSIs projecting everything). */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const stringAttribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [PK, SK, GSI1.pk, GSI1.sk, GSI2.pk, GSI2.sk].map(stringAttribute),
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [GSI1, GSI2].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.pk, KeyType: 'HASH' },
        { AttributeName: index.sk, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

const errorName = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

/**
 * Creates the table if it is missing and waits until it is ACTIVE. Idempotent, also when several
 * processes race to create it. Used by local mode and tests; production tables come from infra.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let exists = true;
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    exists = false;
  }
  let created = false;
  if (!exists) {
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
      created = true;
    } catch (error) {
      // Someone else created it between our describe and create: same outcome.
      if (errorName(error) !== 'ResourceInUseException') throw error;
    }
  }
  // The SDK waiter checks once right away, so an already-ACTIVE table costs one call.
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 2, maxWaitTime: 120 },
    { TableName: tableName },
  );
  // Only the creator turns TTL on: a second UpdateTimeToLive on an enabled table is an error.
  if (created) await enableTimeToLive(client, tableName);
}

/** Turns TTL on where the endpoint supports it (LocalStack does; dynalite neither has the call nor deletes). */
async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // Reads treat expired items as absent anyway, so an emulator without TTL only keeps more rows.
    if (errorName(error) !== 'UnknownOperationException') throw error;
  }
}
