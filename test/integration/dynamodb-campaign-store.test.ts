import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { Store } from '../../lib/ports/store.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import {
  allPages,
  contact,
  describeCampaignStoreContract,
  queue,
  thousandContacts,
} from './store-contract/campaign-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table; `client` replaces the document client (to count or disturb requests). */
async function freshStore(
  client: DynamoDBDocumentClient = db.doc,
): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('campaign-test');
  return { store: createDynamoDbStore({ client, tableName, batchRetryDelayMs: 1 }), tableName };
}

/** A document client on its own connection that counts the DynamoDB operations it sends. */
function countingClient(): { client: DynamoDBDocumentClient; counts: Map<string, number>; close(): void } {
  const counts = new Map<string, number>();
  const lowLevel = createTestDynamoDbClient(db.endpoint);
  lowLevel.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countOperations' },
  );
  return { client: DynamoDBDocumentClient.from(lowLevel), counts, close: () => lowLevel.destroy() };
}

type WriteRequests = NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string];

/**
 * A client whose BatchWriteItem writes only the first `keep(requests)` requests of each call and
 * hands the others back as UnprocessedItems, as DynamoDB does under throttling.
 */
function throttlingClient(keep: (requests: WriteRequests) => number): {
  client: DynamoDBDocumentClient;
  batchCalls: () => number;
} {
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) return db.doc.send(command as never);
      calls += 1;
      const entry = Object.entries(command.input.RequestItems ?? {})[0];
      if (!entry) throw new Error('BatchWriteItem without requests');
      const [table, requests] = entry;
      const kept = keep(requests);
      if (kept > 0) {
        await db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, kept) } }));
      }
      const rest = requests.slice(kept);
      return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, batchCalls: () => calls };
}

/** A client that fails the `failAt`-th PutItem of a contact with a server error and passes the rest on. */
function failingClient(failAt: number): { client: DynamoDBDocumentClient; contactPuts: () => number } {
  let puts = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof PutCommand && String(command.input.Item?.sk).startsWith('CONTACT#')) {
        puts += 1;
        if (puts === failAt)
          throw Object.assign(new Error('internal server error'), { name: 'InternalServerError' });
      }
      return db.doc.send(command as never);
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, contactPuts: () => puts };
}

describeCampaignStoreContract(async () => {
  const { store, tableName } = await freshStore();
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('createDynamoDbStore (campaigns, queues, contacts)', () => {
  describe('contacts', () => {
    it('writes 1000 fresh contacts in 40 BatchWriteItem calls and lists them all in batch order', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);

      // Act
      await store.putFreshContacts(thousandContacts());
      const batchWrites = counting.counts.get('BatchWriteItemCommand');
      const pages = await allPages((cursor) => store.listContacts('queue-1', { limit: 100, cursor }));
      counting.close();

      // Assess
      expect(batchWrites).toBe(40);
      expect(pages).toHaveLength(10);
      expect(pages.every((page) => page.length === 100)).toBe(true);
      const listed = pages.flat();
      expect(listed.map((c) => c.position)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(listed[7]).toEqual(thousandContacts()[7]);
    });

    it("lists a queue's contacts only, not other items of its partition nor other queues", async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      await store.putFreshContacts([contact(0), contact(1)]);
      await store.putFreshContacts([contact(0, { id: 'queue-2:0', queueId: 'queue-2' })]);
      await db.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.callback('queue-1', 'queue#completed'), kind: 'callback' },
        }),
      );

      // Act
      const listed = await store.listContacts('queue-1', { limit: 100 });

      // Assess
      expect(listed.items.map((c) => c.id)).toEqual(['queue-1:0', 'queue-1:1']);
      expect(listed.nextCursor).toBeNull();
    });

    it('re-sends unprocessed items until every contact is stored', async () => {
      // Prepare: every call leaves all but 10 of its requests unprocessed.
      const throttled = throttlingClient((requests) => Math.min(10, requests.length));
      const { store } = await freshStore(throttled.client);

      // Act
      await store.putFreshContacts(thousandContacts().slice(0, 100));
      const listed = await store.listContacts('queue-1', { limit: 100 });

      // Assess
      expect(listed.items.map((c) => c.position)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      // 4 batches of 25 need 3 calls each at 10 per call.
      expect(throttled.batchCalls()).toBe(12);
    });

    it('throws after 8 tries when a batch stays unprocessed', async () => {
      // Prepare
      const throttled = throttlingClient(() => 0);
      const { store } = await freshStore(throttled.client);

      // Act
      const attempt = store.putFreshContacts(thousandContacts().slice(0, 25));

      // Assess
      await expect(attempt).rejects.toThrow(/unprocessed after 8 tries/);
      expect(throttled.batchCalls()).toBe(8);
    });

    it('creates contacts with one conditional PutItem each, none again the second time', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      const hundred = thousandContacts().slice(0, 100);

      // Act
      const created = await store.putContacts(hundred);
      const puts = counting.counts.get('PutItemCommand');
      const again = await store.putContacts(hundred);
      const listed = await store.listContacts('queue-1', { limit: 100 });
      counting.close();

      // Assess
      expect(created).toBe(100);
      expect(puts).toBe(100);
      expect(counting.counts.get('BatchWriteItemCommand')).toBeUndefined();
      expect(again).toBe(0);
      expect(listed.items).toEqual(hundred);
    });

    it('stops creating contacts after a failed put and throws its error', async () => {
      // Prepare
      const failing = failingClient(5);
      const { store } = await freshStore(failing.client);

      // Act
      const attempt = store.putContacts(thousandContacts().slice(0, 200));

      // Assess
      await expect(attempt).rejects.toThrow('internal server error');
      expect(failing.contactPuts()).toBeLessThan(200);
    });
  });

  describe('queues', () => {
    it('leaves paused and finished queues out of the due index', async () => {
      // Prepare
      const { store, tableName } = await freshStore();

      // Act
      await store.createQueue(queue({ id: 'paused', status: 'paused' }));
      await store.createQueue(queue({ id: 'done', status: 'completed' }));
      await store.createQueue(
        queue({ id: 'later', status: 'scheduled', nextRunAt: '2025-01-11T11:00:00.000Z' }),
      );

      // Assess
      const read = async (id: string) =>
        (await db.doc.send(new GetCommand({ TableName: tableName, Key: keys.queue(id) }))).Item;
      expect((await read('paused'))?.[GSI2.pk]).toBeUndefined();
      expect((await read('done'))?.[GSI2.pk]).toBeUndefined();
      expect((await read('later'))?.[GSI2.sk]).toBe('2025-01-11T11:00:00.000Z#later');
    });
  });
});
