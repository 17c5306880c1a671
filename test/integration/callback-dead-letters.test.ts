import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { callbackRefCodec } from '../../lib/adapters/queue/callback-ref-schema.ts';
import { createRabbitMqDeadLetters } from '../../lib/adapters/queue/rabbitmq-dead-letters.ts';
import { createRabbitMqQueue } from '../../lib/adapters/queue/rabbitmq-queue.ts';
import { createSqsDeadLetters } from '../../lib/adapters/queue/sqs-dead-letters.ts';
import { createSqsQueue } from '../../lib/adapters/queue/sqs-queue.ts';
import { redriveCallbackDeadLetters } from '../../lib/app/callback-dead-letters.ts';
import { callbackQueueName, openCallbackDeadLetters } from '../../lib/composition/queues.ts';
import { createContainer } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import { createCallbackDelivererHandler } from '../../lib/lambda/callback-deliverer-handler.ts';
import { ensureCallbackQueue } from '../../lib/local/embedded-sqs.ts';
import { type LocalStack, startLocalStack } from '../../lib/local/local-stack.ts';
import { startWorker } from '../../lib/local/worker.ts';
import type { CallbackQueue, CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { DeadLetters } from '../../lib/ports/dead-letters.ts';
import { startCallbackReceiver } from '../support/callback-receiver.ts';
import { useEmbeddedSqs } from '../support/embedded-sqs.ts';
import { emitSentWithoutWorker, localStackEnv } from '../support/local-stack-env.ts';
import { openBrokerAdmin, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The callbacks queue's dead letters go back on it by themselves (lib/app/callback-dead-letters.ts):
 * a ref dies when its consumer failed on the store five times in a row (an outage), and nothing else
 * would ever post its event on AWS. Letters reach the dead-letter queue the real way here: published
 * on the callbacks queue and failed by a consumer until the broker gives up on them.
 */

let sqs: SQSClient;
useEmbeddedSqs((client) => {
  sqs = client;
});

/** Fails every delivery of the callbacks queue until `deadLetters` holds `expected` letters. */
const bury = async (queue: CallbackQueue, deadLetters: DeadLetters<CallbackRef>, expected: number) => {
  const consumer = await queue.consume(
    async () => {
      throw new Error('the store is down');
    },
    { concurrency: 1 },
  );
  try {
    await waitFor(async () => (await deadLetters.count()) >= expected, {
      what: `${expected} dead callback refs`,
      timeoutMs: 30_000,
    });
  } finally {
    await consumer.stop();
  }
};

/** Everything the callbacks queue hands out in `ms`, acknowledged. */
const takeFor = async (queue: CallbackQueue, ms: number): Promise<CallbackRef[]> => {
  const taken: CallbackRef[] = [];
  const consumer = await queue.consume(
    async (delivery) => {
      taken.push(delivery.item);
    },
    { concurrency: 1 },
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  await consumer.stop();
  return taken;
};

interface Fixture {
  callbackQueue: CallbackQueue;
  deadLetters: DeadLetters<CallbackRef>;
  /** Puts a body on the callbacks queue without the adapter (poison). */
  publishRaw(body: string): Promise<void>;
  dispose(): Promise<void>;
}

const sqsFixture = async (): Promise<Fixture> => {
  const queueUrl = await ensureCallbackQueue(sqs, `callbacks-${randomUUID().slice(0, 8)}`);
  const queue = createSqsQueue({
    client: sqs,
    queueUrl,
    codec: callbackRefCodec,
    waitTimeSeconds: 1,
    retryDelaySeconds: 0,
  });
  const deadLetters = createSqsDeadLetters({ client: sqs, queueUrl, codec: callbackRefCodec });
  return {
    callbackQueue: queue,
    deadLetters,
    publishRaw: async (body) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
    dispose: async () => {
      await queue.close();
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: `${queueUrl}-dlq` }));
    },
  };
};

const rabbitFixture = async (): Promise<Fixture> => {
  const admin = await openBrokerAdmin();
  const queueName = uniqueQueueName('test-callbacks');
  const queue = await createRabbitMqQueue({
    url: RABBITMQ_URL,
    queueName,
    codec: callbackRefCodec,
    connectionName: 'test-callback-dead-letters',
    retryDelayMs: 0,
  });
  const deadLetters = createRabbitMqDeadLetters({ url: RABBITMQ_URL, queueName, codec: callbackRefCodec });
  return {
    callbackQueue: queue,
    deadLetters,
    publishRaw: (body) => admin.publishRaw(queueName, body),
    dispose: async () => {
      await deadLetters.close();
      await queue.close();
      await admin.deleteQueues(queueName, `${queueName}.dlq`);
      await admin.close();
    },
  };
};

const ref = (): CallbackRef => ({ queueId: `q-${randomUUID().slice(0, 8)}`, eventId: 'e-1:0:sent' });

describe.each([
  { driver: 'SQS (fauxqs)', makeFixture: sqsFixture },
  { driver: 'RabbitMQ', makeFixture: rabbitFixture },
])('redriveCallbackDeadLetters on $driver', ({ makeFixture }) => {
  it('puts dead refs back on the callbacks queue and keeps a body that is not a ref', async () => {
    // Prepare: a ref and a poison body, each failed until dead-lettered
    const fixture = await makeFixture();
    try {
      const dead = ref();
      await fixture.callbackQueue.publish(dead);
      await fixture.publishRaw('{"not":"a ref"}');
      await bury(fixture.callbackQueue, fixture.deadLetters, 2);

      // Act
      const redrive = await redriveCallbackDeadLetters(fixture);

      // Assess: the ref is on the callbacks queue again, the poison still dead
      expect({
        redrive,
        back: await takeFor(fixture.callbackQueue, 2_000),
        left: await fixture.deadLetters.count(),
      }).toEqual({ redrive: { redriven: 1, kept: 1 }, back: [dead], left: 1 });
    } finally {
      await fixture.dispose();
    }
  }, 60_000);

  it('does nothing but look when no letter is dead', async () => {
    // Prepare
    const fixture = await makeFixture();
    try {
      // Act
      const redrive = await redriveCallbackDeadLetters(fixture);

      // Assess
      expect(redrive).toEqual({ redriven: 0, kept: 0 });
    } finally {
      await fixture.dispose();
    }
  });
});

/** A local stack without the callback safety net, so that nothing but the redrive could post the event (as on AWS). */
const localEnv = (dataDir: string, extra: Record<string, string> = {}) =>
  localStackEnv(dataDir, { CALLBACK_SAFETY_NET_SECONDS: '0', ...extra });

const emitWithoutWorker = (stack: LocalStack, callbackUrl: string) =>
  emitSentWithoutWorker(stack, { externalId: `dead-callback-${randomUUID().slice(0, 8)}`, callbackUrl });

/** The stacks' data dirs, each its own, removed after the file. */
const dataDirs: string[] = [];
afterAll(async () => {
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
});
const freshDataDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'billing-callback-dlq-'));
  dataDirs.push(dir);
  return dir;
};

describe('the local worker puts dead callback refs back', () => {
  it('posts the callback of a ref a store outage dead-lettered on the embedded SQS, with no one stepping in', async () => {
    // Prepare: the event's ref failed until the embedded SQS dead-lettered it
    const dataDir = await freshDataDir();
    const receiver = await startCallbackReceiver();
    const stack = await startLocalStack(loadConfig(localEnv(dataDir)), {}, { api: true, worker: false });
    const deadLetters = openCallbackDeadLetters(stack.container.config);
    if (!deadLetters) throw new Error('the local stack has no callbacks queue');
    try {
      const eventId = await emitWithoutWorker(stack, receiver.url);
      await bury(stack.container.callbackQueue, deadLetters, 1);

      // Act: the worker, once its poller has reached the store
      const worker = await startWorker(stack.container, { callbackDeadLetters: deadLetters });
      try {
        await waitFor(() => receiver.received.length > 0, { timeoutMs: 20_000, what: 'the dead callback' });
      } finally {
        await worker.stop();
      }

      // Assess
      expect({ posted: receiver.received.map((r) => r.eventId), left: await deadLetters.count() }).toEqual({
        posted: [eventId],
        left: 0,
      });
    } finally {
      await deadLetters.close();
      await stack.close();
      await receiver.close();
    }
  }, 90_000);

  it('posts it after a restart on RabbitMQ, whose dead letters outlive the process', async () => {
    // Prepare: the event's ref failed until RabbitMQ dead-lettered it, then the process stops
    const dataDir = await freshDataDir();
    const receiver = await startCallbackReceiver();
    const workQueueName = uniqueQueueName('test-cbdlq');
    const env = localEnv(dataDir, {
      QUEUE_DRIVER: 'rabbitmq',
      AMQP_URL: RABBITMQ_URL,
      WORK_QUEUE_NAME: workQueueName,
    });
    const callbacks = callbackQueueName(workQueueName);
    const admin = await openBrokerAdmin();
    let eventId = '';
    const first = await startLocalStack(loadConfig(env), {}, { api: true, worker: false });
    // The product's callbacks queue comes back after a minute; this one, on the same queue, at once.
    const failingFast = await createRabbitMqQueue({
      url: RABBITMQ_URL,
      queueName: callbacks,
      codec: callbackRefCodec,
      connectionName: 'test-callback-dead-letters',
      retryDelayMs: 0,
    });
    const deadLetters = createRabbitMqDeadLetters({
      url: RABBITMQ_URL,
      queueName: callbacks,
      codec: callbackRefCodec,
    });
    try {
      eventId = await emitWithoutWorker(first, receiver.url);
      await bury(failingFast, deadLetters, 1);
    } finally {
      await failingFast.close();
      await first.close();
    }

    // Act: started again with its worker (local-stack.ts hands it the callbacks' dead letters)
    const second = await startLocalStack(loadConfig(env), {}, { api: false, worker: true });
    try {
      await waitFor(() => receiver.received.length > 0, { timeoutMs: 20_000, what: 'the dead callback' });

      // Assess
      expect({ posted: receiver.received.map((r) => r.eventId), left: await deadLetters.count() }).toEqual({
        posted: [eventId],
        left: 0,
      });
    } finally {
      await second.close();
      await deadLetters.close();
      await receiver.close();
      await admin.deleteQueues(workQueueName, `${workQueueName}.dlq`, callbacks, `${callbacks}.dlq`);
      await admin.close();
    }
  }, 90_000);
});

describe('the callback deliverer cron puts dead callback refs back', () => {
  it('after a run that reached the store, and not after one that did not', async () => {
    // Prepare: a dead ref on the embedded SQS of a stack without a worker
    const dataDir = await freshDataDir();
    const stack = await startLocalStack(loadConfig(localEnv(dataDir)), {}, { api: false, worker: false });
    const deadLetters = openCallbackDeadLetters(stack.container.config);
    if (!deadLetters) throw new Error('the local stack has no callbacks queue');
    // The same cron with a store that refuses every connection (an outage).
    const storeDown = createContainer(
      {
        ...stack.container.config,
        endpoints: { ...stack.container.config.endpoints, dynamodb: 'http://127.0.0.1:9' },
      },
      { callbackQueue: stack.container.callbackQueue, logger: stack.container.logger },
    );
    try {
      const dead = ref();
      await stack.container.callbackQueue.publish(dead);
      await bury(stack.container.callbackQueue, deadLetters, 1);

      // Act
      const duringOutage = await createCallbackDelivererHandler(storeDown, deadLetters)().then(
        () => 'ran',
        () => 'failed',
      );
      const leftByTheOutage = await deadLetters.count();
      const afterOutage = await createCallbackDelivererHandler(stack.container, deadLetters)();

      // Assess: the run that could not reach the store left the letter; the next one put it back
      expect({
        duringOutage,
        leftByTheOutage,
        redriven: afterOutage.redriven,
        back: await takeFor(stack.container.callbackQueue, 2_000),
        left: await deadLetters.count(),
      }).toEqual({ duringOutage: 'failed', leftByTheOutage: 1, redriven: 1, back: [dead], left: 0 });
    } finally {
      storeDown.dynamo.destroy();
      await deadLetters.close();
      await stack.close();
    }
  }, 90_000);
});
