import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus as cpus_, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchWriteItemCommand, type BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { configureTenant } from '../lib/app/configure-tenant.ts';
import { DEMO_TENANT_ID } from '../lib/app/seed-demo-tenant.ts';
import type { Container } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import type { TemplateType } from '../lib/domain/types.ts';
import { type LocalRoles, type LocalStack, startLocalStack } from '../lib/local/local-stack.ts';

/**
 * Ingest benchmark (`npm run bench:ingest`): 1000-contact batches POSTed over HTTP to
 * /api/v1/billing/send/overdue on the in-process local stack (API only, worker off so nothing
 * competes with the writes). Prints the request latency, the DynamoDB write requests per accepted
 * contact, and the same contact items written raw (BatchWriteItem, 25 a call, 4 in flight) on the
 * same store in the same run, for the API/raw ratio. Figures only: it asserts nothing about time,
 * but exits 1 when a batch is not fully accepted.
 *
 * Also the shared toolkit of the send benchmark (request counter, contacts, stack, table).
 */

export const BENCH_DEMO_KEY = 'billing_bench-demo-key-0123456789abcdefABCDEF';

/** A bench stack's settings: its own data dir, free ports, silent logs and the fixed demo key. */
export const benchStackEnv = (dataDir: string): Record<string, string> => ({
  DATA_DIR: dataDir,
  PORT: '0',
  DYNAMODB_PORT: '0',
  SIMULATOR_PORT: '0',
  LOG_LEVEL: 'SILENT',
  BILLING_DEMO_API_KEY: BENCH_DEMO_KEY,
  // The benches' Evolution is a simulator: the demo instance sends at its pace from the first day.
  DEMO_INSTANCE_WARMUP: 'off',
});
export const API = '/api/v1/billing';

const WARMUP_REQUESTS = 3;
const MEASURED_REQUESTS = 30;
const BATCH = 1000;
/** The adapter's own batching (dynamodb-campaign-store.ts), mirrored by the raw writer. */
const RAW_BATCH_SIZE = 25;
const RAW_CONCURRENCY = 4;

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

// ---------------------------------------------------------------------------------------------
// Shared toolkit

/** One DynamoDB request as the counter saw it (one per attempt on the wire). */
export interface DynamoCall {
  command: string;
  /** When the caller called `send` (the SDK's initialize step). */
  calledAt: number;
  /** When this attempt left the SDK's pipeline for the wire (after serializing and signing). */
  startedAt: number;
  endedAt: number;
  /** The input on the wire (marshalled: `{ S: ... }` attribute values). */
  input: unknown;
  /** The input as the caller gave it (plain values when it came through the document client). */
  callerInput: unknown;
}

/** Counts every DynamoDB request of a client, by command; `paused` leaves the bench's own requests out. */
export interface DynamoRequestCounter {
  paused: boolean;
  /** Requests sent and not yet answered. */
  inFlight(): number;
  /** Counts by command name since the start (a snapshot; subtract two for a window). */
  snapshot(): Record<string, number>;
  /** Requests finished since `mark()` with their timing and (marshalled) input. */
  callsSince(mark: number): DynamoCall[];
  mark(): number;
}

/**
 * Installs a counting middleware on the client's stack. The document client shares its stack with the
 * DynamoDBClient beneath, so the store's every request passes here; `finalizeRequest`/low runs inside
 * the SDK's retry loop, so a retried request counts once per attempt, as DynamoDB bills it.
 */
export const countDynamoRequests = (
  client: DynamoDBDocumentClient,
  keepCalls = false,
): DynamoRequestCounter => {
  const counts: Record<string, number> = {};
  const calls: DynamoCall[] = [];
  let inFlight = 0;
  const counter: DynamoRequestCounter = {
    paused: false,
    inFlight: () => inFlight,
    snapshot: () => ({ ...counts }),
    callsSince: (mark) => calls.slice(mark),
    mark: () => calls.length,
  };
  // The caller's moment: the SDK's own pipeline can take a while when the event loop is busy.
  client.middlewareStack.add(
    (next, context) => (args) => {
      Object.assign(context, { benchCalledAt: performance.now(), benchCallerInput: args.input });
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'benchCallStamp' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (counter.paused) return next(args);
      const command = context.commandName ?? 'unknown';
      counts[command] = (counts[command] ?? 0) + 1;
      inFlight += 1;
      const startedAt = performance.now();
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
        if (keepCalls) {
          const stamp = context as { benchCalledAt?: number; benchCallerInput?: unknown };
          calls.push({
            command,
            calledAt: stamp.benchCalledAt ?? startedAt,
            startedAt,
            endedAt: performance.now(),
            input: args.input,
            callerInput: stamp.benchCallerInput,
          });
        }
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchRequestCounter' },
  );
  return counter;
};

/** Requests between two snapshots, by command. */
export const diffCounts = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v > 0),
  );

export const sumCounts = (counts: Record<string, number>, only?: Set<string>): number =>
  Object.entries(counts).reduce((n, [k, v]) => (only && !only.has(k) ? n : n + v), 0);

export const writeRequests = (counts: Record<string, number>): number => sumCounts(counts, WRITE_COMMANDS);

/** Waits until `check` holds, polling; throws after `timeoutMs` (a bench must stop by itself). */
export const waitFor = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

// Deterministic pseudo-random data, so two runs post the same kind of batches.
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const FIRST = [
  'Ana',
  'João',
  'Maria',
  'José',
  'Francisco',
  'Antônia',
  'Carlos',
  'Luíza',
  'Paulo',
  'Fernanda',
];
const LAST = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Rodrigues',
  'Ferreira',
  'Alves',
  'Pereira',
  'Lima',
  'Gomes',
];
/** Real DDDs from every region. */
const DDD = [11, 12, 19, 21, 27, 31, 41, 47, 48, 51, 61, 62, 71, 79, 81, 85, 91, 92, 98];
const pad = (n: number, width: number) => String(n).padStart(width, '0');

const brl = (cents: number): string => {
  const reais = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `R$ ${reais},${pad(cents % 100, 2)}`;
};

/**
 * `count` realistic contacts of a batch: valid Brazilian mobiles (distinct across the whole run for
 * distinct `batchNo`), names, invoice numbers, values in BRL, and due dates (past for overdue, else
 * ahead), spelled the various ways ERPs send them.
 */
export const benchContacts = (
  count: number,
  batchNo: number,
  type: TemplateType,
  today: Date,
  /** `always`: every contact has a payment link and a PIX code (the cost bench's overdue reminders). */
  payment: 'sometimes' | 'always' = 'sometimes',
): Array<Record<string, string | number>> => {
  const random = mulberry32(batchNo * 7919 + 17);
  return Array.from({ length: count }, (_, i) => {
    const serial = batchNo * 10_000 + i;
    const ddd = DDD[serial % DDD.length] as number;
    // 9 + [6-9] + 7 digits: the mobile ranges libphonenumber knows for every DDD; serial keeps them distinct.
    const subscriber = `9${6 + (serial % 4)}${pad(Math.floor(serial / 4) % 10_000_000, 7)}`;
    const spelling = i % 4;
    const telefone =
      spelling === 0
        ? `${ddd}${subscriber}`
        : spelling === 1
          ? `(${ddd}) ${subscriber.slice(0, 5)}-${subscriber.slice(5)}`
          : spelling === 2
            ? `+55 ${ddd} ${subscriber.slice(0, 5)}-${subscriber.slice(5)}`
            : `55${ddd}${subscriber}`;
    // Two days at least: `today` is UTC here but the tenant's day (São Paulo) may be the day before.
    const days = 2 + Math.floor(random() * 90);
    const due = new Date(today.getTime() + (type === 'overdue' ? -days : days) * 86_400_000);
    const iso = due.toISOString().slice(0, 10);
    const dueText = i % 3 === 0 ? iso : `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
    const cents = 1_990 + Math.floor(random() * 500_000);
    const invoice = `2025-${pad(serial, 8)}`;
    const contact: Record<string, string | number> = {
      nome_cliente: `${FIRST[Math.floor(random() * FIRST.length)]} ${LAST[Math.floor(random() * LAST.length)]}`,
      telefone,
      valor: i % 5 === 0 ? cents / 100 : brl(cents),
      data_vencimento: dueText,
      numero_fatura: invoice,
    };
    if (type === 'overdue') contact.valor_total = brl(Math.round(cents * (1.02 + days * 0.00033)));
    if (payment === 'always' || i % 2 === 0)
      contact.link_pagamento = `https://pagar.exemplo-erp.com.br/fatura/${invoice}`;
    if (payment === 'always' || i % 3 === 0) {
      contact.codigo_pix = `00020126580014br.gov.bcb.pix0136${randomUUID()}5204000053039865802BR5913EMPRESA DEMO6009SAO PAULO62070503***6304ABCD`;
    }
    if (type === 'notification') {
      contact.titulo = 'Lembrete de pagamento';
      contact.mensagem = `Sua fatura ${invoice} de ${brl(cents)} vence em ${dueText}.`;
    }
    return contact;
  });
};

export interface BenchStackOptions {
  env?: Record<string, string>;
  roles?: LocalRoles;
  /** Container overrides (the cost bench's clock, sleep and metrics). */
  overrides?: Partial<Container>;
}

export interface BenchStack {
  stack: LocalStack;
  dataDir: string;
  /** The environment its config was loaded from, for a process that joins it (bench/sender-process.ts). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The local stack in this process on a temp DATA_DIR, free ports, silent logs and a fixed demo key. */
export const startBenchStack = async (options: BenchStackOptions = {}): Promise<BenchStack> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'billing-bench-'));
  const env = { ...benchStackEnv(dataDir), ...options.env };
  const config = loadConfig(env);
  const stack = await startLocalStack(
    config,
    options.overrides ?? {},
    options.roles ?? { api: true, worker: false },
  );
  return {
    stack,
    dataDir,
    env,
    close: async () => {
      await stack.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
};

export interface PostResult {
  status: number;
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: the bench only reads a few fields of the answer
  body: any;
}

/** POSTs JSON with an API key; `ms` is the wall time to the full answer body. */
export const postJson = async (url: string, key: string, body: unknown): Promise<PostResult> => {
  const payload = JSON.stringify(body);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Billing-API-Key': key },
    body: payload,
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the error message.
  }
  return { status: res.status, ms, body: parsed };
};

/** Nearest-rank percentile of a list (p in 0..100). */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
};

export const mean = (values: readonly number[]): number =>
  values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

export interface TableRow {
  figure: string;
  target: string;
  measured: string;
  /** undefined = informational line, no verdict. */
  pass?: boolean;
}

/** Prints an aligned text table; columns listed in `alignRight` (by index) are right-aligned (numbers). */
export const printGrid = (
  title: string,
  head: readonly string[],
  cells: ReadonlyArray<readonly string[]>,
  alignRight: ReadonlySet<number> = new Set(),
): void => {
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]) =>
    c.map((v, i) => (alignRight.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(' | ');
  console.log(`\n${title}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
};

/** Prints figure | target | measured | verdict as an aligned text table. */
export const printTable = (title: string, rows: readonly TableRow[]): void =>
  printGrid(
    title,
    ['figure', 'target', 'measured', 'verdict'],
    rows.map((r) => [r.figure, r.target, r.measured, r.pass === undefined ? '' : r.pass ? 'PASS' : 'MISS']),
  );

export const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** The machine and how busy it already is: a bench on a loaded box measures the box. */
export const machineLine = (): string => {
  const cpus = cpus_();
  const load = loadavg().map((l) => l.toFixed(2));
  return `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? '?'}), node ${process.version}, load average ${load.join(' ')}`;
};

/** True when this module is the script node was asked to run (not imported by another bench). */
const isMain = (metaUrl: string): boolean =>
  !!process.argv[1] && resolve(process.argv[1]) === fileURLToPath(metaUrl);

/** Runs a bench when its file is the entry point: exits with its code, or 1 when it throws. */
export const runIfMain = (metaUrl: string, run: () => Promise<number>): void => {
  if (!isMain(metaUrl)) return;
  run().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};

// ---------------------------------------------------------------------------------------------
// The ingest benchmark

type WriteRequests = NonNullable<BatchWriteItemCommandInput['RequestItems']>[string];

type DocWriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/**
 * Writes the given BatchWriteItem request lists the way the adapter does: one shared list of
 * 25-item calls, RAW_CONCURRENCY workers, unprocessed items re-sent. `marshalled` lists go out as
 * they are (BatchWriteItem); plain ones through the document client, which marshals them first.
 * Returns the wall time in ms.
 */
const writeRaw = async (
  client: DynamoDBDocumentClient,
  table: string,
  batches: WriteRequests[] | DocWriteRequests[],
  marshalled: boolean,
) => {
  const list = [...batches];
  const started = performance.now();
  const send = async (items: WriteRequests | DocWriteRequests) => {
    const out = marshalled
      ? await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items as WriteRequests } }))
      : await client.send(new BatchWriteCommand({ RequestItems: { [table]: items as DocWriteRequests } }));
    return (out.UnprocessedItems?.[table] ?? []) as WriteRequests | DocWriteRequests;
  };
  const worker = async () => {
    for (let batch = list.shift(); batch; batch = list.shift()) {
      let pending = batch;
      while (pending.length > 0) pending = await send(pending);
    }
  };
  await Promise.all(Array.from({ length: Math.min(RAW_CONCURRENCY, list.length) }, worker));
  return performance.now() - started;
};

/**
 * The contact items one API request wrote, re-keyed under a fresh queue id, re-cut into 25-item
 * lists: the same items (same attributes, same sizes) as new rows, as a first write is.
 */
/**
 * A deep copy of a request item with every string's `from` replaced by `to`. Binary values (the
 * contact's packed body) stay bytes: a JSON round trip would turn them into objects of numbers,
 * which the SDK would then write as a much larger map or list.
 */
const withQueueIdReplaced = (value: unknown, from: string, to: string): unknown => {
  if (typeof value === 'string') return value.replaceAll(from, to);
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => withQueueIdReplaced(v, from, to));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withQueueIdReplaced(v, from, to)]));
  }
  return value;
};

const sameItemsFresh = <T>(
  calls: DynamoCall[],
  table: string,
  queueId: string,
  pick: (c: DynamoCall) => unknown,
) => {
  const fresh = randomUUID();
  const items = calls
    .filter((c) => c.command === 'BatchWriteItemCommand')
    .flatMap((c) => (pick(c) as BatchWriteItemCommandInput).RequestItems?.[table] ?? []);
  const rekeyed = items.map((item) => withQueueIdReplaced(item, queueId, fresh)) as T[];
  const batches: T[][] = [];
  for (let i = 0; i < rekeyed.length; i += RAW_BATCH_SIZE) batches.push(rekeyed.slice(i, i + RAW_BATCH_SIZE));
  return batches;
};

export interface IngestOutcome {
  /** 1 when a batch was refused. */
  code: number;
  /** API latency p50 / raw write p50 of the same items (issue 12's "ingest p50 / raw write p50"). */
  apiOverRaw: number;
}

/** Runs the ingest benchmark and prints its table. */
export const runIngest = async (): Promise<IngestOutcome> => {
  console.log(machineLine());
  console.log(
    `ingest bench: ${WARMUP_REQUESTS} warm-up + ${MEASURED_REQUESTS} measured POSTs of ${BATCH} overdue contacts`,
  );
  const bench = await startBenchStack({ roles: { api: true, worker: false } });
  const { stack } = bench;
  const c = stack.container;
  const table = c.config.TABLE_NAME;
  let failed = false;
  try {
    // A tenant that ingests 33k contacts in a minute: lift the hourly request limit and keep a daily
    // limit (one that counts, so the quota write is part of the measure) far above the run.
    await configureTenant(c, DEMO_TENANT_ID, {
      apiRateLimitPerHour: 1_000_000,
      dailyMessageLimit: 100_000_000,
    });
    const counter = countDynamoRequests(c.dynamo, true);
    const url = `${stack.url}${API}/send/overdue`;
    const runId = randomUUID().slice(0, 8);
    const today = new Date();

    const latencies: number[] = [];
    const rawTimes: number[] = [];
    const rawDocTimes: number[] = [];
    const batchSpans: number[] = [];
    const outsideWrites: number[] = [];
    let accepted = 0;
    let writes = 0;
    let requests = 0;
    const byCommand: Record<string, number> = {};

    for (let i = 0; i < WARMUP_REQUESTS + MEASURED_REQUESTS; i++) {
      const measured = i >= WARMUP_REQUESTS;
      const body = {
        external_id: `bench-ingest-${runId}-${i}`,
        contacts: benchContacts(BATCH, i, 'overdue', today),
        metadata: { origem: 'bench', lote: i },
      };
      const before = counter.snapshot();
      const mark = counter.mark();
      const res = await postJson(url, BENCH_DEMO_KEY, body);
      // The API key's usage write is fire-and-forget: let it land inside this request's window.
      await waitFor(() => counter.inFlight() === 0, 10_000, 'store writes of the request to settle');
      if (res.status !== 200 || res.body?.accepted !== BATCH) {
        console.error(
          `request ${i}: HTTP ${res.status}, accepted ${res.body?.accepted}:`,
          JSON.stringify(res.body).slice(0, 500),
        );
        failed = true;
        break;
      }
      const calls = counter.callsSince(mark);
      const delta = diffCounts(counter.snapshot(), before);
      // The raw twin: the very items this request wrote, as fresh rows, on the same store, right after.
      const queueId = res.body.queue_id as string;
      counter.paused = true;
      const raw = await writeRaw(
        c.dynamo,
        table,
        sameItemsFresh<WriteRequests[number]>(calls, table, queueId, (call) => call.input),
        true,
      );
      // The same again through the document client: what its marshalling adds to the floor.
      const rawDoc = await writeRaw(
        c.dynamo,
        table,
        sameItemsFresh<DocWriteRequests[number]>(calls, table, queueId, (call) => call.callerInput),
        false,
      );
      counter.paused = false;
      if (!measured) continue;
      latencies.push(res.ms);
      rawTimes.push(raw);
      rawDocTimes.push(rawDoc);
      const batchCalls = calls.filter((call) => call.command === 'BatchWriteItemCommand');
      batchSpans.push(
        Math.max(...batchCalls.map((call) => call.endedAt)) -
          Math.min(...batchCalls.map((call) => call.startedAt)),
      );
      outsideWrites.push(res.ms - (batchSpans.at(-1) ?? 0));
      accepted += res.body.accepted as number;
      writes += writeRequests(delta);
      requests += sumCounts(delta);
      for (const [k, v] of Object.entries(delta)) byCommand[k] = (byCommand[k] ?? 0) + v;
    }
    if (failed) return { code: 1, apiOverRaw: Number.NaN };
    console.log(`after the run: ${machineLine()}`);

    const p50 = percentile(latencies, 50);
    const rawP50 = percentile(rawTimes, 50);
    const ratio = p50 / rawP50;
    const perContact = writes / accepted;
    printTable(`Ingest: ${MEASURED_REQUESTS} POSTs x ${BATCH} contacts (overdue), worker off`, [
      { figure: 'API latency p50', target: '', measured: `${fmt(p50, 0)} ms` },
      { figure: 'API latency p99', target: '', measured: `${fmt(percentile(latencies, 99), 0)} ms` },
      {
        figure: 'API latency mean / max',
        target: '',
        measured: `${fmt(mean(latencies), 0)} / ${fmt(Math.max(...latencies), 0)} ms`,
      },
      { figure: 'raw write of the same 1000 items p50', target: '', measured: `${fmt(rawP50, 0)} ms` },
      { figure: 'raw write p99', target: '', measured: `${fmt(percentile(rawTimes, 99), 0)} ms` },
      {
        figure: 'same items via the document client p50',
        target: '',
        measured: `${fmt(percentile(rawDocTimes, 50), 0)} ms`,
      },
      {
        figure: 'contact write phase inside the API p50',
        target: '',
        measured: `${fmt(percentile(batchSpans, 50), 0)} ms`,
      },
      {
        figure: 'API time outside the contact writes p50',
        target: '',
        measured: `${fmt(percentile(outsideWrites, 50), 0)} ms`,
      },
      // Issue 12's target (it was 1.5x).
      { figure: 'API p50 / raw p50', target: '<= 1.2x', measured: `${fmt(ratio, 2)}x`, pass: ratio <= 1.2 },
      {
        figure: 'write requests per accepted contact',
        target: '< 0.1',
        measured: `${fmt(perContact, 4)} (${writes} / ${accepted})`,
        pass: perContact < 0.1,
      },
      { figure: 'all store requests per POST', target: '', measured: fmt(requests / MEASURED_REQUESTS, 1) },
    ]);
    console.log(
      `\nstore requests per POST by command: ${Object.entries(byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k.replace(/Command$/, '')} ${fmt(v / MEASURED_REQUESTS, 1)}`)
        .join(', ')}`,
    );
    return { code: 0, apiOverRaw: ratio };
  } finally {
    await bench.close();
  }
};

runIfMain(import.meta.url, async () => (await runIngest()).code);
