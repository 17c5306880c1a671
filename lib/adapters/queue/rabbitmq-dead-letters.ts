import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { connect } from 'amqplib';
import type { DeadLetter, DeadLetters } from '../../ports/dead-letters.ts';
import { deadLetterBody, listBySettling, malformedBody } from './dead-letter-body.ts';
import type { MessageCodec } from './message-codec.ts';

export interface RabbitMqDeadLettersOptions<T> {
  /** e.g. amqp://guest:guest@127.0.0.1:5672 */
  url: string;
  /** The queue whose dead letters these are; its dead-letter queue is `<queueName>.dlq` (rabbitmq-queue.ts). */
  queueName: string;
  /** How that queue's messages read (work items, callback refs). */
  codec: MessageCodec<T>;
  /** The queue's delivery limit (RabbitMqQueueOptions.maxReceiveCount). Default 5. */
  maxReceiveCount?: number;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`). */
  connectionName?: string;
}

/** One entry of the `x-death` header RabbitMQ adds when it dead-letters a message. */
interface XDeath {
  reason?: string;
  queue?: string;
  count?: number;
  time?: number | { value?: number };
}

/** What each dead-lettering reason means for the operator. */
const REASONS: Record<string, string> = {
  delivery_limit: 'delivery limit reached: its consumer failed on every delivery',
  rejected: 'rejected by a consumer',
  expired: 'expired (message TTL)',
  maxlen: 'dropped by a queue length limit',
};

/**
 * DeadLetters on `<queueName>.dlq`, the classic queue a quorum queue (work, callbacks) dead-letters into.
 * A walk takes letters with `basic.get` (manual ack) on a channel of its own: a removed letter is
 * acked; a kept one stays unacked, so the broker does not hand it out again during the walk, and
 * closing the channel at the end gives every kept letter back, in its place.
 *
 * The broker strips `x-delivery-count` when it dead-letters, but records why in `x-death`: past
 * the delivery limit a letter was delivered exactly `maxReceiveCount` times. It keeps no handler
 * error; `lastError` says why the broker gave up (or that the body is not a message of the queue).
 */
export const createRabbitMqDeadLetters = <T>(options: RabbitMqDeadLettersOptions<T>): DeadLetters<T> => {
  const { codec } = options;
  const deadLetterQueue = `${options.queueName}.dlq`;
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  let connection: Promise<ChannelModel> | undefined;

  const open = (): Promise<ChannelModel> => {
    connection ??= connect(options.url, {
      clientProperties: { connection_name: options.connectionName ?? 'billing-dead-letters' },
    }).then(
      (opened) => {
        // Without an 'error' listener an emitted error would crash the process.
        opened.on('error', () => undefined);
        opened.on('close', () => {
          connection = undefined;
        });
        return opened;
      },
      (error: unknown) => {
        connection = undefined;
        throw error;
      },
    );
    return connection;
  };

  /** A channel of its own, or undefined when the dead-letter queue does not exist (nothing ever died). */
  const channelOnQueue = async (): Promise<{ channel: Channel; ready: number } | undefined> => {
    const channel = await (await open()).createChannel();
    channel.on('error', () => undefined);
    try {
      // checkQueue, not assertQueue: the CLI must not declare queues with arguments of its own.
      const { messageCount } = await channel.checkQueue(deadLetterQueue);
      return { channel, ready: messageCount };
    } catch (error) {
      // 404 NOT_FOUND closes the channel: the queue was never declared, so it holds nothing.
      if (/NOT_FOUND|404/.test(String(error))) return undefined;
      await channel.close().catch(() => undefined);
      throw error;
    }
  };

  const toLetter = (message: GetMessage): DeadLetter<T> => {
    const text = message.content.toString('utf8');
    const item = codec.decode(text) ?? null;
    const headers = message.properties.headers ?? {};
    const death = (headers['x-death'] as XDeath[] | undefined)?.[0];
    const reason = death?.reason ?? (headers['x-first-death-reason'] as string | undefined);
    const time = typeof death?.time === 'number' ? death.time : death?.time?.value;
    return {
      messageId: String(message.properties.messageId ?? message.fields.deliveryTag),
      item,
      body: deadLetterBody(text),
      deliveries: reason === 'delivery_limit' ? maxReceiveCount : Math.max(1, Number(death?.count ?? 1)),
      lastError: !item ? malformedBody(codec.name) : reason ? (REASONS[reason] ?? reason) : null,
      deadLetteredAt: time ? new Date(time * 1000).toISOString() : null,
    };
  };

  const settle: DeadLetters<T>['settle'] = async (decide, limit) => {
    const opened = await channelOnQueue();
    if (!opened) return { seen: 0, removed: 0 };
    const { channel } = opened;
    let seen = 0;
    let removed = 0;
    try {
      while (seen < limit) {
        const message = await channel.get(deadLetterQueue, { noAck: false });
        if (!message) break;
        seen += 1;
        if ((await decide(toLetter(message))) === 'remove') {
          channel.ack(message);
          removed += 1;
        }
      }
    } finally {
      // Acks go out before the close; every letter still unacked goes back to the queue.
      await channel.close().catch(() => undefined);
    }
    return { seen, removed };
  };

  return {
    list: (limit) => listBySettling(settle, limit),
    count: async () => {
      const opened = await channelOnQueue();
      if (!opened) return 0;
      await opened.channel.close().catch(() => undefined);
      return opened.ready;
    },
    settle,
    close: async () => {
      const current = connection;
      connection = undefined;
      if (current) await (await current.catch(() => undefined))?.close().catch(() => undefined);
    },
  };
};
