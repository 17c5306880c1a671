import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import { startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';

export interface RunningDynalite {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite in this process on a free loopback port, with tables ACTIVE at once (the local stack's own emulator). */
export async function startDynalite(options: { path?: string } = {}): Promise<RunningDynalite> {
  const embedded = await startEmbeddedDynamoDb(options);
  return { endpoint: embedded.endpoint, stop: () => embedded.close() };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Refuses anything but a loopback endpoint, so a test can never write to real AWS. */
export function assertLoopbackEndpoint(endpoint: string): void {
  const url = new URL(endpoint);
  if (!['http:', 'https:'].includes(url.protocol) || !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Error(`Refusing a non-loopback DynamoDB endpoint in tests: ${endpoint}`);
  }
}

/** A low-level client for a local emulator (dummy credentials, region `local`). */
export function createTestDynamoDbClient(endpoint: string): DynamoDBClient {
  assertLoopbackEndpoint(endpoint);
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * A document client for a local emulator. Left with the SDK's default marshalling on purpose:
 * the adapter must cope without `removeUndefinedValues`, as a production client might be built.
 */
export function createTestDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(createTestDynamoDbClient(endpoint));
}

export interface DynaliteFixture {
  readonly endpoint: string;
  /** Raw client (table administration). */
  readonly raw: DynamoDBClient;
  /** Document client, as the store adapter uses it. */
  readonly doc: DynamoDBDocumentClient;
  /** A new empty table named `<prefix>-<n>`, so tests never see each other's items. */
  freshTable(prefix: string): Promise<string>;
  /** The item under `key` as stored, table attributes included (strongly consistent read). */
  item(tableName: string, key: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
}

/** One in-process dynalite for the test file: started before its tests, stopped after them. */
export function useDynalite(): DynaliteFixture {
  let dynamo: RunningDynalite | undefined;
  let raw: DynamoDBClient | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  let tables = 0;
  beforeAll(async () => {
    dynamo = await startDynalite();
    raw = createTestDynamoDbClient(dynamo.endpoint);
    doc = createTestDocumentClient(dynamo.endpoint);
  });
  afterAll(async () => {
    doc?.destroy();
    raw?.destroy();
    await dynamo?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('useDynalite: used outside the tests of the file');
    return value;
  };
  return {
    get endpoint() {
      return started(dynamo).endpoint;
    },
    get raw() {
      return started(raw);
    },
    get doc() {
      return started(doc);
    },
    async freshTable(prefix: string) {
      tables += 1;
      const name = `${prefix}-${tables}`;
      await ensureTable(started(raw), name);
      return name;
    },
    async item(tableName, key) {
      const out = await started(doc).send(
        new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      return out.Item;
    },
  };
}
