import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, QueryCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../lib/config.ts';
import { STACK_INFO_FILE, type StackInfo } from '../lib/local/local-stack.ts';
import {
  API,
  BENCH_DEMO_KEY,
  benchContacts,
  benchStackEnv,
  fmt,
  machineLine,
  percentile,
  postJson,
  runIfMain,
  waitFor,
} from './ingest.ts';

/**
 * Load benchmark (`npm run bench:load`): the service runs as `npm start` runs it, in a child process
 * of its own (so its resident memory is its own), and 8 concurrent clients post 500-contact batches
 * to it, three rounds of 60,000 contacts. Per round: accepted and stored contacts, contacts/s,
 * p50/p99 latency and the service's RSS; at the end its peak RSS and its RSS once idle again.
 * Figures only; exits 1 when a contact is lost, or a request gets a 5xx, a 4xx or no answer.
 */

const ROUNDS = 3;
const CONTACTS_PER_ROUND = 60_000;
const BATCH = 500;
const CLIENTS = 8;
/** How long the service gets to give memory back after the last round before its idle RSS is read. */
const IDLE_SETTLE_MS = 20_000;
const MB = 1024 * 1024;

/** What one POST came back with. `status` 0 = no HTTP answer at all (connection refused or reset). */
export interface PostOutcome {
  status: number;
  ms: number;
  posted: number;
  accepted: number;
  queueId: string | undefined;
}

export interface RoundTally {
  posted: number;
  accepted: number;
  stored: number;
  /** Accepted by the API but not in the store afterwards. */
  lost: number;
  /** Answers of 500 and above, and requests that got no answer. */
  serverErrors: number;
  /** 4xx answers (e.g. 429): refused, not lost, but the round did not post what it meant to. */
  refused: number;
}

/**
 * The accounting of one round: what the API said it accepted against what the store holds for
 * the queues it named (`storedByQueue`). A queue the API named but the store does not know counts
 * as 0 stored.
 */
export const tallyRound = (
  outcomes: readonly PostOutcome[],
  storedByQueue: ReadonlyMap<string, number>,
): RoundTally => {
  let accepted = 0;
  let stored = 0;
  let serverErrors = 0;
  let refused = 0;
  for (const o of outcomes) {
    if (o.status === 0 || o.status >= 500) serverErrors += 1;
    else if (o.status >= 400) refused += 1;
    else {
      accepted += o.accepted;
      stored += o.queueId ? (storedByQueue.get(o.queueId) ?? 0) : 0;
    }
  }
  const posted = outcomes.reduce((n, o) => n + o.posted, 0);
  return { posted, accepted, stored, lost: Math.max(0, accepted - stored), serverErrors, refused };
};

/** `process.memoryUsage()` of the service, as bench/memory-probe.ts prints it. */
interface MemorySample {
  at: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface Service {
  info: StackInfo;
  /** Resident memory now and at its highest so far (the kernel's VmRSS and VmHWM). */
  rss(): Promise<{ now: number; peak: number }>;
  /** The latest process.memoryUsage() the service printed. */
  memory(): MemorySample | undefined;
  stop(): Promise<void>;
}

const procStatusKb = (status: string, field: string): number =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);

/**
 * Starts the service the way `npm start` does (its script's environment included), with the memory
 * probe loaded, a temp data dir, free ports and the bench's demo key.
 */
const startService = async (dataDir: string): Promise<Service> => {
  const child: ChildProcess = spawn('npm', ['run', 'start', '--silent'], {
    env: {
      ...process.env,
      ...benchStackEnv(dataDir),
      NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${join(import.meta.dirname, 'memory-probe.mjs')}`]
        .filter(Boolean)
        .join(' '),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let latest: MemorySample | undefined;
  let pending = '';
  child.stdout?.on('data', (chunk) => {
    pending += String(chunk);
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('memory-probe ')) latest = JSON.parse(line.slice('memory-probe '.length));
      else output += `${line}\n`;
    }
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let info: StackInfo | undefined;
  await waitFor(
    async () => {
      info = await readFile(join(dataDir, STACK_INFO_FILE), 'utf8')
        .then((text) => JSON.parse(text) as StackInfo)
        .catch(() => undefined);
      return !!info?.url && /running at/.test(output);
    },
    60_000,
    'the service to start',
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${output}`);
  });
  const stack = info as StackInfo;
  return {
    info: stack,
    rss: async () => {
      const status = await readFile(`/proc/${stack.pid}/status`, 'utf8');
      return { now: procStatusKb(status, 'VmRSS') * 1024, peak: procStatusKb(status, 'VmHWM') * 1024 };
    },
    memory: () => latest,
    stop: async () => {
      process.kill(-(child.pid as number), 'SIGINT');
      await exited;
    },
  };
};

/** Raises the demo tenant's hourly request and daily message limits with the admin CLI, as an operator would. */
const liftDemoLimits = async (dataDir: string): Promise<void> => {
  const args = ['run', 'admin', '--silent', '--', 'tenant', 'config', '--tenant', 'demo'];
  args.push('--rate-limit-per-hour', '10000000', '--daily-limit', '100000000');
  const child = spawn('npm', args, {
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  child.stdout?.on('data', (d) => {
    said += String(d);
  });
  child.stderr?.on('data', (d) => {
    said += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`admin CLI: tenant config exited ${code}:\n${said}`);
};

/** Contacts the store holds for one queue (a COUNT query on its partition, paged). */
const storedContacts = async (client: DynamoDBClient, table: string, queueId: string): Promise<number> => {
  let count = 0;
  let start: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :contact)',
        ExpressionAttributeValues: { ':pk': { S: `QUEUE#${queueId}` }, ':contact': { S: 'CONTACT#' } },
        Select: 'COUNT',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
};

interface RoundReport {
  tally: RoundTally;
  seconds: number;
  latencies: number[];
  rssAfter: number;
  memoryAfter: MemorySample | undefined;
}

/** One round: CLIENTS workers take the round's batches off one list until it is empty. */
const runRound = async (
  service: Service,
  store: DynamoDBClient,
  round: number,
  runId: string,
): Promise<RoundReport> => {
  const url = `${service.info.url}${API}/send/overdue`;
  const today = new Date();
  const batches = CONTACTS_PER_ROUND / BATCH;
  // Built before the clock starts: the clients only post.
  const bodies = Array.from({ length: batches }, (_, i) => {
    const batchNo = round * batches + i;
    return {
      external_id: `bench-load-${runId}-${batchNo}`,
      contacts: benchContacts(BATCH, batchNo, 'overdue', today),
      metadata: { origem: 'bench-load', lote: batchNo },
    };
  });
  const outcomes: PostOutcome[] = [];
  const started = performance.now();
  const client = async () => {
    for (let body = bodies.shift(); body; body = bodies.shift()) {
      const res = await postJson(url, BENCH_DEMO_KEY, body).catch(() => ({
        status: 0,
        ms: 0,
        body: undefined,
      }));
      outcomes.push({
        status: res.status,
        ms: res.ms,
        posted: BATCH,
        accepted: res.status === 200 ? Number(res.body?.accepted ?? 0) : 0,
        queueId: res.status === 200 ? (res.body?.queue_id as string | undefined) : undefined,
      });
      if (res.status !== 200)
        console.error(`  HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = (await service.rss()).now;
  const memoryAfter = service.memory();
  const storedByQueue = new Map<string, number>();
  for (const o of outcomes)
    if (o.queueId)
      storedByQueue.set(o.queueId, await storedContacts(store, service.info.tableName, o.queueId));
  const tally = tallyRound(outcomes, storedByQueue);
  return {
    tally,
    seconds,
    latencies: outcomes.filter((o) => o.status === 200).map((o) => o.ms),
    rssAfter,
    memoryAfter,
  };
};

const mb = (bytes: number): string => `${fmt(bytes / MB, 0)} MB`;

const memoryLine = (m: MemorySample | undefined): string =>
  m
    ? `JS heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)}), rest (native) ${mb(m.rss - m.heapTotal - m.external)}`
    : 'no memory-probe sample';

/** Runs the load benchmark; resolves to the exit code (1 = a contact lost, or a request not accepted). */
export const runLoad = async (): Promise<number> => {
  console.log(machineLine());
  console.log(
    `load bench: ${ROUNDS} rounds of ${CONTACTS_PER_ROUND} overdue contacts, ${CLIENTS} clients posting ${BATCH}-contact batches to \`npm start\` in a child process`,
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'billing-load-'));
  let service: Service | undefined;
  let store: DynamoDBClient | undefined;
  try {
    service = await startService(dataDir);
    await liftDemoLimits(dataDir);
    const config = loadConfig({});
    store = new DynamoDBClient({
      region: config.AWS_REGION,
      endpoint: service.info.dynamodbEndpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const startRss = (await service.rss()).now;
    console.log(
      `service pid ${service.info.pid}: RSS at start ${mb(startRss)}; ${memoryLine(service.memory())}`,
    );
    const runId = randomUUID().slice(0, 8);
    const totals = { posted: 0, lost: 0, serverErrors: 0, refused: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const r = await runRound(service, store, round, runId);
      totals.posted += r.tally.posted;
      totals.lost += r.tally.lost;
      totals.serverErrors += r.tally.serverErrors;
      totals.refused += r.tally.refused;
      console.log(
        `round ${round + 1}: accepted ${r.tally.accepted} / ${r.tally.posted}, stored ${r.tally.stored}, ` +
          `${fmt(r.tally.accepted / r.seconds, 0)} contacts/s, latency p50 ${fmt(percentile(r.latencies, 50), 0)} ms ` +
          `p99 ${fmt(percentile(r.latencies, 99), 0)} ms, service RSS ${mb(r.rssAfter)}` +
          (r.tally.serverErrors || r.tally.refused
            ? `, ${r.tally.serverErrors} 5xx, ${r.tally.refused} 4xx`
            : ''),
      );
      console.log(`  ${memoryLine(r.memoryAfter)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const { now: idleRss, peak } = await service.rss();
    console.log(`idle ${IDLE_SETTLE_MS / 1000} s later: ${memoryLine(service.memory())}`);
    console.log(`after the run: ${machineLine()}`);
    console.log(
      `load: ${totals.posted} contacts, ${totals.lost} lost, ${totals.serverErrors} 5xx, peak RSS ${mb(peak)}, idle RSS ${mb(idleRss)}`,
    );
    return totals.lost > 0 || totals.serverErrors > 0 || totals.refused > 0 ? 1 : 0;
  } finally {
    store?.destroy();
    await service?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
};

runIfMain(import.meta.url, runLoad);
