import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { type Channel, type ChannelModel, connect } from 'amqplib';

const run = promisify(execFile);

/** The broker the integration tests use (always local; nothing else is ever dialled). */
export const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Opens an AMQP connection to the local broker, or FAILS with how to start it. Never a skip: a
 * suite that silently skips when the broker is down reads as green while testing nothing.
 */
export async function connectToTestBroker(url = RABBITMQ_URL): Promise<ChannelModel> {
  if (new URL(url).hostname !== '127.0.0.1')
    throw new Error(`Refusing a non-local RabbitMQ in tests: ${url}`);
  try {
    const connection = await connect(url, {
      timeout: 3_000,
      clientProperties: { connection_name: 'test-admin' },
    });
    connection.on('error', () => {});
    return connection;
  } catch (error) {
    throw new Error(
      `RabbitMQ is not reachable at 127.0.0.1:5672 (${String(error)}). ` +
        'The RabbitMQ integration tests need a running broker: check `rabbitmqctl status` and start it with ' +
        '`rabbitmq-server -detached`.',
    );
  }
}

/** A queue name no other test (or parallel test file) uses. */
export function uniqueQueueName(prefix = 'test-work'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A side channel for what tests do behind the adapter's back: raw publishes, reading the DLQ, cleanup. */
export interface BrokerAdmin {
  channel: Channel;
  /** Publishes a body as-is (e.g. a malformed one), bypassing the adapter's schema. */
  publishRaw(queue: string, body: string): Promise<void>;
  /** Takes every message now waiting in `queue` (acknowledging it) and returns the bodies. */
  drain(queue: string): Promise<string[]>;
  /** Ready messages in a queue (unacknowledged ones are not counted). */
  readyCount(queue: string): Promise<number>;
  deleteQueues(...queues: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function openBrokerAdmin(url = RABBITMQ_URL): Promise<BrokerAdmin> {
  const connection = await connectToTestBroker(url);
  const channel = await connection.createConfirmChannel();
  return {
    channel,
    publishRaw: (queue, body) =>
      new Promise((resolve, reject) =>
        channel.sendToQueue(queue, Buffer.from(body), { persistent: true }, (error: unknown) =>
          error ? reject(error) : resolve(),
        ),
      ),
    drain: async (queue) => {
      const bodies: string[] = [];
      for (;;) {
        const message = await channel.get(queue, { noAck: true });
        if (!message) return bodies;
        bodies.push(message.content.toString('utf8'));
      }
    },
    readyCount: async (queue) => (await channel.checkQueue(queue)).messageCount,
    deleteQueues: async (...queues) => {
      for (const queue of queues) await channel.deleteQueue(queue);
    },
    close: () => connection.close(),
  };
}

/**
 * Closes, from the broker's side, every connection whose client-provided name is `connectionName`
 * (what a broker restart or an operator does to a client). Only those: other suites may share the
 * broker. Needs `rabbitmqctl` (root on this machine). Returns how many were closed.
 */
export async function forceCloseConnections(connectionName: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', [
    'list_connections',
    '--quiet',
    '--no-table-headers',
    'pid',
    'client_properties',
  ]);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${connectionName}"}`))
    .map((line) => line.split('\t')[0] ?? '')
    .filter((pid) => pid.startsWith('<'));
  for (const pid of pids)
    await run('rabbitmqctl', ['close_connection', pid, 'forced by the work queue test']);
  return pids.length;
}
