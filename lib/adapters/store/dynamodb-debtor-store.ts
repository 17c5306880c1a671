import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ERASED_MARKER, erasedContactFields } from '../../domain/debtor-erasure.ts';
import type { BillingContact, CancelReason, ContactStatus } from '../../domain/types.ts';
import type {
  ContactErasure,
  ContactIdentity,
  DebtorErasureRecord,
  DebtorStore,
  ErasureProgress,
  QueueContactsRef,
  Rejection,
} from '../../ports/store.ts';
import { payloadErasureOf } from './callback-event-items.ts';
import { contactAttributes, contactPositionOf, LEGACY_REMOTE_JID } from './contact-item.ts';
import { type Item, mapBounded, tableOperations, toEntity } from './dynamodb-operations.ts';
import { unsentContactCancellation, waitingStatusOf } from './dynamodb-sending-store.ts';
import { invoiceProbe, mayHoldInvoice, SMALL_QUEUE_CONTACTS } from './invoice-filter.ts';
import { decodeCursor, encodeCursor, invalidCursor } from './page-cursor.ts';
import {
  GSI1,
  hasExpired,
  indexPartitions,
  keys,
  PK,
  SK,
  TTL_ATTRIBUTE,
  ttlSeconds,
} from './table-schema.ts';
import { Expression } from './update-expression.ts';

export interface DynamoDbDebtorStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** First backoff before re-sending a batch's unprocessed deletes (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/** Conditional writes in flight at once when erasing a contact's callback events. */
const WRITE_CONCURRENCY = 10;
/** Known messages `deleteMessages` deletes by key at once (a debtor may have many sends kept). */
const KNOWN_DELETE_CONCURRENCY = 16;

/** Highest batch position a contact key can hold (4 digits, see table-schema.ts). */
const MAX_POSITION = 9_999;
/**
 * Rounds of read-then-write on one contact: each lost round means its status changed in between (a
 * claim, a send, a receipt), which a contact does a few times in its life, not forever.
 */
const MAX_ERASE_ROUNDS = 5;

/** Queries of larger queues' contacts in flight at once. */
const QUERY_CONCURRENCY = 8;

/** What matching a debtor reads of a contact (the position is in the sort key: contact-item.ts). */
const IDENTITY_PROJECTION = {
  expression: '#sk, #status, #phone, #invoiceNumber, #updatedAt, #cancelReason, #messageId',
  names: {
    '#sk': SK,
    '#status': 'status',
    '#phone': 'phone',
    '#invoiceNumber': 'invoiceNumber',
    '#updatedAt': 'updatedAt',
    '#cancelReason': 'cancelReason',
    '#messageId': 'providerMessageId',
  },
};

const identityOf = (item: Item): ContactIdentity => ({
  position: contactPositionOf(item),
  status: item.status as ContactStatus,
  phone: String(item.phone),
  invoiceNumber: typeof item.invoiceNumber === 'string' ? item.invoiceNumber : null,
  updatedAt: String(item.updatedAt),
  cancelReason: typeof item.cancelReason === 'string' ? (item.cancelReason as CancelReason) : null,
  providerMessageId: typeof item.providerMessageId === 'string' ? item.providerMessageId : null,
});

/** An erasure record as stored; one kept before records had `complete` was written once, at the end. */
const erasureRecordOf = (item: Item): DebtorErasureRecord => {
  const record = toEntity<DebtorErasureRecord>(item);
  return { ...record, complete: record.complete ?? record.inFlight === 0 };
};

/** An erasure listing cursor `{ e }`: the last returned sort key (`ERASURE#<at>#<id>`). */
const decodeErasureCursor = (cursor: string): string => {
  const parsed = decodeCursor(cursor);
  const { e } = parsed;
  if (
    typeof e !== 'string' ||
    Object.keys(parsed).length !== 1 ||
    !e.startsWith('ERASURE#') ||
    e.length > 200
  )
    throw invalidCursor();
  return e;
};

/**
 * One debtor across a tenant's queues on the single table (docs/data-model.md, Debtors): matching
 * reads a queue's contacts from the base table (strongly consistent), and every change is one
 * conditional single-item write, so a pump racing the change either wins its claim or finds it done.
 */
export function createDynamoDbDebtorStore(options: DynamoDbDebtorStoreOptions): DebtorStore {
  const { get, put, putIfMatch, updateIfMatch, deleteIfMatch, queryAll, queryUpTo, batchWrite, batchGet } =
    tableOperations(options.client, options.tableName, options);

  /** One round of erasing a contact: a write conditional on the status the read saw. */
  const eraseOnce = async (
    queueId: string,
    position: number,
    at: string,
    expiresAt: string,
  ): Promise<ContactErasure | 'changed'> => {
    const item = await get(keys.contact(queueId, position));
    if (!item) return { outcome: 'missing' };
    const status = item.status as ContactStatus;
    if (status === 'sending') return { outcome: 'in_flight' };
    const e = new Expression();
    // Through the contact's marshalling: the texts are packed, a null is removed (contact-item.ts).
    const erased = contactAttributes(erasedContactFields(toEntity<BillingContact>(item), at));
    for (const [attribute, value] of Object.entries(erased.set)) e.set(attribute, value);
    // And the JID a contact sent before it stopped being kept still holds: it spells the phone.
    e.remove(...erased.remove, LEGACY_REMOTE_JID);
    const waited = waitingStatusOf(item);
    if (waited) {
      e.set('status', 'cancelled')
        .set('cancelReason', 'erased')
        .set('updatedAt', at)
        .set(TTL_ATTRIBUTE, ttlSeconds(expiresAt))
        .remove('retryAt', 'deferred');
    }
    const written = await updateIfMatch({
      Key: keys.contact(queueId, position),
      ...e.update(`${e.name('status')} = ${e.value(status)}`),
      ReturnValues: 'NONE',
    });
    if (!written) return 'changed';
    return { outcome: 'erased', cancelledFrom: waited ?? null };
  };

  /** Each contact of a queue, read by a consistent Query of the queue's contact range. */
  const queryIdentities = async (queueId: string): Promise<ContactIdentity[]> =>
    // The sort key range (not begins_with) keeps the queue item and its callback events out.
    (
      await queryAll({
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ProjectionExpression: IDENTITY_PROJECTION.expression,
        ExpressionAttributeNames: { ...IDENTITY_PROJECTION.names, '#pk': PK },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':from': keys.contact(queueId, 0).sk,
          ':to': keys.contact(queueId, MAX_POSITION).sk,
        },
        ConsistentRead: true,
      })
    ).map(identityOf);

  /**
   * The contacts at positions 0..n-1 of queues of n contacts, in BatchGetItem calls of 100 keys
   * (consistent), by queue and in batch order; a queue none was found of is left out.
   */
  const readSmallQueuesByKey = async (queues: readonly QueueContactsRef[]) => {
    const queueIdOf = new Map(queues.map((queue) => [keys.queue(queue.id).pk, queue.id]));
    const contactKeys = queues.flatMap((queue) =>
      Array.from({ length: queue.totalContacts }, (_, position) => keys.contact(queue.id, position)),
    );
    const byQueue = new Map<string, ContactIdentity[]>();
    // The partition key tells each contact's queue.
    const projection = {
      expression: `#pk, ${IDENTITY_PROJECTION.expression}`,
      names: { ...IDENTITY_PROJECTION.names, '#pk': PK },
    };
    for (const item of contactKeys.length > 0 ? await batchGet(contactKeys, projection) : []) {
      const queueId = queueIdOf.get(String(item[PK])) ?? '';
      const identities = byQueue.get(queueId) ?? [];
      identities.push(identityOf(item));
      byQueue.set(queueId, identities);
    }
    for (const identities of byQueue.values()) identities.sort((a, b) => a.position - b.position);
    return byQueue;
  };

  /**
   * The ids of `queues` whose invoice filter (invoice-filter.ts; one BatchGetItem per 100 queues)
   * says they hold none of `invoices`. A queue without a filter, or whose filter covers another
   * count of contacts than the queue holds, is not among them.
   */
  const queuesHoldingNone = async (queues: readonly QueueContactsRef[], invoices: ReadonlySet<string>) => {
    const none = new Set<string>();
    if (queues.length === 0) return none;
    const probes = [...invoices].map(invoiceProbe);
    const byPartition = new Map(queues.map((queue) => [keys.queue(queue.id).pk, queue]));
    const filters = await batchGet(
      queues.map((queue) => keys.queueInvoices(queue.id)),
      {
        expression: '#pk, #filter, #contacts',
        names: { '#pk': PK, '#filter': 'filter', '#contacts': 'contacts' },
      },
    );
    for (const item of filters) {
      const queue = byPartition.get(String(item[PK]));
      const { filter } = item;
      if (!queue || item.contacts !== queue.totalContacts || !(filter instanceof Uint8Array)) continue;
      if (!probes.some((probe) => mayHoldInvoice(filter, probe))) none.add(queue.id);
    }
    return none;
  };

  return {
    async listContactIdentities(queues, options = {}) {
      // A small queue's contacts by key: one request per 100 contacts instead of one per queue,
      // for a strongly consistent read unit per contact instead of one per 4 KB of the queue's
      // contacts (at most 10 units where a Query of them costs 3).
      const small = queues.filter((queue) => queue.totalContacts <= SMALL_QUEUE_CONTACTS);
      const larger = queues.filter((queue) => queue.totalContacts > SMALL_QUEUE_CONTACTS);
      const [byKey, holdingNone] = await Promise.all([
        readSmallQueuesByKey(small),
        options.invoices ? queuesHoldingNone(larger, options.invoices) : new Set<string>(),
      ]);
      // A queue whose contacts are not all at positions 0..n-1 (refused contacts of the batch took
      // some positions) is read as a larger one is.
      const known = (queue: QueueContactsRef) =>
        holdingNone.has(queue.id) || (byKey.get(queue.id)?.length ?? 0) === queue.totalContacts;
      const byQuery = queues.filter((queue) => !known(queue));
      const read = await mapBounded(byQuery, QUERY_CONCURRENCY, (queue) => queryIdentities(queue.id));
      const queried = new Map(byQuery.map((queue, i) => [queue.id, read[i] ?? []]));
      return new Map(queues.map((queue) => [queue.id, queried.get(queue.id) ?? byKey.get(queue.id) ?? []]));
    },

    async cancelUnsentContact(queueId, position, at, expiresAt, reason) {
      // ALL_OLD: how it waited tells the caller which counters it leaves (retry, deferred).
      const before = await updateIfMatch({
        ...unsentContactCancellation(queueId, position, at, expiresAt, reason),
        ReturnValues: 'ALL_OLD',
      });
      return waitingStatusOf(before);
    },

    async eraseContact(queueId, position, at, expiresAt) {
      for (let round = 0; round < MAX_ERASE_ROUNDS; round++) {
        const result = await eraseOnce(queueId, position, at, expiresAt);
        if (result !== 'changed') return result;
      }
      throw new Error(`eraseContact: contact ${queueId}/${position} kept changing status`);
    },

    async eraseContactEvents(queueId, position) {
      // A contact's event ids start with `<queueId>:<position>:` (the `:` keeps position 1 from 10).
      const items = await queryAll({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: {
          ':pk': keys.queue(queueId).pk,
          ':prefix': keys.callback(queueId, `${queueId}:${position}:`).sk,
        },
        ConsistentRead: true,
      });
      const changed = await mapBounded(items, WRITE_CONCURRENCY, async (item) => {
        const erasure = payloadErasureOf(item);
        return erasure !== undefined && (await updateIfMatch(erasure)) !== undefined;
      });
      return changed.filter(Boolean).length;
    },

    async deleteMessages(tenantId, phones, known) {
      // The history index lists each phone's messages whatever their key (pre-upgrade ones included).
      const listed = await Promise.all(
        phones.map((phone) =>
          queryAll({
            IndexName: GSI1.name,
            KeyConditionExpression: '#gpk = :gpk',
            ProjectionExpression: '#pk, #sk',
            ExpressionAttributeNames: { '#gpk': GSI1.pk, '#pk': PK, '#sk': SK },
            ExpressionAttributeValues: { ':gpk': indexPartitions.messages(tenantId, phone) },
          }),
        ),
      );
      const keyText = (pk: unknown, sk: unknown) => `${pk}\u0000${sk}`;
      const unique = new Map(listed.flat().map((item) => [keyText(item[PK], item[SK]), item]));
      await batchWrite(
        [...unique.values()].map((item) => ({ DeleteRequest: { Key: { [PK]: item[PK], [SK]: item[SK] } } })),
      );
      // A known message the index does not list yet: deleted by its key, counted if it was there.
      const unlisted = new Map<string, Item>();
      for (const { instanceId, messageId } of known) {
        const { pk, sk } = keys.message(tenantId, instanceId, messageId);
        if (!unique.has(keyText(pk, sk))) unlisted.set(keyText(pk, sk), { [PK]: pk, [SK]: sk });
      }
      const found = await mapBounded([...unlisted.values()], KNOWN_DELETE_CONCURRENCY, (key) =>
        deleteIfMatch({
          Key: key,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return unique.size + found.filter((old) => old !== undefined).length;
    },

    async listCampaignRejections(tenantId, externalIds) {
      const unique = [...new Set(externalIds)];
      const items =
        unique.length > 0
          ? await batchGet(
              unique.map((externalId) => keys.campaign(tenantId, externalId)),
              {
                expression: '#externalId, #rejected',
                names: { '#externalId': 'externalId', '#rejected': 'rejected' },
              },
            )
          : [];
      return new Map(
        items.map((item) => [
          String(item.externalId),
          Array.isArray(item.rejected) ? (item.rejected as Rejection[]) : [],
        ]),
      );
    },

    async eraseCampaignRejections(tenantId, externalId, indexes) {
      const unique = [...new Set(indexes)].filter((i) => Number.isInteger(i) && i >= 0);
      if (unique.length === 0) return (await get(keys.campaign(tenantId, externalId))) !== undefined;
      // List elements by index: the Expression helper names attributes, not document paths.
      const out = await updateIfMatch({
        Key: keys.campaign(tenantId, externalId),
        UpdateExpression: `SET ${unique.map((i) => `#rejected[${i}].#telefone = :marker`).join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK, '#rejected': 'rejected', '#telefone': 'telefone' },
        ExpressionAttributeValues: { ':marker': ERASED_MARKER },
        ReturnValues: 'NONE',
      });
      return out !== undefined;
    },

    async ensureErasureSalt(tenantId, candidate) {
      const e = new Expression();
      const salt = e.name('erasureSalt');
      e.setRaw('erasureSalt', `if_not_exists(${salt}, ${e.value(candidate)})`);
      const out = await updateIfMatch({
        Key: keys.tenant(tenantId),
        ...e.update(`attribute_exists(${e.name(PK)})`),
        ReturnValues: 'ALL_NEW',
      });
      return out === undefined ? undefined : String(out.erasureSalt);
    },

    async recordDebtorErasure(record) {
      await put({ ...keys.debtorErasure(record.tenantId, record.at, record.id), ...record });
    },

    /*
     * A consistent read, then a put conditional on what it saw: nobody's item (none, or expired)
     * becomes `fresh`; one whose hold has ended changes hands, its progress kept. Whoever loses the
     * race to the put reads the winner's.
     */
    async takeErasureProgress(fresh, owner, now, holdUntil, expiresAt) {
      const key = keys.erasureProgress(fresh.tenantId, fresh.phoneDigest);
      const progressOf = (item: Item | undefined) =>
        item && !hasExpired(item, new Date(now)) ? (item.progress as ErasureProgress) : undefined;
      const stored = await get(key);
      const live = progressOf(stored) ? stored : undefined;
      if (live && String(live.heldUntil) > now) return { taken: false, progress: progressOf(live) ?? fresh };
      const progress = progressOf(live) ?? fresh;
      const taken = await putIfMatch({
        Item: {
          ...key,
          progress,
          owner,
          heldUntil: holdUntil,
          [TTL_ATTRIBUTE]: live ? live[TTL_ATTRIBUTE] : ttlSeconds(expiresAt),
        },
        ...(stored
          ? {
              ConditionExpression: '#owner = :owner AND #heldUntil = :heldUntil',
              ExpressionAttributeNames: { '#owner': 'owner', '#heldUntil': 'heldUntil' },
              ExpressionAttributeValues: { ':owner': stored.owner, ':heldUntil': stored.heldUntil },
            }
          : { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }),
      });
      return taken ? { taken, progress } : { taken, progress: progressOf(await get(key)) ?? fresh };
    },

    async saveErasureProgress(progress, owner, now) {
      const e = new Expression().set('progress', progress).set('heldUntil', now);
      return (
        (await updateIfMatch({
          Key: keys.erasureProgress(progress.tenantId, progress.phoneDigest),
          ...e.update(`${e.name('owner')} = ${e.value(owner)}`),
          ReturnValues: 'NONE',
        })) !== undefined
      );
    },

    async deleteErasureProgress(tenantId, phoneDigest, owner) {
      await deleteIfMatch({
        Key: keys.erasureProgress(tenantId, phoneDigest),
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      });
    },

    async listDebtorErasures(tenantId, page) {
      const after = page.cursor === undefined ? undefined : decodeErasureCursor(page.cursor);
      const { pk } = keys.debtorErasures(tenantId);
      // Newest first; one more than a page tells whether a next one exists.
      const items = await queryUpTo(
        {
          KeyConditionExpression: after === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :after',
          ExpressionAttributeNames: { '#pk': PK, ...(after === undefined ? {} : { '#sk': SK }) },
          ExpressionAttributeValues: { ':pk': pk, ...(after === undefined ? {} : { ':after': after }) },
          ScanIndexForward: false,
          ConsistentRead: true,
        },
        page.limit + 1,
      );
      const shown = items.slice(0, page.limit);
      const last = shown.at(-1);
      return {
        items: shown.map(erasureRecordOf),
        nextCursor: items.length > page.limit && last ? encodeCursor({ e: String(last[SK]) }) : null,
      };
    },
  };
}
