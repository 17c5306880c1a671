import { describe, expect, it } from 'vitest';
import { keys } from '../../../lib/adapters/store/table-schema.ts';
import { receiptDeltas } from '../../../lib/app/apply-receipt.ts';
import type { BillingContact, BillingQueue, OptOut, ReceiptStatus } from '../../../lib/domain/types.ts';
import type { Clock } from '../../../lib/ports/clock.ts';
import { acmeContact, acmeQueue, KEPT_UNTIL } from '../../support/acme-queue.ts';
import { expectContactItem, type MakeStore } from './make-store.ts';

export const T0 = '2025-01-10T12:00:00.000Z';

export const fixedClock: Clock = { now: () => new Date('2025-01-10T13:00:00.000Z') };

export const queue: BillingQueue = acmeQueue({
  externalId: 'fatura-1',
  templateType: 'notification',
  status: 'running',
  totalContacts: 2,
  contactsSent: 2,
  createdAt: T0,
  startedAt: T0,
  publishGeneration: 1,
});

export const contact = (position: number, status: BillingContact['status']): BillingContact =>
  acmeContact(position, {
    invoiceNumber: null,
    variables: {},
    renderedMessage: 'Olá',
    status,
    attempts: status === 'pending' ? 0 : 1,
    providerMessageId: status === 'sent' ? `3EB0${position}` : null,
    sentAt: status === 'sent' ? T0 : null,
    createdAt: T0,
  });

export const optOut = (phone: string, at: string, tenantId = 'acme'): OptOut => ({
  tenantId,
  phone,
  source: 'api',
  reason: `motivo ${phone}`,
  at,
});

/** The FeedbackStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeFeedbackStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({ clock: fixedClock });

  describe('FeedbackStore contract', () => {
    describe('receipts', () => {
      it('never moves a read contact back to delivered', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putContacts([contact(0, 'sent')]);
        await store.applyReceipt('queue-1', 0, 'read', '2025-01-10T12:00:01.000Z');

        // Act
        const late = await store.applyReceipt('queue-1', 0, 'delivered', '2025-01-10T12:00:02.000Z');

        // Assess
        expect(late).toEqual({ applied: false, current: 'read' });
        const [listed] = (await store.listContacts('queue-1', { limit: 10 })).items;
        expect(listed).toMatchObject({
          status: 'read',
          readAt: '2025-01-10T12:00:01.000Z',
          deliveredAt: null,
        });
      });

      it('refuses a receipt while the contact is still sending, and for a missing contact', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putContacts([contact(0, 'sending')]);

        // Act
        const early = await store.applyReceipt('queue-1', 0, 'delivered', T0);
        const missing = await store.applyReceipt('queue-1', 7, 'delivered', T0);

        // Assess
        expect(early).toEqual({ applied: false, current: 'sending' });
        expect(missing).toEqual({ applied: false, current: undefined });
      });

      it('records a failure reported after the send, and only from sent', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putContacts([contact(0, 'sent'), contact(1, 'sent')]);
        await store.applyReceipt('queue-1', 1, 'delivered', T0);

        // Act
        const failed = await store.applyReceipt('queue-1', 0, 'failed', T0, 'falhou');
        const afterDelivery = await store.applyReceipt('queue-1', 1, 'failed', T0, 'falhou');

        // Assess
        const zero = contact(0, 'sent');
        expect(failed).toEqual({
          applied: true,
          previous: 'sent',
          wasStalled: false,
          // What the receipt's callback events say of the contact, as the write found it.
          contact: { phone: zero.phone, name: zero.name, invoiceNumber: null, providerMessageId: '3EB00' },
        });
        expect(afterDelivery).toEqual({ applied: false, current: 'delivered' });
        const items = (await store.listContacts('queue-1', { limit: 10 })).items;
        expect(items[0]).toMatchObject({ status: 'failed', lastError: 'falhou', lastErrorAt: T0 });
      });

      it('answers an applied receipt with the contact as the write found it, invoice number included', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putContacts([{ ...contact(0, 'sent'), name: 'Ana Lima', invoiceNumber: 'NF-7' }]);

        // Act
        const delivered = await store.applyReceipt('queue-1', 0, 'delivered', T0);

        // Assess
        expect(delivered).toMatchObject({
          applied: true,
          contact: { name: 'Ana Lima', invoiceNumber: 'NF-7', providerMessageId: '3EB00' },
        });
        if (delivered.applied) expect(delivered.contact.phone).toBe(contact(0, 'sent').phone);
      });

      it('marks a contact replied exactly once under 10 concurrent replies', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putContacts([contact(0, 'read')]);

        // Act
        const marks = await Promise.all(
          Array.from({ length: 10 }, () => store.markContactReplied('queue-1', 0, T0)),
        );
        const missing = await store.markContactReplied('queue-1', 9, T0);

        // Assess
        expect(marks.filter(Boolean)).toHaveLength(1);
        expect(missing).toBe(false);
      });

      it('moves a sent contact forward only under 20 concurrent mixed receipts and counts each step once', async () => {
        // Prepare
        const { store, tableItem } = await freshStore();
        await store.createQueue(queue);
        await store.putContacts([contact(0, 'sent')]);
        const receipts: ReceiptStatus[] = Array.from({ length: 20 }, (_, i) =>
          i % 3 === 0 ? 'read' : 'delivered',
        );

        // Act
        const writes = await Promise.all(
          receipts.map((receipt, i) =>
            store.applyReceipt('queue-1', 0, receipt, `2025-01-10T12:00:${String(i).padStart(2, '0')}.000Z`),
          ),
        );
        for (const [i, write] of writes.entries()) {
          if (write.applied)
            await store.updateQueueProgress(
              'queue-1',
              receiptDeltas(write.previous, receipts[i] as ReceiptStatus),
            );
        }

        // Assess
        const after = await store.getQueue('queue-1');
        expect((await store.getContact('queue-1', 0))?.status).toBe('read');
        if (tableItem) expectContactItem(await tableItem(keys.contact('queue-1', 0)), 'read');
        expect(after).toMatchObject({ contactsDelivered: 1, contactsRead: 1, contactsSent: 2 });
        expect(writes.filter((w) => w.applied).length).toBeLessThanOrEqual(2);
        expect(writes.filter((w) => !w.applied).every((w) => !w.applied && w.current !== 'sent')).toBe(true);
      });

      it('moves an unknown contact whose message a receipt reports to delivered, then read, counting it sent, taking its message id and dropping the unknown outcome', async () => {
        // Prepare: a send whose record was cut off (the contact settled unknown, its message kept)
        const { store } = await freshStore();
        await store.createQueue(queue);
        await store.putContacts([
          {
            ...contact(0, 'unknown'),
            lastError: 'resultado desconhecido: timeout',
            lastErrorAt: '2025-01-10T12:00:00.500Z',
            lastErrorCode: 'UNKNOWN_OUTCOME',
          },
        ]);
        await store.updateQueueProgress('queue-1', { contactsUnknown: 1 });
        const before = await store.getQueue('queue-1');

        // Act
        const send = { providerMessageId: '3EB0UNKNOWN', sentAt: '2025-01-10T12:00:00.000Z' };
        const delivered = await store.applyReceipt(
          'queue-1',
          0,
          'delivered',
          '2025-01-10T12:00:01.000Z',
          undefined,
          send,
        );
        if (delivered.applied)
          await store.updateQueueProgress('queue-1', receiptDeltas(delivered.previous, 'delivered'));
        const read = await store.applyReceipt('queue-1', 0, 'read', '2025-01-10T12:00:02.000Z', undefined, {
          providerMessageId: 'ANOTHER',
          sentAt: '2025-01-10T12:00:02.000Z',
        });
        if (read.applied) await store.updateQueueProgress('queue-1', receiptDeltas(read.previous, 'read'));

        // Assess
        expect({ delivered: delivered.applied, read: read.applied }).toEqual({ delivered: true, read: true });
        // The message's id and time filled in once, by the first receipt; the second kept them. The
        // unknown outcome's error goes, as a send's record drops it.
        expect(await store.getContact('queue-1', 0)).toMatchObject({
          status: 'read',
          providerMessageId: '3EB0UNKNOWN',
          sentAt: '2025-01-10T12:00:00.000Z',
          lastError: null,
          lastErrorAt: null,
        });
        const after = await store.getQueue('queue-1');
        const moved = (counter: 'contactsUnknown' | 'contactsSent' | 'contactsDelivered' | 'contactsRead') =>
          (after?.[counter] ?? 0) - (before?.[counter] ?? 0);
        expect({
          unknown: moved('contactsUnknown'),
          sent: moved('contactsSent'),
          delivered: moved('contactsDelivered'),
          read: moved('contactsRead'),
        }).toEqual({ unknown: -1, sent: 1, delivered: 1, read: 1 });
      });

      it('releases a claimed contact as skipped_opt_out, giving the attempt back', async () => {
        // Prepare
        const { store, tableItem } = await freshStore();
        await store.putContacts([contact(0, 'pending')]);
        await store.claimContact('queue-1', 0, T0);

        // Act
        const released = await store.finishContact(
          'queue-1',
          0,
          { status: 'skipped_opt_out', at: T0 },
          KEPT_UNTIL,
        );

        // Assess
        expect(released).toBe(true);
        expect(await store.getContact('queue-1', 0)).toMatchObject({
          status: 'skipped_opt_out',
          attempts: 0,
        });
        if (tableItem) {
          expectContactItem(await tableItem(keys.contact('queue-1', 0)), 'skipped_opt_out');
        }
      });
    });

    describe('opt-outs', () => {
      it('keeps the first opt-out of a phone and reads it back', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const first = await store.putOptOut(optOut('+5511999990001', T0));
        const again = await store.putOptOut({
          ...optOut('+5511999990001', '2025-01-11T00:00:00.000Z'),
          reason: 'outro',
        });
        const read = await store.getOptOut('acme', '+5511999990001');

        // Assess
        expect([first, again]).toEqual(['created', 'exists']);
        expect(read).toEqual(optOut('+5511999990001', T0));
        expect(await store.getOptOut('other', '+5511999990001')).toBeUndefined();
      });

      it("moves the tenant's opt-out stamp with every opt-out stored, a repeat included, and no other tenant's", async () => {
        // Prepare
        const { store } = await freshStore();
        const stamps = [await store.optOutStamp('acme')];
        const other = await store.optOutStamp('other');

        // Act
        await store.putOptOut(optOut('+5511999990001', T0));
        stamps.push(await store.optOutStamp('acme'));
        await store.putOptOut(optOut('+5511999990002', T0));
        stamps.push(await store.optOutStamp('acme'));
        await store.putOptOut(optOut('+5511999990002', T0));
        stamps.push(await store.optOutStamp('acme'));
        await store.deleteOptOut('acme', '+5511999990001');
        stamps.push(await store.optOutStamp('acme'));

        // Assess: 0 until the first opt-out, then a new value at each put (a removal suppresses
        // nobody new, so it need not tell the pumps).
        expect(stamps[0]).toBe(0);
        expect(new Set(stamps.slice(0, 4)).size).toBe(4);
        expect(stamps.slice(1).every((stamp) => stamp > 0)).toBe(true);
        expect([other, await store.optOutStamp('other')]).toEqual([0, 0]);
        expect(await store.hasOptOuts('acme')).toBe(true);
      });

      it('finds the opted-out phones of a 250-phone batch across BatchGetItem calls', async () => {
        // Prepare
        const { store } = await freshStore();
        const phones = Array.from({ length: 250 }, (_, i) => `+55119${String(i).padStart(8, '0')}`);
        const opted = [phones[3], phones[150], phones[249]] as string[];
        for (const phone of opted) await store.putOptOut(optOut(phone, T0));
        await store.putOptOut(optOut(phones[10] as string, T0, 'other-tenant'));

        // Act
        const found = await store.findOptedOut('acme', [...phones, phones[3] as string]);

        // Assess
        expect([...found].sort()).toEqual([...opted].sort());
        expect(await store.findOptedOut('acme', [])).toEqual(new Set());
      });

      it('lists a tenant opt-outs newest first across pages and forgets removed ones', async () => {
        // Prepare
        const { store } = await freshStore();
        for (let i = 0; i < 5; i++)
          await store.putOptOut(optOut(`+5511999990${i}00`, `2025-01-0${i + 1}T00:00:00.000Z`));
        await store.putOptOut(optOut('+5511999999999', T0, 'other-tenant'));
        const removed = await store.deleteOptOut('acme', '+5511999990200');
        const removedTwice = await store.deleteOptOut('acme', '+5511999990200');

        // Act
        const first = await store.listOptOuts('acme', { limit: 2 });
        const second = await store.listOptOuts('acme', { limit: 2, cursor: first.nextCursor ?? undefined });

        // Assess
        expect([removed, removedTwice]).toEqual([true, false]);
        expect(first.items.map((o) => o.phone)).toEqual(['+5511999990400', '+5511999990300']);
        expect(second.items.map((o) => o.phone)).toEqual(['+5511999990100', '+5511999990000']);
        expect(second.nextCursor).toBeNull();
        await expect(store.listOptOuts('acme', { limit: 2, cursor: 'not-ours' })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      });
    });
  });
}
