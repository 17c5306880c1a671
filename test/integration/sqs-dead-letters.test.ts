import { randomUUID } from 'node:crypto';
import { DeleteQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createSqsDeadLetters } from '../../lib/adapters/queue/sqs-dead-letters.ts';
import { createSqsQueue } from '../../lib/adapters/queue/sqs-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { ensureWorkQueues } from '../../lib/local/embedded-sqs.ts';
import { useEmbeddedSqs } from '../support/embedded-sqs.ts';
import { type DeadLettersFixture, deadLettersContract } from './dead-letters-contract.ts';

const MAX_RECEIVE_COUNT = 2;

let client: SQSClient;
useEmbeddedSqs((started) => {
  client = started;
});

/**
 * A FIFO work queue and its FIFO DLQ on the emulator, failed items visible again at once. The
 * adapter is given only the work queue: it finds the DLQ through the redrive policy, as on AWS.
 */
async function makeSqsFixture(): Promise<DeadLettersFixture & { deadLetterQueueUrl: string }> {
  const { queueUrl, deadLetterQueueUrl } = await ensureWorkQueues(client, {
    name: `dlq-${randomUUID().slice(0, 8)}`,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: 10,
  });
  const workQueue = createSqsQueue({
    client,
    queueUrl,
    codec: workItemCodec,
    waitTimeSeconds: 1,
    retryDelaySeconds: 0,
  });
  const deadLetters = createSqsDeadLetters({ client, queueUrl, codec: workItemCodec });
  return {
    deadLetterQueueUrl,
    deadLetters,
    workQueue,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    publishRaw: async (body, instanceId) => {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: instanceId,
          MessageDeduplicationId: randomUUID(),
        }),
      );
    },
    dispose: async () => {
      await deadLetters.close();
      await workQueue.close();
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await client.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueueUrl }));
    },
  };
}

deadLettersContract('SqsDeadLetters on a fauxqs FIFO DLQ', makeSqsFixture);

describe('SqsDeadLetters (SQS specifics)', () => {
  it('refuses a work queue without a redrive policy, naming it', async () => {
    // Prepare
    const { queueUrl, deadLetterQueueUrl } = await ensureWorkQueues(client, {
      name: `dlq-${randomUUID().slice(0, 8)}`,
    });
    // The DLQ itself has no redrive policy: pointing the adapter at it is the mistake to catch.
    const deadLetters = createSqsDeadLetters({ client, queueUrl: deadLetterQueueUrl, codec: workItemCodec });

    // Act
    const attempt = deadLetters.list(10);

    // Assess
    await expect(attempt).rejects.toThrow(/has no dead-letter queue/);
    await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await client.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueueUrl }));
  });
});
