import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait-for.ts';

const run = promisify(execFile);

/**
 * A RabbitMQ node of the test's own (its own node name, AMQP port, distribution port and data
 * directory), so a test can stop and start the broker without touching the shared one at 5672
 * that every other suite uses. Needs `rabbitmq-server` and `rabbitmqctl` on the PATH (as the
 * shared broker does). Starting it FAILS when it cannot (never a skip).
 */
export interface PrivateRabbitMq {
  /** amqp://guest:guest@127.0.0.1:<port> */
  url: string;
  port: number;
  /** The node name, for rabbitmqctl -n. */
  node: string;
  /** Stops the broker application: connections are dropped and the port closes; the node stays. */
  stopApp(): Promise<void>;
  /** Starts the broker application again (its durable queues come back). */
  startApp(): Promise<void>;
  /** Ends the node and removes its directory. Safe to call twice. */
  close(): Promise<void>;
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

const ctl = (node: string, ...args: string[]) =>
  run('rabbitmqctl', ['-n', node, ...args], { cwd: tmpdir(), timeout: 90_000 });

export const startPrivateRabbitMq = async (): Promise<PrivateRabbitMq> => {
  const dir = await mkdtemp(join(tmpdir(), 'billing-rabbit-'));
  // The broker may run as another user (rabbitmq) than the test: it must be able to write here.
  await chmod(dir, 0o777);
  const port = await freePort();
  const distPort = await freePort();
  const node = `billing-test-${randomUUID().slice(0, 8)}@localhost`;
  await writeFile(join(dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${port}\n`);
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await ctl(node, 'stop');
    } catch {
      // Not running (it never started, or it is already stopped).
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    await run('rabbitmq-server', ['-detached'], {
      cwd: tmpdir(),
      timeout: 30_000,
      env: {
        ...process.env,
        RABBITMQ_NODENAME: node,
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
      },
    });
    // `-detached` returns before the node has registered with epmd, and until then await_startup
    // fails at once ("not running at all"): ask again until it answers, within a deadline.
    await waitFor(() => ctl(node, 'await_startup', '--timeout', '60').then(() => true), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: `the RabbitMQ node ${node} to start`,
    });
  } catch (error) {
    await close();
    throw new Error(
      `could not start a private RabbitMQ node (${String(error)}). The outage tests need ` +
        '`rabbitmq-server` and `rabbitmqctl` on the PATH, as the shared broker at 5672 does.',
    );
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    node,
    stopApp: async () => {
      await ctl(node, 'stop_app');
    },
    startApp: async () => {
      await ctl(node, 'start_app');
      await ctl(node, 'await_startup', '--timeout', '60');
    },
    close,
  };
};
