import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsCallbackQueue } from '../../lib/adapters/queue/sqs-callback-queue.ts';
import { useEmbeddedSqs } from '../support/embedded-sqs.ts';
import { type CallbackQueueFixture, callbackQueueContract } from './callback-queue-contract.ts';

const MAX_RECEIVE_COUNT = 3;

let client: SQSClient;
useEmbeddedSqs((started) => {
  client = started;
});

const required = (value: string | undefined, what: string): string => {
  if (!value) throw new Error(`SQS returned no ${what}`);
  return value;
};

/** A standard callbacks queue and its DLQ on the emulator, with short waits so failures come back within a test. */
async function makeSqsFixture(): Promise<CallbackQueueFixture> {
  const name = `callbacks-${randomUUID().slice(0, 8)}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const deadLetterQueueUrl = required(dlq.QueueUrl, 'dead-letter queue URL');
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '10',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: required(Attributes?.QueueArn, 'dead-letter queue ARN'),
          maxReceiveCount: MAX_RECEIVE_COUNT,
        }),
      },
    }),
  );
  const queueUrl = required(main.QueueUrl, 'queue URL');
  const queue = createSqsCallbackQueue({ client, queueUrl, waitTimeSeconds: 1, retryDelaySeconds: 1 });
  const deadBodies: string[] = [];
  return {
    queue,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    publishRaw: async (body) => {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
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
        await client.send(
          new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
      return deadBodies;
    },
    remaining: async () => {
      const { Attributes: counts = {} } = await client.send(
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
        Number(counts.ApproximateNumberOfMessages) +
        Number(counts.ApproximateNumberOfMessagesNotVisible) +
        Number(counts.ApproximateNumberOfMessagesDelayed)
      );
    },
    dispose: async () => {
      await queue.close();
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await client.send(new DeleteQueueCommand({ QueueUrl: deadLetterQueueUrl }));
    },
  };
}

callbackQueueContract('SqsCallbackQueue on a fauxqs standard queue', makeSqsFixture);
