import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../../domain/errors.ts';
import { contactFromItem, isContactItem } from './contact-item.ts';
import {
  type DueKind,
  GSI2,
  indexPartitions,
  PK,
  TABLE_ATTRIBUTES,
  TTL_ATTRIBUTE,
  ttlSeconds,
} from './table-schema.ts';

/*
 * The DynamoDB mechanics every store module shares: items and entities, update expressions,
 * bounded concurrency, paged queries, batch writes and reads that retry unprocessed items,
 * page cursors, and conditional writes whose failed condition is a value, never a throw.
 */

/** One item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

/** True for the error of a failed ConditionExpression (an expected outcome, never a bug). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** Drops `undefined` anywhere inside plain data: the document client refuses it unless configured otherwise. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, withoutUndefined(v)]),
    ) as T;
  }
  return value;
}

/**
 * The entity stored in an item: everything but the key, index and TTL attributes. A contact is
 * stored compactly (contact-item.ts): every reader gets it whole, whichever module reads it.
 */
export function toEntity<T>(item: Item): T {
  if (isContactItem(item)) return contactFromItem(item) as T;
  const entity: Item = { ...item };
  for (const attribute of TABLE_ATTRIBUTES) delete entity[attribute];
  return entity as T;
}

type UpdateInput = Omit<UpdateCommandInput, 'TableName'>;

/**
 * Collects the names and values of one update expression, so each write reads as its clauses.
 * Placeholders are numbered: attribute names never reach an expression as text.
 */
export class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Item = {};
  private readonly sets: string[] = [];
  private readonly adds: string[] = [];
  private readonly removes: string[] = [];
  private count = 0;

  /** `#name` for an attribute. */
  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** `:vN` for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    return this;
  }

  /** SET with a raw right-hand side (for `if_not_exists(...) + ...`). */
  setRaw(attribute: string, expression: string): this {
    this.sets.push(`${this.name(attribute)} = ${expression}`);
    return this;
  }

  add(attribute: string, by: number): this {
    this.adds.push(`${this.name(attribute)} ${this.value(by)}`);
    return this;
  }

  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.removes.push(this.name(attribute));
    return this;
  }

  /** The UpdateItem input, with `condition` built from the same placeholders. */
  update(
    condition?: string,
  ): Pick<
    UpdateInput,
    'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  > {
    const clauses = [
      this.sets.length > 0 ? `SET ${this.sets.join(', ')}` : '',
      this.adds.length > 0 ? `ADD ${this.adds.join(', ')}` : '',
      this.removes.length > 0 ? `REMOVE ${this.removes.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return {
      UpdateExpression: clauses.join(' '),
      ...(condition === undefined ? {} : { ConditionExpression: condition }),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/**
 * Runs `task` over `items` with at most `limit` in flight; results in input order. After a failure
 * the workers stop taking items and the error goes to the caller.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // `next++` happens between awaits, so each index goes to exactly one worker.
    for (let i = next++; !failed && i < items.length; i = next++) {
      try {
        results[i] = await task(items[i] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** `items` cut into chunks of at most `size`, in order. */
export const chunksOf = <T>(items: readonly T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The VALIDATION_FAILED (400) of a cursor that is not one of ours. */
export const invalidCursor = (): DomainError =>
  new DomainError('VALIDATION_FAILED', {}, [{ field: 'cursor', message: 'Cursor inválido' }]);

/*
 * Page cursors are base64url JSON objects, opaque to callers. They carry only what positions the
 * next Query (a sort key value or a batch position), never a partition: the partition always comes
 * from the request's own tenant or queue, so a forged cursor can at worst skip items the caller may see.
 */
export const encodeCursor = (cursor: object): string =>
  Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/** The JSON object inside a cursor; `invalidCursor()` for anything that is not one of ours. */
export function decodeCursor(cursor: string): Record<string, unknown> {
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidCursor();
  return parsed as Record<string, unknown>;
}

/** BatchWriteItem's hard limit of requests per call. */
const BATCH_WRITE_SIZE = 25;
/** BatchWriteItem calls in flight at once: 1000 contacts = 40 calls in 10 rounds, without bursting a new table. */
const BATCH_WRITE_CONCURRENCY = 4;
/** Tries per batch (the first send included) before unprocessed items are an error, not throttling. */
const MAX_BATCH_ATTEMPTS = 8;
const MAX_BATCH_DELAY_MS = 2_000;
/** Smallest Query page of `queryWithin`. */
const MIN_FILTERED_PAGE = 100;
/** BatchGetItem's limit of keys per call. */
const BATCH_GET_KEYS = 100;
/** BatchGetItem calls in flight at once: a 1000-contact batch is 10 calls, a few at a time keeps Accept fast. */
const BATCH_GET_CONCURRENCY = 5;
/** Rounds of unprocessed keys before giving up: by then it is not throttling. */
const MAX_BATCH_GET_ROUNDS = 8;

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];
type QueryInput = Omit<QueryCommandInput, 'TableName' | 'Limit'>;

export interface TableOperationsOptions {
  /** First backoff before re-sending a batch's unprocessed items (doubles each try); default 50 ms. */
  batchRetryDelayMs?: number;
}

/**
 * The calls every store module makes, bound to one table: strongly consistent reads, puts,
 * conditional creates, updates and deletes whose failed condition is a value (undefined/false),
 * paged queries, and batches that retry what comes back unprocessed.
 */
export const tableOperations = (
  client: DynamoDBDocumentClient,
  tableName: string,
  options: TableOperationsOptions = {},
) => {
  const baseDelayMs = options.batchRetryDelayMs ?? 50;

  /**
   * Runs an update whose condition may fail: the item after the update (unless `ReturnValues`
   * asks otherwise; `{}` for NONE), or undefined when the condition failed.
   */
  const updateIfMatch = async (input: UpdateInput): Promise<Item | undefined> => {
    try {
      const out = await client.send(
        new UpdateCommand({ TableName: tableName, ReturnValues: 'ALL_NEW', ...input }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  };

  /** Sends `command`; false when its condition failed. */
  const succeeds = async (send: () => Promise<unknown>): Promise<boolean> => {
    try {
      await send();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  /**
   * Up to `count` items of a Query, following LastEvaluatedKey while a response stopped short (a
   * filter, or the 1 MB cap). Each call asks for `pageSize` items, by default what is still missing
   * (ask for one more than a page to learn whether a next one exists); `keep` drops items client-side.
   */
  const queryUpTo = async (
    input: QueryInput,
    count: number,
    page: { pageSize?: number; keep?: (item: Item) => boolean } = {},
  ): Promise<Item[]> => {
    const items: Item[] = [];
    let startKey = input.ExclusiveStartKey;
    do {
      const limit = page.pageSize ?? count - items.length;
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          ...input,
          ExclusiveStartKey: startKey,
          ...(Number.isFinite(limit) ? { Limit: limit } : {}),
        }),
      );
      const found = out.Items ?? [];
      items.push(...(page.keep ? found.filter(page.keep) : found));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < count);
    return Number.isFinite(count) ? items.slice(0, count) : items;
  };

  /** Sends one BatchWriteItem and re-sends what comes back unprocessed, with exponential backoff. */
  const writeBatch = async (requests: WriteRequest[]): Promise<void> => {
    let pending = requests;
    for (let attempt = 1; ; attempt++) {
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = out.UnprocessedItems?.[tableName] ?? [];
      if (pending.length === 0) return;
      if (attempt >= MAX_BATCH_ATTEMPTS) {
        throw new Error(
          `batchWrite: ${pending.length} items still unprocessed after ${MAX_BATCH_ATTEMPTS} tries`,
        );
      }
      const delay = Math.min(MAX_BATCH_DELAY_MS, baseDelayMs * 2 ** (attempt - 1));
      // Half fixed, half random: concurrent batches throttled together do not retry in lockstep.
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  };

  /** Gets one chunk of keys, asking again for the unprocessed ones with exponential backoff. */
  const getBatch = async (chunk: Item[], projection: string | undefined): Promise<Item[]> => {
    const found: Item[] = [];
    let pending = chunk;
    for (let round = 0; pending.length > 0; round++) {
      if (round >= MAX_BATCH_GET_ROUNDS) {
        throw new Error(`batchGet: keys still unprocessed after ${MAX_BATCH_GET_ROUNDS} rounds`);
      }
      if (round > 0) await sleep(baseDelayMs * 2 ** (round - 1));
      const out = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: true,
              ...(projection ? { ProjectionExpression: projection } : {}),
            },
          },
        }),
      );
      found.push(...(out.Responses?.[tableName] ?? []));
      pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
    }
    return found;
  };

  return {
    /** The item under `key` (consistent read), or undefined. */
    get: async (key: Item): Promise<Item | undefined> => {
      const out = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      return out.Item;
    },

    put: async (item: Item): Promise<void> => {
      await client.send(new PutCommand({ TableName: tableName, Item: withoutUndefined(item) }));
    },

    /** Puts an item that must not exist yet; false when it does. */
    putNew: (item: Item): Promise<boolean> =>
      succeeds(() =>
        client.send(
          new PutCommand({
            TableName: tableName,
            Item: withoutUndefined(item),
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      ),

    /** Puts an item on a condition of the caller's; false when the condition failed. */
    putIfMatch: (input: Omit<PutCommandInput, 'TableName'> & { Item: Item }): Promise<boolean> =>
      succeeds(() =>
        client.send(new PutCommand({ TableName: tableName, ...input, Item: withoutUndefined(input.Item) })),
      ),

    updateIfMatch,

    /**
     * Sets one attribute of an item that exists, and never creates one (an item removed meanwhile
     * must not come back as a stub holding only that attribute); false when there was none.
     */
    setIfExists: async (key: Record<string, string>, attribute: string, value: unknown): Promise<boolean> =>
      (await updateIfMatch({
        Key: key,
        UpdateExpression: 'SET #attribute = :value',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK, '#attribute': attribute },
        ExpressionAttributeValues: { ':value': value },
        ReturnValues: 'NONE',
      })) !== undefined,

    /** Deletes an item (on the caller's condition, if any): the item deleted, or undefined when none was (or the condition failed). */
    deleteIfMatch: async (input: Omit<DeleteCommandInput, 'TableName' | 'ReturnValues'>) => {
      try {
        const out = await client.send(
          new DeleteCommand({ TableName: tableName, ...input, ReturnValues: 'ALL_OLD' }),
        );
        return out.Attributes;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    queryUpTo,

    /**
     * The items of a filtered Query reading at most `budget` items (a filter runs after the read, and
     * the read is what is billed): stops once `want` matched, or the budget is spent. Each call reads
     * twice as many as the one before, starting at `want` (or `MIN_FILTERED_PAGE`, fewer round trips
     * past the items the filter drops). `lastKey` is where a next Query resumes
     * (undefined: nothing is left); the items may be more than `want`.
     */
    queryWithin: async (
      input: QueryInput,
      want: number,
      budget: number,
    ): Promise<{ items: Item[]; lastKey: Item | undefined }> => {
      const items: Item[] = [];
      let startKey = input.ExclusiveStartKey;
      let read = 0;
      let pageSize = Math.max(want, MIN_FILTERED_PAGE);
      do {
        const limit = Math.max(1, Math.min(pageSize, budget - read));
        const out = await client.send(
          new QueryCommand({ TableName: tableName, ...input, ExclusiveStartKey: startKey, Limit: limit }),
        );
        read += out.ScannedCount ?? limit;
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
        pageSize *= 2;
      } while (startKey && items.length < want && read < budget);
      return { items, lastKey: startKey };
    },

    /** Every item of a Query, following LastEvaluatedKey to the end. */
    queryAll: (input: Omit<QueryInput, 'ExclusiveStartKey'>): Promise<Item[]> =>
      queryUpTo(input, Number.POSITIVE_INFINITY),

    /**
     * Up to `limit` entries of the sparse due index of one kind due at or before `upTo`, earliest
     * first (one Query: candidates, whoever reads them decides).
     */
    queryDue: async (kind: DueKind, upTo: string, limit: number): Promise<Item[]> => {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: GSI2.name,
          KeyConditionExpression: '#gpk = :gpk AND #gsk <= :upTo',
          ExpressionAttributeNames: { '#gpk': GSI2.pk, '#gsk': GSI2.sk },
          // `~` sorts after every character of an id, so everything due at `upTo` itself is included.
          ExpressionAttributeValues: { ':gpk': indexPartitions.due(kind), ':upTo': `${upTo}#~` },
          Limit: limit,
        }),
      );
      return out.Items ?? [];
    },

    /** Puts and deletes by BatchWriteItem: 25 a call, a few calls in flight, unprocessed items re-sent. */
    batchWrite: async (requests: readonly WriteRequest[]): Promise<void> => {
      await mapBounded(chunksOf(requests, BATCH_WRITE_SIZE), BATCH_WRITE_CONCURRENCY, writeBatch);
    },

    /** The items under `keys` by BatchGetItem (consistent; 100 keys a call, a few calls in flight). */
    batchGet: async (keys: readonly Item[], projection?: string): Promise<Item[]> => {
      const chunks = chunksOf(keys, BATCH_GET_KEYS);
      return (await mapBounded(chunks, BATCH_GET_CONCURRENCY, (chunk) => getBatch(chunk, projection))).flat();
    },
  };
};

/** Refuses a page size that is not a positive integer (a caller's bug, not a client's input). */
export function checkLimit(method: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${method}: limit must be a positive integer`);
}

/** SETs the item's expiry, or REMOVEs it (null: the item has work again and must never expire). */
export const setExpiry = (expression: Expression, expiresAt: string | null): Expression =>
  expiresAt === null
    ? expression.remove(TTL_ATTRIBUTE)
    : expression.set(TTL_ATTRIBUTE, ttlSeconds(expiresAt));
