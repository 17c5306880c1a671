/**
 * One write to the embedded DynamoDB on a data dir, in a process of its own, so a test can kill
 * that process in the middle of the write and look at what the data dir kept
 * (test/integration/embedded-dynamodb.test.ts). Run as a script: `tsx dynalite-writer.ts <dir>
 * <prepare|update|put|delete> [kill]`; imported: `runWriter`.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';
import { createTestDynamoDbClient } from './dynalite.ts';

export const INDEXED_TABLE = 'indexed';
export const INDEXED_KEY = { pk: { S: 'p' }, sk: { S: 's' } };

export type Write = 'prepare' | 'update' | 'put' | 'delete';

/** Runs one write in a child process; resolves with the signal that ended it, or 'exited'. */
export const runWriter = (
  dir: string,
  write: Write,
  options: { killAtTheItemWrite?: boolean } = {},
): Promise<string> =>
  new Promise((resolve, reject) => {
    // Node itself with tsx's loader, so the signal that ends the writer is the one the test sees.
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), dir, write];
    if (options.killAtTheItemWrite) args.push('kill');
    execFile(process.execPath, args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve('exited');
      if (error.signal === 'SIGKILL' && options.killAtTheItemWrite) return resolve('SIGKILL');
      reject(new Error(`the writer failed (${error.signal ?? error.code}): ${stderr}`));
    });
  });

/** The private write methods of classic-level, the LevelDB class dynalite opens a data dir with. */
interface LevelWrites {
  _put(key: string | Uint8Array, ...rest: unknown[]): Promise<void>;
  _del(key: string | Uint8Array, ...rest: unknown[]): Promise<void>;
  _batch(operations: { key: string | Uint8Array }[], ...rest: unknown[]): Promise<void>;
}

/**
 * Kills this process (SIGKILL, as chaos does) the moment a LevelDB write touching the item's own
 * key starts: whatever went out before it stays on disk, that write and what follows do not.
 */
const killAtTheItemWrite = (): void => {
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as {
    Level: { prototype: LevelWrites };
  };
  const proto = Level.prototype;
  const { _put, _del, _batch } = proto;
  const touchesTheItem = (key: string | Uint8Array) =>
    Buffer.from(key).toString().startsWith(`item-${INDEXED_TABLE}~`);
  const dieIf = (touches: boolean) => {
    if (touches) process.kill(process.pid, 'SIGKILL');
  };
  proto._put = function (this: unknown, key, ...rest) {
    dieIf(touchesTheItem(key));
    return _put.call(this, key, ...rest);
  };
  proto._del = function (this: unknown, key, ...rest) {
    dieIf(touchesTheItem(key));
    return _del.call(this, key, ...rest);
  };
  proto._batch = function (this: unknown, operations, ...rest) {
    dieIf(operations.some((o) => touchesTheItem(o.key)));
    return _batch.call(this, operations, ...rest);
  };
};

const writeTheItem = async (client: DynamoDBClient, write: Exclude<Write, 'prepare'>): Promise<void> => {
  switch (write) {
    case 'update':
      await client.send(
        new UpdateItemCommand({
          TableName: INDEXED_TABLE,
          Key: INDEXED_KEY,
          UpdateExpression: 'SET due = :b',
          ExpressionAttributeValues: { ':b': { S: 'B' } },
        }),
      );
      return;
    case 'put':
      await client.send(
        new PutItemCommand({ TableName: INDEXED_TABLE, Item: { ...INDEXED_KEY, due: { S: 'B' } } }),
      );
      return;
    case 'delete':
      await client.send(new DeleteItemCommand({ TableName: INDEXED_TABLE, Key: INDEXED_KEY }));
  }
};

const main = async (dir: string, write: Write, kill: boolean): Promise<void> => {
  const db = await startEmbeddedDynamoDb({ path: dir });
  const client = createTestDynamoDbClient(db.endpoint);
  if (write === 'prepare') {
    await client.send(
      new CreateTableCommand({
        TableName: INDEXED_TABLE,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'due', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byDue',
            KeySchema: [
              { AttributeName: 'due', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // dynalite answers the create while the table is still CREATING: a put before it is ACTIVE is
    // refused as a missing table (seen under a loaded CI run).
    await waitUntilTableExists(
      { client, minDelay: 1, maxDelay: 2, maxWaitTime: 60 },
      { TableName: INDEXED_TABLE },
    );
    await client.send(
      new PutItemCommand({ TableName: INDEXED_TABLE, Item: { ...INDEXED_KEY, due: { S: 'A' } } }),
    );
  } else {
    if (kill) killAtTheItemWrite();
    await writeTheItem(client, write);
  }
  client.destroy();
  await db.close();
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, write, kill] = process.argv.slice(2);
  await main(dir as string, write as Write, kill === 'kill');
}
