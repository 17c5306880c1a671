import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';
import { createTestDynamoDbClient } from '../support/dynalite.ts';
import { INDEXED_KEY, INDEXED_TABLE, runWriter } from '../support/dynalite-writer.ts';
import { waitFor } from '../support/wait-for.ts';

const TABLE = 'compaction';
/** 25 items of 40 kB a batch: 60 batches are 60 MB of writes, many 4 MB memtables and compactions. */
const BATCHES = 60;
const BLOB = 'x'.repeat(40_000);

describe('embedded DynamoDB on disk', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('deletes the table files compaction replaced while queries run (a query does not pin them)', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'billing-embedded-dynamodb-'));
    dirs.push(dir);
    const db = await startEmbeddedDynamoDb({ path: dir });
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const tableFiles = async () => (await readdir(dir)).filter((f) => f.endsWith('.ldb')).length;

    try {
      // Act: writes that make LevelDB flush and compact, each followed by a query that stops early
      for (let batch = 0; batch < BATCHES; batch++) {
        const items = Array.from({ length: 25 }, (_, i) => ({
          PutRequest: {
            Item: { pk: { S: `p${batch}` }, sk: { S: `s${i}` }, v: { S: `${BLOB}${batch}-${i}` } },
          },
        }));
        await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
        await client.send(
          new QueryCommand({
            TableName: TABLE,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: `p${batch}` } },
            Limit: 3,
          }),
        );
      }

      // Assess: once compaction settles, a few live tables, not every table ever written (20 when
      // each query's iterator stayed open and pinned the files it read). How few depends on where
      // background compaction stopped: 4 to 6 here, 7 once under a loaded CI run; 10 still tells
      // the two apart.
      let files = 0;
      const settled = await waitFor(
        async () => {
          files = await tableFiles();
          return files <= 10;
        },
        // Compaction runs in the background: on a loaded machine (a bench beside the suite) it took
        // 22 s once; the wait ends as soon as it settles.
        { timeoutMs: 60_000 },
      ).catch(() => false);
      expect({ settled, files }).toMatchObject({ settled: true });
    } finally {
      client.destroy();
      await db.close();
    }
  }, 120_000);
});

describe('embedded DynamoDB writes an item and its index entries at once', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** The item's due time, and which due entries the index holds, on the data dir as it was left. */
  const stateOn = async (dir: string) => {
    const db = await startEmbeddedDynamoDb({ path: dir });
    const client = createTestDynamoDbClient(db.endpoint);
    try {
      const item = await client.send(
        new GetItemCommand({ TableName: INDEXED_TABLE, Key: INDEXED_KEY, ConsistentRead: true }),
      );
      const indexed: string[] = [];
      for (const due of ['A', 'B']) {
        const found = await client.send(
          new QueryCommand({
            TableName: INDEXED_TABLE,
            IndexName: 'byDue',
            KeyConditionExpression: 'due = :due',
            ExpressionAttributeValues: { ':due': { S: due } },
          }),
        );
        if ((found.Count ?? 0) > 0) indexed.push(due);
      }
      return { item: item.Item?.due?.S ?? null, indexed };
    } finally {
      client.destroy();
      await db.close();
    }
  };

  it.each([
    { write: 'update' as const, afterWrite: { item: 'B', indexed: ['B'] } },
    { write: 'put' as const, afterWrite: { item: 'B', indexed: ['B'] } },
    { write: 'delete' as const, afterWrite: { item: null, indexed: [] } },
  ])(
    'a $write killed mid-write leaves all of it or none of it',
    async ({ write, afterWrite }) => {
      // Prepare: an item due at A, in a process of its own
      const dir = await mkdtemp(join(tmpdir(), 'billing-embedded-dynamodb-'));
      dirs.push(dir);
      await runWriter(dir, 'prepare');

      // Act: a process killed (SIGKILL) as its LevelDB write of the item's own key starts, then one
      // that writes the same undisturbed
      const killed = await runWriter(dir, write, { killAtTheItemWrite: true });
      const afterKill = await stateOn(dir);
      await runWriter(dir, write);

      // Assess: the kill left the item and its index entry as they were (before the fix, the index
      // had moved without the item: the old entry gone, the new one there), the next write moved both
      expect({ killed, afterKill, afterWrite: await stateOn(dir) }).toEqual({
        killed: 'SIGKILL',
        afterKill: { item: 'A', indexed: ['A'] },
        afterWrite,
      });
    },
    60_000,
  );
});
