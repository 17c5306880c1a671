import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamoDb {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * DynamoDB emulator (dynalite) in this process: persisted in LevelDB under `path`, in memory
 * without it. LevelDB locks its folder, so one process owns a data dir; others reach it through
 * the HTTP endpoint this serves.
 */
export const startEmbeddedDynamoDb = async (options: {
  path?: string;
  port?: number;
  host?: string;
  /**
   * When `port` is taken, listen on a free one instead of failing. The same server retries: a
   * second dynalite on `path` would find the folder locked by the first ("Database is closed").
   */
  anyPortIfTaken?: boolean;
}): Promise<EmbeddedDynamoDb> => {
  const host = options.host ?? '127.0.0.1';
  fixDynaliteDatabases();
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  }) as Server;
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(options.port ?? 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !options.anyPortIfTaken) {
      server.close();
      throw error;
    }
    await listen(0);
  }
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
};

/**
 * LevelDB open options for the embedded database, chosen for resident memory (bench/README.md, load).
 *
 * LevelDB 1.20 (classic-level) `mmap`s each table file it holds open in its table cache, up to 1000
 * on 64-bit, and the pages a read or a compaction touched stay resident (counted in RSS) while the
 * file stays in that cache: about 2 MB a file. `maxOpenFiles` bounds the cache (LevelDB keeps
 * maxOpenFiles - 10 tables; 74 is the least it accepts), so the mapped part stays under about 130 MB
 * whatever the size of the data; a table that falls out is unmapped, and reopened (one index read)
 * when needed again.
 * Block cache and write buffer stay at LevelDB's defaults (8 and 4 MB): they are bounded already.
 */
const LEVELDB_OPTIONS = { maxOpenFiles: 74 } as const;

interface LevelIterator {
  close(): Promise<void>;
  return?: () => Promise<IteratorResult<never, undefined>>;
}

interface IteratingPrototype {
  keys(...args: unknown[]): LevelIterator;
  values(...args: unknown[]): LevelIterator;
}

interface LevelClass {
  prototype: IteratingPrototype & WritingPrototype & { _open(options: object): Promise<void> };
}

let dynaliteFixed = false;

/**
 * Three fixes on dynalite 4 and the database classes it constructs (LevelDB on disk, memory-level
 * without a path; resolved from dynalite's own dependencies, so they are the same module instances),
 * once per process; only dynalite opens them here.
 *
 * - Open options: dynalite opens `new Level(path, { valueEncoding: 'json' })` and passes no LevelDB
 *   options, so its open gets LEVELDB_OPTIONS under the caller's options.
 * - Iterators: every Query and Scan reads a stream over `db.keys()` / `db.values()` that, when it
 *   ends or is destroyed, closes its iterator through `iterator.return()` if there is one. The
 *   iterators of abstract-level 3 have `close()` and no `return()`, so none was ever closed: each
 *   one pinned, until the process ended, the LevelDB version it read (every table file of it, so
 *   compacted files were never deleted or unmapped: the data dir and RSS grew by the GBs) and the
 *   memtables of its moment (4 MB each, native memory); in memory, the tree of its moment. Giving
 *   them `return()` lets the stream close them.
 * - Atomic writes: see `writeItemsWithTheirIndexEntries`.
 */
const fixDynaliteDatabases = (): void => {
  if (dynaliteFixed) return;
  dynaliteFixed = true;
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level') as { Level: LevelClass };
  const { MemoryLevel } = requireFromDynalite('memory-level') as {
    MemoryLevel: { prototype: IteratingPrototype & WritingPrototype };
  };
  const open = Level.prototype._open;
  Level.prototype._open = function (this: unknown, openOptions: object) {
    return open.call(this, { ...LEVELDB_OPTIONS, ...openOptions });
  };
  closeIteratorsOnReturn(Level.prototype);
  closeIteratorsOnReturn(MemoryLevel.prototype);
  writeItemsWithTheirIndexEntries(requireFromDynalite('./db') as DynaliteDb, [
    Level.prototype,
    MemoryLevel.prototype,
  ]);
};

const closeIteratorsOnReturn = (proto: IteratingPrototype): void => {
  for (const method of ['keys', 'values'] as const) {
    const create = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const iterator = create.apply(this, args);
      iterator.return ??= async () => {
        await iterator.close();
        return { done: true, value: undefined };
      };
      return iterator;
    };
  }
};

type LevelWrite = { type: 'put'; key: string; value: unknown } | { type: 'del'; key: string };

interface WritingPrototype {
  put(key: string, value: unknown, ...rest: unknown[]): Promise<void>;
  del(key: string, ...rest: unknown[]): Promise<void>;
  batch(operations: LevelWrite[]): Promise<void>;
}

/** The parts of dynalite's `db` module the atomic writes use (dynalite 4.0.0, pinned). */
interface DynaliteDb {
  updateIndexes(
    store: DynaliteStore,
    table: DynaliteTable,
    before: unknown,
    after: unknown,
    cb: (err?: Error) => void,
  ): void;
  getIndexActions(
    indexes: { IndexName: string }[],
    before: unknown,
    after: unknown,
    table: DynaliteTable,
  ): { puts: { index: string; key: string; item: unknown }[]; deletes: { index: string; key: string }[] };
  createKey(item: unknown, table: DynaliteTable): string;
}

interface DynaliteStore {
  db: object;
}

interface DynaliteTable {
  TableName: string;
  LocalSecondaryIndexes?: { IndexName: string }[];
  GlobalSecondaryIndexes?: { IndexName: string }[];
}

/**
 * dynalite writes an item and its index entries one LevelDB write after another: PutItem,
 * UpdateItem and DeleteItem call `db.updateIndexes` (delete the old index entries, put the new ones)
 * and then put or delete the item, while holding the item's lock. A process killed between those
 * writes left the index disagreeing with the item for good: an item naming a due entry the due index
 * no longer held (chaos found a callback stranded so), or an entry for a state the item never reached.
 * Real DynamoDB cannot do that, and a laptop can be switched off mid-write. So the index writes wait
 * for the item's own write and go out with it as one LevelDB batch, which LevelDB applies whole or
 * not at all (one record in its log).
 *
 * `updateIndexes` keeps the index writes aside under the item's LevelDB key (dynalite's sub-databases
 * are key prefixes on one database: `item-<table>~<key>`, `index-<local|global>~<table>~<index>~<key>`)
 * and answers at once; the database's `put`/`del` of that key, which comes next under the same lock,
 * takes them into its batch. Kept per database, since tests run several emulators in one process.
 */
const writeItemsWithTheirIndexEntries = (dynaliteDb: DynaliteDb, prototypes: WritingPrototype[]): void => {
  const waiting = new WeakMap<object, Map<string, LevelWrite[]>>();
  dynaliteDb.updateIndexes = (store, table, before, after, cb) => {
    if (!before && !after) return cb();
    const writes: LevelWrite[] = [];
    for (const kind of ['Local', 'Global'] as const) {
      const indexes = table[`${kind}SecondaryIndexes`] ?? [];
      const actions = dynaliteDb.getIndexActions(indexes, before, after, table);
      const prefix = (index: string) => `index-${kind.toLowerCase()}~${table.TableName}~${index}~`;
      for (const d of actions.deletes) writes.push({ type: 'del', key: prefix(d.index) + d.key });
      for (const p of actions.puts) writes.push({ type: 'put', key: prefix(p.index) + p.key, value: p.item });
    }
    if (writes.length > 0) {
      const itemKey = `item-${table.TableName}~${dynaliteDb.createKey(after ?? before, table)}`;
      const ofDb = waiting.get(store.db) ?? new Map<string, LevelWrite[]>();
      waiting.set(store.db, ofDb);
      ofDb.set(itemKey, writes);
    }
    cb();
  };
  const takeIndexWrites = (db: object, key: string): LevelWrite[] | undefined => {
    const ofDb = waiting.get(db);
    const writes = ofDb?.get(key);
    if (writes) ofDb?.delete(key);
    return writes;
  };
  for (const proto of prototypes) {
    const { put, del, batch } = proto;
    proto.put = function (this: object, key, value, ...rest) {
      const writes = takeIndexWrites(this, key);
      return writes
        ? batch.call(this, [...writes, { type: 'put', key, value }])
        : put.call(this, key, value, ...rest);
    };
    proto.del = function (this: object, key, ...rest) {
      const writes = takeIndexWrites(this, key);
      return writes ? batch.call(this, [...writes, { type: 'del', key }]) : del.call(this, key, ...rest);
    };
  }
};
