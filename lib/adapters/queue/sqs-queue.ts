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
import type { ConsumeOptions, Consumer, MessageDelivery, MessageQueue } from '../../ports/message-queue.ts';
import { DeliveryError } from './delivery-error.ts';
import type { MessageCodec } from './message-codec.ts';

export interface SqsQueueOptions<T> {
  client: SQSClient;
  /**
   * A queue with a redrive policy to a dead-letter queue: a FIFO queue (`.fifo`) for a codec with
   * FIFO keys, a standard one otherwise.
   */
  queueUrl: string;
  /** The message type; its FIFO keys, when it has them, set each publish's group and deduplication id. */
  codec: MessageCodec<T>;
  /** Long-poll wait per receive; also bounds how long `stop()` waits for the poll in progress. Default 2. */
  waitTimeSeconds?: number;
  /** Visibility timeout asked for on receive; default: the queue's own. */
  visibilityTimeoutSeconds?: number;
  /** How long a failed item stays invisible before it comes back (on FIFO its group waits with it). Default 2. */
  retryDelaySeconds?: number;
  /** Extend the visibility timeout while a handler runs (for handlers that may outlast it). Default false. */
  keepInvisible?: boolean;
}

type Handler<T> = (delivery: MessageDelivery<T>) => Promise<void>;

/** After a receive error (throttling, emulator restart) the poller waits this long before trying again. */
const RECEIVE_ERROR_BACKOFF_MS = 1_000;

/**
 * A MessageQueue on SQS, generic over its message type: the work queue is this on a FIFO queue
 * with the work item codec (group = WhatsApp instance, deduplication id = queue and generation), the
 * callbacks queue on a standard queue with the callback ref codec.
 *
 * Successful items are deleted; failed ones are made visible again after `retryDelaySeconds` and,
 * past the redrive policy's `maxReceiveCount`, SQS moves them to the dead-letter queue. Malformed
 * bodies take the same road instead of being deleted, so nothing disappears silently.
 *
 * In AWS a Lambda event source mapping is the consumer; `consume` is the local / test poller.
 */
export const createSqsQueue = <T>(options: SqsQueueOptions<T>): MessageQueue<T> => {
  const { client, queueUrl, codec } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 2;
  const retryDelaySeconds = options.retryDelaySeconds ?? 2;
  const grouped = codec.fifo !== undefined;
  const keepInvisible = options.keepInvisible ?? false;
  const consumers = new Set<Consumer>();

  const publish = async (item: T): Promise<void> => {
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: codec.encode(item),
        ...(codec.fifo
          ? {
              MessageGroupId: codec.fifo.groupId(item),
              MessageDeduplicationId: codec.fifo.deduplicationId(item),
            }
          : {}),
      }),
    );
  };

  /** What the poller needs from the queue: the redrive limit (to report dead-lettering) and the visibility timeout. */
  const readQueueSettings = async (): Promise<{
    maxReceiveCount?: number;
    visibilityTimeoutSeconds: number;
  }> => {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: keepInvisible ? ['RedrivePolicy', 'VisibilityTimeout'] : ['RedrivePolicy'],
      }),
    );
    let maxReceiveCount: number | undefined;
    if (Attributes.RedrivePolicy) {
      const parsed = Number(
        (JSON.parse(Attributes.RedrivePolicy) as { maxReceiveCount?: unknown }).maxReceiveCount,
      );
      if (Number.isFinite(parsed)) maxReceiveCount = parsed;
    }
    return {
      maxReceiveCount,
      visibilityTimeoutSeconds:
        options.visibilityTimeoutSeconds ?? Number(Attributes.VisibilityTimeout ?? 30),
    };
  };

  const consume = async (handler: Handler<T>, consumeOptions: ConsumeOptions): Promise<Consumer> => {
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
    const settings = await readQueueSettings();
    const stopping = new AbortController();
    /** One entry per received message until it is settled: the size is the concurrency in use. */
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

    /** Keeps a message invisible while its handler runs longer than the visibility timeout. */
    const holdInvisible = (message: Message): (() => void) => {
      const seconds = settings.visibilityTimeoutSeconds;
      if (!keepInvisible || seconds <= 1) return () => {};
      const timer = setInterval(() => void setVisibility(message, seconds), (seconds * 1000) / 2);
      return () => clearInterval(timer);
    };

    /** Runs one message; true when it was acknowledged (deleted). Never throws. */
    const handleOne = async (message: Message): Promise<boolean> => {
      const messageId = message.MessageId ?? '';
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
      const lastAttempt = settings.maxReceiveCount !== undefined && receiveCount >= settings.maxReceiveCount;
      const item = codec.decode(message.Body);
      if (!item) {
        // Poison: left for the redrive policy to move to the DLQ, where someone can look at it.
        report(new DeliveryError('invalid-body', codec.name, messageId, receiveCount));
        await setVisibility(message, retryDelaySeconds);
        return false;
      }
      const release = holdInvisible(message);
      try {
        await handler({ item, messageId, receiveCount });
      } catch (cause) {
        release();
        const kind = lastAttempt ? 'dead-lettered' : 'handler-failed';
        report(new DeliveryError(kind, codec.name, messageId, receiveCount, { cause }));
        await setVisibility(message, retryDelaySeconds);
        return false;
      }
      release();
      try {
        await client.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } catch (error) {
        // Not deleted means delivered again later: the store's leases and claims make that harmless.
        report(error);
      }
      return true;
    };

    /**
     * Handles the messages of one group from one receive in their order. Real SQS may return several
     * messages of a FIFO group in one receive (fauxqs 1.x returns one); handling them one after another
     * keeps the group's order, and after a failure the rest go back untouched so they cannot overtake it.
     * Messages received by the poll in progress at stop() are given back at once.
     */
    const handleGroup = async (messages: Message[]): Promise<void> => {
      let blocked = false;
      for (const message of messages) {
        if (blocked || stopping.signal.aborted) {
          await setVisibility(message, 0);
          continue;
        }
        blocked = !(await handleOne(message));
      }
    };

    const track = (work: Promise<void>, slots: number) => {
      for (let i = 0; i < slots; i += 1) {
        const slot = work.then(() => {
          inFlight.delete(slot);
        });
        inFlight.add(slot);
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
              MessageSystemAttributeNames: grouped
                ? ['ApproximateReceiveCount', 'MessageGroupId']
                : ['ApproximateReceiveCount'],
              ...(options.visibilityTimeoutSeconds !== undefined
                ? { VisibilityTimeout: options.visibilityTimeoutSeconds }
                : {}),
            }),
          );
          messages = out.Messages ?? [];
        } catch (error) {
          report(error);
          await pause(RECEIVE_ERROR_BACKOFF_MS, undefined, { signal: stopping.signal }).catch(() => {});
          continue;
        }
        // Without groups (a standard queue) every message is a group of its own.
        const groups = new Map<string, Message[]>();
        for (const message of messages) {
          const group = message.Attributes?.MessageGroupId ?? message.MessageId ?? '';
          groups.set(group, [...(groups.get(group) ?? []), message]);
        }
        for (const group of groups.values()) track(handleGroup(group), group.length);
      }
    };

    const polling = poll();
    let stopped: Promise<void> | undefined;
    const consumer: Consumer = {
      stop: () => {
        // The poll in progress is not aborted: an aborted long poll would still take messages on the
        // server side and leave them (and their groups) locked until their visibility timeout.
        // Messages it returns after stop() are given back at once by handleGroup.
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
    publish,
    consume,
    reachability: async () => {
      try {
        await client.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
        );
        return 'ok';
      } catch {
        return 'unreachable';
      }
    },
    // The SQS client is injected and owned by the caller; closing stops this queue's pollers only.
    close: async () => {
      await Promise.all([...consumers].map((consumer) => consumer.stop()));
    },
    retryLater: async (receiptHandle, delaySeconds) => {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: delaySeconds,
        }),
      );
    },
  };
};
