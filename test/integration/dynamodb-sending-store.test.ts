import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { BillingContact, BillingQueue, ConversationMessage } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { acmeContact, acmeQueue } from '../support/acme-queue.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import { waitFor } from '../support/wait-for.ts';

const db = useDynalite();

const T0 = '2025-01-10T12:00:00.000Z';
const fixedClock: Clock = { now: () => new Date('2025-01-10T13:00:00.000Z') };

/** A store on its own fresh table; `client` replaces the document client (to count requests). */
async function freshStore(
  client: DynamoDBDocumentClient = db.doc,
): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('sending-test');
  return { store: createDynamoDbStore({ client, tableName, clock: fixedClock }), tableName };
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

const queue = (overrides: Partial<BillingQueue> = {}): BillingQueue =>
  acmeQueue({ totalContacts: 10, createdAt: T0, publishGeneration: 1, ...overrides });

const contact = (position: number, overrides: Partial<BillingContact> = {}): BillingContact =>
  acmeContact(position, {
    invoiceNumber: null,
    variables: { nome_cliente: `Cliente ${position}` },
    renderedMessage: `Olá Cliente ${position}`,
    createdAt: T0,
    ...overrides,
  });

const message = (id: string, overrides: Partial<ConversationMessage> = {}): ConversationMessage => ({
  id,
  tenantId: 'acme',
  phone: '+5511999990000',
  instanceId: 'inst-1',
  direction: 'outbound',
  text: 'Olá, sua fatura venceu.',
  at: T0,
  queueId: 'queue-1',
  contactPosition: 0,
  campaignId: 'camp-1',
  externalId: 'fatura-67890',
  templateType: 'overdue',
  ...overrides,
});

/** A store holding queue-1 with `contacts`. */
async function seeded(contacts: BillingContact[], queueOverrides: Partial<BillingQueue> = {}) {
  const fresh = await freshStore();
  await fresh.store.createQueue(queue(queueOverrides));
  await fresh.store.putContacts(contacts);
  return fresh;
}

const rawItem = async (tableName: string, key: Record<string, unknown>) =>
  (await db.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

describe('createDynamoDbStore (sending)', () => {
  describe('claimContact', () => {
    it('lets exactly one of 20 concurrent claimers of the same contact win', async () => {
      // Prepare
      const { store } = await seeded([contact(0)]);

      // Act
      const claims = await Promise.all(
        Array.from({ length: 20 }, () => store.claimContact('queue-1', 0, '2025-01-10T12:01:00.000Z')),
      );

      // Assess
      const winners = claims.filter((c) => c !== undefined);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({
        status: 'sending',
        attempts: 1,
        updatedAt: '2025-01-10T12:01:00.000Z',
      });
      const [stored] = (await store.listContacts('queue-1', { limit: 10 })).items;
      expect(stored?.attempts).toBe(1);
    });

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

    it('returns undefined for a sent, cancelled or missing contact', async () => {
      // Prepare
      const { store } = await seeded([contact(0, { status: 'sent' }), contact(1, { status: 'cancelled' })]);

      // Act
      const claims = await Promise.all(
        [0, 1, 2].map((position) => store.claimContact('queue-1', position, '2025-01-10T12:01:00.000Z')),
      );

      // Assess
      expect(claims).toEqual([undefined, undefined, undefined]);
      expect((await store.listContacts('queue-1', { limit: 10 })).items).toHaveLength(2);
    });
  });

  describe('finishContact', () => {
    it('refuses a contact that is not in sending', async () => {
      // Prepare
      const { store } = await seeded([contact(0), contact(1, { status: 'sent' })]);

      // Act
      const pending = await store.finishContact('queue-1', 0, { status: 'failed', error: 'x', at: T0 });
      const sent = await store.finishContact('queue-1', 1, { status: 'failed', error: 'x', at: T0 });
      const missing = await store.finishContact('queue-1', 5, { status: 'pending', at: T0 });

      // Assess
      expect([pending, sent, missing]).toEqual([false, false, false]);
      const statuses = (await store.listContacts('queue-1', { limit: 10 })).items.map((c) => c.status);
      expect(statuses).toEqual(['pending', 'sent']);
    });

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

  describe('listSendableContacts', () => {
    const mixed = [
      contact(0, { status: 'sent' }),
      contact(1),
      contact(2, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z' }),
      contact(3, { status: 'retry', retryAt: '2025-01-10T12:00:30.000Z' }),
      contact(4, { status: 'sending' }),
      contact(5),
      contact(6, { status: 'cancelled' }),
      contact(7),
    ];

    it('returns pending and due retries in batch order, never the queue item', async () => {
      // Prepare
      const { store } = await seeded(mixed);

      // Act
      const sendable = await store.listSendableContacts('queue-1', '2025-01-10T12:01:00.000Z', 10);

      // Assess
      expect(sendable.map((c) => c.position)).toEqual([1, 3, 5, 7]);
      expect(sendable[0]).toEqual(mixed[1]);
    });

    it('honours the limit and resumes after a position', async () => {
      // Prepare
      const { store } = await seeded(mixed);
      const now = '2025-01-10T12:31:00.000Z';

      // Act
      const first = await store.listSendableContacts('queue-1', now, 2);
      const after = await store.listSendableContacts('queue-1', now, 2, first.at(-1)?.position);
      const rest = await store.listSendableContacts('queue-1', now, 10, 5);
      const none = await store.listSendableContacts('queue-1', now, 10, 9_999);

      // Assess
      expect(first.map((c) => c.position)).toEqual([1, 2]);
      expect(after.map((c) => c.position)).toEqual([3, 5]);
      expect(rest.map((c) => c.position)).toEqual([7]);
      expect(none).toEqual([]);
    });

    it('pages past many contacts that do not match until it has enough', async () => {
      // Prepare: 200 sent contacts, then the sendable ones.
      const contacts = Array.from({ length: 205 }, (_, p) =>
        contact(p, { status: p < 200 ? 'sent' : 'pending' }),
      );
      const { store } = await seeded(contacts);

      // Act
      const sendable = await store.listSendableContacts('queue-1', T0, 3);

      // Assess
      expect(sendable.map((c) => c.position)).toEqual([200, 201, 202]);
    });
  });

  describe('summarizeContacts', () => {
    it('counts every status, finds the earliest retry and the claims, right after the writes', async () => {
      // Prepare
      const { store } = await seeded([
        contact(0, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z' }),
        contact(1),
        contact(2, { status: 'retry', retryAt: '2025-01-10T12:10:00.000Z' }),
        contact(3, { status: 'retry', retryAt: '2025-01-10T12:20:00.000Z' }),
        contact(4, { status: 'failed', providerMessageId: '3EB0FAILED' }),
        contact(5, { status: 'failed' }),
      ]);
      await store.putContacts([contact(0, { id: 'queue-2:0', queueId: 'queue-2' })]);

      // Act
      const before = await store.summarizeContacts('queue-1');
      const claimed = await store.claimContact('queue-1', 2, '2025-01-10T12:10:00.000Z');
      // No wait: the base table answers with the claim at once (an index might not yet).
      const afterClaim = await store.summarizeContacts('queue-1');
      const other = await store.summarizeContacts('queue-2');

      // Assess
      expect(before).toMatchObject({
        byStatus: { retry: 3, pending: 1, failed: 2 },
        failedAfterSend: 1,
        earliestRetryAt: '2025-01-10T12:10:00.000Z',
        sending: [],
      });
      expect(afterClaim.earliestRetryAt).toBe('2025-01-10T12:20:00.000Z');
      expect(afterClaim.byStatus).toMatchObject({ retry: 2, sending: 1 });
      expect(afterClaim.sending.map((c) => [c.position, c.claimedAt])).toEqual([[2, claimed?.claimedAt]]);
      expect(other).toMatchObject({ byStatus: { pending: 1 }, earliestRetryAt: null, sending: [] });
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

  describe('listStuckContacts', () => {
    it('returns the contacts left in sending, confirmed on the base table', async () => {
      // Prepare
      const { store } = await seeded([contact(0), contact(1), contact(2)]);
      await store.claimContact('queue-1', 0, T0);
      await store.claimContact('queue-1', 2, T0);
      await store.finishContact('queue-1', 0, { status: 'failed', error: 'x', at: T0 });

      // Act
      const stuck = await store.listStuckContacts('queue-1');

      // Assess
      expect(stuck.map((c) => c.position)).toEqual([2]);
      expect(stuck[0]?.status).toBe('sending');
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
    it('moves the queue only from a listed status and the status listing follows', async () => {
      // Prepare
      const { store } = await seeded([]);

      // Act
      const refused = await store.transitionQueue('queue-1', ['running', 'paused'], 'completed');
      const started = await store.transitionQueue('queue-1', ['pending', 'scheduled'], 'running', {
        startedAt: '2025-01-10T12:01:00.000Z',
      });
      const missing = await store.transitionQueue('nope', ['pending'], 'running');

      // Assess
      expect(refused).toBeUndefined();
      expect(missing).toBeUndefined();
      expect(started).toMatchObject({
        status: 'running',
        startedAt: '2025-01-10T12:01:00.000Z',
        contactsSent: 0,
      });
      const running = await waitFor(async () => {
        const page = await store.listQueues('acme', { status: 'running', limit: 10 });
        return page.items.length === 1 && page;
      });
      expect(running.items[0]?.id).toBe('queue-1');
      const pending = await waitFor(async () => {
        const page = await store.listQueues('acme', { status: 'pending', limit: 10 });
        return page.items.length === 0 && page;
      });
      expect(pending.nextCursor).toBeNull();
    });

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
    it('adds the deltas, sets the fields and returns the queue with its current status', async () => {
      // Prepare
      const { store } = await seeded([], { status: 'running', contactsPendingRetry: 2 });
      await store.transitionQueue('queue-1', ['running'], 'paused', { pausedAt: T0 });

      // Act
      const updated = await store.updateQueueProgress(
        'queue-1',
        { contactsSent: 1, contactsPendingRetry: -1, contactsFailed: 0 },
        { currentRate: 12.5 },
      );
      const missing = await store.updateQueueProgress('nope', { contactsSent: 1 });

      // Assess
      expect(updated).toMatchObject({
        status: 'paused',
        contactsSent: 1,
        contactsPendingRetry: 1,
        contactsFailed: 0,
        currentRate: 12.5,
      });
      expect(missing).toBeUndefined();
      expect(await store.getQueue('nope')).toBeUndefined();
    });

    it('counts 20 concurrent increments exactly', async () => {
      // Prepare
      const { store } = await seeded([], { status: 'running' });

      // Act
      await Promise.all(
        Array.from({ length: 20 }, () => store.updateQueueProgress('queue-1', { contactsSent: 1 })),
      );

      // Assess
      expect((await store.getQueue('queue-1'))?.contactsSent).toBe(20);
    });

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

  describe('nextPublishGeneration', () => {
    it('adds one per call and returns the new value', async () => {
      // Prepare
      const { store } = await seeded([], { publishGeneration: 4 });

      // Act
      const values = [
        await store.nextPublishGeneration('queue-1'),
        await store.nextPublishGeneration('queue-1'),
      ];

      // Assess
      expect(values).toEqual([5, 6]);
      expect((await store.getQueue('queue-1'))?.publishGeneration).toBe(6);
      await expect(store.nextPublishGeneration('nope')).rejects.toThrow(/does not exist/);
    });
  });

  describe('instance lease', () => {
    const now = '2025-01-10T12:00:00.000Z';
    const until = '2025-01-10T12:01:00.000Z';

    it('lets exactly one of 20 concurrent pumps take a free lease', async () => {
      // Prepare
      const { store } = await freshStore();

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.acquireInstanceLease('acme', 'inst-1', `pump-${i}`, now, until),
        ),
      );

      // Assess
      expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
      expect(outcomes.every((o) => o.lastSendAt === null)).toBe(true);
    });

    it('refuses a live lease, re-grants it after expiry and hands lastSendAt over', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.acquireInstanceLease('acme', 'inst-1', 'pump-a', now, until);
      const renewed = await store.renewInstanceLease(
        'acme',
        'inst-1',
        'pump-a',
        '2025-01-10T12:02:00.000Z',
        '2025-01-10T12:00:40.000Z',
      );

      // Act
      const whileLive = await store.acquireInstanceLease(
        'acme',
        'inst-1',
        'pump-b',
        '2025-01-10T12:01:30.000Z',
        '2025-01-10T12:02:30.000Z',
      );
      const again = await store.acquireInstanceLease(
        'acme',
        'inst-1',
        'pump-a',
        '2025-01-10T12:01:30.000Z',
        until,
      );
      const afterExpiry = await store.acquireInstanceLease(
        'acme',
        'inst-1',
        'pump-b',
        '2025-01-10T12:02:00.001Z',
        '2025-01-10T12:03:00.000Z',
      );
      const lostRenew = await store.renewInstanceLease(
        'acme',
        'inst-1',
        'pump-a',
        '2025-01-10T12:09:00.000Z',
        null,
      );
      const otherInstance = await store.acquireInstanceLease('acme', 'inst-2', 'pump-a', now, until);

      // Assess
      expect(renewed).toBe(true);
      expect(whileLive).toMatchObject({ acquired: false, lastSendAt: '2025-01-10T12:00:40.000Z' });
      expect(again).toMatchObject({ acquired: true, lastSendAt: '2025-01-10T12:00:40.000Z' });
      expect(afterExpiry).toMatchObject({ acquired: true, lastSendAt: '2025-01-10T12:00:40.000Z' });
      expect(lostRenew).toBe(false);
      expect(otherInstance).toMatchObject({ acquired: true, lastSendAt: null });
    });

    it('frees the lease on release, keeps the last send, and ignores a release by a loser', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.acquireInstanceLease('acme', 'inst-1', 'pump-a', now, until);

      // Act
      await store.releaseInstanceLease('acme', 'inst-1', 'pump-b', '2025-01-10T12:59:00.000Z', 'q-b');
      const whileHeld = await store.acquireInstanceLease('acme', 'inst-1', 'pump-b', now, until);
      await store.releaseInstanceLease('acme', 'inst-1', 'pump-a', '2025-01-10T12:00:20.000Z', 'q-a');
      const afterRelease = await store.acquireInstanceLease('acme', 'inst-1', 'pump-b', now, until);
      const renewByOld = await store.renewInstanceLease('acme', 'inst-1', 'pump-a', until, null);

      // Assess
      expect(whileHeld).toMatchObject({ acquired: false, lastSendAt: null });
      expect(afterRelease).toMatchObject({
        acquired: true,
        lastSendAt: '2025-01-10T12:00:20.000Z',
        lastHolderQueueId: 'q-a',
      });
      expect(renewByOld).toBe(false);
    });

    it('remembers the latest waiter, which only that waiter clears', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.acquireInstanceLease('acme', 'inst-1', 'pump-a', now, until);

      // Act
      await store.noteInstanceWaiter('acme', 'inst-1', 'q-b', '2025-01-10T12:00:01.000Z');
      await store.noteInstanceWaiter('acme', 'inst-1', 'q-c', '2025-01-10T12:00:02.000Z');
      await store.noteInstanceWaiter('acme', 'inst-1', 'q-b', null);
      const seen = await store.acquireInstanceLease('acme', 'inst-1', 'pump-z', now, until);
      await store.noteInstanceWaiter('acme', 'inst-1', 'q-c', null);
      const cleared = await store.acquireInstanceLease('acme', 'inst-1', 'pump-a', now, until);

      // Assess
      expect(seen).toMatchObject({
        acquired: false,
        waiter: { queueId: 'q-c', at: '2025-01-10T12:00:02.000Z' },
      });
      expect(cleared).toMatchObject({ acquired: true, waiter: null });
    });
  });

  describe('messages', () => {
    it('stores a message once per id and finds it by instance and gateway id', async () => {
      // Prepare
      const { store } = await freshStore();

      // Act
      await store.recordMessage(message('3EB0ABC#1'));
      await store.recordMessage(message('3EB0ABC#1'));
      const found = await store.getMessage('inst-1', '3EB0ABC#1');
      const otherInstance = await store.getMessage('inst-2', '3EB0ABC#1');

      // Assess
      expect(found).toEqual(message('3EB0ABC#1'));
      expect(otherInstance).toBeUndefined();
      expect(await store.listMessages('acme', '+5511999990000', 10)).toHaveLength(1);
    });

    it('lists the history of one tenant and phone, newest first, up to the limit', async () => {
      // Prepare
      const { store } = await freshStore();
      const times = ['2025-01-10T12:00:00.000Z', '2025-01-10T12:05:00.000Z', '2025-01-10T12:03:00.000Z'];
      for (const [i, at] of times.entries()) await store.recordMessage(message(`m${i}`, { at }));
      await store.recordMessage(message('reply', { at: '2025-01-10T12:06:00.000Z', direction: 'inbound' }));
      await store.recordMessage(message('beta', { tenantId: 'beta', at: '2025-01-10T12:07:00.000Z' }));
      await store.recordMessage(
        message('other-phone', { phone: '+5511888880000', at: '2025-01-10T12:08:00.000Z' }),
      );

      // Act
      const all = await store.listMessages('acme', '+5511999990000', 10);
      const two = await store.listMessages('acme', '+5511999990000', 2);
      const beta = await store.listMessages('beta', '+5511999990000', 10);

      // Assess
      expect(all.map((m) => m.id)).toEqual(['reply', 'm1', 'm2', 'm0']);
      expect(two.map((m) => m.id)).toEqual(['reply', 'm1']);
      expect(beta.map((m) => m.id)).toEqual(['beta']);
      expect(all[0]).toEqual(message('reply', { at: '2025-01-10T12:06:00.000Z', direction: 'inbound' }));
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
