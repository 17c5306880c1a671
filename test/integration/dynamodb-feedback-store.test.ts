import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import {
  describeFeedbackStoreContract,
  fixedClock,
  optOut,
  T0,
} from './store-contract/feedback-store-contract.ts';

const db = useDynalite();

async function freshStore(clock: Clock = fixedClock): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('feedback-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock }), tableName };
}

describeFeedbackStoreContract(async ({ clock }) => {
  const { store, tableName } = await freshStore(clock);
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('dynamodb-feedback-store', () => {
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
      expect(await db.item(tableName, keys.optOutMarker('legacy'))).toMatchObject({ any: true });
      // The marker written by the first answer does not hide a later opt-out.
      expect(await store.hasOptOuts('nobody')).toBe(true);
    });
  });
});
