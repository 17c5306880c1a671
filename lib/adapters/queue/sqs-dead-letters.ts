import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetters, DeadLetterVerdict } from '../../ports/dead-letters.ts';
import { deadLetterBody, listBySettling, malformedBody } from './dead-letter-body.ts';
import type { MessageCodec } from './message-codec.ts';

export interface SqsDeadLettersOptions<T> {
  client: SQSClient;
  /** The queue whose dead letters these are; its redrive policy names the dead-letter queue and the receive limit. */
  queueUrl: string;
  /** How that queue's messages read (work items, callback refs). */
  codec: MessageCodec<T>;
  /** The dead-letter queue, when known; default: the one the work queue's redrive policy names. */
  deadLetterQueueUrl?: string;
  /** How long a letter being looked at stays hidden from other readers. Default 120. */
  holdSeconds?: number;
  /** Long-poll wait of each receive: an empty answer after it means the walk is done. Default 1. */
  waitTimeSeconds?: number;
}

interface Target {
  url: string;
  /** The queue's maxReceiveCount: a letter moved by the redrive policy was delivered exactly this often. */
  maxReceiveCount: number | undefined;
}

/**
 * DeadLetters on the SQS dead-letter queue of a queue: the work queue's (FIFO, on AWS and on fauxqs)
 * or the callbacks queue's (standard).
 * SQS has no peek: a letter is looked at by receiving it, which hides it for `holdSeconds`, and
 * given back at the end of the walk (visibility 0, which on FIFO puts it back at the head of its
 * group). On FIFO, a group with a letter in hand hides the letters behind it (fauxqs returns one
 * per group per receive), so `list` may show only the head of each WhatsApp instance's group while
 * `settle` removing the heads reaches every letter.
 *
 * Receiving counts as a receive (ApproximateReceiveCount grows with every look), so `deliveries`
 * is the work queue's receive limit: the redrive policy moves a message after exactly that many.
 * SQS keeps no error with a message; `lastError` is known only for a body that is not a message of the queue.
 */
export const createSqsDeadLetters = <T>(options: SqsDeadLettersOptions<T>): DeadLetters<T> => {
  const { client, codec } = options;
  const holdSeconds = options.holdSeconds ?? 120;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  let target: Promise<Target> | undefined;

  const resolveTarget = async (): Promise<Target> => {
    const { Attributes = {} } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const policy = Attributes.RedrivePolicy
      ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: unknown })
      : {};
    const limit = Number(policy.maxReceiveCount);
    const maxReceiveCount = Number.isInteger(limit) && limit > 0 ? limit : undefined;
    if (options.deadLetterQueueUrl) return { url: options.deadLetterQueueUrl, maxReceiveCount };
    // arn:aws:sqs:<region>:<account>:<name>
    const [, , , , account, name] = policy.deadLetterTargetArn?.split(':') ?? [];
    if (!name) throw new Error(`the queue ${options.queueUrl} has no dead-letter queue (no redrive policy)`);
    const { QueueUrl } = await client.send(
      new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
    );
    if (!QueueUrl) throw new Error(`SQS returned no URL for the dead-letter queue ${name}`);
    return { url: QueueUrl, maxReceiveCount };
  };
  const deadLetterQueue = (): Promise<Target> => {
    target ??= resolveTarget().catch((error: unknown) => {
      target = undefined;
      throw error;
    });
    return target;
  };

  const toLetter = (message: Message, { maxReceiveCount }: Target): DeadLetter<T> => {
    const item = codec.decode(message.Body) ?? null;
    const received = Number(message.Attributes?.ApproximateReceiveCount ?? 0);
    return {
      messageId: message.MessageId ?? '',
      item,
      body: deadLetterBody(message.Body ?? ''),
      deliveries: maxReceiveCount ?? Math.max(received - 1, 0),
      lastError: item ? null : malformedBody(codec.name),
      deadLetteredAt: null,
    };
  };

  /**
   * Gives letters back in the order they were received, ten per call: a FIFO group emptied by the
   * walk is re-created at the back when its letter returns, so parallel returns would shuffle groups.
   */
  const release = async (url: string, messages: Message[]): Promise<void> => {
    for (let start = 0; start < messages.length; start += 10) {
      await client
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: messages.slice(start, start + 10).map((message, i) => ({
              Id: String(i),
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        )
        // Not given back now means given back when the hold ends: nothing is lost either way.
        .catch(() => undefined);
    }
  };

  const settle: DeadLetters<T>['settle'] = async (decide, limit) => {
    const dlq = await deadLetterQueue();
    /** Received and not deleted: given back when the walk ends, however it ends. */
    const inHand = new Map<string, Message>();
    const seenIds = new Set<string>();
    let seen = 0;
    let removed = 0;
    try {
      walk: while (seen < limit) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq.url,
            MaxNumberOfMessages: Math.min(10, limit - seen),
            WaitTimeSeconds: waitTimeSeconds,
            VisibilityTimeout: holdSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
          }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) inHand.set(message.ReceiptHandle ?? '', message);
        for (const message of Messages) {
          const id = message.MessageId ?? '';
          // Seen already: its hold ran out during a long walk, so the walk has gone round.
          if (seenIds.has(id) || seen >= limit) break walk;
          seenIds.add(id);
          seen += 1;
          const verdict: DeadLetterVerdict = await decide(toLetter(message, dlq));
          if (verdict !== 'remove') continue;
          await client.send(
            new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.ReceiptHandle }),
          );
          inHand.delete(message.ReceiptHandle ?? '');
          removed += 1;
        }
      }
    } finally {
      await release(dlq.url, [...inHand.values()]);
    }
    return { seen, removed };
  };

  return {
    list: (limit) => listBySettling(settle, limit),
    count: async () => {
      const dlq = await deadLetterQueue();
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: dlq.url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    },
    settle,
    // The SQS client is injected and owned by the caller.
    close: async () => undefined,
  };
};
