import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import { useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import {
  describeDeliveryWatchStoreContract,
  sent,
  T0,
} from './store-contract/delivery-watch-store-contract.ts';
import { describeScheduleStoreContract } from './store-contract/schedule-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table, so tests never see each other's items. */
const freshStore = async () => {
  const tableName = await db.freshTable('due-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName }),
    tableItem: (key: Record<string, unknown>) => db.item(tableName, key),
  };
};

describeDeliveryWatchStoreContract(freshStore);
describeScheduleStoreContract(freshStore);

describe('recordServerAck on DynamoDB', () => {
  it('answers an acknowledgement whose answer was lost as recorded, ending the stall once', async () => {
    // Prepare: a stalled sent contact, and a client losing the answer of its acknowledgement's write
    // once (the SDK retries; the retry's condition refuses it: serverAckAt is there already).
    const losing = clientLosingAnswers(
      db.endpoint,
      (command, key) => command === 'UpdateItemCommand' && key.sk === keys.contact('queue-1', 0).sk,
    );
    const tableName = await db.freshTable('due-test');
    const store = createDynamoDbStore({ client: losing.client, tableName });
    await store.putContacts([sent(0)]);
    await store.markContactStalled('queue-1', 0, '2025-01-10T12:20:00.000Z', T0);

    // Act: the lost one, then the gateway's second copy of the same acknowledgement.
    losing.loseTheNextAnswer();
    const lostAnswer = await store.recordServerAck('queue-1', 0, '2025-01-10T12:25:00.000Z');
    const copy = await store.recordServerAck('queue-1', 0, '2025-01-10T12:25:00.000Z');
    const lost = losing.lost();
    losing.close();

    // Assess: without the mark the retry read as a duplicate and contacts_stalled stayed one high.
    expect(lost).toBe(1);
    expect(lostAnswer).toEqual({ recorded: true, wasStalled: true });
    expect(copy).toEqual({ recorded: false, current: 'sent' });
    expect(await store.getContact('queue-1', 0)).not.toHaveProperty('receiptMark');
  });
});
