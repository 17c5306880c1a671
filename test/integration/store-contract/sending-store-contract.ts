import { describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/store/table-schema.ts';
import type {
  BillingContact,
  BillingQueue,
  ConversationMessage,
  MessageRecord,
} from '../../../lib/domain/types.ts';
import type { Clock } from '../../../lib/ports/clock.ts';
import { acmeContact, acmeQueue, KEPT_UNTIL } from '../../support/acme-queue.ts';
import { waitFor } from '../../support/wait-for.ts';
import { expectContactItem, type MakeStore } from './make-store.ts';

export const T0 = '2025-01-10T12:00:00.000Z';

export const fixedClock: Clock = { now: () => new Date('2025-01-10T13:00:00.000Z') };

export const queue = (overrides: Partial<BillingQueue> = {}): BillingQueue =>
  acmeQueue({ totalContacts: 10, createdAt: T0, publishGeneration: 1, ...overrides });

export const contact = (position: number, overrides: Partial<BillingContact> = {}): BillingContact =>
  acmeContact(position, {
    invoiceNumber: null,
    variables: { nome_cliente: `Cliente ${position}` },
    renderedMessage: `Olá Cliente ${position}`,
    createdAt: T0,
    ...overrides,
  });

export const message = (id: string, overrides: Partial<ConversationMessage> = {}): ConversationMessage => ({
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

/** A send's record as the sender passes it to `recordSent`: no text (its contact's rendered message is it). */
export const sendRecord = (id: string, overrides: Partial<ConversationMessage> = {}): MessageRecord =>
  withoutText(message(id, overrides));

/** What `getMessage` and `listMessageRecords` answer for a message: all but its text. */
export const withoutText = ({ text: _, ...record }: ConversationMessage): MessageRecord => record;

/** The SendingStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeSendingStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({ clock: fixedClock });
  /** A store holding queue-1 with `contacts`. */
  async function seeded(contacts: BillingContact[], queueOverrides: Partial<BillingQueue> = {}) {
    const fresh = await freshStore();
    await fresh.store.createQueue(queue(queueOverrides));
    await fresh.store.putContacts(contacts);
    return fresh;
  }

  describe('SendingStore contract', () => {
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

      it('refuses a retry before its retryAt and claims it from then on', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0, { status: 'retry', attempts: 1, retryAt: '2025-01-10T12:05:00.000Z' }),
        ]);

        // Act
        const early = await store.claimContact('queue-1', 0, '2025-01-10T12:04:59.999Z');
        const due = await store.claimContact('queue-1', 0, '2025-01-10T12:05:00.000Z');

        // Assess
        expect(early).toBeUndefined();
        expect(due).toMatchObject({ status: 'sending', attempts: 2 });
        expect(due?.retryAt).toBeUndefined();
        if (tableItem) expectContactItem(await tableItem(keys.contact('queue-1', 0)), 'sending');
      });
    });

    describe('finishContact', () => {
      it('refuses a contact that is not in sending', async () => {
        // Prepare
        const { store } = await seeded([contact(0), contact(1, { status: 'sent' })]);

        // Act
        const pending = await store.finishContact(
          'queue-1',
          0,
          { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: T0 },
          KEPT_UNTIL,
        );
        const sent = await store.finishContact(
          'queue-1',
          1,
          { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: T0 },
          KEPT_UNTIL,
        );
        const missing = await store.finishContact('queue-1', 5, { status: 'pending', at: T0 }, KEPT_UNTIL);

        // Assess
        expect([pending, sent, missing]).toEqual([false, false, false]);
        const statuses = (await store.listContacts('queue-1', { limit: 10 })).items.map((c) => c.status);
        expect(statuses).toEqual(['pending', 'sent']);
      });

      it('records a send, a retry, a failure, an unknown outcome and a release, each in no index', async () => {
        // Prepare
        const { store, tableItem } = await seeded([0, 1, 2, 3, 4].map((p) => contact(p)));
        const at = '2025-01-10T12:02:00.000Z';
        for (const p of [0, 1, 2, 3, 4]) await store.claimContact('queue-1', p, '2025-01-10T12:01:00.000Z');

        // Act
        const results = [
          await store.finishContact(
            'queue-1',
            0,
            {
              status: 'sent',
              providerMessageId: 'ABC',
              at,
            },
            KEPT_UNTIL,
          ),
          await store.finishContact(
            'queue-1',
            1,
            {
              status: 'retry',
              error: 'timeout',
              at,
              retryAt: '2025-01-10T12:10:00.000Z',
            },
            KEPT_UNTIL,
          ),
          await store.finishContact(
            'queue-1',
            2,
            { status: 'failed', error: 'not on WhatsApp', code: 'NOT_ON_WHATSAPP', at },
            KEPT_UNTIL,
          ),
          await store.finishContact(
            'queue-1',
            3,
            { status: 'unknown', error: 'socket hang up', code: 'UNKNOWN_OUTCOME', at },
            KEPT_UNTIL,
          ),
          await store.finishContact('queue-1', 4, { status: 'pending', at }, KEPT_UNTIL),
        ];

        // Assess
        expect(results).toEqual([true, true, true, true, true]);
        const listed = (await store.listContacts('queue-1', { limit: 10 })).items;
        expect(listed[0]).toMatchObject({
          status: 'sent',
          providerMessageId: 'ABC',
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
        if (tableItem) {
          const items = await Promise.all([0, 1, 2, 3, 4].map((p) => tableItem(keys.contact('queue-1', p))));
          ['sent', 'retry', 'failed', 'unknown', 'pending'].forEach((status, p) => {
            expectContactItem(items[p], status);
          });
        }
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
          contact(6, { status: 'retry', retryAt: '2025-01-11T12:00:00.000Z', deferred: true }),
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
          byStatus: { retry: 4, pending: 1, failed: 2 },
          deferred: 1,
          earliestRetryAt: '2025-01-10T12:10:00.000Z',
          sending: [],
        });
        expect(afterClaim.earliestRetryAt).toBe('2025-01-10T12:20:00.000Z');
        expect(afterClaim.byStatus).toMatchObject({ retry: 3, sending: 1 });
        expect(afterClaim.sending.map((c) => [c.position, c.claimedAt])).toEqual([[2, claimed?.claimedAt]]);
        expect(other).toMatchObject({
          byStatus: { pending: 1 },
          deferred: 0,
          earliestRetryAt: null,
          sending: [],
        });
      });

      it('lists the contacts the gateway took and those an attempt ended failed or unknown, in batch order', async () => {
        // Prepare: 0 sent then delivered, 1 failed before any send, 2 sent, 3 unknown, 4 pending.
        const at = '2025-01-10T12:05:00.000Z';
        const { store } = await seeded([contact(0), contact(1), contact(2), contact(3), contact(4)]);
        for (const [position, id] of [
          [2, '3EB0TWO'],
          [0, '3EB0ZERO'],
        ] as const) {
          const claimed = await store.claimContact('queue-1', position, at);
          if (!claimed) throw new Error('a pending contact must be claimable');
          await store.recordSent(
            claimed,
            { status: 'sent', providerMessageId: id, at },
            sendRecord(id, { at }),
            KEPT_UNTIL,
          );
        }
        await store.claimContact('queue-1', 1, at);
        await store.finishContact(
          'queue-1',
          1,
          { status: 'failed', error: 'not on WhatsApp', code: 'NOT_ON_WHATSAPP', at },
          KEPT_UNTIL,
        );
        await store.claimContact('queue-1', 3, at);
        await store.finishContact(
          'queue-1',
          3,
          { status: 'unknown', error: 'timeout', code: 'UNKNOWN_OUTCOME', at },
          KEPT_UNTIL,
        );
        await store.applyReceipt('queue-1', 0, 'delivered', '2025-01-10T12:05:03.000Z');

        // Act
        const summary = await store.summarizeContacts('queue-1');

        // Assess
        expect(summary.byStatus).toMatchObject({ delivered: 1, sent: 1, failed: 1, unknown: 1, pending: 1 });
        expect(summary.sent).toEqual([
          { position: 0, sentAt: at, providerMessageId: '3EB0ZERO' },
          { position: 2, sentAt: at, providerMessageId: '3EB0TWO' },
        ]);
        expect(summary.failed).toEqual([
          { position: 1, status: 'failed', failedAt: at, code: 'NOT_ON_WHATSAPP', error: 'not on WhatsApp' },
          { position: 3, status: 'unknown', failedAt: at, code: 'UNKNOWN_OUTCOME', error: 'timeout' },
        ]);
      });

      it('lists the contacts a payment or an erasure cancelled, with the reason and when, not those of a queue cancel', async () => {
        // Prepare: 2 paid, 0 erased (in that order), then the queue's cancel takes 1 and 3.
        const [paidAt, erasedAt, queueCancelledAt] = [
          '2025-01-10T12:05:00.000Z',
          '2025-01-10T12:06:00.000Z',
          '2025-01-10T12:07:00.000Z',
        ];
        const { store } = await seeded([contact(0), contact(1), contact(2), contact(3)]);
        await store.cancelUnsentContact('queue-1', 2, paidAt, KEPT_UNTIL, 'paid');
        expect(await store.eraseContact('queue-1', 0, erasedAt, KEPT_UNTIL)).toMatchObject({
          outcome: 'erased',
        });
        await store.cancelUnsentContacts('queue-1', queueCancelledAt, KEPT_UNTIL);

        // Act
        const summary = await store.summarizeContacts('queue-1');

        // Assess
        expect(summary.byStatus).toEqual({ cancelled: 4 });
        expect(summary.cancelled).toEqual([
          { position: 0, reason: 'erased', cancelledAt: erasedAt },
          { position: 2, reason: 'paid', cancelledAt: paidAt },
        ]);
      });
    });

    describe('listStuckContacts', () => {
      it('returns the contacts left in sending, confirmed on the base table', async () => {
        // Prepare
        const { store } = await seeded([contact(0), contact(1), contact(2)]);
        await store.claimContact('queue-1', 0, T0);
        await store.claimContact('queue-1', 2, T0);
        await store.finishContact(
          'queue-1',
          0,
          { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: T0 },
          KEPT_UNTIL,
        );

        // Act
        const stuck = await store.listStuckContacts('queue-1');

        // Assess
        expect(stuck.map((c) => c.position)).toEqual([2]);
        expect(stuck[0]?.status).toBe('sending');
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
    });

    describe('addToQueueCounters', () => {
      it('adds the deltas, concurrent ones exactly, and says whether the queue exists', async () => {
        // Prepare
        const { store } = await seeded([], { status: 'running', contactsSent: 3 });

        // Act
        const added = await Promise.all(
          Array.from({ length: 10 }, () => store.addToQueueCounters('queue-1', { contactsDelivered: 1 })),
        );
        const stalled = await store.addToQueueCounters('queue-1', { contactsStalled: 2, contactsSent: 0 });
        const missing = await store.addToQueueCounters('nope', { contactsRead: 1 });

        // Assess
        expect(added.every(Boolean)).toBe(true);
        expect(stalled).toBe(true);
        expect(missing).toBe(false);
        expect(await store.getQueue('queue-1')).toMatchObject({
          status: 'running',
          contactsSent: 3,
          contactsDelivered: 10,
          contactsStalled: 2,
        });
        expect(await store.getQueue('nope')).toBeUndefined();
      });
    });

    describe('getQueueStatus', () => {
      it('answers the status as of the last write, and nothing for a missing queue', async () => {
        // Prepare
        const { store } = await seeded([], { status: 'running' });
        const before = await store.getQueueStatus('queue-1');

        // Act
        await store.transitionQueue('queue-1', ['running'], 'paused', { pausedAt: T0 });

        // Assess
        expect(before).toBe('running');
        expect(await store.getQueueStatus('queue-1')).toBe('paused');
        expect(await store.getQueueStatus('nope')).toBeUndefined();
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
      /** Each pump works for the queue named after it (`pump-a` for `q-a`). */
      const by = (owner: string) => ({ owner, queueId: owner.replace('pump-', 'q-') });
      it('lets exactly one of 20 concurrent pumps take a free lease', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.acquireInstanceLease('acme', 'inst-1', by(`pump-${i}`), now, until),
          ),
        );

        // Assess
        expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
        expect(outcomes.every((o) => o.lastSendAt === null)).toBe(true);
      });

      it('refuses a live lease, re-grants it after expiry and hands lastSendAt over', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.acquireInstanceLease('acme', 'inst-1', by('pump-a'), now, until);
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
          by('pump-b'),
          '2025-01-10T12:01:30.000Z',
          '2025-01-10T12:02:30.000Z',
        );
        const again = await store.acquireInstanceLease(
          'acme',
          'inst-1',
          by('pump-a'),
          '2025-01-10T12:01:30.000Z',
          until,
        );
        const afterExpiry = await store.acquireInstanceLease(
          'acme',
          'inst-1',
          by('pump-b'),
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
        const otherInstance = await store.acquireInstanceLease('acme', 'inst-2', by('pump-a'), now, until);

        // Assess
        expect(renewed).toBe(true);
        expect(whileLive).toMatchObject({
          acquired: false,
          lastSendAt: '2025-01-10T12:00:40.000Z',
          heldBy: { queueId: 'q-a', until: '2025-01-10T12:02:00.000Z' },
        });
        expect(again).toMatchObject({ acquired: true, lastSendAt: '2025-01-10T12:00:40.000Z', heldBy: null });
        expect(afterExpiry).toMatchObject({ acquired: true, lastSendAt: '2025-01-10T12:00:40.000Z' });
        expect(lostRenew).toBe(false);
        expect(otherInstance).toMatchObject({ acquired: true, lastSendAt: null });
      });

      it('frees the lease on release, keeps the last send, and ignores a release by a loser', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.acquireInstanceLease('acme', 'inst-1', by('pump-a'), now, until);

        // Act
        await store.releaseInstanceLease('acme', 'inst-1', 'pump-b', '2025-01-10T12:59:00.000Z', 'q-b');
        const whileHeld = await store.acquireInstanceLease('acme', 'inst-1', by('pump-b'), now, until);
        await store.releaseInstanceLease('acme', 'inst-1', 'pump-a', '2025-01-10T12:00:20.000Z', 'q-a');
        const afterRelease = await store.acquireInstanceLease('acme', 'inst-1', by('pump-b'), now, until);
        const renewByOld = await store.renewInstanceLease('acme', 'inst-1', 'pump-a', until, null);

        // Assess
        expect(whileHeld).toMatchObject({
          acquired: false,
          lastSendAt: null,
          heldBy: { queueId: 'q-a', until },
        });
        expect(afterRelease).toMatchObject({
          acquired: true,
          lastSendAt: '2025-01-10T12:00:20.000Z',
          lastHolderQueueId: 'q-a',
          heldBy: null,
        });
        expect(renewByOld).toBe(false);
      });

      it('tells the latest moment an instance may have sent at: its lease end while held, else its last send', async () => {
        // Prepare
        const { store } = await freshStore();
        const never = await store.lastPossibleSendAt('acme', 'inst-1');
        await store.acquireInstanceLease('acme', 'inst-1', by('pump-a'), now, until);

        // Act
        const whileHeld = await store.lastPossibleSendAt('acme', 'inst-1');
        await store.renewInstanceLease(
          'acme',
          'inst-1',
          'pump-a',
          '2025-01-10T12:02:00.000Z',
          '2025-01-10T12:00:40.000Z',
        );
        const afterRenewal = await store.lastPossibleSendAt('acme', 'inst-1');
        await store.releaseInstanceLease('acme', 'inst-1', 'pump-a', '2025-01-10T12:01:10.000Z', 'q-a');
        const afterRelease = await store.lastPossibleSendAt('acme', 'inst-1');
        await store.noteInstanceWaiter('acme', 'inst-2', 'q-b', now);
        const onlyAWaiter = await store.lastPossibleSendAt('acme', 'inst-2');

        // Assess
        expect(never).toBeNull();
        expect(whileHeld).toBe(until);
        expect(afterRenewal).toBe('2025-01-10T12:02:00.000Z');
        expect(afterRelease).toBe('2025-01-10T12:01:10.000Z');
        expect(onlyAWaiter).toBeNull();
      });

      it('remembers the latest waiter, which only that waiter clears', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.acquireInstanceLease('acme', 'inst-1', by('pump-a'), now, until);

        // Act
        await store.noteInstanceWaiter('acme', 'inst-1', 'q-b', '2025-01-10T12:00:01.000Z');
        await store.noteInstanceWaiter('acme', 'inst-1', 'q-c', '2025-01-10T12:00:02.000Z');
        await store.noteInstanceWaiter('acme', 'inst-1', 'q-b', null);
        const seen = await store.acquireInstanceLease('acme', 'inst-1', by('pump-z'), now, until);
        await store.noteInstanceWaiter('acme', 'inst-1', 'q-c', null);
        const cleared = await store.acquireInstanceLease('acme', 'inst-1', by('pump-a'), now, until);

        // Assess
        expect(seen).toMatchObject({
          acquired: false,
          waiter: { queueId: 'q-c', at: '2025-01-10T12:00:02.000Z' },
        });
        expect(cleared).toMatchObject({ acquired: true, waiter: null });
      });
    });

    describe('messages', () => {
      it('stores a message once per id and finds it by tenant, instance and gateway id', async () => {
        // Prepare
        const { store, tableItem } = await freshStore();

        // Act
        const first = await store.recordMessage(message('3EB0ABC#1'), KEPT_UNTIL);
        const replay = await store.recordMessage(message('3EB0ABC#1'), KEPT_UNTIL);
        const found = await store.getMessage('acme', 'inst-1', '3EB0ABC#1');
        const otherInstance = await store.getMessage('acme', 'inst-2', '3EB0ABC#1');
        const otherTenant = await store.getMessage('beta', 'inst-1', '3EB0ABC#1');

        // Assess
        expect([first, replay]).toEqual([true, false]);
        expect(found).toEqual(withoutText(message('3EB0ABC#1')));
        expect(otherInstance).toBeUndefined();
        expect(otherTenant).toBeUndefined();
        expect(await store.listMessages('acme', '+5511999990000', 10)).toHaveLength(1);
        if (tableItem) expect(await tableItem(keys.message('acme', 'inst-1', '3EB0ABC#1'))).toBeDefined();
      });

      it('never replaces a recorded message with a later one of the same id (a replayed or forged inbound)', async () => {
        // Prepare: our send, then an inbound webhook naming its id.
        const { store } = await freshStore();
        await store.recordMessage(message('3EB0SENT'), KEPT_UNTIL);

        // Act
        const forged = await store.recordMessage(
          message('3EB0SENT', {
            direction: 'inbound',
            text: 'forjada',
            queueId: null,
            contactPosition: null,
          }),
          KEPT_UNTIL,
        );

        // Assess
        expect(forged).toBe(false);
        expect(await store.getMessage('acme', 'inst-1', '3EB0SENT')).toEqual(
          withoutText(message('3EB0SENT')),
        );
      });

      it('keeps two tenants’ messages apart where their instance ids and gateway ids coincide', async () => {
        // Prepare: instance ids are unique only per tenant; beta's instance is also called inst-1.
        const { store } = await freshStore();
        const acme = message('3EB0SAME');
        const beta = message('3EB0SAME', {
          tenantId: 'beta',
          phone: '+5521988887777',
          queueId: 'queue-beta',
          at: '2025-01-10T12:01:00.000Z',
        });
        const betaReply = message('3EB0SAME', {
          tenantId: 'beta',
          direction: 'inbound',
          text: 'SAIR',
          queueId: null,
          contactPosition: null,
        });

        // Act
        const recorded = [
          await store.recordMessage(acme, KEPT_UNTIL),
          await store.recordMessage(beta, KEPT_UNTIL),
          await store.recordMessage(betaReply, KEPT_UNTIL),
        ];

        // Assess
        expect(recorded).toEqual([true, true, false]);
        expect(await store.getMessage('acme', 'inst-1', '3EB0SAME')).toEqual(withoutText(acme));
        expect(await store.getMessage('beta', 'inst-1', '3EB0SAME')).toEqual(withoutText(beta));
        expect(await store.listMessages('acme', '+5511999990000', 10)).toEqual([acme]);
        expect(await store.listMessages('beta', '+5521988887777', 10)).toEqual([beta]);
      });

      it('keeps a send’s text once, on its contact: the history reads it there, the records go without', async () => {
        // Prepare: a claimed contact, and the debtor's reply recorded with its own text.
        const rendered = 'Olá Cliente 0, a fatura 2025-001 de R$ 10,00 venceu. PIX: 000201...';
        const { store, tableItem } = await seeded([contact(0, { renderedMessage: rendered })]);
        const at = '2025-01-10T12:01:00.000Z';
        const claimed = await store.claimContact('queue-1', 0, at);
        if (!claimed) throw new Error('claim failed');
        const reply = message('reply', {
          at: '2025-01-10T12:02:00.000Z',
          direction: 'inbound',
          text: 'paguei',
        });

        // Act
        await store.recordSent(
          claimed,
          { status: 'sent', providerMessageId: '3EB0SENT', at },
          sendRecord('3EB0SENT', { at }),
          KEPT_UNTIL,
        );
        await store.recordMessage(reply, KEPT_UNTIL);
        const history = await store.listMessages('acme', '+5511999990000', 10);
        const records = await store.listMessageRecords('acme', '+5511999990000', 10);

        // Assess
        expect(history).toEqual([reply, { ...sendRecord('3EB0SENT', { at }), text: rendered }]);
        expect(records).toEqual([withoutText(reply), sendRecord('3EB0SENT', { at })]);
        expect(await store.getMessage('acme', 'inst-1', '3EB0SENT')).toEqual(sendRecord('3EB0SENT', { at }));
        if (tableItem) {
          expect(await tableItem(keys.message('acme', 'inst-1', '3EB0SENT'))).not.toHaveProperty('text');
        }
      });

      it('lists the history of one tenant and phone, newest first, up to the limit', async () => {
        // Prepare
        const { store } = await freshStore();
        const times = ['2025-01-10T12:00:00.000Z', '2025-01-10T12:05:00.000Z', '2025-01-10T12:03:00.000Z'];
        for (const [i, at] of times.entries())
          await store.recordMessage(message(`m${i}`, { at }), KEPT_UNTIL);
        await store.recordMessage(
          message('reply', { at: '2025-01-10T12:06:00.000Z', direction: 'inbound' }),
          KEPT_UNTIL,
        );
        await store.recordMessage(
          message('beta', { tenantId: 'beta', at: '2025-01-10T12:07:00.000Z' }),
          KEPT_UNTIL,
        );
        await store.recordMessage(
          message('other-phone', { phone: '+5511888880000', at: '2025-01-10T12:08:00.000Z' }),
          KEPT_UNTIL,
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

    describe('listRemindersSince', () => {
      it('lists when a phone was sent reminders of the given types since a time, newest first', async () => {
        // Prepare
        const { store } = await freshStore();
        const at = (minute: number) => `2025-01-10T12:${String(minute).padStart(2, '0')}:00.000Z`;
        await store.recordMessage(message('old', { at: at(0) }), KEPT_UNTIL);
        await store.recordMessage(message('overdue', { at: at(10) }), KEPT_UNTIL);
        await store.recordMessage(message('upcoming', { at: at(20), templateType: 'upcoming' }), KEPT_UNTIL);
        await store.recordMessage(
          message('notice', { at: at(25), templateType: 'notification' }),
          KEPT_UNTIL,
        );
        await store.recordMessage(message('reply', { at: at(30), direction: 'inbound' }), KEPT_UNTIL);
        await store.recordMessage(message('beta', { tenantId: 'beta', at: at(31) }), KEPT_UNTIL);
        await store.recordMessage(
          message('other-phone', { phone: '+5511888880000', at: at(32) }),
          KEPT_UNTIL,
        );

        // Act: eventually consistent, as the history index is
        const reminders = await waitFor(
          async () => {
            const found = await store.listRemindersSince('acme', '+5511999990000', at(10), [
              'overdue',
              'upcoming',
            ]);
            return found.length === 2 ? found : undefined;
          },
          { timeoutMs: 5_000, what: 'the reminders to be listed' },
        );
        const notices = await store.listRemindersSince('acme', '+5511999990000', at(0), ['notification']);
        const none = await store.listRemindersSince('acme', '+5511999990000', at(0), []);

        // Assess: a reply quoting a reminder carries its type but is no reminder
        expect(reminders).toEqual([at(20), at(10)]);
        expect(notices).toEqual([at(25)]);
        expect(none).toEqual([]);
      });
    });

    describe('skipOptedOutContact', () => {
      it('skips a pending or retry contact without a claim and says which it was', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0),
          contact(1, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z', attempts: 1 }),
          contact(2, { status: 'sending' }),
        ]);

        // Act
        const results = [
          await store.skipOptedOutContact('queue-1', 0, T0, KEPT_UNTIL),
          await store.skipOptedOutContact('queue-1', 1, T0, KEPT_UNTIL),
          await store.skipOptedOutContact('queue-1', 2, T0, KEPT_UNTIL),
          await store.skipOptedOutContact('queue-1', 0, T0, KEPT_UNTIL),
        ];

        // Assess
        expect(results).toEqual(['pending', 'retry', undefined, undefined]);
        const skipped = await store.getContact('queue-1', 1);
        expect(skipped).toMatchObject({ status: 'skipped_opt_out', attempts: 1 });
        expect(skipped?.retryAt).toBeUndefined();
        expect((await store.getContact('queue-1', 2))?.status).toBe('sending');
        if (tableItem) {
          expectContactItem(await tableItem(keys.contact('queue-1', 1)), 'skipped_opt_out');
        }
      });
    });

    describe('deferContact', () => {
      it('holds a pending or retry contact back until a time without an attempt, and says how it waited', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0),
          contact(1, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z', attempts: 1 }),
          contact(2, { status: 'sending' }),
          contact(3, { status: 'sent' }),
        ]);
        const until = '2025-01-11T12:00:00.000Z';

        // Act
        const results = [
          await store.deferContact('queue-1', 0, until, T0),
          await store.deferContact('queue-1', 1, until, T0),
          await store.deferContact('queue-1', 2, until, T0),
          await store.deferContact('queue-1', 3, until, T0),
          await store.deferContact('queue-1', 0, '2025-01-11T13:00:00.000Z', T0),
        ];

        // Assess: deferred again, it says so; claimed or sent contacts stay as they are
        expect(results).toEqual(['pending', 'retry', undefined, undefined, 'deferred']);
        expect(await store.getContact('queue-1', 0)).toMatchObject({
          status: 'retry',
          retryAt: '2025-01-11T13:00:00.000Z',
          deferred: true,
          attempts: 0,
        });
        expect(await store.getContact('queue-1', 1)).toMatchObject({
          status: 'retry',
          deferred: true,
          attempts: 1,
        });
        expect((await store.getContact('queue-1', 2))?.status).toBe('sending');
        if (tableItem) {
          expectContactItem(await tableItem(keys.contact('queue-1', 1)), 'retry');
        }
        expect(await store.listSendableContacts('queue-1', '2025-01-11T11:59:59.999Z', 10)).toEqual([]);
        expect((await store.listSendableContacts('queue-1', until, 10)).map((c) => c.position)).toEqual([1]);
        expect((await store.summarizeContacts('queue-1')).deferred).toBe(2);
      });

      it('keeps the mark through the claim, and the attempt’s result clears it', async () => {
        // Prepare
        const until = '2025-01-11T12:00:00.000Z';
        const { store } = await seeded([contact(0), contact(1), contact(2)]);
        for (const position of [0, 1, 2]) await store.deferContact('queue-1', position, until, T0);

        // Act
        const claimed = await Promise.all([0, 1, 2].map((p) => store.claimContact('queue-1', p, until)));
        const [first, second, third] = claimed;
        if (!first || !second || !third) throw new Error('a due deferred contact must be claimable');
        await store.recordSent(
          first,
          { status: 'sent', providerMessageId: '3EB0D', at: until },
          sendRecord('3EB0D', { at: until }),
          KEPT_UNTIL,
        );
        await store.finishContact(
          'queue-1',
          1,
          { status: 'retry', error: 'Connection Closed', at: until, retryAt: '2025-01-11T12:01:00.000Z' },
          null,
        );
        await store.skipOptedOutContact('queue-1', 2, until, KEPT_UNTIL);

        // Assess
        expect(claimed.map((c) => c?.deferred)).toEqual([true, true, true]);
        expect((await store.getContact('queue-1', 0))?.deferred).toBeUndefined();
        expect(await store.getContact('queue-1', 1)).toMatchObject({ status: 'retry', attempts: 1 });
        expect((await store.getContact('queue-1', 1))?.deferred).toBeUndefined();
        expect((await store.getContact('queue-1', 2))?.status).toBe('sending');
        expect((await store.summarizeContacts('queue-1')).deferred).toBe(0);
      });

      it('says a deferred contact skipped for an opt-out was deferred', async () => {
        // Prepare
        const { store } = await seeded([contact(0)]);
        await store.deferContact('queue-1', 0, '2025-01-11T12:00:00.000Z', T0);

        // Act
        const was = await store.skipOptedOutContact('queue-1', 0, T0, KEPT_UNTIL);

        // Assess
        expect(was).toBe('deferred');
        expect((await store.getContact('queue-1', 0))?.deferred).toBeUndefined();
      });
    });

    describe('cancelUnsentContacts', () => {
      it('cancels pending and retry contacts and leaves sent and sending ones alone', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0, { status: 'sent' }),
          contact(1),
          contact(2, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z' }),
          contact(3, { status: 'sending' }),
          contact(4, { status: 'failed' }),
          ...Array.from({ length: 30 }, (_, i) => contact(5 + i)),
          contact(35, { status: 'retry', retryAt: '2025-01-11T12:00:00.000Z', deferred: true }),
        ]);
        const at = '2025-01-10T12:40:00.000Z';

        // Act
        const changed = await store.cancelUnsentContacts('queue-1', at, KEPT_UNTIL);
        const again = await store.cancelUnsentContacts('queue-1', at, KEPT_UNTIL);

        // Assess: a deferred contact waited in retry too
        expect(changed).toEqual({ cancelled: 33, fromRetry: 2, fromDeferred: 1 });
        expect(again).toEqual({ cancelled: 0, fromRetry: 0, fromDeferred: 0 });
        expect((await store.getContact('queue-1', 35))?.deferred).toBeUndefined();
        const listed = (await store.listContacts('queue-1', { limit: 100 })).items;
        expect(listed.slice(0, 5).map((c) => c.status)).toEqual([
          'sent',
          'cancelled',
          'cancelled',
          'sending',
          'failed',
        ]);
        expect(listed.filter((c) => c.status === 'cancelled')).toHaveLength(33);
        expect(listed[1]?.updatedAt).toBe(at);
        if (tableItem) expectContactItem(await tableItem(keys.contact('queue-1', 2)), 'cancelled');
        expect((await store.summarizeContacts('queue-1')).earliestRetryAt).toBeNull();
      });
    });

    describe('recordSent', () => {
      it('writes the claimed contact as sent and its message together, findable by the gateway id', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0, { status: 'retry', retryAt: T0, attempts: 1 }),
        ]);
        const at = '2025-01-10T12:01:00.000Z';
        const claimed = await store.claimContact('queue-1', 0, at);
        if (!claimed) throw new Error('claim failed');

        // Act
        await store.recordSent(
          claimed,
          { status: 'sent', providerMessageId: '3EB0SENT', at },
          sendRecord('3EB0SENT', { at }),
          KEPT_UNTIL,
        );

        // Assess
        const item = await store.getContact('queue-1', 0);
        expect(item).toMatchObject({
          status: 'sent',
          providerMessageId: '3EB0SENT',
          sentAt: at,
          attempts: 2,
          lastError: null,
        });
        expect(item?.retryAt).toBeUndefined();
        if (tableItem) expectContactItem(await tableItem(keys.contact('queue-1', 0)), 'sent');
        expect(await store.getMessage('acme', 'inst-1', '3EB0SENT')).toMatchObject({
          queueId: 'queue-1',
          contactPosition: 0,
        });
        expect((await store.listContacts('queue-1', { status: 'sent', limit: 10 })).items).toHaveLength(1);
      });

      it('leaves a contact whose claim was settled by another pump as that pump decided, but keeps the message', async () => {
        // Prepare: pump A claims; its claim is taken for abandoned and settled `unknown` by pump B.
        const { store } = await seeded([contact(0)]);
        const at = '2025-01-10T12:01:00.000Z';
        const claimed = await store.claimContact('queue-1', 0, at);
        if (!claimed) throw new Error('claim failed');
        const settled = await store.finishContact(
          'queue-1',
          0,
          {
            status: 'unknown',
            error: 'envio interrompido',
            code: 'UNKNOWN_OUTCOME',
            at: '2025-01-10T12:02:00.000Z',
          },
          KEPT_UNTIL,
          claimed.claimedAt ?? undefined,
        );

        // Act: pump A's send comes back late.
        const recorded = await store.recordSent(
          claimed,
          { status: 'sent', providerMessageId: '3EB0LATE', at },
          sendRecord('3EB0LATE', { at }),
          KEPT_UNTIL,
        );
        const lateFinish = await store.finishContact(
          'queue-1',
          0,
          { status: 'retry', error: 'x', at, retryAt: at },
          KEPT_UNTIL,
          claimed.claimedAt ?? undefined,
        );

        // Assess
        expect(settled).toBe(true);
        expect(recorded).toBe(false);
        expect(lateFinish).toBe(false);
        expect((await store.getContact('queue-1', 0))?.status).toBe('unknown');
        expect(await store.getMessage('acme', 'inst-1', '3EB0LATE')).toMatchObject({ contactPosition: 0 });
      });

      it('records a send of another tenant with the same instance id and gateway id beside, not over, the first', async () => {
        // Prepare: two tenants' queues, each sending through an instance they both call inst-1.
        const { store } = await seeded([contact(0)]);
        await store.createQueue(queue({ id: 'queue-beta', tenantId: 'beta', campaignId: 'camp-beta' }));
        await store.putContacts([contact(0, { queueId: 'queue-beta', tenantId: 'beta' })]);
        const at = '2025-01-10T12:01:00.000Z';
        const sent = { status: 'sent' as const, providerMessageId: '3EB0TWIN', at };

        // Act
        for (const [tenantId, queueId] of [
          ['acme', 'queue-1'],
          ['beta', 'queue-beta'],
        ] as const) {
          const claimed = await store.claimContact(queueId, 0, at);
          if (!claimed) throw new Error(`claim of ${queueId} failed`);
          await store.recordSent(
            claimed,
            sent,
            sendRecord('3EB0TWIN', { tenantId, queueId, at }),
            KEPT_UNTIL,
          );
        }

        // Assess
        expect(await store.getMessage('acme', 'inst-1', '3EB0TWIN')).toMatchObject({ queueId: 'queue-1' });
        expect(await store.getMessage('beta', 'inst-1', '3EB0TWIN')).toMatchObject({ queueId: 'queue-beta' });
      });

      it('refuses to record a send for a contact claimed again by a newer claim', async () => {
        // Prepare: an old claim settled as retry, then claimed again by another pump.
        const { store } = await seeded([contact(0)]);
        const first = await store.claimContact('queue-1', 0, '2025-01-10T12:01:00.000Z');
        if (!first) throw new Error('claim failed');
        await store.finishContact(
          'queue-1',
          0,
          {
            status: 'retry',
            error: 'x',
            at: '2025-01-10T12:02:00.000Z',
            retryAt: '2025-01-10T12:02:00.000Z',
          },
          KEPT_UNTIL,
        );
        const second = await store.claimContact('queue-1', 0, '2025-01-10T12:03:00.000Z');

        // Act
        const recorded = await store.recordSent(
          first,
          { status: 'sent', providerMessageId: '3EB0OLD', at: T0 },
          sendRecord('3EB0OLD'),
          KEPT_UNTIL,
        );

        // Assess
        expect(second?.status).toBe('sending');
        expect(recorded).toBe(false);
        expect(await store.getContact('queue-1', 0)).toMatchObject({
          status: 'sending',
          claimedAt: '2025-01-10T12:03:00.000Z',
        });
      });
    });
  });
}
