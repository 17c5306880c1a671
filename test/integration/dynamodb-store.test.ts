import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { ensureTable, GSI1, GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { assertLoopbackEndpoint, createTestDocumentClient, useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import { describeTenantStoreContract } from './store-contract/tenant-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table, so tests never see each other's items. */
async function freshStore(clock?: Clock): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('store-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock }), tableName };
}

describeTenantStoreContract(async ({ clock }) => {
  const { store, tableName } = await freshStore(clock);
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('ensureTable', () => {
  it('creates the table with both indexes and succeeds again when it already exists', async () => {
    // Prepare
    const tableName = 'ensure-twice';

    // Act
    await ensureTable(db.raw, tableName);
    await ensureTable(db.raw, tableName);
    const { Table } = await db.raw.send(new DescribeTableCommand({ TableName: tableName }));

    // Assess
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      GSI1.name,
      GSI2.name,
    ]);
  });

  it('is safe when several callers create the same table at once', async () => {
    // Act
    await Promise.all([1, 2, 3].map(() => ensureTable(db.raw, 'ensure-race')));
    const { Table } = await db.raw.send(new DescribeTableCommand({ TableName: 'ensure-race' }));

    // Assess
    expect(Table?.TableStatus).toBe('ACTIVE');
  });
});

describe('startDynalite', () => {
  it('refuses clients for endpoints that are not loopback', () => {
    // Act + Assess
    expect(() => createTestDocumentClient('https://dynamodb.sa-east-1.amazonaws.com')).toThrow(
      /non-loopback/,
    );
    expect(() => assertLoopbackEndpoint('http://10.0.0.5:8000')).toThrow(/non-loopback/);
    expect(() => assertLoopbackEndpoint(db.endpoint)).not.toThrow();
  });
});

describe('createDynamoDbStore', () => {
  describe('counters', () => {
    const inAnHour = () => new Date(Date.now() + 3_600_000);
    const day = '2025-01-10';

    it('adds a reservation whose answer was lost once, whether it started the day or added to it', async () => {
      // Prepare: a client losing the answers of the daily quota's writes that take effect: the one
      // that starts the day's counter (SET) and the one that adds to it (ADD)
      let expressionToLose = '';
      const losing = clientLosingAnswers(
        db.endpoint,
        (command, key, input) =>
          command === 'UpdateItemCommand' &&
          key.pk === keys.dailyQuota('acme', day).pk &&
          String(input.UpdateExpression).startsWith(expressionToLose),
      );
      const tableName = await db.freshTable('store-test');
      const store = createDynamoDbStore({ client: losing.client, tableName });

      // Act: the first reservation creates the day's counter, the second adds to it; both answers lost
      losing.loseTheNextAnswer();
      expressionToLose = 'SET #v';
      const first = await store.reserveDailyQuota('acme', day, 10, 100, inAnHour());
      losing.loseTheNextAnswer();
      expressionToLose = 'ADD #v';
      const second = await store.reserveDailyQuota('acme', day, 5, 100, inAnHour());
      const lost = losing.lost();
      losing.close();
      const used = await store.getDailyQuotaUsed('acme', day);

      // Assess: added again by the SDK's retries, the day would count 30 and refuse batches it has room for
      expect({ lost, first, second, used }).toEqual({
        lost: 2,
        first: { ok: true, value: 10 },
        second: { ok: true, value: 15 },
        used: 15,
      });
    });

    it("adds a tenant's hourly figures whose answer was lost once", async () => {
      // Prepare
      const hour = new Date('2025-01-10T12:00:00.000Z');
      const losing = clientLosingAnswers(
        db.endpoint,
        (command, key) => command === 'UpdateItemCommand' && key.sk === keys.tenantFigures('acme', hour).sk,
      );
      const tableName = await db.freshTable('store-test');
      const store = createDynamoDbStore({ client: losing.client, tableName });

      // Act: the hour's first figures create its item, the next add to it; both answers lost
      losing.loseTheNextAnswer();
      await store.addTenantFigures('acme', hour, { delivered: 1 }, inAnHour());
      losing.loseTheNextAnswer();
      await store.addTenantFigures('acme', hour, { delivered: 1, read: 1 }, inAnHour());
      const lost = losing.lost();
      losing.close();
      const [figures] = await store.listTenantFigures('acme', hour, new Date(hour.getTime() + 3_600_000));

      // Assess
      expect(lost).toBe(2);
      expect(figures).toMatchObject({ delivered: 2, read: 1 });
    });

    it('keeps the counter items under the keys stored before the domain operations, so their counts go on', async () => {
      // Prepare: counts written under the former generic names DAILY#<tenant>#<day> and RATE#<key>#<hour>.
      const { store, tableName } = await freshStore();
      const ttl = Math.ceil(inAnHour().getTime() / 1000);
      const legacy = [
        { pk: 'COUNTER#DAILY#acme#2025-01-10', sk: 'COUNTER', value: 14, ttl },
        { pk: 'COUNTER#RATE#key-1#2025-01-10T12', sk: 'COUNTER', value: 2, ttl },
      ];
      for (const Item of legacy) await db.doc.send(new PutCommand({ TableName: tableName, Item }));

      // Act
      const quota = await store.reserveDailyQuota('acme', day, 1, 15, inAnHour());
      const quotaRefused = await store.reserveDailyQuota('acme', day, 1, 15, inAnHour());
      const request = await store.countKeyRequest(
        'key-1',
        'writes',
        new Date('2025-01-10T12:00:00.000Z'),
        3,
        inAnHour(),
      );

      // Assess
      expect([quota, quotaRefused, request]).toEqual([
        { ok: true, value: 15 },
        { ok: false, value: 15 },
        { ok: true, value: 3 },
      ]);
      expect(keys.dailyQuota('acme', day)).toEqual({ pk: legacy[0]?.pk, sk: 'COUNTER' });
      expect(keys.keyRequests('key-1', 'writes', new Date('2025-01-10T12:34:56.000Z'))).toEqual({
        pk: legacy[1]?.pk,
        sk: 'COUNTER',
      });
    });
  });
});
