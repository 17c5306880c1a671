import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRabbitMqDeadLetters } from '../../lib/adapters/queue/rabbitmq-dead-letters.ts';
import { createRabbitMqQueue } from '../../lib/adapters/queue/rabbitmq-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { type BrokerAdmin, openBrokerAdmin, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { waitFor } from '../support/wait-for.ts';
import { type DeadLettersFixture, deadLettersContract } from './dead-letters-contract.ts';

const MAX_RECEIVE_COUNT = 2;

let admin: BrokerAdmin;

beforeAll(async () => {
  // Fails the whole file with instructions when the broker is down: never a silent skip.
  admin = await openBrokerAdmin();
});

afterAll(async () => {
  await admin?.close();
});

/** A quorum work queue and its `.dlq` of their own, failed items returned at once. */
async function makeRabbitFixture(): Promise<DeadLettersFixture & { queueName: string }> {
  const queueName = uniqueQueueName('test-dlq');
  const workQueue = await createRabbitMqQueue({
    url: RABBITMQ_URL,
    queueName,
    codec: workItemCodec,
    connectionName: 'test-dead-letters-work-queue',
    maxReceiveCount: MAX_RECEIVE_COUNT,
    retryDelayMs: 0,
  });
  const deadLetters = createRabbitMqDeadLetters({
    url: RABBITMQ_URL,
    queueName,
    codec: workItemCodec,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
  return {
    queueName,
    deadLetters,
    workQueue,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    publishRaw: (body) => admin.publishRaw(queueName, body),
    dispose: async () => {
      await deadLetters.close();
      await workQueue.close();
      await admin.deleteQueues(queueName, `${queueName}.dlq`);
    },
  };
}

deadLettersContract('RabbitMqDeadLetters on <queue>.dlq', makeRabbitFixture);

describe('RabbitMqDeadLetters (broker specifics)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('finds nothing, and declares nothing, when the dead-letter queue was never declared', async () => {
    // Prepare
    const queueName = uniqueQueueName('test-dlq-none');
    const deadLetters = createRabbitMqDeadLetters({ url: RABBITMQ_URL, queueName, codec: workItemCodec });
    cleanup.push(deadLetters.close);

    // Act
    const letters = await deadLetters.list(10);
    const count = await deadLetters.count();
    const settled = await deadLetters.settle(async () => 'remove', 10);

    // Assess
    expect(letters).toEqual([]);
    expect(count).toBe(0);
    expect(settled).toEqual({ seen: 0, removed: 0 });
    // A failed checkQueue closes its channel: checked on a connection of its own.
    const probe = await openBrokerAdmin();
    // The refused check may take the probe's connection down with its channel: closing is best effort.
    cleanup.push(() => probe.close().catch(() => undefined));
    await expect(probe.channel.checkQueue(`${queueName}.dlq`)).rejects.toThrow(/NOT_FOUND/);
  });

  it('says the delivery limit was reached and when, from the x-death header', async () => {
    // Prepare
    const fixture = await makeRabbitFixture();
    cleanup.push(fixture.dispose);
    const consumer = await fixture.workQueue.consume(
      async () => {
        throw new Error('simulated crash');
      },
      { concurrency: 1 },
    );
    cleanup.push(consumer.stop);
    const before = Date.now();
    await fixture.workQueue.publish({ queueId: 'q-1', tenantId: 't-1', instanceId: 'i-1', generation: 1 });
    await waitFor(async () => (await fixture.deadLetters.count()) === 1, { what: 'the dead letter' });

    // Act
    const [letter] = await fixture.deadLetters.list(1);

    // Assess
    expect(letter?.lastError).toMatch(/delivery limit reached/);
    expect(Date.parse(letter?.deadLetteredAt ?? '')).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });
});
