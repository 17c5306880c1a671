import { SQSClient } from '@aws-sdk/client-sqs';
import { callbackRefCodec } from '../adapters/queue/callback-ref-schema.ts';
import { createRabbitMqDeadLetters } from '../adapters/queue/rabbitmq-dead-letters.ts';
import { createRabbitMqQueue } from '../adapters/queue/rabbitmq-queue.ts';
import { createSqsDeadLetters } from '../adapters/queue/sqs-dead-letters.ts';
import { createSqsQueue } from '../adapters/queue/sqs-queue.ts';
import { workItemCodec } from '../adapters/queue/work-item-schema.ts';
import { CALLBACK_CLAIM_LEASE_MS } from '../app/deliver-callbacks.ts';
import type { Config } from '../config.ts';
import { type CallbackQueue, type CallbackRef, noCallbackQueue } from '../ports/callback-queue.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { QUEUE_AND_SCHEDULER_TIMEOUTS } from './aws-timeouts.ts';
import { awsClientOptions } from './local-endpoints.ts';

/*
 * The composition root's queues (lib/composition.ts builds the container with them): the work queue
 * and the callbacks queue of QUEUE_DRIVER, and their dead letters.
 */

/** An SQS client for the configured endpoint (real AWS when unset). */
export const createSqsClient = (config: Config): SQSClient =>
  new SQSClient(awsClientOptions(config.AWS_REGION, config.endpoints.sqs, QUEUE_AND_SCHEDULER_TIMEOUTS));

/**
 * Local consumers (the worker) poll with a short long-poll so stopping is quick; Lambda never
 * consumes through the adapter (SQS invokes it), so this is the only consumer it affects.
 */
const SQS_WAIT_TIME_SECONDS = 1;

/**
 * The SQS work queue: the FIFO queue named by WORK_QUEUE_URL (the infra, or the local stack's
 * emulator). A pump may outlast the visibility timeout, so handlers in flight keep extending it.
 */
export const createSqsWorkQueueOf = (config: Config, client?: SQSClient): WorkQueue => {
  if (!config.WORK_QUEUE_URL) {
    // Fails on first use, not at start: HTTP-only functions (health, docs) run without a queue.
    const missing = async (): Promise<never> => {
      throw new Error('WORK_QUEUE_URL is not set: this function cannot publish work');
    };
    return {
      publish: missing,
      consume: missing,
      reachability: async () => 'not_configured' as const,
      close: async () => undefined,
    };
  }
  return createSqsQueue({
    client: client ?? createSqsClient(config),
    queueUrl: config.WORK_QUEUE_URL,
    codec: workItemCodec,
    waitTimeSeconds: SQS_WAIT_TIME_SECONDS,
    keepInvisible: true,
  });
};

/**
 * The SQS callbacks queue: the standard queue named by CALLBACK_QUEUE_URL. Without it nothing is
 * published and the due-index poller delivers every callback. One attempt is one short POST, well
 * inside the visibility timeout, so handlers do not extend it (the store's claim lease keeps a
 * second attempt out meanwhile).
 */
export const createSqsCallbackQueueOf = (config: Config): CallbackQueue =>
  config.CALLBACK_QUEUE_URL
    ? createSqsQueue({
        client: createSqsClient(config),
        queueUrl: config.CALLBACK_QUEUE_URL,
        codec: callbackRefCodec,
        waitTimeSeconds: SQS_WAIT_TIME_SECONDS,
      })
    : noCallbackQueue;

/** The callbacks queue beside a work queue (RabbitMQ, and the local SQS emulator). */
export const callbackQueueName = (workQueueName: string): string => `${workQueueName}-callbacks`;

/** What a process may tell the broker about itself (the admin CLI names its connections and owns its SQS client). */
export interface QueueOptions {
  connectionName?: string;
  publishTimeoutMs?: number;
  /** An SQS client the caller owns (and destroys); by default the root makes one. */
  sqsClient?: SQSClient;
}

/**
 * The work queue of QUEUE_DRIVER: SQS (WORK_QUEUE_URL) or RabbitMQ (AMQP_URL, WORK_QUEUE_NAME).
 * RabbitMQ has no message groups and no deduplication: two items of one instance may run at once
 * and a generation published twice is delivered twice, harmless because the instance lease and the
 * contact claims in the store keep sends single.
 */
export const openWorkQueue = async (config: Config, options: QueueOptions = {}): Promise<WorkQueue> =>
  config.QUEUE_DRIVER === 'rabbitmq'
    ? createRabbitMqQueue({
        url: config.AMQP_URL,
        queueName: config.WORK_QUEUE_NAME,
        codec: workItemCodec,
        connectionName: options.connectionName ?? 'billing-work-queue',
        ...(options.publishTimeoutMs ? { publishTimeoutMs: options.publishTimeoutMs } : {}),
      })
    : createSqsWorkQueueOf(config, options.sqsClient);

/**
 * The work queue's dead letters of QUEUE_DRIVER: RabbitMQ's `<WORK_QUEUE_NAME>.dlq`, or the SQS DLQ
 * named by the redrive policy of WORK_QUEUE_URL.
 */
export const openDeadLetters = (config: Config, options: QueueOptions = {}): DeadLetters => {
  if (config.QUEUE_DRIVER === 'rabbitmq') {
    return createRabbitMqDeadLetters({
      url: config.AMQP_URL,
      queueName: config.WORK_QUEUE_NAME,
      codec: workItemCodec,
      ...(options.connectionName ? { connectionName: options.connectionName } : {}),
    });
  }
  if (!config.WORK_QUEUE_URL)
    throw new Error('WORK_QUEUE_URL is not set: there are no dead letters to look at');
  return createSqsDeadLetters({
    client: options.sqsClient ?? createSqsClient(config),
    queueUrl: config.WORK_QUEUE_URL,
    codec: workItemCodec,
  });
};

/**
 * The callbacks queue's dead letters of QUEUE_DRIVER: RabbitMQ's `<WORK_QUEUE_NAME>-callbacks.dlq`,
 * or the SQS DLQ named by the redrive policy of CALLBACK_QUEUE_URL; none without a callbacks queue.
 * The callback deliverer puts them back once the store answers again (callback-dead-letters.ts).
 */
export const openCallbackDeadLetters = (
  config: Config,
  options: QueueOptions = {},
): DeadLetters<CallbackRef> | undefined => {
  if (config.QUEUE_DRIVER === 'rabbitmq')
    return createRabbitMqDeadLetters({
      url: config.AMQP_URL,
      queueName: callbackQueueName(config.WORK_QUEUE_NAME),
      codec: callbackRefCodec,
      connectionName: options.connectionName ?? 'billing-callback-dead-letters',
    });
  if (!config.CALLBACK_QUEUE_URL) return undefined;
  const client = options.sqsClient ?? createSqsClient(config);
  const deadLetters = createSqsDeadLetters({
    client,
    queueUrl: config.CALLBACK_QUEUE_URL,
    codec: callbackRefCodec,
  });
  // A client made here is this one's to close.
  return options.sqsClient ? deadLetters : { ...deadLetters, close: async () => client.destroy() };
};

/**
 * How long a callback ref that failed waits before RabbitMQ has it again: what SQS's visibility
 * timeout (60 s, infra/queues.ts) does for the deployed queue. It must outlast a claim's lease: a
 * copy that met a first attempt in flight (its holder killed mid-post, say) then comes back once
 * that attempt is recorded or its lease has ended, and makes it. Back every second, the copy spent
 * its deliveries in seconds and was dead-lettered while the lease still ran, leaving the attempt
 * with nothing to bring it back (found by `npm run chaos` on RabbitMQ).
 */
export const CALLBACK_REF_RETRY_DELAY_MS = 2 * CALLBACK_CLAIM_LEASE_MS;

/** The callbacks queue of QUEUE_DRIVER: SQS (CALLBACK_QUEUE_URL, or none) or RabbitMQ (`<WORK_QUEUE_NAME>-callbacks`). */
export const openCallbackQueue = async (config: Config): Promise<CallbackQueue> =>
  config.QUEUE_DRIVER === 'rabbitmq'
    ? createRabbitMqQueue({
        url: config.AMQP_URL,
        queueName: callbackQueueName(config.WORK_QUEUE_NAME),
        codec: callbackRefCodec,
        connectionName: 'billing-callback-queue',
        retryDelayMs: CALLBACK_REF_RETRY_DELAY_MS,
      })
    : createSqsCallbackQueueOf(config);
