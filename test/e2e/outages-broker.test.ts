import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, type TestResponse } from '../support/local-stack.ts';
import { type PrivateRabbitMq, startPrivateRabbitMq } from '../support/private-rabbitmq.ts';
import {
  FAST_PACE,
  notificationBatch,
  type SendingStack,
  sentNumbers,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Issue 17: the work queue (RabbitMQ) goes down. The stack runs on a RabbitMQ node of this
 * test's own (test/support/private-rabbitmq.ts), which the test stops (`stop_app`: connections
 * dropped, port closed) and starts again; other suites keep the shared broker at 5672.
 * The stored queue is the outbox: an accept answers as usual and the sweeper publishes what the
 * broker did not take. Every scenario ends with each debtor sent exactly once and no 5xx.
 */

let broker: PrivateRabbitMq;
let s: SendingStack;

beforeAll(async () => {
  broker = await startPrivateRabbitMq();
  s = await startSendingStack('rabbitmq', {
    amqpUrl: broker.url,
    // A short grace so the sweeper publishes a pending queue within seconds, not minutes.
    env: { SWEEPER_GRACE_SECONDS: '2', SWEEPER_INTERVAL_SECONDS: '1' },
  });
}, 120_000);

afterAll(async () => {
  try {
    // The broker must be up for the stack to close its connections cleanly.
    await broker?.startApp().catch(() => undefined);
    await s?.close();
  } finally {
    await broker?.close();
  }
}, 120_000);

const path = `${API}/send/notification`;

/** `billing_dependency_failures_total` for one dependency and operation, from GET /metrics. */
const dependencyFailures = async (dependency: string, operation: string): Promise<number> => {
  const response = await s.test.get('/metrics', { key: null });
  expect(response.status).toBe(200);
  const line = String(response.body)
    .split('\n')
    .find(
      (l) =>
        l.startsWith('billing_dependency_failures_total{') &&
        l.includes(`dependency="${dependency}"`) &&
        l.includes(`operation="${operation}"`),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
};

const health = () => s.test.get('/health', { key: null });

describe('Outages: the work queue (RabbitMQ) is down', () => {
  it('answers /health 503 with work_queue unreachable while the broker is down, and ok after', async () => {
    // Prepare
    const before = await health();

    // Act
    await broker.stopApp();
    let down: TestResponse;
    try {
      down = await waitFor(
        async () => {
          const r = await health();
          return r.body.work_queue === 'unreachable' ? r : undefined;
        },
        { timeoutMs: 15_000, what: '/health to see the broker down' },
      );
    } finally {
      await broker.startApp();
    }
    const after = await waitFor(
      async () => {
        const r = await health();
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000, what: '/health to be ok again' },
    );

    // Assess
    expect(before.status).toBe(200);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'degraded', store: 'ok', work_queue: 'unreachable' });
    expect(after.body).toMatchObject({ status: 'ok', store: 'ok', work_queue: 'ok' });
  }, 90_000);

  // `before`: the broker is down when the batch arrives. `during`: it goes down in the middle of the accept,
  // once the campaign is stored and just before its queue is (the publish comes right after).
  it.each(['before', 'during'] as const)(
    'accepts a batch with the broker going down %s the accept with the normal 200, and the sweeper sends it once the broker is back',
    async (when) => {
      // Prepare
      const tenant = await s.tenant(FAST_PACE);
      const { numbers, body } = notificationBatch(5);
      const failuresBefore = await dependencyFailures('work_queue', 'publish');
      const { store } = s.test.container;
      const createQueue = store.createQueue;
      const own = Object.hasOwn(store, 'createQueue');
      if (when === 'before') await broker.stopApp();
      else
        store.createQueue = async (...args) => {
          await broker.stopApp();
          return createQueue.apply(store, args);
        };

      let accepted: TestResponse;
      let failuresAfter: number;
      try {
        // Act
        accepted = await s.test.post(path, body, { key: tenant.key });
        failuresAfter = await dependencyFailures('work_queue', 'publish');
      } finally {
        if (own) store.createQueue = createQueue;
        else delete (store as Partial<typeof store>).createQueue;
        await broker.startApp();
      }
      const done = await s.waitForStatus(tenant, accepted.body.queue_id, ['completed'], 60_000);

      // Assess
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({
        accepted: 5,
        total_contacts: 5,
        billing_campaign_id: expect.any(String),
        queue_id: expect.any(String),
      });
      expect(failuresAfter).toBeGreaterThan(failuresBefore);
      expect(done).toMatchObject({ total_contacts: 5, contacts_sent: 5 });
      expect(sentNumbers(s, tenant)).toEqual([...numbers].sort());
    },
    90_000,
  );

  it('finishes a run the broker left in the middle, each number sent once', async () => {
    // Prepare: 20 debtors at 2 a second, so the broker goes down mid-run.
    const tenant = await s.tenant({ ...FAST_PACE, messagesPerMinute: 120 });
    const { numbers, body } = notificationBatch(20);
    const accepted = await s.test.post(path, body, { key: tenant.key });
    expect(accepted.status).toBe(200);
    await waitFor(() => s.sent(tenant).length >= 3, { timeoutMs: 20_000, what: 'three sends' });

    // Act: the broker is down for a few seconds (the outage's length, not a wait for an outcome):
    // long enough for the sender's slice (2 s budget) to end and its continuation to find no broker.
    await broker.stopApp();
    let sentWhileDown: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      sentWhileDown = s.sent(tenant).length;
    } finally {
      await broker.startApp();
    }
    const done = await s.waitForStatus(tenant, accepted.body.queue_id, ['completed'], 90_000);

    // Assess: the outage did come in the middle of the run.
    expect(sentWhileDown).toBeLessThan(20);
    expect(done).toMatchObject({ total_contacts: 20, contacts_sent: 20 });
    expect(sentNumbers(s, tenant)).toEqual([...numbers].sort());
  }, 120_000);
});
