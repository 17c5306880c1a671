import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../../lib/local/embedded-dynamodb.ts';

/**
 * A DynamoDB endpoint whose eventually consistent reads lag, as real DynamoDB's do (design
 * section 8: dynalite's indexes never lag, so a test on it alone cannot show an index-lag bug).
 *
 * Two in-memory dynalites sit behind one HTTP proxy: the primary takes every write and every
 * strongly consistent read; the replica gets the same writes, in the same order, each only after
 * a random delay of up to `maxLagMs`, and serves every read that DynamoDB would serve eventually
 * consistent: any index query, and any Get/Query/Scan/BatchGet without `ConsistentRead`. So an
 * index read right after a write may show the item as it was before, "for a random short while",
 * and converges once the replica catches up, which is exactly the contract a GSI gives.
 */
export interface IndexLagDynamoDb {
  /** The proxy's endpoint: point the SDK (AWS_ENDPOINT_URL_DYNAMODB) here. */
  endpoint: string;
  /** Reads served by the lagging replica so far, and how many writes were still unapplied then. */
  stats(): { laggedReads: number; staleReads: number; replicatedWrites: number };
  /** Lag on or off (off: the replica is caught up first, then every read goes to the primary). */
  setLag(on: boolean): Promise<void>;
  /** Waits until the replica has applied every write accepted so far. */
  catchUp(): Promise<void>;
  /**
   * An outage: the endpoint stops listening and drops its open connections, so every request
   * fails with a refused (or reset) connection, as when DynamoDB is unreachable. Data is kept.
   */
  stop(): Promise<void>;
  /** The end of the outage: listens again on the same port. */
  start(): Promise<void>;
  /**
   * A DynamoDB that takes requests and does not answer: every request is still carried out, its
   * answer held back, so the SDK's attempts time out on writes that happened. `answer()` ends it
   * and lets the held answers through to the connections the SDK has not given up on.
   */
  hang(): void;
  answer(): void;
  close(): Promise<void>;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const forward = (target: EmbeddedDynamoDb, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: 'POST',
        path: '/',
        headers: { ...headers, host: `127.0.0.1:${target.port}`, 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

/** Whether DynamoDB would answer this read from a possibly stale copy. */
const isEventuallyConsistent = (operation: string, input: Record<string, unknown>): boolean => {
  if (operation === 'BatchGetItem') {
    const tables = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>);
    return tables.some((table) => table.ConsistentRead !== true);
  }
  return typeof input.IndexName === 'string' || input.ConsistentRead !== true;
};

/** The BatchWriteItem request minus what the primary left unprocessed (only applied writes replicate). */
const appliedPart = (input: Record<string, unknown>, answer: Buffer): Record<string, unknown> | undefined => {
  const unprocessed = (
    JSON.parse(answer.toString('utf8')) as { UnprocessedItems?: Record<string, unknown[]> }
  ).UnprocessedItems;
  if (!unprocessed || Object.keys(unprocessed).length === 0) return input;
  const requested = input.RequestItems as Record<string, unknown[]>;
  const remaining: Record<string, unknown[]> = {};
  for (const [table, writes] of Object.entries(requested)) {
    const skipped = new Set((unprocessed[table] ?? []).map((w) => JSON.stringify(w)));
    const applied = writes.filter((w) => !skipped.has(JSON.stringify(w)));
    if (applied.length > 0) remaining[table] = applied;
  }
  return Object.keys(remaining).length > 0 ? { ...input, RequestItems: remaining } : undefined;
};

export const startIndexLagDynamoDb = async (
  options: { maxLagMs?: number; random?: () => number } = {},
): Promise<IndexLagDynamoDb> => {
  const maxLagMs = options.maxLagMs ?? 300;
  const random = options.random ?? Math.random;
  const [primary, replica] = await Promise.all([startEmbeddedDynamoDb({}), startEmbeddedDynamoDb({})]);
  let lagging = true;
  let laggedReads = 0;
  let staleReads = 0;
  let replicatedWrites = 0;

  /** Writes waiting for the replica, in acceptance order; each is applied no sooner than `dueAt`. */
  const backlog: Array<{ dueAt: number; headers: IncomingHttpHeaders; body: Buffer }> = [];
  let lastDueAt = 0;
  let applying = false;
  let idle: Array<() => void> = [];
  let failure: unknown;

  const applyBacklog = async (): Promise<void> => {
    while (backlog.length > 0) {
      // biome-ignore lint/style/noNonNullAssertion: length checked
      const next = backlog[0]!;
      const wait = lagging ? next.dueAt - Date.now() : 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        // The same write on the same prior state: the replica converges to the primary's state.
        await forward(replica, next.headers, next.body);
        replicatedWrites += 1;
      } catch (error) {
        failure = error;
      }
      backlog.shift();
    }
    applying = false;
    for (const resolve of idle) resolve();
    idle = [];
  };

  const replicate = (headers: IncomingHttpHeaders, body: Buffer) => {
    lastDueAt = Math.max(lastDueAt, Date.now() + random() * maxLagMs);
    backlog.push({ dueAt: lastDueAt, headers, body });
    if (!applying) {
      applying = true;
      void applyBacklog();
    }
  };

  const catchUp = () =>
    backlog.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));

  /** While hanging: the answers of requests carried out, in order (undefined: answering). */
  let heldAnswers: Array<() => void> | undefined;
  let listening = false;
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  const server: Server = createServer((req, res) => {
    // A request that slipped in as the endpoint stops: cut, unapplied, like any other then.
    if (!listening) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const input = (body.length > 0 ? JSON.parse(body.toString('utf8')) : {}) as Record<string, unknown>;
      const handle = async (): Promise<Answer> => {
        if (failure) throw failure;
        if (READS.has(operation) && lagging && isEventuallyConsistent(operation, input)) {
          laggedReads += 1;
          if (backlog.length > 0) staleReads += 1;
          return forward(replica, req.headers, body);
        }
        const answer = await forward(primary, req.headers, body);
        if (answer.status === 200 && WRITES.has(operation)) {
          const applied = operation === 'BatchWriteItem' ? appliedPart(input, answer.body) : input;
          if (applied) replicate(req.headers, Buffer.from(JSON.stringify(applied)));
        } else if (answer.status === 200 && !READS.has(operation)) {
          // Table administration: the replica must have the same tables before any write reaches it.
          await catchUp();
          await forward(replica, req.headers, body);
        }
        return answer;
      };
      handle().then(
        (answer) => {
          const headers = { ...answer.headers };
          delete headers['content-length'];
          delete headers.connection;
          const reply = () => {
            if (res.destroyed) return;
            res.writeHead(answer.status, headers);
            res.end(answer.body);
          };
          if (heldAnswers) heldAnswers.push(reply);
          else reply();
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'InternalFailure', message: String(error) }));
        },
      );
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ laggedReads, staleReads, replicatedWrites }),
    setLag: async (on) => {
      if (!on) await catchUp();
      lagging = on;
    },
    catchUp,
    stop,
    start: async () => {
      if (!listening) await listen(port);
    },
    hang: () => {
      heldAnswers ??= [];
    },
    answer: () => {
      const held = heldAnswers ?? [];
      heldAnswers = undefined;
      for (const reply of held) reply();
    },
    close: async () => {
      heldAnswers = undefined;
      await stop();
      await catchUp().catch(() => undefined);
      await Promise.all([primary.close(), replica.close()]);
    },
  };
};
