import { createServer, type Server, type Socket } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';

/**
 * The product's DynamoDB client (the one every process makes) against a DynamoDB that takes
 * connections and requests and never answers: a TCP server that reads and says nothing. Each
 * attempt must give up on its own (since @smithy/node-http-handler 4 a `requestTimeout` without
 * `throwOnRequestTimeout` only logs a warning, and the request would wait for the 300 s socket
 * default), so the caller gets a TimeoutError after the SDK's attempts instead of waiting on.
 */
let silent: Server;
let requests = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Every request that arrives is taken, and never answered.
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('POST ')) requests += 1;
    });
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

describe('the DynamoDB client against a store that never answers', () => {
  it('gives up on each attempt and fails with a TimeoutError once its attempts are spent', async () => {
    // Prepare
    const { port } = silent.address() as { port: number };
    const client = createDynamoDbClient(
      loadConfig({ ...process.env, AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` }),
    );

    // Act: the race's other side only keeps a regression from holding the suite for 300 s
    const outcome = await Promise.race([
      client.send(new ListTablesCommand({})).then(
        () => ({ answered: true }),
        (error: Error & { $metadata?: { attempts?: number } }) => ({
          error: error.name,
          attempts: error.$metadata?.attempts,
        }),
      ),
      new Promise((resolve) => setTimeout(() => resolve({ stillWaiting: true }), 50_000)),
    ]);
    client.destroy();

    // Assess: every attempt reached the store (and may have been carried out there)
    expect(outcome).toEqual({ error: 'TimeoutError', attempts: 4 });
    expect(requests).toBe(4);
  }, 60_000);
});
