import { setTimeout as pause } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CallbackQueue, CallbackQueueDelivery } from '../../ports/callback-queue.ts';
import type { ConsumeOptions, Consumer } from '../../ports/work-queue.ts';
import { CallbackDeliveryError, decodeCallbackRef, encodeCallbackRef } from './callback-ref-schema.ts';

export interface SqsCallbackQueueOptions {
  client: SQSClient;
  /** A standard queue with a redrive policy to a dead-letter queue. */
  queueUrl: string;
  /** Long-poll wait per receive; also bounds how long `stop()` waits for the poll in progress. Default 2. */
  waitTimeSeconds?: number;
  /** How long a failed ref stays invisible before it comes back. Default 2. */
  retryDelaySeconds?: number;
}

type Handler = (delivery: CallbackQueueDelivery) => Promise<void>;

/** After a receive error (throttling, emulator restart) the poller waits this long before trying again. */
const RECEIVE_ERROR_BACKOFF_MS = 1_000;

/**
 * CallbackQueue on an SQS standard queue: no groups and no deduplication (a ref delivered twice is
 * claimed once in the store), no throughput limit. Failed refs come back after a short delay and,
 * past the redrive policy's `maxReceiveCount`, go to the dead-letter queue; malformed bodies take the
 * same road. One attempt is one short POST, well inside the queue's visibility timeout, so handlers
 * do not extend it (the store's 30 s claim lease is what keeps a second attempt out meanwhile).
 *
 * In AWS functions/callback-sender.ts behind an event source mapping is the consumer; `consume` is
 * the local / test poller.
 */
export const createSqsCallbackQueue = (options: SqsCallbackQueueOptions): CallbackQueue => {
  const { client, queueUrl } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 2;
  const retryDelaySeconds = options.retryDelaySeconds ?? 2;
  const consumers = new Set<Consumer>();

  const readMaxReceiveCount = async (): Promise<number | undefined> => {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    if (!Attributes.RedrivePolicy) return undefined;
    const parsed = Number(
      (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount?: unknown }).maxReceiveCount,
    );
    return Number.isFinite(parsed) ? parsed : undefined;
  };

  const consume = async (handler: Handler, consumeOptions: ConsumeOptions): Promise<Consumer> => {
    const { concurrency } = consumeOptions;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    const report = (error: unknown) => {
      try {
        consumeOptions.onError?.(error);
      } catch {
        // A throwing error callback must not kill the poller.
      }
    };
    const maxReceiveCount = await readMaxReceiveCount();
    const stopping = new AbortController();
    const inFlight = new Set<Promise<void>>();

    const setVisibility = async (message: Message, seconds: number): Promise<void> => {
      try {
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: seconds,
          }),
        );
      } catch (error) {
        // The message comes back anyway when its visibility timeout ends.
        report(error);
      }
    };

    /** Runs one message: deleted on success, made visible again soon on failure. Never throws. */
    const handleOne = async (message: Message): Promise<void> => {
      if (stopping.signal.aborted) {
        // Received by the poll that was in progress at stop(): given back at once.
        await setVisibility(message, 0);
        return;
      }
      const messageId = message.MessageId ?? '';
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      const ref = decodeCallbackRef(message.Body);
      if (!ref) {
        // Poison: left for the redrive policy to move to the DLQ, where someone can look at it.
        report(new CallbackDeliveryError('invalid-body', messageId, receiveCount));
        await setVisibility(message, retryDelaySeconds);
        return;
      }
      try {
        await handler({ ref, messageId, receiveCount });
      } catch (cause) {
        const last = maxReceiveCount !== undefined && receiveCount >= maxReceiveCount;
        report(
          new CallbackDeliveryError(last ? 'dead-lettered' : 'handler-failed', messageId, receiveCount, {
            cause,
          }),
        );
        await setVisibility(message, retryDelaySeconds);
        return;
      }
      try {
        await client.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } catch (error) {
        // Not deleted means delivered again later: the store's claim makes that a no-op.
        report(error);
      }
    };

    const poll = async (): Promise<void> => {
      while (!stopping.signal.aborted) {
        if (inFlight.size >= concurrency) {
          await Promise.race(inFlight);
          continue;
        }
        let messages: Message[];
        try {
          const out = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: Math.min(10, concurrency - inFlight.size),
              WaitTimeSeconds: waitTimeSeconds,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          );
          messages = out.Messages ?? [];
        } catch (error) {
          report(error);
          await pause(RECEIVE_ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
          continue;
        }
        for (const message of messages) {
          const work: Promise<void> = handleOne(message).then(() => {
            inFlight.delete(work);
          });
          inFlight.add(work);
        }
      }
    };

    const polling = poll();
    let stopped: Promise<void> | undefined;
    const consumer: Consumer = {
      stop: () => {
        // The poll in progress is not aborted: an aborted long poll would still take messages on the
        // server side and leave them invisible until their timeout. handleOne gives them back.
        stopping.abort();
        stopped ??= (async () => {
          await polling;
          await Promise.all(inFlight);
          consumers.delete(consumer);
        })();
        return stopped;
      },
    };
    consumers.add(consumer);
    return consumer;
  };

  return {
    publish: async (ref) => {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: encodeCallbackRef(ref) }));
    },
    consume,
    // The SQS client is injected and owned by the caller; closing stops this queue's pollers only.
    close: async () => {
      await Promise.all([...consumers].map((consumer) => consumer.stop()));
    },
  };
};
