import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import {
  contact,
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

/** An opt-out of tenant `legacy` written as it was before the tenant's marker existed (no marker write). */
const putLegacyOptOut = (tableName: string) =>
  db.doc.send(
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

describe('dynamodb-feedback-store', () => {
  describe('receipts', () => {
    it('answers a receipt whose answer was lost as applied, from the status it replaced, once', async () => {
      // Prepare: a client losing the answer of the contact's receipt write once (a timeout: the SDK
      // retries, and the retry's condition refuses it: the contact is delivered already).
      const losing = clientLosingAnswers(
        db.endpoint,
        (command, key) => command === 'UpdateItemCommand' && key.sk === keys.contact('queue-1', 0).sk,
      );
      const tableName = await db.freshTable('feedback-test');
      const store = createDynamoDbStore({ client: losing.client, tableName, clock: fixedClock });
      await store.putContacts([contact(0, 'sent'), contact(1, 'sent')]);

      // Act: the lost one, then a second copy of the same receipt (the gateway's retry), then a
      // receipt on another contact whose answer arrives.
      losing.loseTheNextAnswer();
      const lostAnswer = await store.applyReceipt('queue-1', 0, 'delivered', T0);
      const copy = await store.applyReceipt('queue-1', 0, 'delivered', T0);
      const answered = await store.applyReceipt('queue-1', 1, 'read', T0);
      const lost = losing.lost();
      losing.close();

      // Assess: applied once, from `sent` (without the mark, the retry read as a duplicate and the
      // delivered counter stayed one short); the entity carries no bookkeeping.
      expect(lost).toBe(1);
      expect(lostAnswer).toMatchObject({ applied: true, previous: 'sent', wasStalled: false });
      expect(lostAnswer).toMatchObject({ contact: { phone: contact(0, 'sent').phone } });
      expect(copy).toEqual({ applied: false, current: 'delivered' });
      expect(answered).toMatchObject({ applied: true, previous: 'sent' });
      const stored = await store.getContact('queue-1', 0);
      expect(stored).toMatchObject({ status: 'delivered', deliveredAt: T0 });
      expect(stored).not.toHaveProperty('receiptMark');
      expect(stored).not.toHaveProperty('receiptFrom');
    });
  });

  describe('opt-outs', () => {
    it('says whether a tenant has opt-outs from the marker, and learns it once for a tenant from before it', async () => {
      // Prepare: acme gets one through the store; legacy has one written as it was before the marker.
      const { store, tableName } = await freshStore();
      const before = await store.hasOptOuts('acme');
      await store.putOptOut(optOut('+5511999990001', T0));
      await putLegacyOptOut(tableName);

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

    it("writes the marker's stamp after the opt-out's item, so a reader of the new stamp finds it", async () => {
      // Prepare: a client that records what the store sends.
      const tableName = await db.freshTable('feedback-test');
      const sent: string[] = [];
      const recording = {
        send: (command: {
          constructor: { name: string };
          input: { Key?: { sk?: string }; Item?: { sk?: string } };
        }) => {
          const sk = command.input.Key?.sk ?? command.input.Item?.sk;
          sent.push(`${command.constructor.name} ${sk}`);
          return db.doc.send(command as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const store = createDynamoDbStore({ client: recording, tableName, clock: fixedClock });

      // Act
      await store.putOptOut(optOut('+5511999990001', T0));

      // Assess: "has opt-outs" before the item (the Accept path), the stamp after it (the pumps).
      expect(sent).toEqual(['UpdateCommand OPTOUTS', 'PutCommand OPTOUT', 'UpdateCommand OPTOUTS']);
      expect(await db.item(tableName, keys.optOutMarker('acme'))).toMatchObject({ any: true, stamp: 1 });
    });

    it('moves the stamp on a retry after a failure between the item and the stamp', async () => {
      // Prepare: the stamp's write fails once (the process died, the network dropped).
      const tableName = await db.freshTable('feedback-test');
      let failStamp = false;
      const flaky = {
        send: (command: { input: { UpdateExpression?: string } }) => {
          if (failStamp && command.input.UpdateExpression?.includes('ADD')) {
            failStamp = false;
            return Promise.reject(new Error('connection reset'));
          }
          return db.doc.send(command as never);
        },
      } as unknown as DynamoDBDocumentClient;
      const store = createDynamoDbStore({ client: flaky, tableName, clock: fixedClock });
      await store.putOptOut(optOut('+5511999990000', T0));
      const before = await store.optOutStamp('acme');
      failStamp = true;
      const failed = await store.putOptOut(optOut('+5511999990001', T0)).catch(() => 'failed');
      const stuck = await store.optOutStamp('acme');

      // Act
      const retried = await store.putOptOut(optOut('+5511999990001', T0));

      // Assess
      expect(failed).toBe('failed');
      expect(stuck).toBe(before);
      expect(retried).toBe('exists');
      expect(await store.optOutStamp('acme')).not.toBe(before);
    });

    it('reads the stamp of a marker from before it as 1, and of a tenant from before the marker from its listing', async () => {
      // Prepare: old-marker has the marker as it was written before the stamp; legacy no marker at all.
      const { store, tableName } = await freshStore();
      await db.doc.send(
        new PutCommand({ TableName: tableName, Item: { ...keys.optOutMarker('old-marker'), any: true } }),
      );
      await putLegacyOptOut(tableName);

      // Act
      const oldMarker = await store.optOutStamp('old-marker');
      const legacy = await store.optOutStamp('legacy');
      await store.putOptOut(optOut('+5511999990003', T0, 'old-marker'));
      const afterPut = await store.optOutStamp('old-marker');

      // Assess
      expect([oldMarker, legacy]).toEqual([1, 1]);
      expect(afterPut).toBeGreaterThan(1);
      expect(await db.item(tableName, keys.optOutMarker('legacy'))).toMatchObject({ any: true });
    });
  });
});
