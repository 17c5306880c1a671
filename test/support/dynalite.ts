import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The options of dynalite 4.0.0 that tests use (node_modules/dynalite/index.js; the package ships no types). */
interface DynaliteOptions {
  /** LevelDB directory; in memory when absent. */
  path?: string;
  /** How long a table stays CREATING / DELETING / UPDATING (default 500 ms each). */
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface RunningDynalite {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts dynalite in this process on a free loopback port, with tables ACTIVE at once. */
export async function startDynalite(options: { path?: string } = {}): Promise<RunningDynalite> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of the SDK would otherwise hold close() open.
        server.closeIdleConnections();
      }),
  };
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
