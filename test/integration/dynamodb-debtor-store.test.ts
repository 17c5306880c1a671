import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { keys } from '../../lib/adapters/store/table-schema.ts';
import { useDynalite } from '../support/dynalite.ts';
import { describeDebtorStoreContract } from './store-contract/debtor-store-contract.ts';

const db = useDynalite();

describeDebtorStoreContract(async ({ clock }) => {
  const tableName = await db.freshTable('debtor-test');
  return {
    store: createDynamoDbStore({ client: db.doc, tableName, clock }),
    tableItem: (key) => db.item(tableName, key),
  };
});

describe('dynamodb-debtor-store', () => {
  it("deletes a phone's messages stored under the pre-upgrade key too (the history index finds them)", async () => {
    // Prepare: one message as written before the tenant joined the message key.
    const tableName = await db.freshTable('debtor-legacy');
    const store = createDynamoDbStore({ client: db.doc, tableName });
    const phone = '+5511933330000';
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.legacyMessage('inst-1', 'old-1'),
          ...keys.messagesIndex('acme', phone, '2025-01-01T00:00:00.000Z', 'old-1'),
          id: 'old-1',
          tenantId: 'acme',
          phone,
          instanceId: 'inst-1',
          direction: 'outbound',
          text: 'Olá Ana',
          at: '2025-01-01T00:00:00.000Z',
        },
      }),
    );

    // Act
    const deleted = await store.deleteMessages('acme', [phone], []);

    // Assess
    expect(deleted).toBe(1);
    expect(await db.item(tableName, keys.legacyMessage('inst-1', 'old-1'))).toBeUndefined();
  });
});
