import { setTimeout as simulateWork } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MessageCodec } from '../../lib/adapters/queue/message-codec.ts';
import { createRabbitMqQueue, type RabbitMqLogger } from '../../lib/adapters/queue/rabbitmq-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Consumer } from '../../lib/ports/message-queue.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import {
  type BrokerAdmin,
  forceCloseConnections,
  openBrokerAdmin,
  RABBITMQ_URL,
  uniqueQueueName,
} from '../support/rabbitmq.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  callbackRefs,
  type MessageQueueFixture,
  messageQueueContract,
  workItems,
} from './message-queue-contract.ts';

const MAX_RECEIVE_COUNT = 3;

let admin: BrokerAdmin;

beforeAll(async () => {
  // Fails the whole file with instructions when the broker is down: never a silent skip.
  admin = await openBrokerAdmin();
});

afterAll(async () => {
  await admin?.close();
});

/** A logger that keeps messages, to see reconnects happen. */
const memoryLogger = () => {
  const lines: string[] = [];
  const logger: RabbitMqLogger = {
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
  };
  return { lines, logger };
};

/** A quorum queue and its `.dlq` on the local broker, under names no other test uses. */
async function makeRabbitFixture<T>(
  codec: MessageCodec<T>,
  options: { connectionName?: string; logger?: RabbitMqLogger } = {},
): Promise<MessageQueueFixture<T>> {
  const queueName = uniqueQueueName('test-queue');
  const deadLetterQueue = `${queueName}.dlq`;
  const queue = await createRabbitMqQueue({
    url: RABBITMQ_URL,
    queueName,
    codec,
    connectionName: 'test-message-queue',
    maxReceiveCount: MAX_RECEIVE_COUNT,
    retryDelayMs: 200,
    reconnectDelayMs: 100,
    ...options,
  });
  const deadBodies: string[] = [];
  return {
    queue,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    publishRaw: (body) => admin.publishRaw(queueName, body),
    deadLetterBodies: async () => {
      deadBodies.push(...(await admin.drain(deadLetterQueue)));
      return deadBodies;
    },
    remaining: () => admin.readyCount(queueName),
    dispose: async () => {
      await queue.close();
      await admin.deleteQueues(queueName, deadLetterQueue);
    },
  };
}

messageQueueContract('RabbitMQ quorum queue', workItems, makeRabbitFixture);
messageQueueContract('RabbitMQ quorum queue', callbackRefs, makeRabbitFixture);

describe('RabbitMQ queue (broker specifics)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const item = (queueId: string, generation = 1): WorkItem => ({
    queueId,
    tenantId: 'tenant-1',
    instanceId: 'instance-1',
    generation,
  });
  const collect = async (queue: WorkQueue) => {
    const seen: WorkItem[] = [];
    const consumer: Consumer = await queue.consume(
      async ({ item: work }) => {
        seen.push(work);
      },
      { concurrency: 2 },
    );
    cleanup.push(consumer.stop);
    return seen;
  };

  it('keeps consuming and publishing after the broker closes its connection', async () => {
    // Prepare
    const connectionName = uniqueQueueName('test-conn');
    const { lines, logger } = memoryLogger();
    const fixture = await makeRabbitFixture(workItemCodec, { connectionName, logger });
    cleanup.push(fixture.dispose);
    const seen = await collect(fixture.queue);
    await fixture.queue.publish(item('before'));
    await waitFor(() => seen.some((w) => w.queueId === 'before'), { what: 'the first item' });

    // Act
    const closed = await forceCloseConnections(connectionName);
    await waitFor(() => lines.some((line) => line.includes('session lost')), { what: 'the lost session' });
    // Publishing while the session is down waits for the reconnection instead of failing.
    await fixture.queue.publish(item('after'));

    // Assess
    expect(closed).toBe(1);
    await waitFor(() => seen.some((w) => w.queueId === 'after'), { what: 'the item after the reconnect' });
    expect(lines).toContain('info RabbitMQ session restored');
  });

  it('holds deliveries beyond the concurrency when the prefetch is larger', async () => {
    // Prepare
    const queueName = uniqueQueueName();
    const queue = await createRabbitMqQueue({
      url: RABBITMQ_URL,
      queueName,
      codec: workItemCodec,
      connectionName: 'test-prefetch',
      prefetch: 10,
    });
    cleanup.push(() => admin.deleteQueues(queueName, `${queueName}.dlq`));
    cleanup.push(queue.close);
    for (let i = 0; i < 8; i += 1) await queue.publish(item(`queue-${i}`));
    let active = 0;
    let peak = 0;
    let done = 0;

    // Act
    const consumer = await queue.consume(
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await simulateWork(100);
        active -= 1;
        done += 1;
      },
      { concurrency: 2 },
    );
    cleanup.push(consumer.stop);

    // Assess
    await waitFor(() => done === 8, { what: 'all 8 handlers' });
    expect(peak).toBe(2);
  });

  it('delivers an item published twice twice, as RabbitMQ has no deduplication', async () => {
    // Prepare
    const fixture = await makeRabbitFixture(workItemCodec);
    cleanup.push(fixture.dispose);
    const seen = await collect(fixture.queue);

    // Act
    await fixture.queue.publish(item('queue-1'));
    await fixture.queue.publish(item('queue-1'));

    // Assess
    await waitFor(() => seen.length === 2, { what: 'both copies' });
    expect(seen).toEqual([item('queue-1'), item('queue-1')]);
  });

  it('declares the queue and its dead-letter queue when created (with the Powertools logger)', async () => {
    // Prepare
    const queueName = uniqueQueueName();

    // Act
    const queue = await createRabbitMqQueue({
      url: RABBITMQ_URL,
      queueName,
      codec: workItemCodec,
      connectionName: 'test-declare',
      logger: createLogger('SILENT'),
    });
    cleanup.push(() => admin.deleteQueues(queueName, `${queueName}.dlq`));
    cleanup.push(queue.close);

    // Assess: checkQueue fails (404) for a queue that does not exist.
    expect((await admin.channel.checkQueue(queueName)).queue).toBe(queueName);
    expect((await admin.channel.checkQueue(`${queueName}.dlq`)).queue).toBe(`${queueName}.dlq`);
  });

  it('fails with a clear message when the broker cannot be reached', async () => {
    // Prepare
    const url = 'amqp://guest:secret@127.0.0.1:1';

    // Act
    const attempt = createRabbitMqQueue({
      url,
      queueName: uniqueQueueName(),
      codec: workItemCodec,
      connectionName: 'test-unreachable',
    });

    // Assess
    await expect(attempt).rejects.toThrow(/RabbitMQ not reachable at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
  });
});
