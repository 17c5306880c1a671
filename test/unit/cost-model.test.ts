import { describe, expect, it } from 'vitest';
import {
  addUsage,
  costOf,
  costPerMillion,
  emptyUsage,
  invocationGbSeconds,
  type Usage,
  writeUnitsPerMessage,
} from '../../bench/cost/cost-model.ts';
import {
  type IndexModel,
  type Item,
  indexEntry,
  itemSize,
  itemWriteCost,
  numberSize,
  readUnits,
  STORAGE_OVERHEAD_BYTES,
  storedBytes,
  type TableModel,
  tableModelOf,
  toItem,
  valueSize,
  withIndexProjection,
  writeUnits,
} from '../../bench/cost/dynamodb-sizing.ts';
import { PRICES } from '../../bench/cost/prices.ts';
import { tableDefinition } from '../../lib/adapters/store/table-schema.ts';

const s = (S: string) => ({ S });

/** A table keyed by pk/sk with one index on gsi1pk/gsi1sk, projected as asked. */
const tableWith = (projection: IndexModel['projection'], include: string[] = []): TableModel => ({
  keys: ['pk', 'sk'],
  indexes: [{ name: 'gsi1', keys: ['gsi1pk', 'gsi1sk'], projection, include }],
});

/** An item of about `bytes` bytes (a padding attribute `p` fills it up), in gsi1 when `gsi1sk` is given. */
const itemOf = (bytes: number, extra: Record<string, string> = {}): Item => {
  const base: Item = {
    pk: s('Q#1'),
    sk: s('C#1'),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, s(v)])),
  };
  const pad = bytes - itemSize(base) - 1;
  return { ...base, p: s('x'.repeat(Math.max(0, pad))) };
};

describe('DynamoDB item size', () => {
  it('counts numbers as 1 byte plus one per pair of significant digits, aligned on the decimal point', () => {
    expect(numberSize('0')).toBe(1);
    expect(numberSize('5')).toBe(2);
    expect(numberSize('15')).toBe(2);
    expect(numberSize('1.5')).toBe(3);
    expect(numberSize('123')).toBe(3);
    expect(numberSize('1000')).toBe(2);
    expect(numberSize('1E+3')).toBe(2);
    expect(numberSize('0.01')).toBe(2);
    expect(numberSize('-1')).toBe(3);
    expect(numberSize('1700000000123')).toBe(8);
  });

  it('counts strings in UTF-8 bytes and attribute names as part of the item', () => {
    expect(valueSize(s('ção'))).toBe(5);
    expect(itemSize({ nome: s('João') })).toBe(4 + 5);
    expect(itemSize(undefined)).toBe(0);
  });

  it('counts 1 byte for booleans and null, and 3 bytes plus 1 per element for lists and maps', () => {
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
    expect(valueSize({ L: [] })).toBe(3);
    expect(valueSize({ L: [s('ab'), { N: '12' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueSize({ M: { k: s('v'), zz: { BOOL: false } } })).toBe(3 + (1 + 1 + 1) + (2 + 1 + 1));
    expect(valueSize({ SS: ['a', 'bc'] })).toBe(3);
  });

  it('marshals plain values as the document client does, for sizing its answers', () => {
    expect(toItem({ a: 'x', n: 1.5, b: true, z: null, l: [1], m: { k: 'v' }, skip: undefined })).toEqual({
      a: s('x'),
      n: { N: '1.5' },
      b: { BOOL: true },
      z: { NULL: true },
      l: { L: [{ N: '1' }] },
      m: { M: { k: s('v') } },
    });
  });
});

describe('DynamoDB capacity units', () => {
  it('bills a write per started KB, at least one unit', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(3000)).toBe(3);
  });

  it('bills a read per started 4 KB, at least one unit, half when eventually consistent', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(100, false)).toBe(0.5);
  });
});

describe('DynamoDB write cost with index copies', () => {
  it('puts a new item in the table and, with its index keys, in the index', () => {
    const table = tableWith('ALL');
    const item = itemOf(1500, { gsi1pk: 'Q#1#CONTACTS', gsi1sk: 'pending#0001' });
    expect(itemSize(item)).toBe(1500);
    expect(itemWriteCost(table, undefined, item)).toEqual({ table: 2, indexes: { gsi1: 2 } });
    expect(itemWriteCost(table, undefined, itemOf(1500))).toEqual({ table: 2, indexes: {} });
  });

  it('bills an update by the larger of the item before and after', () => {
    const table = tableWith('ALL');
    expect(itemWriteCost(table, itemOf(900), itemOf(1100))).toEqual({ table: 2, indexes: {} });
    expect(itemWriteCost(table, itemOf(2100), itemOf(900))).toEqual({ table: 3, indexes: {} });
  });

  it('moves the index copy (delete + put) when an index key changes', () => {
    const table = tableWith('ALL');
    const before = itemOf(1500, { gsi1pk: 'Q#1#CONTACTS', gsi1sk: 'pending#0001' });
    const after = itemOf(1500, { gsi1pk: 'Q#1#CONTACTS', gsi1sk: 'sent#0001' });
    expect(itemWriteCost(table, before, after)).toEqual({ table: 2, indexes: { gsi1: 4 } });
  });

  it('rewrites an ALL copy when any attribute changes, and no copy when nothing changes', () => {
    const table = tableWith('ALL');
    const before = itemOf(500, { gsi1pk: 'P', gsi1sk: 'S', status: 'sending' });
    const after = { ...before, status: s('sent___') };
    expect(itemWriteCost(table, before, after)).toEqual({ table: 1, indexes: { gsi1: 1 } });
    expect(itemWriteCost(table, before, before)).toEqual({ table: 1, indexes: {} });
  });

  it('bills the declared indexes as keys only under the --index-projection what-if', () => {
    const declared = tableWith('INCLUDE', ['status']);
    const before = itemOf(500, { gsi1pk: 'P', gsi1sk: 'S', status: 'sending' });
    const after = { ...before, status: s('sent___') };
    expect(itemWriteCost(declared, before, after)).toEqual({ table: 1, indexes: { gsi1: 1 } });
    const keysOnly = withIndexProjection(declared, 'KEYS_ONLY');
    expect(keysOnly.indexes[0]).toMatchObject({ projection: 'KEYS_ONLY', include: [] });
    expect(itemWriteCost(keysOnly, before, after)).toEqual({ table: 1, indexes: {} });
    expect(withIndexProjection(declared, undefined)).toBe(declared);
    expect(storedBytes(keysOnly, before)).toBeLessThan(storedBytes(declared, before));
  });

  it('writes a KEYS_ONLY copy only when the item enters, leaves or moves in the index', () => {
    const table = tableWith('KEYS_ONLY');
    const before = itemOf(1500, { gsi1pk: 'P', gsi1sk: 'S', status: 'sending' });
    const changed = { ...before, status: s('sent___') };
    expect(itemWriteCost(table, before, changed)).toEqual({ table: 2, indexes: {} });
    const moved = { ...changed, gsi1sk: s('T') };
    // The copy is the four key attributes only: a few bytes, one unit each way.
    expect(itemWriteCost(table, before, moved)).toEqual({ table: 2, indexes: { gsi1: 2 } });
    expect(indexEntry(table, table.indexes[0] as IndexModel, before)).toEqual({
      pk: before.pk,
      sk: before.sk,
      gsi1pk: before.gsi1pk,
      gsi1sk: before.gsi1sk,
    });
  });

  it('writes an INCLUDE copy when an included attribute changes, not for another one', () => {
    const table = tableWith('INCLUDE', ['status']);
    const before = itemOf(1500, { gsi1pk: 'P', gsi1sk: 'S', status: 'sending', note: 'a' });
    expect(itemWriteCost(table, before, { ...before, status: s('sent') })).toEqual({
      table: 2,
      indexes: { gsi1: 1 },
    });
    expect(itemWriteCost(table, before, { ...before, note: s('b') })).toEqual({ table: 2, indexes: {} });
  });

  it('bills a delete by the item deleted, its index copy included', () => {
    const table = tableWith('ALL');
    const before = itemOf(1500, { gsi1pk: 'P', gsi1sk: 'S' });
    expect(itemWriteCost(table, before, undefined)).toEqual({ table: 2, indexes: { gsi1: 2 } });
    expect(itemWriteCost(table, undefined, undefined)).toEqual({ table: 1, indexes: {} });
  });

  it('bills a failed condition by the item as it is, with no index write', () => {
    const table = tableWith('ALL');
    const existing = itemOf(2500, { gsi1pk: 'P', gsi1sk: 'S' });
    expect(itemWriteCost(table, existing, undefined, true)).toEqual({ table: 3, indexes: {} });
    expect(itemWriteCost(table, undefined, undefined, true)).toEqual({ table: 1, indexes: {} });
  });

  it('stores each item and each index copy with 100 bytes of overhead', () => {
    const table = tableWith('ALL');
    const inIndex = itemOf(500, { gsi1pk: 'P', gsi1sk: 'S' });
    expect(storedBytes(table, inIndex)).toBe(2 * (500 + STORAGE_OVERHEAD_BYTES));
    expect(storedBytes(table, itemOf(500))).toBe(500 + STORAGE_OVERHEAD_BYTES);
  });

  it("follows the product's table definition: today both indexes project every attribute", () => {
    expect(tableModelOf(tableDefinition('billing'))).toEqual({
      keys: ['pk', 'sk'],
      indexes: [
        { name: 'gsi1', keys: ['gsi1pk', 'gsi1sk'], projection: 'ALL', include: [] },
        { name: 'gsi2', keys: ['gsi2pk', 'gsi2sk'], projection: 'ALL', include: [] },
      ],
    });
  });
});

describe('cost arithmetic', () => {
  it('bills an invocation its duration rounded up to the millisecond, times its memory', () => {
    expect(invocationGbSeconds(3250.2, 256)).toBeCloseTo(3.251 * 0.25, 12);
    expect(invocationGbSeconds(1000, 1024)).toBe(1);
  });

  it('prices a thousand messages per million, service by service', () => {
    // Prepare: what 1000 sent messages used.
    const usage: Usage = {
      ...emptyUsage(),
      lambda: {
        sender: { invocations: 14, gbSeconds: 812.5 },
        'send-overdue': { invocations: 1, gbSeconds: 0.5 },
      },
      dynamoTableWriteUnits: 6000,
      dynamoIndexWriteUnits: 4000,
      dynamoReadUnits: 2000,
      sqsFifoRequests: 42,
      sqsStandardRequests: 3000,
      apiGatewayRequests: 4001,
      schedulerInvocations: 2,
      logBytes: 1024 ** 3 / 1000,
    };

    // Act
    const table = costPerMillion(usage, 1000);

    // Assess: each line is usage x 1000 x its list price.
    const line = (service: string) => table.lines.find((l) => l.service === service)?.usd;
    expect(line('Lambda compute: sender')).toBeCloseTo(812_500 * 0.0000133334, 6);
    expect(line('Lambda requests')).toBeCloseTo(15_000 * 0.2e-6, 9);
    expect(line('DynamoDB writes: table')).toBeCloseTo(6_000_000 * 0.625e-6, 9);
    expect(line('DynamoDB writes: index copies')).toBeCloseTo(4_000_000 * 0.625e-6, 9);
    expect(line('DynamoDB reads')).toBeCloseTo(2_000_000 * 0.125e-6, 9);
    expect(line('SQS FIFO (work queue)')).toBeCloseTo(42_000 * 0.5e-6, 9);
    expect(line('SQS standard (callbacks queue)')).toBeCloseTo(3_000_000 * 0.4e-6, 9);
    expect(line('API Gateway (HTTP API)')).toBeCloseTo(4_001_000 * 1e-6, 9);
    expect(line('EventBridge Scheduler')).toBeCloseTo(2_000 * 1e-6, 9);
    expect(line('CloudWatch Logs ingestion')).toBeCloseTo(0.5, 9);
    const sum = table.lines.reduce((n, l) => n + l.usd, 0);
    expect(table.totalUsd).toBeCloseTo(sum, 9);
    expect(table.totalUsd).toBeCloseTo(
      10.8334 + 0.003 + 3.75 + 2.5 + 0.25 + 0.021 + 1.2 + 4.001 + 0.002 + 0.5 + 0.0067,
      3,
    );
    expect(writeUnitsPerMessage(usage, 1000)).toBe(10);
  });

  it('keeps the list prices it was written with', () => {
    expect(PRICES.lambdaGbSecond.usd).toBe(0.0000133334);
    expect(PRICES.dynamoWriteUnit.usd * 1e6).toBeCloseTo(0.625, 12);
    expect(PRICES.dynamoReadUnit.usd * 1e6).toBeCloseTo(0.125, 12);
    expect(PRICES.sqsFifoRequest.usd * 1e6).toBeCloseTo(0.5, 12);
    expect(PRICES.apiGatewayHttpRequest.usd * 1e6).toBeCloseTo(1, 12);
  });

  it('adds usages function by function and prices a count as it is', () => {
    const a: Usage = {
      ...emptyUsage(),
      lambda: { sender: { invocations: 1, gbSeconds: 2 } },
      dynamoReadUnits: 3,
    };
    const b: Usage = {
      ...emptyUsage(),
      lambda: { sender: { invocations: 2, gbSeconds: 1 } },
      dynamoReadUnits: 5,
    };
    const sum = addUsage(a, b);
    expect(sum.lambda.sender).toEqual({ invocations: 3, gbSeconds: 3 });
    expect(sum.dynamoReadUnits).toBe(8);
    expect(costOf(sum).totalUsd).toBeCloseTo(3 * 0.0000133334 + 3 * 0.2e-6 + 8 * 0.125e-6, 12);
  });

  it('refuses to price a run that sent nothing', () => {
    expect(() => costPerMillion(emptyUsage(), 0)).toThrow(/no message/);
  });
});
