import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's sizing rules, as AWS documents them (Developer Guide: "Item sizes and formats",
 * "Read and write capacity units", "Provisioned throughput considerations for global secondary
 * indexes", "Storage considerations"), for counting what a run would be billed on demand.
 * Numbers only: the bench's meter (dynamodb-meter.ts) feeds it the items before and after each
 * request.
 *
 * - Item size: the sum over attributes of the name's UTF-8 bytes plus the value's size. Strings:
 *   UTF-8 bytes; numbers: 1 byte plus 1 per pair of significant digits (pairs aligned on the
 *   decimal point, so 1.5 and 15 differ), plus 1 when negative; binary: bytes; booleans and null:
 *   1; sets: the sum of their elements; lists and maps: 3 bytes plus, per element, 1 byte (and a
 *   map entry's name). The number and nested-element rules are the ones dynalite (the local
 *   emulator) reverse-engineered from DynamoDB; AWS's guide says "approximately" for numbers.
 * - Writes: 1 unit per KB (1024 bytes) of the item, rounded up, at least 1. PutItem and UpdateItem
 *   bill the larger of the item before and after; DeleteItem the item deleted; a failed condition
 *   the item as it is (at least 1), and no index write.
 * - Index copies: each global secondary index holds a copy of the item (its projection: ALL, the
 *   keys only, or the keys plus listed attributes) when the item has the index's key attributes.
 *   A write that puts the item into the index costs one index write, one that takes it out one,
 *   one that changes an index key value two (the old copy deleted, the new one put), and one that
 *   changes a projected attribute only one; a write that changes nothing projected costs nothing
 *   there. Each index write is sized like a table write, by the index entry (the larger of before
 *   and after for an update in place).
 * - Reads: 1 unit per 4 KB, rounded up, at least 1, halved when eventually consistent (index
 *   queries always are). GetItem and each key of BatchGetItem round per item; Query sums the sizes
 *   of the items it read (before any filter; projections do not shrink it) and rounds the total.
 * - Storage: each item plus 100 bytes of overhead, and each index entry plus 100 bytes.
 */

export type Item = Record<string, AttributeValue>;

export type ProjectionType = 'ALL' | 'KEYS_ONLY' | 'INCLUDE';

export interface IndexModel {
  name: string;
  /** The index's partition and sort key attributes: an item without all of them is not in the index. */
  keys: readonly string[];
  projection: ProjectionType;
  /** The non-key attributes an INCLUDE projection copies. */
  include: readonly string[];
}

export interface TableModel {
  /** The base table's key attributes. */
  keys: readonly string[];
  indexes: readonly IndexModel[];
}

export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;
/** Per item and per index entry, for storage only. */
export const STORAGE_OVERHEAD_BYTES = 100;

/** The table and indexes as a CreateTable request declares them (lib/adapters/store/table-schema.ts). */
export const tableModelOf = (definition: CreateTableCommandInput): TableModel => ({
  keys: (definition.KeySchema ?? []).map((k) => k.AttributeName as string),
  indexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
    name: index.IndexName as string,
    keys: (index.KeySchema ?? []).map((k) => k.AttributeName as string),
    projection: (index.Projection?.ProjectionType ?? 'ALL') as ProjectionType,
    include: index.Projection?.NonKeyAttributes ?? [],
  })),
});

/**
 * The model with every global index projecting `projection` (keys only or all; undefined leaves the
 * declared projections): bench:cost's `--index-projection` what-if.
 */
export const withIndexProjection = (
  table: TableModel,
  projection: Exclude<ProjectionType, 'INCLUDE'> | undefined,
): TableModel =>
  projection
    ? { ...table, indexes: table.indexes.map((index) => ({ ...index, projection, include: [] })) }
    : table;

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Bytes of a DynamoDB number given as its text: 1 + base-100 digit pairs (+1 when negative). */
export const numberSize = (text: string): number => {
  const m = NUMBER.exec(text.trim());
  if (!m) throw new Error(`not a number: ${text}`);
  const whole = m[2] ?? '';
  const digits = whole + (m[3] ?? '');
  const exponent = Number(m[4] ?? 0);
  const first = digits.search(/[1-9]/);
  if (first < 0) return 1;
  const last = digits.length - 1 - [...digits].reverse().join('').search(/[1-9]/);
  // Powers of ten of the most and least significant digits; pairs are aligned on even powers.
  const high = whole.length - 1 - first + exponent;
  const low = whole.length - 1 - last + exponent;
  const pairs = Math.floor(high / 2) - Math.floor(low / 2) + 1;
  return 1 + pairs + (m[1] === '-' ? 1 : 0);
};

/** Bytes of one attribute value (without its name). */
export const valueSize = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8Bytes(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8Bytes(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + utf8Bytes(k) + 1 + valueSize(v), 0);
  throw new Error(`unknown attribute value ${JSON.stringify(value)}`);
};

/** Bytes of an item: attribute names plus values. 0 for no item. */
export const itemSize = (item: Item | undefined): number =>
  item ? Object.entries(item).reduce((n, [name, value]) => n + utf8Bytes(name) + valueSize(value), 0) : 0;

/** Write units for an item of `bytes` (at least 1). */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));

/** Read units for `bytes` read in one unit of rounding (at least 1; half when eventually consistent). */
export const readUnits = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);

const pick = (item: Item, names: Iterable<string>): Item => {
  const out: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
};

/** The item's entry in `index` (its projection), or undefined when the item is not in the index. */
export const indexEntry = (
  table: TableModel,
  index: IndexModel,
  item: Item | undefined,
): Item | undefined => {
  if (!item || index.keys.some((key) => item[key] === undefined)) return undefined;
  if (index.projection === 'ALL') return item;
  const keys = new Set([...table.keys, ...index.keys]);
  return pick(item, index.projection === 'INCLUDE' ? [...keys, ...index.include] : keys);
};

/** A stable text of an item, for "did the projected copy change". */
const canonical = (item: Item): string =>
  JSON.stringify(
    Object.keys(item)
      .sort()
      .map((k) => [k, item[k]]),
    (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v),
  );

/** Index write units of one table write that turned `before` into `after` (either may be absent). */
export const indexWriteUnits = (
  table: TableModel,
  index: IndexModel,
  before: Item | undefined,
  after: Item | undefined,
): number => {
  const old = indexEntry(table, index, before);
  const now = indexEntry(table, index, after);
  if (!old && !now) return 0;
  if (!old) return writeUnits(itemSize(now));
  if (!now) return writeUnits(itemSize(old));
  if (canonical(pick(old, index.keys)) !== canonical(pick(now, index.keys)))
    return writeUnits(itemSize(old)) + writeUnits(itemSize(now));
  if (canonical(old) === canonical(now)) return 0;
  return writeUnits(Math.max(itemSize(old), itemSize(now)));
};

export interface WriteCost {
  /** Write units on the base table. */
  table: number;
  /** Write units per index (only indexes written). */
  indexes: Record<string, number>;
}

/**
 * What one item write costs: `before` is the item as it was (undefined: none), `after` as it is
 * now (undefined: deleted, or the write's condition failed and `failed` is set).
 */
export const itemWriteCost = (
  table: TableModel,
  before: Item | undefined,
  after: Item | undefined,
  failed = false,
): WriteCost => {
  if (failed) return { table: writeUnits(itemSize(before)), indexes: {} };
  const indexes: Record<string, number> = {};
  for (const index of table.indexes) {
    const units = indexWriteUnits(table, index, before, after);
    if (units > 0) indexes[index.name] = units;
  }
  return { table: writeUnits(Math.max(itemSize(before), itemSize(after))), indexes };
};

/** Bytes an item occupies with its index entries, overhead included. */
export const storedBytes = (table: TableModel, item: Item): number =>
  itemSize(item) +
  STORAGE_OVERHEAD_BYTES +
  table.indexes.reduce((n, index) => {
    const entry = indexEntry(table, index, item);
    return entry ? n + itemSize(entry) + STORAGE_OVERHEAD_BYTES : n;
  }, 0);

/**
 * An attribute value for a plain JavaScript value as the document client marshals it (strings,
 * numbers, booleans, null, binary, sets, lists, maps): the meter sees the document client's
 * answers already unmarshalled.
 */
export const toAttributeValue = (value: unknown): AttributeValue => {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number' || typeof value === 'bigint') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value instanceof Uint8Array) return { B: value };
  if (value instanceof Set) {
    const values = [...value];
    if (values.every((v) => typeof v === 'string')) return { SS: values as string[] };
    if (values.every((v) => typeof v === 'number' || typeof v === 'bigint'))
      return { NS: values.map(String) };
    return { BS: values as Uint8Array[] };
  }
  if (Array.isArray(value)) return { L: value.map(toAttributeValue) };
  // lib-dynamodb's NumberValue (wrapNumbers) keeps the number's text.
  if (typeof value === 'object' && 'value' in value && value.constructor?.name === 'NumberValue')
    return { N: String((value as { value: string }).value) };
  return { M: toItem(value as Record<string, unknown>) };
};

/** An item of plain values as attribute values. */
export const toItem = (plain: Record<string, unknown>): Item =>
  Object.fromEntries(
    Object.entries(plain)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, toAttributeValue(v)]),
  );
