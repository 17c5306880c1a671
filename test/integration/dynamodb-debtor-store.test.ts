import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import type { Store } from '../../lib/ports/store.ts';
import { acmeContact, acmeQueue } from '../support/acme-queue.ts';
import { useDynalite } from '../support/dynalite.ts';
import { describeDebtorStoreContract } from './store-contract/debtor-store-contract.ts';

const db = useDynalite();

describeDebtorStoreContract(async ({ clock }) => {
  const tableName = await db.freshTable('debtor-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName, clock }),
    tableItem: (key) => db.item(tableName, key),
  };
});

const CREATED_AT = '2025-01-10T12:00:00.000Z';

/** A batch's contacts as the accept makes them, each of its own invoice `<queue id>-<position>`. */
const batchContacts = (queueId: string, count: number) =>
  Array.from({ length: count }, (_, position) =>
    acmeContact(position, {
      queueId,
      invoiceNumber: `${queueId}-${position}`,
      variables: {},
      renderedMessage: 'Olá',
      createdAt: CREATED_AT,
    }),
  );

/** Stores a queue and its contacts as the accept does; `totalContacts` may say otherwise. */
const storeBatch = async (store: Store, id: string, count: number, totalContacts = count) => {
  await store.createQueue(acmeQueue({ id, totalContacts, createdAt: CREATED_AT }));
  await store.putFreshContacts(batchContacts(id, count));
  return { id, totalContacts };
};

/** A client that records each command it passes on: its name, and the partition a Query reads. */
const recordingClient = () => {
  const sent: string[] = [];
  const client = {
    send: (command: {
      constructor: { name: string };
      input: { ExpressionAttributeValues?: { ':pk'?: string } };
    }) => {
      sent.push(
        `${command.constructor.name} ${command.input.ExpressionAttributeValues?.[':pk'] ?? ''}`.trim(),
      );
      return db.doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
};

describe('dynamodb-debtor-store', () => {
  it('removes the JID a contact sent by the earlier version still holds (it spells the phone), which no entity shows', async () => {
    // Prepare: a sent contact whose item kept the gateway's `key.remoteJid`, as sends did before.
    const tableName = await db.freshTable('debtor-jid');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    await storeBatch(store, 'q-jid', 1);
    await db.doc.send(
      new UpdateCommand({
        TableName: tableName,
        Key: keys.contact('q-jid', 0),
        UpdateExpression: 'SET #status = :sent, #jid = :jid',
        ExpressionAttributeNames: { '#status': 'status', '#jid': 'remoteJid' },
        ExpressionAttributeValues: { ':sent': 'sent', ':jid': '5511900000000@s.whatsapp.net' },
      }),
    );
    const before = await store.getContact('q-jid', 0);

    // Act
    const erased = await store.eraseContact(
      'q-jid',
      0,
      '2025-01-11T00:00:00.000Z',
      '2025-04-11T00:00:00.000Z',
    );

    // Assess
    expect(before).toBeDefined();
    expect(before).not.toHaveProperty('remoteJid');
    expect(erased).toEqual({ outcome: 'erased', cancelledFrom: null });
    expect(await db.item(tableName, keys.contact('q-jid', 0))).not.toHaveProperty('remoteJid');
  });

  it("deletes a phone's messages stored under the pre-upgrade key too (the history index finds them)", async () => {
    // Prepare: one message as written before the tenant joined the message key.
    const tableName = await db.freshTable('debtor-legacy');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const phone = '+5511933330000';
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.legacyMessage('inst-1', 'old-1'),
          ...keys.messagesIndex('acme', phone, '2025-01-01T00:00:00.000Z', 'old-1'),
          id: 'old-1',
          tenantId: 'acme',
          phone,
          instanceId: 'inst-1',
          direction: 'outbound',
          text: 'Olá Ana',
          at: '2025-01-01T00:00:00.000Z',
        },
      }),
    );

    // Act
    const deleted = await store.deleteMessages('acme', [phone], []);

    // Assess
    expect(deleted).toBe(1);
    expect(await db.item(tableName, keys.legacyMessage('inst-1', 'old-1'))).toBeUndefined();
  });

  it("reads the contacts of 150 one-contact queues in two requests, not one a queue, and a larger queue's by its own", async () => {
    // Prepare: a tenant that posts one batch per invoice, and one batch of 40
    const tableName = await db.freshTable('debtor-many');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const queues = [];
    for (let i = 0; i < 150; i += 1) queues.push(await storeBatch(store, `one-${i}`, 1));
    queues.push(await storeBatch(store, 'forty', 40));
    const recording = recordingClient();

    // Act
    const identities = await createDynamoDbStore({
      client: recording.client,
      tableName,
    }).listContactIdentities(queues);

    // Assess: 150 keys in two BatchGetItem calls (100 a call), the batch of 40 by one Query
    expect(recording.sent.sort()).toEqual(['BatchGetCommand', 'BatchGetCommand', 'QueryCommand QUEUE#forty']);
    expect(identities.get('one-149')?.map((c) => c.invoiceNumber)).toEqual(['one-149-0']);
    expect(identities.get('forty')).toHaveLength(40);
  });

  it('asks again for the keys a throttled BatchGetItem hands back unprocessed, until every contact is read', async () => {
    // Prepare: 30 one-contact queues; a client whose BatchGetItem reads only the first 7 keys of each
    // call and hands the others back as UnprocessedKeys, as DynamoDB does under throttling
    const tableName = await db.freshTable('debtor-throttled');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const queues = [];
    for (let i = 0; i < 30; i += 1) queues.push(await storeBatch(store, `one-${i}`, 1));
    let batchGets = 0;
    const throttling = {
      send: async (command: unknown) => {
        if (!(command instanceof BatchGetCommand)) return db.doc.send(command as never);
        batchGets += 1;
        const [table, request] = Object.entries(command.input.RequestItems ?? {})[0] ?? [];
        if (!table || !request?.Keys) throw new Error('BatchGetItem without keys');
        const read = await db.doc.send(
          new BatchGetCommand({ RequestItems: { [table]: { ...request, Keys: request.Keys.slice(0, 7) } } }),
        );
        const rest = request.Keys.slice(7);
        return { ...read, UnprocessedKeys: rest.length > 0 ? { [table]: { ...request, Keys: rest } } : {} };
      },
    } as unknown as DynamoDBDocumentClient;

    // Act
    const identities = await createDynamoDbStore({
      client: throttling,
      tableName,
      batchRetryDelayMs: 1,
    }).listContactIdentities(queues);

    // Assess: 30 keys, 7 a round: five rounds, and every queue's contact
    expect(batchGets).toBe(5);
    expect(queues.map((q) => identities.get(q.id)?.map((c) => c.invoiceNumber))).toEqual(
      queues.map((q) => [`${q.id}-0`]),
    );
  });

  it("reads, for a payment's invoices, only the larger queues whose invoice filter may hold one", async () => {
    // Prepare: four batches of 40 contacts as the accept writes them (with their invoice filter):
    // one from before the filters (its filter gone), one whose filter covers another count of
    // contacts than its queue holds
    const tableName = await db.freshTable('debtor-filtered');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const queues = [
      await storeBatch(store, 'paid', 40),
      await storeBatch(store, 'other', 40),
      await storeBatch(store, 'before-filters', 40),
      await storeBatch(store, 'grown', 40, 41),
    ];
    await db.doc.send(new DeleteCommand({ TableName: tableName, Key: keys.queueInvoices('before-filters') }));
    const recording = recordingClient();

    // Act
    const identities = await createDynamoDbStore({
      client: recording.client,
      tableName,
    }).listContactIdentities(queues, { invoices: new Set(['paid-7']) });

    // Assess: one read of the four filters; the queue that holds the invoice, the one without a
    // filter and the one its filter does not cover are read; the other is not
    expect(recording.sent.sort()).toEqual([
      'BatchGetCommand',
      'QueryCommand QUEUE#before-filters',
      'QueryCommand QUEUE#grown',
      'QueryCommand QUEUE#paid',
    ]);
    expect(identities.get('paid')?.find((c) => c.invoiceNumber === 'paid-7')?.position).toBe(7);
    expect(identities.get('other')).toEqual([]);
    expect(identities.get('before-filters')).toHaveLength(40);
  });

  it("writes no invoice filter for a small batch, and deletes a discarded batch's with its contacts", async () => {
    // Prepare
    const tableName = await db.freshTable('debtor-filter-items');
    const store = createDynamoDbStore({ client: db.doc, tableName });

    // Act
    await store.putFreshContacts(batchContacts('small', 10));
    await store.putFreshContacts(batchContacts('large', 11));
    const written = await db.item(tableName, keys.queueInvoices('large'));
    await store.deleteFreshContacts(
      'large',
      Array.from({ length: 11 }, (_, position) => position),
    );

    // Assess
    expect(await db.item(tableName, keys.queueInvoices('small'))).toBeUndefined();
    expect(written).toMatchObject({ contacts: 11 });
    expect(written?.ttl).toEqual(expect.any(Number));
    expect(await db.item(tableName, keys.queueInvoices('large'))).toBeUndefined();
  });

  it('reads an erasure record kept before records said whether they were complete as it was: complete unless left in flight', async () => {
    // Prepare: two records as the store wrote them before, once at the end of their one request.
    const tableName = await db.freshTable('debtor-old-records');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const counts = {
      contacts: 1,
      contactsCancelled: 0,
      messages: 0,
      callbackEvents: 0,
      optOuts: 0,
      campaignRejections: 0,
    };
    const old = (id: string, at: string, inFlight: number) => ({
      ...keys.debtorErasure('acme', at, id),
      id,
      tenantId: 'acme',
      at,
      requestedBy: 'cli',
      phoneDigest: 'lgpd:abc',
      counts,
      inFlight,
    });
    await db.doc.send(new PutCommand({ TableName: tableName, Item: old('done', CREATED_AT, 0) }));
    await db.doc.send(
      new PutCommand({ TableName: tableName, Item: old('left', '2025-01-10T13:00:00.000Z', 1) }),
    );

    // Act
    const { items } = await store.listDebtorErasures('acme', { limit: 10 });

    // Assess
    expect(items.map(({ id, complete }) => [id, complete])).toEqual([
      ['left', false],
      ['done', true],
    ]);
  });
});
