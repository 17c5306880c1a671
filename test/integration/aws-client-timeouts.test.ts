import { createServer, type Server, type Socket } from 'node:net';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../lib/composition/queues.ts';
import { createDynamoDbClient, createSsmClient } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';

/**
 * The product's AWS clients (the ones every process makes) against a service that takes
 * connections and requests and never answers: a TCP server that reads and says nothing. Each
 * attempt must give up on its own (since @smithy/node-http-handler 4 a `requestTimeout` without
 * `throwOnRequestTimeout` only logs a warning, and the request would wait for the socket default:
 * DynamoDB 300 s, SQS 900 s), so the caller gets a TimeoutError after the SDK's attempts.
 */
interface SilentService {
  url: string;
  /** Requests it has taken (and never answered). */
  requests(): number;
  close(): Promise<void>;
}

const startSilentService = async (): Promise<SilentService> => {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString('latin1').startsWith('POST ')) requests += 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const services: SilentService[] = [];
afterAll(async () => {
  await Promise.all(services.map((service) => service.close()));
});

/** How a call ended: the race's other side only keeps a regression from holding the suite for minutes. */
const outcomeOf = (call: Promise<unknown>) =>
  Promise.race([
    call.then(
      () => ({ answered: true }),
      (error: Error & { $metadata?: { attempts?: number } }) => ({
        error: error.name,
        attempts: error.$metadata?.attempts,
      }),
    ),
    new Promise((resolve) => setTimeout(() => resolve({ stillWaiting: true }), 80_000)),
  ]);

/** A product client pointed at `url`, and one request of the kind the product makes with it. */
interface ClientCall {
  send: Promise<unknown>;
  destroy(): void;
}

const callsOnSilentServices: Array<[string, number, (url: string) => ClientCall]> = [
  [
    'DynamoDB',
    4,
    (url) => {
      const client = createDynamoDbClient(loadConfig({ ...process.env, AWS_ENDPOINT_URL_DYNAMODB: url }));
      return { send: client.send(new ListTablesCommand({})), destroy: () => client.destroy() };
    },
  ],
  [
    'SQS',
    3,
    (url) => {
      const client = createSqsClient(loadConfig({ ...process.env, AWS_ENDPOINT_URL_SQS: url }));
      return {
        send: client.send(
          new SendMessageCommand({ QueueUrl: `${url}/000000000000/work`, MessageBody: '{}' }),
        ),
        destroy: () => client.destroy(),
      };
    },
  ],
  [
    'SSM',
    3,
    (url) => {
      const client = createSsmClient(loadConfig({ ...process.env, AWS_ENDPOINT_URL_SSM: url }));
      return {
        send: client.send(
          new GetParameterCommand({ Name: '/billing/acme/evolution-key', WithDecryption: true }),
        ),
        destroy: () => client.destroy(),
      };
    },
  ],
];

describe.concurrent('the AWS clients against a service that never answers', () => {
  it.each(callsOnSilentServices)(
    '%s: gives up on each attempt and fails with a TimeoutError once its %i attempts are spent',
    async (_, attempts, call) => {
      // Prepare
      const silent = await startSilentService();
      services.push(silent);
      const client = call(silent.url);

      // Act
      const outcome = await outcomeOf(client.send);
      client.destroy();

      // Assess: every attempt reached the service (and may have been carried out there)
      expect(outcome).toEqual({ error: 'TimeoutError', attempts });
      expect(silent.requests()).toBe(attempts);
    },
    90_000,
  );
});
