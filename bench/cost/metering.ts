import { AsyncLocalStorage } from 'node:async_hooks';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { createEmfMetrics } from '../../lib/adapters/metrics/emf-metrics.ts';
import { callbackRefCodec } from '../../lib/adapters/queue/callback-ref-schema.ts';
import type { MessageCodec } from '../../lib/adapters/queue/message-codec.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import type { Container } from '../../lib/composition.ts';
import type { HttpLambdaHandler } from '../../lib/http/http-handler.ts';
import { OPERATIONS } from '../../lib/http/routes/index.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { MessageQueue } from '../../lib/ports/message-queue.ts';
import type { Metrics } from '../../lib/ports/metrics.ts';
import { requestKind } from '../request-kind.ts';
import { emptyUsage, invocationGbSeconds, type Usage } from './cost-model.ts';
import type { DeployedInfra } from './deployed-infra.ts';
import type { MeteredRequest } from './dynamodb-meter.ts';

/**
 * Counts what a run of the local stack would use on AWS, by who used it. Each Lambda invocation
 * the stack stands in for (a work item handed to the sender, a callback ref to the callback
 * sender, an HTTP request to its route's function) runs in its own async scope, so everything it
 * does lands in its function's tally: DynamoDB units (dynamodb-meter.ts), SQS requests, API
 * Gateway requests, Scheduler invocations, log bytes, and its billed duration. Work outside any
 * invocation is the local worker's background (its scheduler, callback and sweeper polls: crons
 * once a minute on AWS, a fixed monthly cost) and is kept apart.
 *
 * Time: the pump sleeps for its pacing, and Lambda bills that sleep. The meter's `sleep` skips it
 * (returns at once) and moves its `clock` forward by as much, so a run of a thousand messages at
 * the default pace takes a minute, while each invocation is billed what it would last on AWS: its
 * wall time here plus the sleep it skipped, minus the meter's own extra reads. The short functions
 * (API routes, webhook, callback sender) run one invocation at a time, so each one's wall time is
 * its own work, not a share of a crowded process.
 */

export interface KindTally {
  requests: number;
  writeUnits: number;
  readUnits: number;
}

/** One function's (or the background's) share of a run. */
export interface Tally {
  invocations: number;
  /** Billed duration in ms (wall time + skipped sleep - meter time), and as GB-s at its memory. */
  durationMs: number;
  gbSeconds: number;
  sleptMs: number;
  dynamoRequests: number;
  tableWriteUnits: number;
  indexWriteUnits: Record<string, number>;
  readUnits: number;
  conditionFailures: number;
  byKind: Record<string, KindTally>;
  sqsFifoRequests: number;
  sqsStandardRequests: number;
  apiGatewayRequests: number;
  schedulerInvocations: number;
  /** Log lines (app logs, EMF, Lambda's per-invocation lines, API access logs). */
  logBytes: number;
  /** Of which EMF. */
  emfBytes: number;
}

const emptyTally = (): Tally => ({
  invocations: 0,
  durationMs: 0,
  gbSeconds: 0,
  sleptMs: 0,
  dynamoRequests: 0,
  tableWriteUnits: 0,
  indexWriteUnits: {},
  readUnits: 0,
  conditionFailures: 0,
  byKind: {},
  sqsFifoRequests: 0,
  sqsStandardRequests: 0,
  apiGatewayRequests: 0,
  schedulerInvocations: 0,
  logBytes: 0,
  emfBytes: 0,
});

/** The one function that runs concurrently with the others: the pump, which mostly waits. */
const SENDER = 'sender';
/** Invocations of the other functions queued at most before the pump's waits slow down. */
const MAX_BACKLOG = 4;

/** The tally of work done outside any invocation: the local worker's polls. */
export const BACKGROUND = 'local background polls (crons on AWS)';
/** The local stand-ins for AWS services (the store-backed scheduler writes the table; AWS's does not). */
const standInBucket = (name: string) => `local stand-in: ${name}`;
export const isStandIn = (bucket: string): boolean => bucket.startsWith('local stand-in: ');

interface Invocation {
  memoryMb: number;
  /** Pacing waits asked for (ms), and the part of them skipped (not waited here). */
  sleptMs: number;
  skippedMs: number;
  /** Wall time while at least one of the meter's own reads was running (ms). */
  meterMs: number;
  ownReads: number;
  ownReadsSince: number;
  /** Its own EMF buffer, as a Lambda container has while it runs one invocation. */
  metrics: Metrics;
}

interface Scope {
  bucket: string;
  invocation: Invocation | undefined;
}

const KIB = 1024;
const SQS_CHUNK = 64 * KIB;
const API_CHUNK = 512 * KIB;

/**
 * What Lambda itself writes to the function's log group per invocation in the JSON log format
 * (infra/runtime.ts): a `platform.start` and a `platform.report` record. Samples, not measured:
 * the bench cannot see them.
 */
const PLATFORM_LOG_BYTES =
  JSON.stringify({
    time: '2025-01-01T00:00:00.000Z',
    type: 'platform.start',
    record: { requestId: '00000000-0000-0000-0000-000000000000', version: '$LATEST' },
  }).length +
  JSON.stringify({
    time: '2025-01-01T00:00:00.000Z',
    type: 'platform.report',
    record: {
      requestId: '00000000-0000-0000-0000-000000000000',
      metrics: { durationMs: 1234.56, billedDurationMs: 1235, memorySizeMB: 256, maxMemoryUsedMB: 98 },
      status: 'success',
    },
  }).length +
  2;

/** Sample values of the access log's `$context` variables (an HTTP API request id has 16 characters). */
const accessLogLine = (format: string, routeKey: string, status: number, latencyMs: number): string =>
  format.replace(/\$context\.(\w+)/g, (_, name: string) =>
    name === 'requestId'
      ? 'Jqtc5gH4IAMEVVQ='
      : name === 'requestTime'
        ? '05/Jan/2025:14:03:11 +0000'
        : name === 'routeKey'
          ? routeKey
          : name === 'status'
            ? String(status)
            : name === 'responseLatency'
              ? String(Math.round(latencyMs))
              : '-',
  );

/** Every method of the Metrics port (a method added there must be added here: the type says so). */
const METRIC_METHODS: Record<keyof Metrics, true> = {
  messageSent: true,
  messageDelivered: true,
  messageRead: true,
  replyReceived: true,
  deliveryStalled: true,
  queueStatusChanged: true,
  webhookIgnored: true,
  dependencyFailed: true,
  sendRate: true,
  flush: true,
};

/** The route (and function) of an HTTP API route key (`POST /api/v1/billing/send/overdue`). */
const routeOf = (routeKey: string): string => {
  const [method, path = ''] = routeKey.split(' ');
  const canonical = path.length > 1 ? path.replace(/\/$/, '') : path;
  const operation = OPERATIONS.find((op) => op.method === method && op.path === canonical);
  if (!operation) throw new Error(`cost meter: no route serves ${routeKey}`);
  return operation.route;
};

export class CostMeter {
  readonly #scope = new AsyncLocalStorage<Scope>();
  #tallies = new Map<string, Tally>();
  #skippedMs = 0;
  readonly #infra: DeployedInfra;
  readonly #background: Metrics;
  /** Every custom metric seen in EMF (namespace, name, dimension values): billed monthly. */
  readonly #customMetrics = new Set<string>();
  #inFlight = 0;

  constructor(infra: DeployedInfra) {
    this.#infra = infra;
    this.#background = createEmfMetrics({ serviceName: 'billing', clock: this.clock });
  }

  /** Real time plus every sleep skipped so far. */
  readonly clock: Clock = { now: () => new Date(Date.now() + this.#skippedMs) };

  /**
   * Skips the wait: the clock moves on by `ms` and the running invocation is billed it. It waits for
   * real only while the other functions' invocations queue up (see `invoke`), so the pump does not
   * outrun what its sends set off; the part waited is in the wall time, the rest is skipped.
   */
  readonly sleep = async (ms: number): Promise<void> => {
    const wait = Math.max(0, ms);
    const started = performance.now();
    while (this.#backlog() > MAX_BACKLOG && performance.now() - started < wait)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
    const skipped = Math.max(0, wait - (performance.now() - started));
    this.#skippedMs += skipped;
    const invocation = this.#scope.getStore()?.invocation;
    if (invocation) {
      invocation.sleptMs += wait;
      invocation.skippedMs += skipped;
    }
  };

  /**
   * One invocation at a time for every function but the sender: in AWS each runs on its own share
   * of a CPU, here they would share this process's and each one's wall time would grow with the
   * crowd. Waiting for the turn is not billed (it stands for the time before Lambda invokes).
   */
  #turnTaken = false;
  readonly #turns: Array<() => void> = [];

  #backlog(): number {
    return this.#turns.length + (this.#turnTaken ? 1 : 0);
  }

  async #takeTurn(): Promise<void> {
    if (!this.#turnTaken) {
      this.#turnTaken = true;
      return;
    }
    await new Promise<void>((resolve) => this.#turns.push(resolve));
  }

  #passTurn(): void {
    const next = this.#turns.shift();
    if (next) next();
    else this.#turnTaken = false;
  }

  /** The meter's own reads of the running invocation (dynamodb-meter.ts): their wall time is not billed. */
  readonly ownRead = (phase: 'start' | 'end'): void => {
    const invocation = this.#scope.getStore()?.invocation;
    if (!invocation) return;
    if (phase === 'start') {
      if (invocation.ownReads === 0) invocation.ownReadsSince = performance.now();
      invocation.ownReads += 1;
    } else {
      invocation.ownReads -= 1;
      if (invocation.ownReads === 0) invocation.meterMs += performance.now() - invocation.ownReadsSince;
    }
  };

  /** Metrics as CloudWatch EMF, buffered per invocation (as each Lambda container buffers its own). */
  readonly metrics: Metrics = Object.fromEntries(
    (Object.keys(METRIC_METHODS) as Array<keyof Metrics>).map((name) => [
      name,
      (...args: unknown[]) => {
        const target = this.#scope.getStore()?.invocation?.metrics ?? this.#background;
        return (target[name] as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as Metrics;

  #tally(bucket: string): Tally {
    let tally = this.#tallies.get(bucket);
    if (!tally) {
      tally = emptyTally();
      this.#tallies.set(bucket, tally);
    }
    return tally;
  }

  #current(): Tally {
    return this.#tally(this.#scope.getStore()?.bucket ?? BACKGROUND);
  }

  /** Runs `work` as one invocation of the Lambda function `fn` (its memory from infra/). */
  async invoke<T>(fn: string, work: () => Promise<T>): Promise<T> {
    const invocation: Invocation = {
      memoryMb: this.#infra.memoryMb(fn),
      sleptMs: 0,
      skippedMs: 0,
      meterMs: 0,
      ownReads: 0,
      ownReadsSince: 0,
      metrics: createEmfMetrics({ serviceName: 'billing', clock: this.clock }),
    };
    const serial = fn !== SENDER;
    this.#inFlight += 1;
    if (serial) await this.#takeTurn();
    const started = performance.now();
    try {
      return await this.#scope.run({ bucket: fn, invocation }, async () => {
        try {
          return await work();
        } finally {
          // What the handler left unflushed goes out now, in this invocation's logs.
          await invocation.metrics.flush();
        }
      });
    } finally {
      if (serial) this.#passTurn();
      this.#inFlight -= 1;
      const durationMs = performance.now() - started - invocation.meterMs + invocation.skippedMs;
      const tally = this.#tally(fn);
      tally.invocations += 1;
      tally.durationMs += Math.ceil(durationMs);
      tally.sleptMs += invocation.sleptMs;
      tally.gbSeconds += invocationGbSeconds(durationMs, invocation.memoryMb);
      tally.logBytes += PLATFORM_LOG_BYTES;
    }
  }

  /** Runs `work` (inside an invocation) as a local stand-in for an AWS service: what it does to the table is its own. */
  standIn<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.#scope.run(
      { bucket: standInBucket(name), invocation: this.#scope.getStore()?.invocation },
      work,
    );
  }

  /** The DynamoDB meter's report of one request (dynamodb-meter.ts). */
  readonly dynamoRequest = (request: MeteredRequest): void => {
    const tally = this.#current();
    const indexUnits = Object.values(request.indexWriteUnits).reduce((n, u) => n + u, 0);
    tally.dynamoRequests += 1;
    tally.tableWriteUnits += request.tableWriteUnits;
    for (const [name, units] of Object.entries(request.indexWriteUnits))
      tally.indexWriteUnits[name] = (tally.indexWriteUnits[name] ?? 0) + units;
    tally.readUnits += request.readUnits;
    if (request.conditionFailed) tally.conditionFailures += 1;
    const kind = `${requestKind(request.command, request.input)}${request.conditionFailed ? ' (condition failed)' : ''}`;
    const byKind = tally.byKind[kind] ?? { requests: 0, writeUnits: 0, readUnits: 0 };
    byKind.requests += 1;
    byKind.writeUnits += request.tableWriteUnits + indexUnits;
    byKind.readUnits += request.readUnits;
    tally.byKind[kind] = byKind;
  };

  /** One SQS request carrying `bytes` of payload (billed per 64 KB chunk). */
  sqsRequest(queue: 'fifo' | 'standard', bytes = 0): void {
    const chunks = Math.max(1, Math.ceil(bytes / SQS_CHUNK));
    const tally = this.#current();
    if (queue === 'fifo') tally.sqsFifoRequests += chunks;
    else tally.sqsStandardRequests += chunks;
  }

  /**
   * The container's queues and scheduler, counted in place (the objects the use cases already hold):
   * each publish is a SendMessage; each delivery is one invocation of the consuming function, with
   * the receive and (on success) the delete Lambda's event source mapping makes for it; each
   * schedule is one Scheduler invocation, its table writes the local stand-in's.
   */
  instrument(c: Container): void {
    this.#instrumentQueue(c.workQueue, workItemCodec, 'fifo', 'sender');
    this.#instrumentQueue(c.callbackQueue, callbackRefCodec, 'standard', 'callback-sender');
    const scheduler = c.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    scheduler.schedule = (...args) => {
      this.#current().schedulerInvocations += 1;
      return this.standIn('scheduler', () => schedule(...args));
    };
    scheduler.cancel = (...args) => this.standIn('scheduler', () => cancel(...args));
  }

  #instrumentQueue<T>(
    queue: MessageQueue<T>,
    codec: MessageCodec<T>,
    kind: 'fifo' | 'standard',
    consumer: string,
  ): void {
    const publish = queue.publish.bind(queue);
    const consume = queue.consume.bind(queue);
    queue.publish = (item) => {
      this.sqsRequest(kind, Buffer.byteLength(codec.encode(item)));
      return publish(item);
    };
    queue.consume = (handler, options) =>
      consume(
        (delivery) =>
          this.invoke(consumer, async () => {
            this.sqsRequest(kind);
            await handler(delivery);
            this.sqsRequest(kind);
          }),
        options,
      );
  }

  /**
   * An HTTP handler as API Gateway and its route's function run it: one API request (per 512 KB
   * of body), one invocation, and an access log line.
   */
  httpHandler(handler: HttpLambdaHandler): HttpLambdaHandler {
    return async (event: APIGatewayProxyEventV2, context) => {
      const fn = routeOf(event.routeKey);
      const started = performance.now();
      let status = 500;
      try {
        const result = (await this.invoke(fn, async () => {
          const bytes = event.body
            ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').length
            : 0;
          this.#tally(fn).apiGatewayRequests += Math.max(1, Math.ceil(bytes / API_CHUNK));
          return handler(event, context);
        })) as APIGatewayProxyResultV2 & { statusCode?: number };
        status = result.statusCode ?? 200;
        return result;
      } finally {
        const line = accessLogLine(
          this.#infra.accessLogFormat,
          event.routeKey,
          status,
          performance.now() - started,
        );
        this.#tally(fn).logBytes += Buffer.byteLength(line) + 1;
      }
    };
  }

  /**
   * Takes over stdout and stderr (Lambda ships both to CloudWatch Logs): what an invocation writes
   * is counted as its log bytes and not printed, JSON lines outside any (the background's logs) as
   * the background's; anything else (the bench's own output) goes through. Returns the restore.
   */
  captureOutput(): () => void {
    const restores = [process.stdout, process.stderr].map((stream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        const scope = this.#scope.getStore();
        if (!scope && !text.trimStart().startsWith('{'))
          return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
        const tally = this.#tally(scope?.bucket ?? BACKGROUND);
        const bytes = Buffer.byteLength(text);
        tally.logBytes += bytes;
        if (text.includes('"_aws"')) {
          tally.emfBytes += bytes;
          this.#noteCustomMetrics(text);
        }
        const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as typeof stream.write;
      return () => {
        stream.write = original;
      };
    });
    return () => {
      for (const restore of restores) restore();
    };
  }

  #noteCustomMetrics(text: string): void {
    for (const line of text.split('\n')) {
      if (!line.includes('"_aws"')) continue;
      try {
        const record = JSON.parse(line) as {
          _aws: {
            CloudWatchMetrics: Array<{
              Namespace: string;
              Dimensions: string[][];
              Metrics: Array<{ Name: string }>;
            }>;
          };
          [key: string]: unknown;
        };
        for (const directive of record._aws.CloudWatchMetrics) {
          for (const set of directive.Dimensions) {
            const dimensions = set.map((d) => `${d}=${String(record[d])}`).join(',');
            for (const metric of directive.Metrics)
              this.#customMetrics.add(`${directive.Namespace}|${metric.Name}|${dimensions}`);
          }
        }
      } catch {
        // A partial line: counted as bytes only.
      }
    }
  }

  /** Invocations running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Custom metrics seen so far (each is billed every month it receives data). */
  get customMetrics(): number {
    return this.#customMetrics.size;
  }

  /** Starts a new count (the clock keeps its offset). */
  reset(): void {
    this.#tallies = new Map();
  }

  /** Every tally so far, by function (or background / stand-in). */
  tallies(): Map<string, Tally> {
    return new Map([...this.#tallies].map(([k, v]) => [k, structuredClone(v)]));
  }
}

/** What the functions (not the background, not the local stand-ins) used, for the cost model. */
export const usageOf = (tallies: Map<string, Tally>): Usage => {
  const usage = emptyUsage();
  for (const [bucket, t] of tallies) {
    if (bucket === BACKGROUND || isStandIn(bucket)) continue;
    if (t.invocations > 0) usage.lambda[bucket] = { invocations: t.invocations, gbSeconds: t.gbSeconds };
    usage.dynamoTableWriteUnits += t.tableWriteUnits;
    usage.dynamoIndexWriteUnits += Object.values(t.indexWriteUnits).reduce((n, u) => n + u, 0);
    usage.dynamoReadUnits += t.readUnits;
    usage.sqsFifoRequests += t.sqsFifoRequests;
    usage.sqsStandardRequests += t.sqsStandardRequests;
    usage.apiGatewayRequests += t.apiGatewayRequests;
    usage.schedulerInvocations += t.schedulerInvocations;
    usage.logBytes += t.logBytes;
  }
  return usage;
};
