import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { BillingContact, BillingQueue } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import {
  contact,
  describeSendingStoreContract,
  fixedClock,
  message,
  queue,
  T0,
} from './store-contract/sending-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table; `client` replaces the document client (to count requests). */
async function freshStore(
  client: DynamoDBDocumentClient = db.doc,
  clock: Clock = fixedClock,
): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('sending-test');
  return { store: createDynamoDbStore({ client, tableName, clock }), tableName };
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

const rawItem = async (tableName: string, key: Record<string, unknown>) =>
  (await db.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

/** A store holding queue-1 with `contacts`. */
async function seeded(contacts: BillingContact[], queueOverrides: Partial<BillingQueue> = {}) {
  const fresh = await freshStore();
  await fresh.store.createQueue(queue(queueOverrides));
  await fresh.store.putContacts(contacts);
  return fresh;
}

describeSendingStoreContract(async ({ clock }) => (await freshStore(db.doc, clock)).store);

describe('createDynamoDbStore (sending)', () => {
  describe('claimContact', () => {
    it('refuses a retry before its retryAt and claims it from then on', async () => {
      // Prepare
      const { store, tableName } = await seeded([
        contact(0, { status: 'retry', attempts: 1, retryAt: '2025-01-10T12:05:00.000Z' }),
      ]);

      // Act
      const early = await store.claimContact('queue-1', 0, '2025-01-10T12:04:59.999Z');
      const due = await store.claimContact('queue-1', 0, '2025-01-10T12:05:00.000Z');

      // Assess
      expect(early).toBeUndefined();
      expect(due).toMatchObject({ status: 'sending', attempts: 2 });
      expect(due?.retryAt).toBeUndefined();
      expect((await rawItem(tableName, keys.contact('queue-1', 0)))?.[GSI1.sk]).toBe('sending#0000');
    });
  });

  describe('finishContact', () => {
    it('records a send, a retry, a failure, an unknown outcome and a release, keeping gsi1 in step', async () => {
      // Prepare
      const { store, tableName } = await seeded([0, 1, 2, 3, 4].map((p) => contact(p)));
      const at = '2025-01-10T12:02:00.000Z';
      for (const p of [0, 1, 2, 3, 4]) await store.claimContact('queue-1', p, '2025-01-10T12:01:00.000Z');

      // Act
      const results = [
        await store.finishContact('queue-1', 0, {
          status: 'sent',
          providerMessageId: 'ABC',
          remoteJid: 'j',
          at,
        }),
        await store.finishContact('queue-1', 1, {
          status: 'retry',
          error: 'timeout',
          at,
          retryAt: '2025-01-10T12:10:00.000Z',
        }),
        await store.finishContact('queue-1', 2, { status: 'failed', error: 'not on WhatsApp', at }),
        await store.finishContact('queue-1', 3, { status: 'unknown', error: 'socket hang up', at }),
        await store.finishContact('queue-1', 4, { status: 'pending', at }),
      ];

      // Assess
      expect(results).toEqual([true, true, true, true, true]);
      const listed = (await store.listContacts('queue-1', { limit: 10 })).items;
      expect(listed[0]).toMatchObject({
        status: 'sent',
        providerMessageId: 'ABC',
        remoteJid: 'j',
        sentAt: at,
        lastError: null,
      });
      expect(listed[1]).toMatchObject({
        status: 'retry',
        lastError: 'timeout',
        lastErrorAt: at,
        retryAt: '2025-01-10T12:10:00.000Z',
      });
      expect(listed[2]).toMatchObject({ status: 'failed', lastError: 'not on WhatsApp', lastErrorAt: at });
      expect(listed[3]).toMatchObject({ status: 'unknown', lastError: 'socket hang up' });
      // Released without calling the gateway: the claim's attempt is given back.
      expect(listed[4]).toMatchObject({ status: 'pending', attempts: 0, updatedAt: at });
      const sortKeys = await Promise.all(
        [0, 1, 2, 3, 4].map(async (p) => (await rawItem(tableName, keys.contact('queue-1', p)))?.[GSI1.sk]),
      );
      expect(sortKeys).toEqual([
        'sent#0000',
        'retry#2025-01-10T12:10:00.000Z#0001',
        'failed#0002',
        'unknown#0003',
        'pending#0004',
      ]);
    });
  });

  describe('skipOptedOutContact', () => {
    it('skips a pending or retry contact without a claim and says which it was', async () => {
      // Prepare
      const { store, tableName } = await seeded([
        contact(0),
        contact(1, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z', attempts: 1 }),
        contact(2, { status: 'sending' }),
      ]);

      // Act
      const results = [
        await store.skipOptedOutContact('queue-1', 0, T0),
        await store.skipOptedOutContact('queue-1', 1, T0),
        await store.skipOptedOutContact('queue-1', 2, T0),
        await store.skipOptedOutContact('queue-1', 0, T0),
      ];

      // Assess
      expect(results).toEqual(['pending', 'retry', undefined, undefined]);
      const skipped = await rawItem(tableName, keys.contact('queue-1', 1));
      expect(skipped).toMatchObject({
        status: 'skipped_opt_out',
        attempts: 1,
        [GSI1.sk]: 'skipped_opt_out#0001',
      });
      expect(skipped?.retryAt).toBeUndefined();
      expect((await rawItem(tableName, keys.contact('queue-1', 2)))?.status).toBe('sending');
    });
  });

  describe('cancelUnsentContacts', () => {
    it('cancels pending and retry contacts and leaves sent and sending ones alone', async () => {
      // Prepare
      const { store, tableName } = await seeded([
        contact(0, { status: 'sent' }),
        contact(1),
        contact(2, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z' }),
        contact(3, { status: 'sending' }),
        contact(4, { status: 'failed' }),
        ...Array.from({ length: 30 }, (_, i) => contact(5 + i)),
      ]);
      const at = '2025-01-10T12:40:00.000Z';

      // Act
      const changed = await store.cancelUnsentContacts('queue-1', at);
      const again = await store.cancelUnsentContacts('queue-1', at);

      // Assess
      expect(changed).toEqual({ cancelled: 32, fromRetry: 1 });
      expect(again).toEqual({ cancelled: 0, fromRetry: 0 });
      const listed = (await store.listContacts('queue-1', { limit: 100 })).items;
      expect(listed.slice(0, 5).map((c) => c.status)).toEqual([
        'sent',
        'cancelled',
        'cancelled',
        'sending',
        'failed',
      ]);
      expect(listed.filter((c) => c.status === 'cancelled')).toHaveLength(32);
      expect(listed[1]?.updatedAt).toBe(at);
      expect((await rawItem(tableName, keys.contact('queue-1', 2)))?.[GSI1.sk]).toBe('cancelled#0002');
      expect((await store.summarizeContacts('queue-1')).earliestRetryAt).toBeNull();
    });
  });

  describe('transitionQueue', () => {
    it('keeps an open queue in the due index at nextRunAt and takes a paused or final one out', async () => {
      // Prepare
      const { store, tableName } = await seeded([]);
      const read = () => rawItem(tableName, keys.queue('queue-1'));

      // Act
      await store.transitionQueue('queue-1', ['pending'], 'scheduled', {
        nextRunAt: '2025-01-11T11:00:00.000Z',
      });
      const scheduled = await read();
      await store.transitionQueue('queue-1', ['scheduled'], 'paused', {
        pausedAt: '2025-01-10T12:05:00.000Z',
        pauseReason: 'pedido do cliente',
      });
      const paused = await read();
      await store.transitionQueue('queue-1', ['paused'], 'running', { pausedAt: null, nextRunAt: null });
      const resumed = await read();
      await store.transitionQueue('queue-1', ['running'], 'completed', {
        completedAt: '2025-01-10T14:00:00.000Z',
      });
      const completed = await read();

      // Assess
      expect(scheduled?.[GSI2.pk]).toBe('DUE#QUEUE');
      expect(scheduled?.[GSI2.sk]).toBe('2025-01-11T11:00:00.000Z#queue-1');
      expect(paused?.[GSI2.pk]).toBeUndefined();
      expect(paused?.[GSI2.sk]).toBeUndefined();
      expect(paused).toMatchObject({
        pauseReason: 'pedido do cliente',
        [GSI1.pk]: 'TENANT#acme#QUEUES#paused',
      });
      // No next run: due from the write's time (the test clock), for the sweeper to check the pump.
      expect(resumed?.[GSI2.sk]).toBe('2025-01-10T13:00:00.000Z#queue-1');
      expect(resumed).toMatchObject({ pausedAt: null, nextRunAt: null });
      expect(completed?.[GSI2.pk]).toBeUndefined();
      expect(completed).toMatchObject({ status: 'completed', completedAt: '2025-01-10T14:00:00.000Z' });
      expect(completed?.[GSI1.sk]).toBe(`${T0}#queue-1`);
    });
  });

  describe('updateQueueProgress', () => {
    it('moves an open queue in the due index when nextRunAt changes, and never adds a paused one', async () => {
      // Prepare
      const { store, tableName } = await seeded([], { status: 'running' });
      await store.createQueue(queue({ id: 'queue-p', status: 'paused' }));

      // Act
      await store.updateQueueProgress('queue-1', {}, { nextRunAt: '2025-01-10T15:00:00.000Z' });
      await store.updateQueueProgress('queue-p', {}, { nextRunAt: '2025-01-10T15:00:00.000Z' });

      // Assess
      const open = await rawItem(tableName, keys.queue('queue-1'));
      const paused = await rawItem(tableName, keys.queue('queue-p'));
      expect(open?.[GSI2.sk]).toBe('2025-01-10T15:00:00.000Z#queue-1');
      expect(open?.[GSI2.pk]).toBe('DUE#QUEUE');
      expect(paused?.[GSI2.pk]).toBeUndefined();
    });
  });

  describe('recordSent', () => {
    it('writes the claimed contact as sent and its message together, findable by the gateway id', async () => {
      // Prepare
      const { store, tableName } = await seeded([contact(0, { status: 'retry', retryAt: T0, attempts: 1 })]);
      const at = '2025-01-10T12:01:00.000Z';
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');

      // Act
      await store.recordSent(
        claimed,
        { status: 'sent', providerMessageId: '3EB0SENT', remoteJid: '5511999990000@s.whatsapp.net', at },
        message('3EB0SENT', { at }),
      );

      // Assess
      const item = await rawItem(tableName, keys.contact('queue-1', 0));
      expect(item).toMatchObject({
        status: 'sent',
        providerMessageId: '3EB0SENT',
        remoteJid: '5511999990000@s.whatsapp.net',
        sentAt: at,
        attempts: 2,
        lastError: null,
        [GSI1.sk]: 'sent#0000',
      });
      expect(item?.retryAt).toBeUndefined();
      expect(await store.getMessage('inst-1', '3EB0SENT')).toMatchObject({
        queueId: 'queue-1',
        contactPosition: 0,
      });
      expect((await store.listContacts('queue-1', { status: 'sent', limit: 10 })).items).toHaveLength(1);
    });

    it('leaves a contact whose claim was settled by another pump as that pump decided, but keeps the message', async () => {
      // Prepare: pump A claims; its claim is taken for abandoned and settled `unknown` by pump B.
      const { store, tableName } = await seeded([contact(0)]);
      const at = '2025-01-10T12:01:00.000Z';
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');
      const settled = await store.finishContact(
        'queue-1',
        0,
        { status: 'unknown', error: 'envio interrompido', at: '2025-01-10T12:02:00.000Z' },
        claimed.claimedAt ?? undefined,
      );

      // Act: pump A's send comes back late.
      const recorded = await store.recordSent(
        claimed,
        { status: 'sent', providerMessageId: '3EB0LATE', remoteJid: '5511999990000@s.whatsapp.net', at },
        message('3EB0LATE', { at }),
      );
      const lateFinish = await store.finishContact(
        'queue-1',
        0,
        { status: 'retry', error: 'x', at, retryAt: at },
        claimed.claimedAt ?? undefined,
      );

      // Assess
      expect(settled).toBe(true);
      expect(recorded).toBe(false);
      expect(lateFinish).toBe(false);
      expect((await rawItem(tableName, keys.contact('queue-1', 0)))?.status).toBe('unknown');
      expect(await store.getMessage('inst-1', '3EB0LATE')).toMatchObject({ contactPosition: 0 });
    });

    it('refuses to record a send for a contact claimed again by a newer claim', async () => {
      // Prepare: an old claim settled as retry, then claimed again by another pump.
      const { store, tableName } = await seeded([contact(0)]);
      const first = await store.claimContact('queue-1', 0, '2025-01-10T12:01:00.000Z');
      if (!first) throw new Error('claim failed');
      await store.finishContact('queue-1', 0, {
        status: 'retry',
        error: 'x',
        at: '2025-01-10T12:02:00.000Z',
        retryAt: '2025-01-10T12:02:00.000Z',
      });
      const second = await store.claimContact('queue-1', 0, '2025-01-10T12:03:00.000Z');

      // Act
      const recorded = await store.recordSent(
        first,
        { status: 'sent', providerMessageId: '3EB0OLD', remoteJid: '5511999990000@s.whatsapp.net', at: T0 },
        message('3EB0OLD'),
      );

      // Assess
      expect(second?.status).toBe('sending');
      expect(recorded).toBe(false);
      expect(await rawItem(tableName, keys.contact('queue-1', 0))).toMatchObject({
        status: 'sending',
        claimedAt: '2025-01-10T12:03:00.000Z',
      });
    });
  });

  describe('request budget', () => {
    it('claims, records a sent message (contact on its claim, then the message) and counts it in exactly 4 requests', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      counting.counts.clear();
      const at = '2025-01-10T12:01:00.000Z';

      // Act
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');
      await store.recordSent(
        claimed,
        { status: 'sent', providerMessageId: '3EB0XYZ', remoteJid: '5511999990000@s.whatsapp.net', at },
        message('3EB0XYZ', { at }),
      );
      const progressed = await store.updateQueueProgress('queue-1', { contactsSent: 1 }, { currentRate: 20 });
      const requests = new Map(counting.counts);
      counting.close();

      // Assess
      expect(progressed?.contactsSent).toBe(1);
      expect(Object.fromEntries(requests)).toEqual({ UpdateItemCommand: 2, PutItemCommand: 2 });
    });

    it('claims, records, finishes and counts a sent message in exactly 4 requests', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      counting.counts.clear();
      const at = '2025-01-10T12:01:00.000Z';

      // Act
      const claimed = await store.claimContact('queue-1', 0, at);
      await store.recordMessage(message('3EB0XYZ', { at }));
      const finished = await store.finishContact('queue-1', 0, {
        status: 'sent',
        providerMessageId: '3EB0XYZ',
        remoteJid: '5511999990000@s.whatsapp.net',
        at,
      });
      const progressed = await store.updateQueueProgress('queue-1', { contactsSent: 1 }, { currentRate: 20 });
      const requests = new Map(counting.counts);
      counting.close();

      // Assess
      expect(claimed?.status).toBe('sending');
      expect(finished).toBe(true);
      expect(progressed?.contactsSent).toBe(1);
      expect([...requests.values()].reduce((sum, n) => sum + n, 0)).toBe(4);
      expect(Object.fromEntries(requests)).toEqual({ UpdateItemCommand: 3, PutItemCommand: 1 });
    });
  });
});
