import { describe, expect, it } from 'vitest';
import type { BillingContact } from '../../../lib/domain/types.ts';
import type { DeliveryWatch } from '../../../lib/ports/store.ts';
import { acmeContact } from '../../support/acme-queue.ts';
import type { MakeStore } from './make-store.ts';

export const T0 = '2025-01-10T12:00:00.000Z';

const watch = (queueId: string, checkAt: string): Omit<DeliveryWatch, 'fromPosition' | 'token'> => ({
  queueId,
  tenantId: 'acme',
  templateType: 'overdue',
  checkAt,
});

export const sent = (position: number, overrides: Partial<BillingContact> = {}): BillingContact =>
  acmeContact(position, {
    invoiceNumber: null,
    variables: {},
    renderedMessage: 'Olá',
    createdAt: T0,
    status: 'sent',
    attempts: 1,
    providerMessageId: `3EB0${position}`,
    sentAt: T0,
    ...overrides,
  });

/** The DeliveryWatchStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeDeliveryWatchStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({});

  describe('DeliveryWatchStore contract', () => {
    it('arms a watch once: a second arm keeps its due time and start, and only takes the new token', async () => {
      // Prepare
      const { store } = await freshStore();

      // Act
      const first = await store.armDeliveryWatch(watch('queue-1', '2025-01-10T12:15:00.000Z'), 'token-1');
      await store.rescheduleDeliveryWatch('queue-1', '2025-01-10T12:30:00.000Z', 3);
      const second = await store.armDeliveryWatch(watch('queue-1', '2025-01-10T13:00:00.000Z'), 'token-2');

      // Assess
      expect(first).toEqual({
        ...watch('queue-1', '2025-01-10T12:15:00.000Z'),
        fromPosition: 0,
        token: 'token-1',
      });
      expect(second).toEqual({
        ...watch('queue-1', '2025-01-10T12:30:00.000Z'),
        fromPosition: 3,
        token: 'token-2',
      });
      expect(await store.getDeliveryWatch('queue-1')).toEqual(second);
      expect(await store.getDeliveryWatch('queue-2')).toBeUndefined();
    });

    it('lists the watches due by now, earliest first, up to the limit', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.armDeliveryWatch(watch('queue-late', '2025-01-10T12:20:00.000Z'), 't');
      await store.armDeliveryWatch(watch('queue-b', '2025-01-10T12:10:00.000Z'), 't');
      await store.armDeliveryWatch(watch('queue-a', '2025-01-10T12:05:00.000Z'), 't');
      await store.armDeliveryWatch(watch('queue-c', '2025-01-10T12:10:00.000Z'), 't');

      // Act
      const due = await store.listDueDeliveryWatches('2025-01-10T12:10:00.000Z', 10);
      const limited = await store.listDueDeliveryWatches('2025-01-10T12:10:00.000Z', 2);

      // Assess
      expect(due.map((w) => w.queueId)).toEqual(['queue-a', 'queue-b', 'queue-c']);
      expect(limited.map((w) => w.queueId)).toEqual(['queue-a', 'queue-b']);
    });

    it('removes a watch only with its current token, and reschedules only one that exists', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.armDeliveryWatch(watch('queue-1', '2025-01-10T12:15:00.000Z'), 'token-1');
      await store.armDeliveryWatch(watch('queue-1', '2025-01-10T12:15:00.000Z'), 'token-2');

      // Act
      const stale = await store.removeDeliveryWatch('queue-1', 'token-1');
      const current = await store.removeDeliveryWatch('queue-1', 'token-2');
      const again = await store.removeDeliveryWatch('queue-1', 'token-2');
      const rescheduled = await store.rescheduleDeliveryWatch('queue-1', '2025-01-10T13:00:00.000Z', 1);

      // Assess
      expect([stale, current, again, rescheduled]).toEqual([false, true, false, false]);
      expect(await store.getDeliveryWatch('queue-1')).toBeUndefined();
      expect(await store.listDueDeliveryWatches('2025-01-11T00:00:00.000Z', 10)).toEqual([]);
    });

    it("lists a queue's contact deliveries from a position on, in batch order", async () => {
      // Prepare
      const { store } = await freshStore();
      await store.putContacts([
        sent(0),
        sent(1, { serverAckAt: '2025-01-10T12:00:01.000Z' }),
        sent(2, { status: 'pending', providerMessageId: null, sentAt: null }),
        sent(3, { stalledAt: '2025-01-10T12:20:00.000Z' }),
      ]);

      // Act
      const fromOne = await store.listContactDeliveries('queue-1', 1);
      const pastTheEnd = await store.listContactDeliveries('queue-1', 10_000);

      // Assess
      expect(fromOne).toEqual([
        {
          position: 1,
          status: 'sent',
          sentAt: T0,
          serverAckAt: '2025-01-10T12:00:01.000Z',
          stalledAt: null,
          providerMessageId: '3EB01',
        },
        {
          position: 2,
          status: 'pending',
          sentAt: null,
          serverAckAt: null,
          stalledAt: null,
          providerMessageId: null,
        },
        {
          position: 3,
          status: 'sent',
          sentAt: T0,
          serverAckAt: null,
          stalledAt: '2025-01-10T12:20:00.000Z',
          providerMessageId: '3EB03',
        },
      ]);
      expect(pastTheEnd).toEqual([]);
    });

    it('marks a sent contact stalled once, only when sent early enough and never acknowledged', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.putContacts([
        sent(0),
        sent(1, { sentAt: '2025-01-10T12:10:00.000Z' }),
        sent(2, { status: 'delivered' }),
      ]);

      // Act
      // Sent at or before 12:05, checked at 12:20 (a second check at 12:21).
      const mark = (position: number, at = '2025-01-10T12:20:00.000Z') =>
        store.markContactStalled('queue-1', position, at, '2025-01-10T12:05:00.000Z');
      const stalled = await mark(0);
      const twice = await mark(0, '2025-01-10T12:21:00.000Z');
      const tooRecent = await mark(1);
      const delivered = await mark(2);
      const missing = await mark(9);

      // Assess
      expect([stalled, twice, tooRecent, delivered, missing]).toEqual([true, false, false, false, false]);
      expect((await store.getContact('queue-1', 0))?.stalledAt).toBe('2025-01-10T12:20:00.000Z');
    });

    it('records the first server acknowledgement of a sent contact and says whether it ended a stall', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.putContacts([sent(0), sent(1), sent(2, { status: 'read' })]);
      await store.markContactStalled('queue-1', 1, '2025-01-10T12:20:00.000Z', T0);

      // Act
      const acked = await store.recordServerAck('queue-1', 0, '2025-01-10T12:01:00.000Z');
      const again = await store.recordServerAck('queue-1', 0, '2025-01-10T12:02:00.000Z');
      const endedStall = await store.recordServerAck('queue-1', 1, '2025-01-10T12:25:00.000Z');
      const read = await store.recordServerAck('queue-1', 2, '2025-01-10T12:01:00.000Z');
      const missing = await store.recordServerAck('queue-1', 9, '2025-01-10T12:01:00.000Z');

      // Assess
      expect(acked).toEqual({ recorded: true, wasStalled: false });
      expect(again).toEqual({ recorded: false, current: 'sent' });
      expect(endedStall).toEqual({ recorded: true, wasStalled: true });
      expect(read).toEqual({ recorded: false, current: 'read' });
      expect(missing).toEqual({ recorded: false, current: undefined });
      expect(await store.getContact('queue-1', 0)).toMatchObject({
        status: 'sent',
        serverAckAt: '2025-01-10T12:01:00.000Z',
      });
    });
  });
}
