import type { z } from 'zod';

/** The FIFO identity of a message, for brokers that keep groups in order and drop duplicates (SQS FIFO). */
export interface FifoKeys<T> {
  /** Messages of one group are handed out one at a time, in order. */
  groupId(item: T): string;
  /** A second publish with this id inside the broker's window (SQS: 5 minutes) is dropped. */
  deduplicationId(item: T): string;
}

/**
 * How messages of one type travel on every driver: a JSON body checked by one zod schema (so a
 * body written by SQS or RabbitMQ is read by either, and a malformed one is caught before any
 * handler) and, for a type that lives on a FIFO queue, its group and deduplication id.
 */
export interface MessageCodec<T> {
  /** What one message is called in errors and logs, e.g. `work item`. */
  readonly name: string;
  /** Serialises after checking, so a bad message fails at the publisher, not at every consumer. */
  encode(item: T): string;
  /** Reads a body; `undefined` for anything that is not a valid message (poison). */
  decode(body: string | undefined): T | undefined;
  readonly fifo?: FifoKeys<T>;
}

/**
 * The codec of a zod schema. Unknown keys are stripped rather than refused (the schemas are plain
 * objects): a newer publisher may add fields.
 */
export const createMessageCodec = <T>(
  name: string,
  schema: z.ZodType<T>,
  fifo?: FifoKeys<T>,
): MessageCodec<T> => ({
  name,
  encode: (item) => JSON.stringify(schema.parse(item)),
  decode: (body) => {
    if (body === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return undefined;
    }
    const parsed = schema.safeParse(json);
    return parsed.success ? parsed.data : undefined;
  },
  ...(fifo ? { fifo } : {}),
});
