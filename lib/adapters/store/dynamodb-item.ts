import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { PK, TABLE_ATTRIBUTES } from './table-schema.ts';

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

/** The entity stored in an item: everything but the key, index and TTL attributes. */
export function toEntity<T>(item: Item): T {
  const entity: Item = { ...item };
  for (const attribute of TABLE_ATTRIBUTES) delete entity[attribute];
  return entity as T;
}

/**
 * The few calls every store module makes, bound to one table: strongly consistent reads, puts,
 * conditional creates and updates whose failed condition is a value (undefined/false), not a throw.
 */
export const tableOperations = (client: DynamoDBDocumentClient, tableName: string) => ({
  /** The item under `key` (consistent read), or undefined. */
  get: async (key: Item): Promise<Item | undefined> => {
    const out = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
    return out.Item;
  },

  put: async (item: Item): Promise<void> => {
    await client.send(new PutCommand({ TableName: tableName, Item: withoutUndefined(item) }));
  },

  /** Puts an item that must not exist yet; false when it does. */
  putNew: async (item: Item): Promise<boolean> => {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: withoutUndefined(item),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  /** Puts an item on a condition of the caller's; false when the condition failed. */
  putIfMatch: async (input: Omit<PutCommandInput, 'TableName'> & { Item: Item }): Promise<boolean> => {
    try {
      await client.send(
        new PutCommand({ TableName: tableName, ...input, Item: withoutUndefined(input.Item) }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  },

  /**
   * Runs an update whose condition may fail: the item after the update (unless `ReturnValues`
   * asks otherwise; `{}` for NONE), or undefined when the condition failed.
   */
  updateIfMatch: async (input: Omit<UpdateCommandInput, 'TableName'>): Promise<Item | undefined> => {
    try {
      const out = await client.send(
        new UpdateCommand({ TableName: tableName, ReturnValues: 'ALL_NEW', ...input }),
      );
      return out.Attributes ?? {};
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  },

  /** Every item of a Query, following LastEvaluatedKey to the end. */
  queryAll: async (input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> => {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await client.send(
        new QueryCommand({ TableName: tableName, ...input, ExclusiveStartKey: startKey }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  },
});
