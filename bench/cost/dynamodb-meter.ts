import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type Item,
  indexEntry,
  itemSize,
  itemWriteCost,
  readUnits,
  type TableModel,
  toItem,
  type WriteCost,
} from './dynamodb-sizing.ts';

/**
 * A middleware on the store's DynamoDB client that sizes every request of the table by DynamoDB's
 * rules (dynamodb-sizing.ts): write units for the table and each index copy, read units. It reads
 * the item before (and, for UpdateItem, after) each write through a second client of its own, so
 * the request itself is unchanged and nothing the product does differs. Those extra reads take
 * time: it is reported with each request so a caller can leave it out of a function's duration.
 *
 * It sits at `finalizeRequest`/low, inside the SDK's retry loop: an attempt on the wire counts once,
 * as DynamoDB bills it. There the input is marshalled and the document client's answer is already
 * unmarshalled again (plain values), which `toItem` turns back into attribute values for sizing.
 */

export interface MeteredRequest {
  /** `PutItemCommand`, `QueryCommand`, ... */
  command: string;
  /** The marshalled input, for labels. */
  input: unknown;
  tableWriteUnits: number;
  /** Write units per index. */
  indexWriteUnits: Record<string, number>;
  readUnits: number;
  /** A conditional write whose condition failed (billed, nothing written). */
  conditionFailed: boolean;
}

export interface DynamoMeterOptions {
  tableName: string;
  table: TableModel;
  /** A client of the same endpoint for the meter's own reads (never metered). */
  side: DynamoDBClient;
  /** Called in the caller's async context once a request is sized. */
  onRequest(request: MeteredRequest): void;
  /**
   * Called in the caller's async context around each of the meter's own reads, so the time they
   * add can be left out of the caller's duration.
   */
  onOwnRead?(phase: 'start' | 'end'): void;
}

// biome-ignore lint/suspicious/noExplicitAny: SDK inputs and outputs of several commands, read by shape
type Any = any;

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const BATCH_GET_LIMIT = 100;

const canonicalKey = (key: Item): string =>
  JSON.stringify(
    Object.keys(key)
      .sort()
      .map((k) => [k, key[k]]),
  );

const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/** Placeholders (`#name`, `:value`) of an expression map that `expression` uses. */
const usedIn = <T>(map: Record<string, T> | undefined, expression: string): Record<string, T> | undefined => {
  if (!map) return undefined;
  const used = Object.entries(map).filter(([placeholder]) =>
    new RegExp(`${placeholder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w])`).test(expression),
  );
  return used.length > 0 ? Object.fromEntries(used) : undefined;
};

export const meterDynamoDb = (client: DynamoDBDocumentClient, options: DynamoMeterOptions): void => {
  const { table, side, tableName } = options;
  const keyOf = (item: Item): Item =>
    Object.fromEntries(table.keys.map((k) => [k, item[k] as AttributeValue]));

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const input = args.input as Any;
      const ours = input?.TableName === tableName || (input?.RequestItems && tableName in input.RequestItems);
      if (!ours) return next(args);
      // The document client answers with plain values; the low-level client with attribute values.
      const documentClient = (context as Any).__aws_sdk_context?.features?.DDB_MAPPER === 'd';
      const asItem = (value: unknown): Item | undefined =>
        value === undefined || value === null
          ? undefined
          : documentClient
            ? toItem(value as Record<string, unknown>)
            : (value as Item);
      const timed = async <T>(work: () => Promise<T>): Promise<T> => {
        options.onOwnRead?.('start');
        try {
          return await work();
        } finally {
          options.onOwnRead?.('end');
        }
      };
      const getItem = (key: Item) =>
        timed(
          async () =>
            (await side.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })))
              .Item,
        );
      const getItems = (keys: Item[]) =>
        timed(async () => {
          const found = new Map<string, Item>();
          for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
            let pending: Item[] = keys.slice(i, i + BATCH_GET_LIMIT);
            while (pending.length > 0) {
              const out = await side.send(
                new BatchGetItemCommand({
                  RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } },
                }),
              );
              for (const item of out.Responses?.[tableName] ?? []) found.set(canonicalKey(keyOf(item)), item);
              pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Item[];
            }
          }
          return found;
        });
      const report = (request: Omit<MeteredRequest, 'command' | 'input'>) =>
        options.onRequest({ command, input, ...request });
      const writes = (costs: WriteCost[], conditionFailed = false) => {
        const indexWriteUnits: Record<string, number> = {};
        for (const cost of costs)
          for (const [name, units] of Object.entries(cost.indexes))
            indexWriteUnits[name] = (indexWriteUnits[name] ?? 0) + units;
        report({
          tableWriteUnits: costs.reduce((n, c) => n + c.table, 0),
          indexWriteUnits,
          readUnits: 0,
          conditionFailed,
        });
      };

      if (WRITES.has(command)) {
        const key: Item = command === 'PutItemCommand' ? keyOf(input.Item) : input.Key;
        const before = await getItem(key);
        try {
          const result = await next(args);
          const after =
            command === 'PutItemCommand'
              ? (input.Item as Item)
              : command === 'UpdateItemCommand'
                ? await getItem(key)
                : undefined;
          writes([itemWriteCost(table, before, after)]);
          return result;
        } catch (error) {
          if (isConditionFailure(error)) writes([itemWriteCost(table, before, undefined, true)], true);
          throw error;
        }
      }

      if (command === 'BatchWriteItemCommand') {
        const requests = (input.RequestItems[tableName] ?? []) as Any[];
        const keys = requests.map(
          (r) => (r.PutRequest ? keyOf(r.PutRequest.Item) : r.DeleteRequest.Key) as Item,
        );
        const before = await getItems(keys);
        const result: Any = await next(args);
        const unprocessed = new Set(
          ((result.output?.UnprocessedItems?.[tableName] ?? []) as Any[]).map((r) =>
            canonicalKey(keyOf(asItem(r.PutRequest ? r.PutRequest.Item : r.DeleteRequest.Key) as Item)),
          ),
        );
        writes(
          requests.flatMap((r, i) => {
            const id = canonicalKey(keys[i] as Item);
            if (unprocessed.has(id)) return [];
            return [
              itemWriteCost(table, before.get(id), r.PutRequest ? (r.PutRequest.Item as Item) : undefined),
            ];
          }),
        );
        return result;
      }

      const result: Any = await next(args);
      const output = result.output ?? {};
      const reads = (units: number) =>
        report({ tableWriteUnits: 0, indexWriteUnits: {}, readUnits: units, conditionFailed: false });

      if (command === 'GetItemCommand') {
        const consistent = input.ConsistentRead === true;
        // A projection does not shrink what is read: size the whole item.
        const item = input.ProjectionExpression ? await getItem(input.Key) : asItem(output.Item);
        reads(readUnits(itemSize(item), consistent));
      } else if (command === 'BatchGetItemCommand') {
        const request = input.RequestItems[tableName];
        const unprocessed = new Set(
          ((output.UnprocessedKeys?.[tableName]?.Keys ?? []) as Any[]).map((k) =>
            canonicalKey(asItem(k) as Item),
          ),
        );
        const keys = (request.Keys as Item[]).filter((k) => !unprocessed.has(canonicalKey(k)));
        const found = request.ProjectionExpression
          ? await getItems(keys)
          : new Map(
              ((output.Responses?.[tableName] ?? []) as unknown[]).map((plain) => {
                const item = asItem(plain) as Item;
                return [canonicalKey(keyOf(item)), item] as const;
              }),
            );
        // Each key rounds on its own; a key with no item still reads the minimum.
        reads(
          keys.reduce(
            (n, k) => n + readUnits(itemSize(found.get(canonicalKey(k))), request.ConsistentRead === true),
            0,
          ),
        );
      } else if (command === 'QueryCommand' || command === 'ScanCommand') {
        const index = table.indexes.find((i) => i.name === input.IndexName);
        const consistent = !index && input.ConsistentRead === true;
        const trimmed =
          input.FilterExpression ||
          input.ProjectionExpression ||
          (input.Select && input.Select !== 'ALL_ATTRIBUTES');
        // What was read is what the key condition matched up to ScannedCount, whatever a filter or
        // projection then kept: read those items again, whole.
        const items: Item[] =
          trimmed && command === 'QueryCommand'
            ? await timed(async () => {
                const scanned = output.ScannedCount ?? 0;
                if (scanned === 0) return [];
                const condition = input.KeyConditionExpression as string;
                const again: QueryCommandInput = {
                  TableName: tableName,
                  IndexName: input.IndexName,
                  KeyConditionExpression: condition,
                  ExpressionAttributeNames: usedIn(input.ExpressionAttributeNames, condition),
                  ExpressionAttributeValues: usedIn(input.ExpressionAttributeValues, condition),
                  ExclusiveStartKey: input.ExclusiveStartKey,
                  ScanIndexForward: input.ScanIndexForward,
                  ConsistentRead: input.ConsistentRead,
                  Limit: scanned,
                };
                return ((await side.send(new QueryCommand(again))).Items ?? []) as Item[];
              })
            : ((output.Items ?? []) as unknown[]).map((plain) => asItem(plain) as Item);
        const bytes = items.reduce(
          (n, item) => n + itemSize(index ? indexEntry(table, index, item) : item),
          0,
        );
        reads(readUnits(bytes, consistent));
      } else {
        // Not modelled (transactions, PartiQL): counted as a request with no units, and labelled so.
        report({ tableWriteUnits: 0, indexWriteUnits: {}, readUnits: 0, conditionFailed: false });
      }
      return result;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchCostMeter' },
  );
};
