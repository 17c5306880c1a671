import { randomInt, randomUUID } from 'node:crypto';
import { createRabbitMqQueue } from '../../lib/adapters/queue/rabbitmq-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { addInstance, type WarmupSettings } from '../../lib/app/add-instance.ts';
import type { BillingConfig } from '../../lib/domain/tenant-types.ts';
import type { EvolutionSimulator, SimSentMessage } from '../../lib/local/evolution-simulator/index.ts';
import type { LocalRoles } from '../../lib/local/local-stack.ts';
import type { WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { type IndexLagDynamoDb, startIndexLagDynamoDb } from './index-lag-dynamodb.ts';
import {
  type AnyJson,
  startTestStack,
  type TestClock,
  type TestStack,
  type TestTenant,
} from './local-stack.ts';
import { openBrokerAdmin, RABBITMQ_URL, uniqueQueueName } from './rabbitmq.ts';
import { waitFor } from './wait-for.ts';

/**
 * The local stack set up for sending: the real clock (pacing sleeps for real), the built-in
 * Evolution simulator on a free port, short sender budgets so continuations happen, and per-test
 * tenants that each send through their own simulator instance (so one test's log, failures and
 * lease never touch another's).
 */

export type QueueDriver = 'sqs' | 'rabbitmq';

/** Pace used unless a test says otherwise: 600 per minute, no extra spacing, quick retries. */
export const FAST_PACE: Partial<BillingConfig> = {
  messagesPerMinute: 600,
  minIntervalSeconds: 0,
  jitterSeconds: 0,
  retryBackoffSeconds: 0,
};

/**
 * A clock on real time (the pump's sleeps are real), with the monotonic reading the pump paces by,
 * as the system clock has; `set`/`advance` shift it, for completeness.
 */
export const createRealTimeClock = (): TestClock => {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    monotonicMs: () => performance.now() + offset,
    set: (at) => {
      offset = new Date(at).getTime() - Date.now();
    },
    advance: (ms) => {
      offset += ms;
    },
  };
};

export interface SendingTenant extends TestTenant {
  /** The tenant's WhatsApp instance: our id and the simulator's instance name (the same). */
  instance: string;
}

export interface SendingStack {
  driver: QueueDriver;
  test: TestStack;
  simulator: EvolutionSimulator;
  /** RabbitMQ only: the client-provided connection name of this stack's work queue. */
  connectionName: string;
  /**
   * A fresh tenant with its own simulator instance and the given pace (default FAST_PACE). The
   * instance is an old number (no warm-up ramp) unless `warmup` says otherwise.
   */
  tenant(config?: Partial<BillingConfig>, warmup?: WarmupSettings): Promise<SendingTenant>;
  /** Posts a notification batch of `count` contacts; numbers are unique per call. Returns the queue id. */
  sendBatch(
    tenant: SendingTenant,
    count: number,
    label?: string,
  ): Promise<{ queueId: string; numbers: string[] }>;
  /** GET .../queue/{id}/status as the tenant. */
  status(tenant: SendingTenant, queueId: string): Promise<AnyJson>;
  /** POST .../queue/{id}/control as the tenant; returns status and body. */
  control(
    tenant: SendingTenant,
    queueId: string,
    action: 'pause' | 'resume' | 'cancel',
  ): Promise<{ status: number; body: AnyJson }>;
  /** Waits until the queue reaches one of `statuses`; returns its status body. */
  waitForStatus(
    tenant: SendingTenant,
    queueId: string,
    statuses: string[],
    timeoutMs?: number,
  ): Promise<AnyJson>;
  /** The simulator's accepted sends for this tenant's instance. */
  sent(tenant: SendingTenant): SimSentMessage[];
  /** The lagging DynamoDB the stack runs on (undefined when started with `indexLag: false`). */
  dynamo: IndexLagDynamoDb | undefined;
  close(): Promise<void>;
}

export interface SendingStackOptions {
  env?: Record<string, string>;
  /**
   * Eventually consistent reads (every index query) lag behind writes by up to `maxLagMs`, as on
   * real DynamoDB (test/support/index-lag-dynamodb.ts). On by default: the sending suite must hold
   * against a lagging index. `false` runs on the plain emulator.
   */
  indexLag?: { maxLagMs?: number; random?: () => number } | false;
  /** The gateway client the stack sends with (default: the product's, from the env settings). */
  gateway?: WhatsAppGateway;
  /**
   * RabbitMQ only: the broker to use instead of the shared one (RABBITMQ_URL), e.g. a private
   * node a test stops and starts (test/support/private-rabbitmq.ts). Its queues are not deleted
   * on close: the private node goes away with them.
   */
  amqpUrl?: string;
  /** What the stack runs (default: API and worker); a test that invokes the sender itself leaves the worker out. */
  roles?: LocalRoles;
}

let batchCounter = 0;

/** Digits of a Brazilian mobile number unique to this process run (9 + 8 digits after DDD 11). */
const uniqueNumbers = (count: number): string[] => {
  batchCounter += 1;
  const base = (process.pid % 100) * 1_000_000 + (batchCounter % 1000) * 1000;
  return Array.from({ length: count }, (_, i) => `119${String(base + i).padStart(8, '0')}`);
};

/** Starts the whole local stack in-process on the chosen driver, with its own work queue name. */
export const startSendingStack = async (
  driver: QueueDriver,
  options: SendingStackOptions = {},
): Promise<SendingStack> => {
  const queueName = uniqueQueueName(`e2e-send-${driver}`);
  const lag = options.indexLag ?? { maxLagMs: 200 };
  const dynamo = lag === false ? undefined : await startIndexLagDynamoDb(lag);
  const connectionName = `e2e-sending-${randomUUID().slice(0, 8)}`;
  const amqpUrl = options.amqpUrl ?? RABBITMQ_URL;
  // The RabbitMQ work queue is built here only to give its connection a name of its own, so a test
  // can drop exactly this stack's connection; it is the product's adapter with the stack's settings.
  const workQueue =
    driver === 'rabbitmq'
      ? await createRabbitMqQueue({ url: amqpUrl, queueName, codec: workItemCodec, connectionName })
      : undefined;
  let test: TestStack;
  try {
    test = await startTestStack({
      clock: createRealTimeClock(),
      ...(workQueue ? { workQueue } : {}),
      ...(options.gateway ? { gateway: options.gateway } : {}),
      ...(options.roles ? { roles: options.roles } : {}),
      env: {
        QUEUE_DRIVER: driver,
        WORK_QUEUE_NAME: queueName,
        AMQP_URL: amqpUrl,
        SIMULATOR_PORT: '0',
        SENDER_BUDGET_SECONDS: '2',
        SENDER_LEASE_SECONDS: '6',
        SENDER_CONCURRENCY: '4',
        GATEWAY_TIMEOUT_MS: '1500',
        ...(dynamo ? { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint } : {}),
        ...options.env,
      },
    });
  } catch (error) {
    await workQueue?.close();
    await dynamo?.close();
    throw error;
  }
  const simulator = test.stack.simulator;
  if (!simulator) throw new Error('the local stack started no simulator');
  const api = '/api/v1/billing';

  const stack: SendingStack = {
    driver,
    test,
    simulator,
    connectionName,
    tenant: async (config = FAST_PACE, warmup = { enabled: false }) => {
      const created = await test.createTenant({ config });
      const instance = `inst-${created.tenantId}`;
      simulator.upsertInstance(instance, { state: 'open' });
      await addInstance(test.container, {
        tenantId: created.tenantId,
        id: instance,
        instanceName: instance,
        baseUrl: simulator.url,
        credentialRef: `plain:${simulator.apiKey}`,
        warmup,
      });
      return { ...created, instance };
    },
    sendBatch: async (tenant, count, label = 'Cliente') => {
      const numbers = uniqueNumbers(count);
      const response = await test.post(
        `${api}/send/notification`,
        {
          external_id: `e2e-${randomUUID()}`,
          contacts: numbers.map((n, i) => ({
            nome_cliente: `${label} ${i}`,
            telefone: n,
            mensagem: 'Aviso de teste',
          })),
        },
        { key: tenant.key },
      );
      if (response.status !== 201 && response.status !== 200)
        throw new Error(`send failed: ${response.status} ${JSON.stringify(response.body)}`);
      return { queueId: response.body.queue_id as string, numbers: numbers.map((n) => `55${n}`) };
    },
    status: async (tenant, queueId) => {
      const response = await test.get(`${api}/queue/${queueId}/status`, { key: tenant.key });
      if (response.status !== 200) throw new Error(`status failed: ${response.status}`);
      return response.body;
    },
    control: async (tenant, queueId, action) => {
      const response = await test.post(`${api}/queue/${queueId}/control`, { action }, { key: tenant.key });
      return { status: response.status, body: response.body };
    },
    waitForStatus: (tenant, queueId, statuses, timeoutMs = 20_000) =>
      waitFor(
        async () => {
          const body = await stack.status(tenant, queueId);
          return statuses.includes(body.status) ? body : undefined;
        },
        { timeoutMs, intervalMs: 100, what: `queue ${queueId} to be ${statuses.join('|')}` },
      ),
    sent: (tenant) => simulator.sent().filter((m) => m.instance === tenant.instance),
    dynamo,
    close: async () => {
      try {
        await test.close();
        await dynamo?.close();
      } finally {
        if (driver === 'rabbitmq' && !options.amqpUrl) {
          const admin = await openBrokerAdmin();
          try {
            await admin.deleteQueues(
              queueName,
              `${queueName}.dlq`,
              `${queueName}-callbacks`,
              `${queueName}-callbacks.dlq`,
            );
          } finally {
            await admin.close();
          }
        }
      }
    },
  };
  return stack;
};

/** A notification batch of `count` debtors with fresh numbers (also returned as the simulator logs them). */
export const notificationBatch = (count: number) => {
  const tag = String(randomInt(100_000)).padStart(5, '0');
  const numbers = Array.from({ length: count }, (_, i) => `119${tag}${String(i).padStart(3, '0')}`);
  return {
    numbers: numbers.map((n) => `55${n}`),
    body: {
      external_id: `batch-${randomUUID()}`,
      contacts: numbers.map((telefone, i) => ({ nome_cliente: `Devedor ${i}`, telefone, mensagem: 'Aviso' })),
    },
  };
};

/** The numbers the simulator accepted for this tenant, sorted (a number sent twice shows twice). */
export const sentNumbers = (stack: SendingStack, tenant: SendingTenant): string[] =>
  stack
    .sent(tenant)
    .map((m) => m.number)
    .sort();
