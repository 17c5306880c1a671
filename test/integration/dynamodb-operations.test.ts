import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { tableOperations } from '../../lib/adapters/store/dynamodb-operations.ts';
import { useDynalite } from '../support/dynalite.ts';

const db = useDynalite();

describe('table operations', () => {
  it('reads keys named twice once (BatchGetItem refuses a request that repeats a key)', async () => {
    // Prepare: keys read off an index can repeat (a torn emulator write left an item twice in one)
    const tableName = await db.freshTable('operations-test');
    await db.doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'A', sk: '1', v: 1 } }));
    await db.doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'A', sk: '2', v: 2 } }));
    const { batchGet } = tableOperations(db.doc, tableName);

    // Act
    const found = await batchGet([
      { pk: 'A', sk: '1' },
      { pk: 'A', sk: '2' },
      { pk: 'A', sk: '1' },
    ]);

    // Assess
    expect(found.map((item) => item.v).sort()).toEqual([1, 2]);
  });
});
