import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, keys } from '../../lib/adapters/store/table-schema.ts';
import { receiptDeltas } from '../../lib/app/ingest-gateway-event.ts';
import type { ReceiptStatus } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import {
  contact,
  describeFeedbackStoreContract,
  fixedClock,
  optOut,
  queue,
  T0,
} from './store-contract/feedback-store-contract.ts';

const db = useDynalite();

async function freshStore(clock: Clock = fixedClock): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('feedback-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock }), tableName };
}

const rawItem = async (tableName: string, key: Record<string, string>) =>
  (await db.doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;

describeFeedbackStoreContract(async ({ clock }) => (await freshStore(clock)).store);

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
  });
});
