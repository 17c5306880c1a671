import { afterAll, beforeAll } from 'vitest';
import { createRabbitMqCallbackQueue } from '../../lib/adapters/queue/rabbitmq-callback-queue.ts';
import { type BrokerAdmin, openBrokerAdmin, RABBITMQ_URL, uniqueQueueName } from '../support/rabbitmq.ts';
import { type CallbackQueueFixture, callbackQueueContract } from './callback-queue-contract.ts';

const MAX_RECEIVE_COUNT = 3;

let admin: BrokerAdmin;

beforeAll(async () => {
  // Fails the whole file with instructions when the broker is down: never a silent skip.
  admin = await openBrokerAdmin();
});

afterAll(async () => {
  await admin?.close();
});

/** A callbacks queue and its DLQ on the local broker, under names no other test uses. */
async function makeRabbitFixture(): Promise<CallbackQueueFixture> {
  const queueName = uniqueQueueName('test-callbacks');
  const deadLetterQueue = `${queueName}.dlq`;
  const queue = await createRabbitMqCallbackQueue({
    url: RABBITMQ_URL,
    queueName,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    retryDelayMs: 200,
    reconnectDelayMs: 100,
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

callbackQueueContract('RabbitMqCallbackQueue on a quorum queue', makeRabbitFixture);
