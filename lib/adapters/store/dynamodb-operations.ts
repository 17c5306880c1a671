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
import { contactFromItem, isContactItem } from './contact-item.ts';
import { type DueKind, GSI2, indexPartitions, PK, SK, TABLE_ATTRIBUTES } from './table-schema.ts';

/*
 * The DynamoDB mechanics every store module shares: items and entities, bounded concurrency,
 * paged queries, batch writes and reads that retry unprocessed items, and conditional writes whose
 * failed condition is a value, never a throw. Update expressions are built in update-expression.ts,
 * page cursors read in page-cursor.ts.
 */

/** One item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

/** An UpdateItem request of this table (the table name is added by `tableOperations`). */
export type UpdateInput = Omit<UpdateCommandInput, 'TableName'>;

/** True for the error of a failed ConditionExpression (an expected outcome, never a bug). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** Whether the SDK sent the request more than once (its retry strategy records the attempts on the error). */
const wasRetried = (error: unknown): boolean =>
  ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;

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

/** A ProjectionExpression: plain attribute names, or placeholders with their names (reserved words). */
type Projection = string | { expression: string; names: Record<string, string> };
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

  const getItem = async (key: Item, consistent: boolean): Promise<Item | undefined> => {
    const out = await client.send(
      new GetCommand({ TableName: tableName, Key: key, ConsistentRead: consistent }),
    );
    return out.Item;
  };

  /**
   * Runs an update whose condition may fail: the item after the update (unless `ReturnValues`
   * asks otherwise; `{}` for NONE), or undefined when the condition failed.
   *
   * `isOwnWrite` recognises this very update in an item. The SDK sends an update again when an
   * attempt's answer was lost (a timeout, a reset connection), and that attempt may have been
   * carried out: its retry then fails the condition on the update's own result. So a condition that
   * fails on a retried request is checked against the item (one consistent read, only then): if
   * `isOwnWrite` finds the update there, it succeeded, and the item is its result (`{}` for NONE;
   * not for ALL_OLD, whose old image is gone).
   */
  const updateIfMatch = async (
    input: UpdateInput,
    isOwnWrite?: (item: Item) => boolean,
  ): Promise<Item | undefined> => {
    try {
      const out = await client.send(
        new UpdateCommand({ TableName: tableName, ReturnValues: 'ALL_NEW', ...input }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      if (!isOwnWrite || !wasRetried(error) || input.ReturnValues === 'ALL_OLD') return undefined;
      const current = await getItem(input.Key as Item, true);
      if (!current || !isOwnWrite(current)) return undefined;
      return input.ReturnValues === 'NONE' ? {} : current;
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
  const getBatch = async (chunk: Item[], projection: Projection | undefined): Promise<Item[]> => {
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
              ...(typeof projection === 'string' ? { ProjectionExpression: projection } : {}),
              ...(typeof projection === 'object'
                ? { ProjectionExpression: projection.expression, ExpressionAttributeNames: projection.names }
                : {}),
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
    /**
     * The item under `key`, or undefined: a consistent read unless `eventually` (half the read
     * units; may miss a write of the last second or so).
     */
    get: (key: Item, options: { eventually?: boolean } = {}): Promise<Item | undefined> =>
      getItem(key, options.eventually !== true),

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

    /**
     * Puts an item on a condition of the caller's; false when the condition failed, unless the put
     * was retried and `isOwnWrite` finds it in the item (see `updateIfMatch`).
     */
    putIfMatch: async (
      input: Omit<PutCommandInput, 'TableName'> & { Item: Item },
      isOwnWrite?: (item: Item) => boolean,
    ): Promise<boolean> => {
      try {
        await client.send(
          new PutCommand({ TableName: tableName, ...input, Item: withoutUndefined(input.Item) }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        if (!isOwnWrite || !wasRetried(error)) return false;
        const current = await getItem({ [PK]: input.Item[PK], [SK]: input.Item[SK] }, true);
        return current !== undefined && isOwnWrite(current);
      }
    },

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
    batchGet: async (keys: readonly Item[], projection?: Projection): Promise<Item[]> => {
      // BatchGetItem refuses a request that names one key twice (ValidationException), and keys
      // read off an index may repeat: chaos once saw an emulator's torn write leave one item twice
      // in the due index, and every due-callback round failed on it. Reading each key once costs
      // nothing.
      const unique = [...new Map(keys.map((key) => [`${key[PK]}\u0000${key[SK]}`, key])).values()];
      const chunks = chunksOf(unique, BATCH_GET_KEYS);
      return (await mapBounded(chunks, BATCH_GET_CONCURRENCY, (chunk) => getBatch(chunk, projection))).flat();
    },
  };
};
