import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import type { ConsumeOptions, Consumer, MessageDelivery, MessageQueue } from '../../ports/message-queue.ts';
import { DeliveryError } from './delivery-error.ts';
import type { MessageCodec } from './message-codec.ts';

/** The part of a logger the RabbitMQ adapters use; the Powertools Logger fits. */
export interface RabbitMqLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface RabbitMqQueueOptions<T> {
  /** e.g. amqp://guest:guest@127.0.0.1:5672 */
  url: string;
  /** The queue; its dead-letter queue is `<queueName>.dlq`. */
  queueName: string;
  /** The message type (its FIFO keys, if any, are not used: RabbitMQ has no groups). */
  codec: MessageCodec<T>;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`). */
  connectionName: string;
  /** Unacknowledged messages the broker may push to one consumer; default: its concurrency. */
  prefetch?: number;
  /** Deliveries of one message before it is dead-lettered (like SQS's maxReceiveCount). Default 5. */
  maxReceiveCount?: number;
  /** How long a failed delivery is held before it is returned, so a failing item is not a hot loop. Default 1000. */
  retryDelayMs?: number;
  /** How long `publish` waits for a connection and a confirm before it throws. Default 30 000. */
  publishTimeoutMs?: number;
  /** Reconnect backoff: starts here and doubles up to `maxReconnectDelayMs`. Defaults 500 and 10 000. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  logger?: RabbitMqLogger;
}

type Handler<T> = (delivery: MessageDelivery<T>) => Promise<void>;

interface Session {
  connection: ChannelModel;
  publisher: ConfirmChannel;
  dead: boolean;
}

interface ConsumerState<T> {
  handler: Handler<T>;
  concurrency: number;
  prefetch: number;
  report: (error: unknown) => void;
  /** Cut short the retry delays of failed deliveries when the consumer stops. */
  stopping: AbortController;
  running: number;
  /** Deliveries waiting for a free handler slot (possible after a reconnect, or with prefetch > concurrency). */
  waiting: Array<() => void>;
  inFlight: Set<Promise<void>>;
  session?: Session;
  channel?: Channel;
  consumerTag?: string;
}

const noopLogger: RabbitMqLogger = { info: () => {}, warn: () => {} };

/**
 * A MessageQueue on RabbitMQ (amqplib's promise API), generic over its message type: the work queue
 * and the callbacks queue are this with their own codec.
 *
 * Topology: a durable quorum queue (`x-queue-type: quorum`), because quorum queues count deliveries
 * themselves (`x-delivery-count`, the `receiveCount` here) and dead-letter a message past
 * `x-delivery-limit` (= maxReceiveCount - 1 returns) through the default exchange into the durable
 * `<queueName>.dlq`. Classic queues would need republishing with a retry header instead.
 * Changing `maxReceiveCount` on an existing queue fails (PRECONDITION_FAILED): delete the queue first.
 * No message groups and no deduplication: what must be exclusive is made so by the store.
 *
 * Publishing uses a confirm channel and persistent messages (publish resolves once the broker has
 * the message). Consumers ack manually, after the handler resolves. When the connection or a channel
 * closes (broker restart, forced close) the whole session is rebuilt with backoff and consumers resume
 * by themselves; deliveries in flight then come back from the broker (at-least-once).
 */
export const createRabbitMqQueue = async <T>(options: RabbitMqQueueOptions<T>): Promise<MessageQueue<T>> => {
  const { url, queueName, codec } = options;
  const deadLetterQueue = `${queueName}.dlq`;
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
    throw new RangeError(`maxReceiveCount must be a positive integer, got ${maxReceiveCount}`);
  }
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
  const reconnectDelayMs = options.reconnectDelayMs ?? 500;
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 10_000;
  const logger = options.logger ?? noopLogger;
  const context = { queueName };

  let session: Session | undefined;
  let reconnecting: Promise<void> | undefined;
  /** Aborted by close(): stops reconnecting and wakes publishers waiting for a session. */
  const closing = new AbortController();
  /** Woken whenever a session comes up. */
  let sessionWaiters: Array<() => void> = [];
  const consumers = new Set<ConsumerState<T>>();

  const assertTopology = async (channel: Channel): Promise<void> => {
    await channel.assertQueue(deadLetterQueue, { durable: true });
    await channel.assertQueue(queueName, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': maxReceiveCount - 1,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': deadLetterQueue,
      },
    });
  };

  /** Marks a session broken (once) and starts rebuilding, unless we are closing. */
  const lose = (lost: Session, reason: unknown) => {
    if (lost.dead) return;
    lost.dead = true;
    if (session === lost) session = undefined;
    lost.connection.close().catch(() => {});
    if (closing.signal.aborted) return;
    logger.warn('RabbitMQ session lost; reconnecting', { ...context, reason: String(reason) });
    ensureReconnecting();
  };

  /** One reconnect loop at a time; a session lost just as a loop ends starts another. */
  const ensureReconnecting = () => {
    reconnecting ??= reconnect().finally(() => {
      reconnecting = undefined;
      if (!closing.signal.aborted && (!session || session.dead)) ensureReconnecting();
    });
  };

  const openSession = async (): Promise<Session> => {
    const connection = await connect(url, {
      clientProperties: { connection_name: options.connectionName },
    });
    let current: Session | undefined;
    let earlyClose: unknown;
    // Without 'error' listeners an emitted error would crash the process; 'close' follows it.
    connection.on('error', (error: Error) =>
      logger.warn('RabbitMQ connection error', { ...context, error: error.message }),
    );
    connection.on('close', (error?: Error) => {
      if (current) lose(current, error ?? 'connection closed');
      else earlyClose = error ?? 'connection closed';
    });
    try {
      const publisher = await connection.createConfirmChannel();
      publisher.on('error', (error: Error) =>
        logger.warn('RabbitMQ channel error', { ...context, error: error.message }),
      );
      publisher.on('close', () => {
        if (current) lose(current, 'publisher channel closed');
      });
      await assertTopology(publisher);
      current = { connection, publisher, dead: false };
      if (earlyClose !== undefined) throw earlyClose;
      return current;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  };

  /** Puts a new session in place and attaches every consumer to it. */
  const install = (next: Session) => {
    session = next;
    for (const state of consumers) void attach(state, next);
    const waiters = sessionWaiters;
    sessionWaiters = [];
    for (const wake of waiters) wake();
  };

  const reconnect = async (): Promise<void> => {
    let delay = reconnectDelayMs;
    while (!closing.signal.aborted) {
      await pause(delay, undefined, { signal: closing.signal }).catch(() => {});
      if (closing.signal.aborted) return;
      try {
        const next = await openSession();
        if (closing.signal.aborted) {
          await next.connection.close().catch(() => {});
          return;
        }
        if (next.dead) continue;
        install(next);
        logger.info('RabbitMQ session restored', context);
        return;
      } catch (error) {
        logger.warn('RabbitMQ reconnect failed', { ...context, error: String(error), retryInMs: delay });
        delay = Math.min(delay * 2, maxReconnectDelayMs);
      }
    }
  };

  const waitForSession = async (deadline: number): Promise<Session> => {
    while (!session || session.dead) {
      if (closing.signal.aborted) throw new Error(`the ${codec.name} queue ${queueName} is closed`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          closing.signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        sessionWaiters.push(wake);
        closing.signal.addEventListener('abort', wake, { once: true });
      });
    }
    if (!session || session.dead) {
      throw new Error(
        `RabbitMQ unavailable: no connection to publish to ${queueName} within ${publishTimeoutMs} ms`,
      );
    }
    return session;
  };

  const publish = async (item: T): Promise<void> => {
    const body = Buffer.from(codec.encode(item));
    const deadline = Date.now() + publishTimeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      const current = await waitForSession(deadline);
      try {
        await new Promise<void>((resolve, reject) => {
          current.publisher.sendToQueue(
            queueName,
            body,
            { persistent: true, contentType: 'application/json', messageId: randomUUID() },
            (error: unknown) => (error ? reject(error) : resolve()),
          );
        });
        return;
      } catch (error) {
        // Unconfirmed (channel died or broker nacked): send again, a duplicate is harmless here.
        lastError = error;
        await pause(Math.min(200, Math.max(0, deadline - Date.now())));
      }
    }
    throw new Error(`RabbitMQ did not confirm a publish to ${queueName} within ${publishTimeoutMs} ms`, {
      cause: lastError,
    });
  };

  const acquireSlot = (state: ConsumerState<T>): Promise<void> => {
    if (state.running < state.concurrency) {
      state.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => state.waiting.push(resolve));
  };

  const releaseSlot = (state: ConsumerState<T>) => {
    const next = state.waiting.shift();
    // The slot passes straight to the next waiting delivery, so `running` never exceeds concurrency.
    if (next) next();
    else state.running -= 1;
  };

  const settle = (channel: Channel, message: ConsumeMessage, outcome: 'ack' | 'requeue') => {
    try {
      if (outcome === 'ack') channel.ack(message);
      else channel.nack(message, false, true);
    } catch {
      // The channel closed under us (reconnect): the broker already took the message back and redelivers it.
    }
  };

  const handleDelivery = async (state: ConsumerState<T>, channel: Channel, message: ConsumeMessage) => {
    await acquireSlot(state);
    try {
      // Stopped while waiting for a slot: left unacked, it goes back when the channel closes.
      if (state.stopping.signal.aborted) return;
      const messageId = String(message.properties.messageId ?? message.fields.deliveryTag);
      const receiveCount = Number(message.properties.headers?.['x-delivery-count'] ?? 0) + 1;
      const lastAttempt = receiveCount >= maxReceiveCount;
      const item = codec.decode(message.content.toString('utf8'));
      let failure: Error | undefined;
      if (!item) {
        // Poison: returned like a failure so the delivery limit moves it to the DLQ, never dropped.
        failure = new DeliveryError('invalid-body', codec.name, messageId, receiveCount);
      } else {
        try {
          await state.handler({ item, messageId, receiveCount });
        } catch (cause) {
          const kind = lastAttempt ? 'dead-lettered' : 'handler-failed';
          failure = new DeliveryError(kind, codec.name, messageId, receiveCount, { cause });
        }
      }
      if (!failure) {
        settle(channel, message, 'ack');
        return;
      }
      state.report(failure);
      await pause(retryDelayMs, undefined, { signal: state.stopping.signal }).catch(() => {});
      settle(channel, message, 'requeue');
    } finally {
      releaseSlot(state);
    }
  };

  const attach = async (state: ConsumerState<T>, target: Session): Promise<void> => {
    if (state.session === target || state.stopping.signal.aborted) return;
    state.session = target;
    let channel: Channel | undefined;
    try {
      channel = await target.connection.createChannel();
      const own = channel;
      own.on('error', (error: Error) =>
        logger.warn('RabbitMQ consumer channel error', { ...context, error: error.message }),
      );
      own.on('close', () => {
        if (!state.stopping.signal.aborted && state.channel === own) lose(target, 'consumer channel closed');
      });
      state.channel = own;
      await own.prefetch(state.prefetch);
      const { consumerTag } = await own.consume(
        queueName,
        (message) => {
          if (!message) {
            // Cancelled by the broker (queue deleted or failed over): rebuild, which re-declares it.
            if (!state.stopping.signal.aborted) lose(target, 'consumer cancelled by the broker');
            return;
          }
          const work = handleDelivery(state, own, message).catch(state.report);
          state.inFlight.add(work);
          void work.finally(() => state.inFlight.delete(work));
        },
        { noAck: false },
      );
      state.consumerTag = consumerTag;
      if (state.stopping.signal.aborted) await own.close().catch(() => {});
    } catch (error) {
      // The channel or connection died while attaching; its close handler rebuilds the session.
      logger.warn('RabbitMQ consumer could not attach', { ...context, error: String(error) });
      if (channel) lose(target, error);
    }
  };

  const consume = async (handler: Handler<T>, consumeOptions: ConsumeOptions): Promise<Consumer> => {
    const { concurrency } = consumeOptions;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    const state: ConsumerState<T> = {
      handler,
      concurrency,
      prefetch: Math.max(options.prefetch ?? concurrency, 1),
      report: (error) => {
        try {
          consumeOptions.onError?.(error);
        } catch {
          // A throwing error callback must not break message settlement.
        }
      },
      stopping: new AbortController(),
      running: 0,
      waiting: [],
      inFlight: new Set(),
    };
    consumers.add(state);
    if (session && !session.dead) await attach(state, session);
    let stopped: Promise<void> | undefined;
    return {
      stop: () => {
        stopped ??= (async () => {
          state.stopping.abort();
          consumers.delete(state);
          const { channel, consumerTag } = state;
          if (channel && consumerTag) await channel.cancel(consumerTag).catch(() => {});
          // Deliveries waiting for a slot return at once (they see `stopping`); running handlers finish.
          await Promise.all(state.inFlight);
          // Closing the channel hands anything still unacked back to the broker.
          if (channel) await channel.close().catch(() => {});
        })();
        return stopped;
      },
    };
  };

  const first = await openSession().catch((error: unknown) => {
    throw new Error(`RabbitMQ not reachable at ${redact(url)} for queue ${queueName}: ${String(error)}`, {
      cause: error,
    });
  });
  // A first session that died already has a reconnect loop behind it, which installs the next one.
  if (!first.dead) install(first);

  return {
    publish,
    consume,
    reachability: async () => (session !== undefined && !session.dead ? 'ok' : 'unreachable'),
    close: async () => {
      closing.abort();
      const states = [...consumers];
      consumers.clear();
      await Promise.all(
        states.map(async (state) => {
          state.stopping.abort();
          await Promise.all(state.inFlight);
        }),
      );
      const current = session;
      session = undefined;
      if (current) {
        current.dead = true;
        await current.connection.close().catch(() => {});
      }
      await reconnecting;
    },
  };
};

/** The URL without its password, for error messages. */
const redact = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an invalid AMQP URL';
  }
};
