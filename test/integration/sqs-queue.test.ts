import { randomUUID } from 'node:crypto';
import { setTimeout as simulateWork } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageCodec } from '../../lib/adapters/queue/message-codec.ts';
import { createSqsQueue } from '../../lib/adapters/queue/sqs-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { ensureWorkQueues } from '../../lib/local/embedded-sqs.ts';
import type { Consumer, MessageDelivery } from '../../lib/ports/message-queue.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { useEmbeddedSqs } from '../support/embedded-sqs.ts';
import { waitFor } from '../support/wait-for.ts';
import {
  callbackRefs,
  type MessageQueueFixture,
  messageQueueContract,
  workItems,
} from './message-queue-contract.ts';

const MAX_RECEIVE_COUNT = 3;
const VISIBILITY_TIMEOUT_SECONDS = 10;

let client: SQSClient;
useEmbeddedSqs((started) => {
  client = started;
});

const required = (value: string | undefined, what: string): string => {
  if (!value) throw new Error(`SQS returned no ${what}`);
  return value;
};

/** A standard queue and its DLQ, as infra/queues.ts makes the callbacks queue. */
const createStandardQueues = async (name: string) => {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const deadLetterQueueUrl = required(dlq.QueueUrl, 'dead-letter queue URL');
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: required(Attributes?.QueueArn, 'dead-letter queue ARN'),
          maxReceiveCount: MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  return { queueUrl: required(main.QueueUrl, 'queue URL'), deadLetterQueueUrl };
};

/**
 * A queue and its DLQ on the emulator, with short waits so failures come back within a test: a
 * FIFO queue for a codec with FIFO keys (the work queue), a standard one otherwise (the callbacks queue).
 */
async function makeSqsFixture<T>(codec: MessageCodec<T>): Promise<MessageQueueFixture<T>> {
  const name = `queue-${randomUUID().slice(0, 8)}`;
  const { queueUrl, deadLetterQueueUrl } = codec.fifo
    ? await ensureWorkQueues(client, {
        name,
        maxReceiveCount: MAX_RECEIVE_COUNT,
        visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
      })
    : await createStandardQueues(name);
  // As the root opens them: work item handlers keep their message invisible, callback ref handlers do not.
  const queue = createSqsQueue({
    client,
    queueUrl,
    codec,
    waitTimeSeconds: 1,
    retryDelaySeconds: 1,
    keepInvisible: codec.fifo !== undefined,
  });
  const deadBodies: string[] = [];
  return {
    queue,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    publishRaw: async (body, group) => {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          ...(codec.fifo ? { MessageGroupId: group, MessageDeduplicationId: randomUUID() } : {}),
        }),
      );
    },
    deadLetterBodies: async () => {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      for (const message of Messages) {
        deadBodies.push(message.Body ?? '');
        // Deleted once read: a FIFO group stays locked while one of its messages is in flight.
        await client.send(
          new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
      return deadBodies;
    },
    remaining: async () => {
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed)
      );
    },
    dispose: async () => {
      await queue.close();
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await client.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueueUrl }));
    },
  };
}

messageQueueContract('SQS FIFO queue on fauxqs', workItems, makeSqsFixture);
messageQueueContract('SQS standard queue on fauxqs', callbackRefs, makeSqsFixture);

describe('SQS queue (FIFO specifics)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const fresh = async () => {
    const fixture = await makeSqsFixture(workItemCodec);
    cleanup.push(fixture.dispose);
    return fixture;
  };
  const consume = async (
    queue: WorkQueue,
    handler: (d: MessageDelivery<WorkItem>) => Promise<void>,
    concurrency: number,
  ) => {
    const consumer: Consumer = await queue.consume(handler, { concurrency });
    cleanup.push(consumer.stop);
    return consumer;
  };
  const item = (instanceId: string, queueId: string, generation = 1): WorkItem => ({
    queueId,
    tenantId: 'tenant-1',
    instanceId,
    generation,
  });

  it('never hands out two items of one instance at once and keeps their order', async () => {
    // Prepare
    const { queue } = await fresh();
    const perInstance = 6;
    const published = ['instance-a', 'instance-b'].flatMap((instance) =>
      Array.from({ length: perInstance }, (_, i) => item(instance, `${instance}-q${i}`)),
    );
    for (const work of published) await queue.publish(work);
    const active = new Map<string, number>();
    let peakPerInstance = 0;
    let peakOverall = 0;
    const order: string[] = [];

    // Act
    await consume(
      queue,
      async ({ item: work }) => {
        const now = (active.get(work.instanceId) ?? 0) + 1;
        active.set(work.instanceId, now);
        peakPerInstance = Math.max(peakPerInstance, now);
        peakOverall = Math.max(
          peakOverall,
          [...active.values()].reduce((a, b) => a + b, 0),
        );
        await simulateWork(50);
        order.push(work.queueId);
        active.set(work.instanceId, (active.get(work.instanceId) ?? 1) - 1);
      },
      4,
    );

    // Assess
    await waitFor(() => order.length === published.length, { what: 'every item', timeoutMs: 15_000 });
    expect(peakPerInstance).toBe(1);
    // The two instances did run side by side: the limit is per group, not global.
    expect(peakOverall).toBe(2);
    for (const instance of ['instance-a', 'instance-b']) {
      expect(order.filter((id) => id.startsWith(instance))).toEqual(
        Array.from({ length: perInstance }, (_, i) => `${instance}-q${i}`),
      );
    }
  });

  it('delivers an item published twice with the same queueId and generation once', async () => {
    // Prepare
    const { queue } = await fresh();
    const first = item('instance-a', 'queue-1', 1);
    const nextGeneration = item('instance-a', 'queue-1', 2);
    const sentinel = item('instance-a', 'queue-sentinel', 1);
    const seen: WorkItem[] = [];

    // Act
    await queue.publish(first);
    await queue.publish({ ...first });
    await queue.publish(nextGeneration);
    await queue.publish(sentinel);
    await consume(
      queue,
      async ({ item: work }) => {
        seen.push(work);
      },
      2,
    );

    // Assess: the sentinel was published last in the same group, so everything before it has been seen.
    await waitFor(() => seen.some((w) => w.queueId === 'queue-sentinel'), { what: 'the sentinel' });
    expect(seen).toEqual([first, nextGeneration, sentinel]);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    // Prepare
    const { queue } = await fresh();

    // Act
    const attempt = queue.consume(async () => {}, { concurrency: 0 });

    // Assess
    await expect(attempt).rejects.toThrow(RangeError);
  });
});
