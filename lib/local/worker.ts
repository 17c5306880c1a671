import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { callbackRefCodec } from '../adapters/queue/callback-ref-schema.ts';
import { DeliveryError } from '../adapters/queue/delivery-error.ts';
import type { MessageCodec } from '../adapters/queue/message-codec.ts';
import { workItemCodec } from '../adapters/queue/work-item-schema.ts';
import {
  createStoreBackedScheduler,
  type StoreBackedScheduler,
} from '../adapters/scheduler/store-backed-scheduler.ts';
import { deliverDueCallbacks } from '../app/deliver-callbacks.ts';
import { releaserOf } from '../app/release-work.ts';
import { sweep } from '../app/sweep.ts';
import { callbackQueueName } from '../composition/queues.ts';
import type { Container } from '../composition.ts';
import { redriveDeadCallbacks } from '../lambda/callback-deliverer-handler.ts';
import { createCallbackSenderHandler } from '../lambda/callback-sender-handler.ts';
import { createSenderHandler } from '../lambda/sender-handler.ts';
import type { CallbackRef } from '../ports/callback-queue.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';
import type { Consumer, MessageDelivery } from '../ports/message-queue.ts';
import type { WorkItem } from '../ports/work-queue.ts';

/**
 * One delivery as the SQS record Lambda would get: a FIFO queue's (the codec has FIFO keys) carries
 * its group and deduplication id, as AWS sets them.
 */
const toLambdaSqsEvent = <T>(
  delivery: MessageDelivery<T>,
  codec: MessageCodec<T>,
  queueName: string,
): SQSEvent => {
  const now = Date.now();
  const fifo = codec.fifo
    ? {
        MessageGroupId: codec.fifo.groupId(delivery.item),
        MessageDeduplicationId: codec.fifo.deduplicationId(delivery.item),
      }
    : {};
  return {
    Records: [
      {
        messageId: delivery.messageId,
        receiptHandle: delivery.messageId,
        body: codec.encode(delivery.item),
        attributes: {
          ApproximateReceiveCount: String(delivery.receiveCount),
          SentTimestamp: String(now),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(now),
          ...fifo,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:local:000000000000:${queueName}${codec.fifo ? '.fifo' : ''}`,
        awsRegion: 'local',
      },
    ],
  };
};

/** The sender as Lambda sees it: one SQS FIFO record per delivery, the same handler as in AWS. */
export const toSqsEvent = (delivery: MessageDelivery<WorkItem>, queueName: string): SQSEvent =>
  toLambdaSqsEvent(delivery, workItemCodec, queueName);

/** The callback sender as Lambda sees it: one SQS standard record per delivery. */
export const toCallbackSqsEvent = (delivery: MessageDelivery<CallbackRef>, queueName: string): SQSEvent =>
  toLambdaSqsEvent(delivery, callbackRefCodec, queueName);

const localContext = (remainingMs: number): Context => {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'sender',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:sender',
    memoryLimitInMB: '512',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as Context;
};

export interface Worker {
  stop(): Promise<void>;
}

/** How often due schedules (business-hours openings, retries, instance re-checks) are published. */
const SCHEDULER_POLL_MS = 1000;
/**
 * Items one retention tick looks at (one Scan page): a local table of a million items is looked at
 * in about 2000 ticks, and a tick stays short enough not to hold the scheduler back.
 */
const RETENTION_SWEEP_PAGE = 500;
/** Callback refs handled at once (one short POST each), as many as the poller's posts in flight. */
const CALLBACK_CONCURRENCY = 10;
/** setInterval's ceiling; a longer period (a test turning the poller off) would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How often the worker puts the callbacks queue's dead letters back: the AWS deliverer's minute. */
const CALLBACK_REDRIVE_EVERY_MS = 60_000;

export interface WorkerOptions {
  /** The schedules kept in the table, fired by this worker's poll; by default one over the container's store. */
  scheduler?: StoreBackedScheduler;
  /**
   * The callbacks queue's dead letters, put back once the store answers (none: nothing to redrive):
   * the first time after the worker's first round that reached the store, then at most once every
   * CALLBACK_REDRIVE_EVERY_MS.
   */
  callbackDeadLetters?: DeadLetters<CallbackRef>;
}

/**
 * The local sender process (the guide's `run_billing_consumer`): consumes work items from the
 * chosen driver and invokes the same sender handler Lambda runs, consumes the callbacks queue with
 * the callback sender's handler, polls the due callbacks (retries and missed announcements), fires
 * due schedules, sweeps stuck queues, and deletes expired items (dynalite has no TTL).
 * Several workers may run at once: the instance lease and contact claims keep sends single.
 */
export const startWorker = async (c: Container, options: WorkerOptions = {}): Promise<Worker> => {
  // The schedules kept in the table, fired by this worker's poll (whatever scheduler the container writes with).
  const scheduler =
    options.scheduler ??
    createStoreBackedScheduler({
      store: c.store,
      clock: c.clock,
      release: releaserOf({ store: c.store, workQueue: c.workQueue, clock: c.clock }),
    });
  // Stopping cuts the pumps short: they hand their queues back instead of running out their budget.
  const stopping = new AbortController();
  const sender = createSenderHandler(c, { retryFailuresSoon: false, stopSignal: stopping.signal });
  const budgetMs = c.config.SENDER_BUDGET_SECONDS * 1000;
  const consumer: Consumer = await c.workQueue.consume(
    async (delivery) => {
      // The Lambda's remaining time: the budget plus the margin the handler keeps back.
      const result = await sender(
        toSqsEvent(delivery, c.config.WORK_QUEUE_NAME),
        localContext(budgetMs + 30_000),
      );
      if (result.batchItemFailures.length > 0)
        throw new Error(`sender failed work item ${delivery.messageId}`);
    },
    {
      concurrency: c.config.SENDER_CONCURRENCY,
      onError: (error) => c.logger.error('work item failed', { error: error as Error }),
    },
  );

  const callbackSender = createCallbackSenderHandler(c);
  const callbackQueueLocal = callbackQueueName(c.config.WORK_QUEUE_NAME);
  const callbackConsumer: Consumer = await c.callbackQueue.consume(
    async (delivery) => {
      const result = await callbackSender(toCallbackSqsEvent(delivery, callbackQueueLocal));
      if (result.batchItemFailures.length > 0)
        throw new Error(`callback sender failed ref ${delivery.messageId}`);
    },
    {
      concurrency: CALLBACK_CONCURRENCY,
      // A failed attempt: the handler logged why (an error, or a copy coming back at INFO). A poison
      // body or a dead-lettered ref the handler never saw stays an error.
      onError: (error) =>
        error instanceof DeliveryError && error.kind === 'handler-failed'
          ? c.logger.debug('callback ref back on the queue', { error })
          : c.logger.error('callback ref failed', { error: error as Error }),
    },
  );

  /**
   * Retention where the database has no TTL: each tick deletes what has expired in one page of the
   * table, resuming where the previous tick stopped, and starts over once the table is done.
   */
  let retentionCursor: string | undefined;
  const deleteExpiredPage = async (): Promise<void> => {
    try {
      const swept = await c.store.deleteExpired(c.clock.now().toISOString(), {
        limit: RETENTION_SWEEP_PAGE,
        cursor: retentionCursor,
      });
      retentionCursor = swept.nextCursor ?? undefined;
      if (swept.deleted > 0) c.logger.info('expired items deleted', { deleted: swept.deleted });
    } catch (error) {
      c.logger.error('retention sweep failed', { error: error as Error });
    }
  };

  let polling = true;
  let poll: Promise<void> = Promise.resolve();
  /** Background jobs run one after another, never overlapping themselves. */
  const every = (ms: number, job: () => Promise<void>) =>
    setInterval(() => {
      if (polling) poll = poll.then(job);
    }, ms);
  const timers = [
    every(SCHEDULER_POLL_MS, () =>
      scheduler.fireDue().then(
        (fired) => void (fired && c.logger.info('schedules fired', { fired })),
        (error: unknown) => c.logger.error('scheduler poll failed', { error: error as Error }),
      ),
    ),
    every(c.config.SWEEPER_INTERVAL_SECONDS * 1000, () =>
      sweep(c, { graceMs: c.config.SWEEPER_GRACE_SECONDS * 1000 }).then(
        () => undefined,
        (error: unknown) => c.logger.error('sweep failed', { error: error as Error }),
      ),
    ),
    every(c.config.RETENTION_SWEEP_SECONDS * 1000, deleteExpiredPage),
  ];

  // Callbacks run on their own timer: a slow ERP (5 s timeouts) must not hold the scheduler back.
  // After a round that reached the store, at most once a redrive interval, the callbacks queue's
  // dead letters go back on it, as the AWS deliverer does every minute.
  const { callbackDeadLetters } = options;
  let lastRedriveAt = 0;
  const deliverThenRedrive = async (): Promise<void> => {
    await deliverDueCallbacks(c);
    if (!callbackDeadLetters || Date.now() - lastRedriveAt < CALLBACK_REDRIVE_EVERY_MS) return;
    lastRedriveAt = Date.now();
    await redriveDeadCallbacks(c, callbackDeadLetters);
  };
  let delivering: Promise<void> | undefined;
  const callbackTimer = setInterval(
    () => {
      if (!polling || delivering) return;
      delivering = deliverThenRedrive()
        .then(
          () => undefined,
          (error: unknown) => c.logger.error('callback delivery failed', { error: error as Error }),
        )
        .finally(() => {
          delivering = undefined;
        });
    },
    Math.min(c.config.CALLBACK_POLL_SECONDS * 1000, MAX_TIMER_MS),
  );

  return {
    stop: async () => {
      stopping.abort();
      polling = false;
      for (const timer of timers) clearInterval(timer);
      clearInterval(callbackTimer);
      await delivering;
      await poll;
      await Promise.all([consumer.stop(), callbackConsumer.stop()]);
    },
  };
};
