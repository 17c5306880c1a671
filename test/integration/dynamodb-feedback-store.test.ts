import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, keys } from '../../lib/adapters/store/table-schema.ts';
import { receiptDeltas } from '../../lib/app/apply-gateway-events.ts';
import type { BillingContact, BillingQueue, OptOut, ReceiptStatus } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { acmeContact, acmeQueue } from '../support/acme-queue.ts';
import { useDynalite } from '../support/dynalite.ts';

const db = useDynalite();

const T0 = '2025-01-10T12:00:00.000Z';
const fixedClock: Clock = { now: () => new Date('2025-01-10T13:00:00.000Z') };

async function freshStore(): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('feedback-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock: fixedClock }), tableName };
}

const queue: BillingQueue = acmeQueue({
  externalId: 'fatura-1',
  templateType: 'notification',
  status: 'running',
  totalContacts: 2,
  contactsSent: 2,
  createdAt: T0,
  startedAt: T0,
  publishGeneration: 1,
});

const contact = (position: number, status: BillingContact['status']): BillingContact =>
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

const optOut = (phone: string, at: string, tenantId = 'acme'): OptOut => ({
  tenantId,
  phone,
  source: 'api',
  reason: `motivo ${phone}`,
  at,
});

const rawItem = async (tableName: string, key: Record<string, string>) =>
  (await db.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

describe('dynamodb-feedback-store', () => {
  describe('receipts', () => {
    it('moves a sent contact forward only under 20 concurrent mixed receipts and counts each step once', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
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
      const item = await rawItem(tableName, keys.contact('queue-1', 0));
      expect(item?.status).toBe('read');
      expect(item?.[GSI1.sk]).toBe('read#0000');
      expect(after).toMatchObject({ contactsDelivered: 1, contactsRead: 1, contactsSent: 2 });
      expect(writes.filter((w) => w.applied).length).toBeLessThanOrEqual(2);
      expect(writes.filter((w) => !w.applied).every((w) => !w.applied && w.current !== 'sent')).toBe(true);
    });

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
      expect(listed).toMatchObject({ status: 'read', readAt: '2025-01-10T12:00:01.000Z', deliveredAt: null });
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
      expect(failed).toEqual({ applied: true, previous: 'sent', wasStalled: false });
      expect(afterDelivery).toEqual({ applied: false, current: 'delivered' });
      const items = (await store.listContacts('queue-1', { limit: 10 })).items;
      expect(items[0]).toMatchObject({ status: 'failed', lastError: 'falhou', lastErrorAt: T0 });
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

    it('releases a claimed contact as skipped_opt_out, giving the attempt back', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      await store.putContacts([contact(0, 'pending')]);
      await store.claimContact('queue-1', 0, T0);

      // Act
      const released = await store.finishContact('queue-1', 0, { status: 'skipped_opt_out', at: T0 });

      // Assess
      const item = await rawItem(tableName, keys.contact('queue-1', 0));
      expect(released).toBe(true);
      expect(item).toMatchObject({
        status: 'skipped_opt_out',
        attempts: 0,
        [GSI1.sk]: 'skipped_opt_out#0000',
      });
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

    it('says whether a tenant has opt-outs from the marker, and learns it once for a tenant from before it', async () => {
      // Prepare: acme gets one through the store; legacy has one written as it was before the marker.
      const { store, tableName } = await freshStore();
      const before = await store.hasOptOuts('acme');
      await store.putOptOut(optOut('+5511999990001', T0));
      await db.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.optOut('legacy', '+5511999990002'),
            ...keys.optOutsIndex('legacy', T0, '+5511999990002'),
            tenantId: 'legacy',
            phone: '+5511999990002',
            source: 'api',
            reason: '',
            at: T0,
          },
        }),
      );

      // Act
      const after = await store.hasOptOuts('acme');
      const legacy = await store.hasOptOuts('legacy');
      const nobody = await store.hasOptOuts('nobody');
      await store.putOptOut(optOut('+5511999990003', T0, 'nobody'));

      // Assess
      expect([before, after, legacy, nobody]).toEqual([false, true, true, false]);
      expect(await rawItem(tableName, keys.optOutMarker('legacy'))).toMatchObject({ any: true });
      // The marker written by the first answer does not hide a later opt-out.
      expect(await store.hasOptOuts('nobody')).toBe(true);
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
