import { describe, expect, it } from 'vitest';
import type { ReceiptRecount } from '../../../lib/ports/store.ts';
import { acmeQueue } from '../../support/acme-queue.ts';
import { createTestClock } from '../../support/local-stack.ts';
import { sent, T0 } from './delivery-watch-store-contract.ts';
import type { MakeStore } from './make-store.ts';

const flag = (queueId: string, checkAt: string): Omit<ReceiptRecount, 'token'> => ({
  queueId,
  tenantId: 'acme',
  checkAt,
});

/** The ReceiptRecountStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeReceiptRecountStoreContract(makeStore: MakeStore): void {
  /** A store whose clock the test moves, holding `queue-1` (4 contacts sent, counted as sent). */
  const storeWithSentQueue = async () => {
    const clock = createTestClock(T0);
    const { store } = await makeStore({ clock });
    await store.createQueue(
      acmeQueue({ totalContacts: 4, createdAt: T0, status: 'running', contactsSent: 4 }),
    );
    await store.putContacts([sent(0), sent(1), sent(2), sent(3)]);
    return { store, clock };
  };

  describe('ReceiptRecountStore contract', () => {
    it('flags a queue once: a second flag keeps the due time and only takes the new token', async () => {
      // Prepare
      const { store } = await makeStore({});

      // Act
      await store.flagReceiptRecount(flag('queue-1', '2025-01-10T12:02:00.000Z'), 'token-1');
      await store.flagReceiptRecount(flag('queue-1', '2025-01-10T12:05:00.000Z'), 'token-2');
      const due = await store.listDueReceiptRecounts('2025-01-10T12:02:00.000Z', 10);
      const notYet = await store.listDueReceiptRecounts('2025-01-10T12:01:59.999Z', 10);

      // Assess
      expect(due).toEqual([{ ...flag('queue-1', '2025-01-10T12:02:00.000Z'), token: 'token-2' }]);
      expect(notYet).toEqual([]);
    });

    it('lists the flags due by now, earliest first, up to the limit', async () => {
      // Prepare
      const { store } = await makeStore({});
      await store.flagReceiptRecount(flag('queue-late', '2025-01-10T12:20:00.000Z'), 't');
      await store.flagReceiptRecount(flag('queue-b', '2025-01-10T12:10:00.000Z'), 't');
      await store.flagReceiptRecount(flag('queue-a', '2025-01-10T12:05:00.000Z'), 't');

      // Act
      const due = await store.listDueReceiptRecounts('2025-01-10T12:10:00.000Z', 10);
      const limited = await store.listDueReceiptRecounts('2025-01-10T12:10:00.000Z', 1);

      // Assess
      expect(due.map((f) => f.queueId)).toEqual(['queue-a', 'queue-b']);
      expect(limited.map((f) => f.queueId)).toEqual(['queue-a']);
    });

    it('reschedules only a flag that exists, and removes one only with its current token', async () => {
      // Prepare
      const { store } = await makeStore({});
      await store.flagReceiptRecount(flag('queue-1', '2025-01-10T12:02:00.000Z'), 'token-1');
      await store.flagReceiptRecount(flag('queue-1', '2025-01-10T12:02:00.000Z'), 'token-2');

      // Act
      const moved = await store.rescheduleReceiptRecount('queue-1', '2025-01-10T12:09:00.000Z');
      const movedMissing = await store.rescheduleReceiptRecount('queue-2', '2025-01-10T12:09:00.000Z');
      const dueBefore = await store.listDueReceiptRecounts('2025-01-10T12:08:00.000Z', 10);
      const staleRemove = await store.removeReceiptRecount('queue-1', 'token-1');
      const remove = await store.removeReceiptRecount('queue-1', 'token-2');

      // Assess
      expect([moved, movedMissing]).toEqual([true, false]);
      expect(dueBefore).toEqual([]);
      expect([staleRemove, remove]).toEqual([false, true]);
      expect(await store.listDueReceiptRecounts('2025-01-10T13:00:00.000Z', 10)).toEqual([]);
    });

    it('tallies what the contacts say against the counters, and when a receipt, an ack or a stall was last written', async () => {
      // Prepare: a delivery counted, a read and a stall whose counters were lost, an acknowledgement
      const { store, clock } = await storeWithSentQueue();
      clock.set('2025-01-10T12:01:00.000Z');
      await store.applyReceipt('queue-1', 0, 'delivered', '2025-01-10T12:00:30.000Z');
      await store.addToQueueCounters('queue-1', { contactsDelivered: 1 });
      clock.set('2025-01-10T12:02:00.000Z');
      await store.applyReceipt('queue-1', 1, 'read', '2025-01-10T12:00:40.000Z');
      clock.set('2025-01-10T12:03:00.000Z');
      await store.recordServerAck('queue-1', 3, '2025-01-10T12:00:50.000Z');
      clock.set('2025-01-10T12:30:00.000Z');
      const receiptsOnly = await store.tallyReceipts('queue-1');
      await store.markContactStalled('queue-1', 2, '2025-01-10T12:31:00.000Z', T0);

      // Act
      const tally = await store.tallyReceipts('queue-1');
      const missing = await store.tallyReceipts('queue-2');

      // Assess: the write times are the store's clock (a stall's, the time it sets), not the
      // receipts' own times
      expect(receiptsOnly?.lastReceiptWriteAt).toBe('2025-01-10T12:03:00.000Z');
      expect(tally).toEqual({
        stored: { delivered: 1, read: 0, stalled: 0, sent: 4, failed: 0, unknown: 0 },
        counted: { delivered: 2, read: 1, stalled: 1, sent: 4, failed: 0, unknown: 0 },
        lastReceiptWriteAt: '2025-01-10T12:31:00.000Z',
        countersVersion: expect.any(String),
        queue: { status: 'running', totalContacts: 4 },
        contactsCounted: 4,
      });
      expect(missing).toBeUndefined();
    });

    it('tallies a queue without receipts as quiet since ever', async () => {
      // Prepare
      const { store } = await storeWithSentQueue();

      // Act
      const tally = await store.tallyReceipts('queue-1');

      // Assess
      expect(tally).toMatchObject({
        stored: { delivered: 0, read: 0, stalled: 0, sent: 4, failed: 0, unknown: 0 },
        counted: { delivered: 0, read: 0, stalled: 0, sent: 4, failed: 0, unknown: 0 },
        lastReceiptWriteAt: null,
      });
    });

    it('corrects the counters only while no counter write came since the tally', async () => {
      // Prepare: a delivery whose counters were lost
      const { store } = await storeWithSentQueue();
      await store.applyReceipt('queue-1', 0, 'delivered', T0);
      const stale = await store.tallyReceipts('queue-1');
      await store.addToQueueCounters('queue-1', { contactsReplied: 1 });
      const fresh = await store.tallyReceipts('queue-1');
      if (!stale || !fresh) throw new Error('queue-1 has no tally');

      // Act
      const overStale = await store.correctReceiptCounters(
        'queue-1',
        { contactsDelivered: 1, contactsRead: 0, contactsStalled: 0 },
        stale.countersVersion,
      );
      const overFresh = await store.correctReceiptCounters(
        'queue-1',
        { contactsDelivered: 1, contactsRead: 0, contactsStalled: 0 },
        fresh.countersVersion,
      );
      const again = await store.correctReceiptCounters(
        'queue-1',
        { contactsDelivered: 1, contactsRead: 0, contactsStalled: 0 },
        fresh.countersVersion,
      );

      // Assess: the one correction over the counters as read is applied, once
      expect([overStale, overFresh, again]).toEqual([false, true, false]);
      const queue = await store.getQueue('queue-1');
      expect([queue?.contactsDelivered, queue?.contactsReplied, queue?.contactsSent]).toEqual([1, 1, 4]);
    });
  });
}
