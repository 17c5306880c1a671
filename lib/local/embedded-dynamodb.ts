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
  boundLevelDbMemory();
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
  prototype: IteratingPrototype & { _open(options: object): Promise<void> };
}

let levelDbBounded = false;

/**
 * Two fixes on the database classes dynalite 4 constructs (LevelDB on disk, memory-level without a
 * path; resolved from dynalite's own dependencies, so they are the same module instances), once per
 * process; only dynalite opens them here.
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
 */
const boundLevelDbMemory = (): void => {
  if (levelDbBounded) return;
  levelDbBounded = true;
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level') as { Level: LevelClass };
  const { MemoryLevel } = requireFromDynalite('memory-level') as {
    MemoryLevel: { prototype: IteratingPrototype };
  };
  const open = Level.prototype._open;
  Level.prototype._open = function (this: unknown, openOptions: object) {
    return open.call(this, { ...LEVELDB_OPTIONS, ...openOptions });
  };
  closeIteratorsOnReturn(Level.prototype);
  closeIteratorsOnReturn(MemoryLevel.prototype);
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
