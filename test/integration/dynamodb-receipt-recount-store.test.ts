import { describe, expect, it } from 'vitest';
import { RECEIPT_MARK, receiptMarkTime } from '../../lib/adapters/store/contact-item.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { useDynalite } from '../support/dynalite.ts';
import { createTestClock } from '../support/local-stack.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import { sent, T0 } from './store-contract/delivery-watch-store-contract.ts';
import type { MakeStore } from './store-contract/make-store.ts';
import { describeReceiptRecountStoreContract } from './store-contract/receipt-recount-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table, reading the time from `clock`. */
const freshStore: MakeStore = async ({ clock }) => {
  const tableName = await db.freshTable('recount-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName, clock }),
    tableItem: (key: Record<string, unknown>) => db.item(tableName, key),
  };
};

describeReceiptRecountStoreContract(freshStore);

describe('receipt recount on DynamoDB', () => {
  it('dates each receipt write in its mark by the store clock; an earlier version mark has no time', async () => {
    // Prepare
    const clock = createTestClock('2025-01-10T12:07:00.000Z');
    const { store, tableItem } = await freshStore({ clock });
    await store.putContacts([sent(0)]);

    // Act
    await store.applyReceipt('queue-1', 0, 'delivered', T0);
    const item = await tableItem?.(keys.contact('queue-1', 0));

    // Assess
    expect(receiptMarkTime(item?.[RECEIPT_MARK])).toBe(Date.parse('2025-01-10T12:07:00.000Z'));
    expect(String(item?.[RECEIPT_MARK]).length).toBeLessThanOrEqual(15);
    expect(receiptMarkTime('Zm9vYmFy')).toBeUndefined();
  });

  it('answers a correction whose answer was lost as applied, and adds it once', async () => {
    // Prepare: a delivery whose counters write was lost, and a client losing the answer of the
    // correction's write once (the SDK retries; the retry's condition refuses it: lastWrite moved).
    const losing = clientLosingAnswers(
      db.endpoint,
      (command, key) => command === 'UpdateItemCommand' && key.sk === keys.queueCounters('queue-1').sk,
    );
    const tableName = await db.freshTable('recount-test');
    const store = createDynamoDbStore({ client: losing.client, tableName, clock: createTestClock(T0) });
    await store.createQueue(
      acmeQueue({ totalContacts: 1, createdAt: T0, status: 'running', contactsSent: 1 }),
    );
    await store.putContacts([sent(0)]);
    await store.applyReceipt('queue-1', 0, 'delivered', T0);
    const tally = await store.tallyReceipts('queue-1');

    // Act
    losing.loseTheNextAnswer();
    const corrected = await store.correctReceiptCounters(
      'queue-1',
      { contactsDelivered: 1, contactsRead: 0, contactsStalled: 0 },
      tally?.countersVersion ?? null,
    );
    const lost = losing.lost();
    losing.close();

    // Assess
    expect(lost).toBe(1);
    expect(corrected).toBe(true);
    expect((await store.getQueue('queue-1'))?.contactsDelivered).toBe(1);
  });
});
