import { AsyncLocalStorage } from 'node:async_hooks';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { createEmfMetrics } from '../../lib/adapters/metrics/emf-metrics.ts';
import { callbackRefCodec } from '../../lib/adapters/queue/callback-ref-schema.ts';
import type { MessageCodec } from '../../lib/adapters/queue/message-codec.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import type { Container } from '../../lib/composition.ts';
import type { HttpLambdaHandler } from '../../lib/http/http-handler.ts';
import { OPERATIONS } from '../../lib/http/routes/index.ts';
import type { CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { MessageDelivery, MessageQueue } from '../../lib/ports/message-queue.ts';
import type { Metrics } from '../../lib/ports/metrics.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
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
 * Time: the pumps sleep for their pacing, and Lambda bills that sleep. The meter's `clock` is real
 * time plus an offset, and its `sleep` does not wait the idle time out: when every pump running is
 * asleep, the clock jumps to the earliest wake-up (a discrete-event clock). So a run of a thousand
 * messages at the default pace takes a minute here, the pumps' waits overlap as they do on AWS
 * (ten pumps sleeping 3 s move the clock 3 s, not 30), and everything shares one time line (the
 * leases, the simulator's receipts). A sender invocation is billed its elapsed time on that clock:
 * for a batch of several FIFO groups, the longest group's time line, not the sum of the groups
 * (minus the meter's own extra reads that delayed its end). While the other functions' invocations
 * queue up here, the clock stands still instead (see `#settle`). The other functions are billed
 * their real wall time (minus the meter's reads); they run one invocation at a time, so each one's
 * wall time is its own work, not a share of a crowded process.
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
  /**
   * Sender batches: FIFO groups run (summed over invocations), and the sum of their own time lines
   * (ms from each group's first record starting to its last ending). With one group per invocation
   * the sum is about the billed duration; with ten at once, about ten times it.
   */
  groups: number;
  groupMs: number;
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
  groups: 0,
  groupMs: 0,
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
/** The callbacks queue's consumer (functions/callback-sender.ts). */
const CALLBACK_SENDER = 'callback-sender';
/** Invocations of the other functions queued at most before the clock stands still for the pumps. */
const MAX_BACKLOG = 4;

/** The tally of work done outside any invocation: the local worker's polls. */
export const BACKGROUND = 'local background polls (crons on AWS)';
/** The local stand-ins for AWS services (the store-backed scheduler writes the table; AWS's does not). */
const standInBucket = (name: string) => `local stand-in: ${name}`;
export const isStandIn = (bucket: string): boolean => bucket.startsWith('local stand-in: ');

/** Wall time while at least one of the meter's own reads was running. */
interface MeterTime {
  meterMs: number;
  ownReads: number;
  ownReadsSince: number;
}

/** One FIFO group of a sender batch: its records run one after another, each by a pump. */
interface Group extends MeterTime {
  /** On the meter's virtual time line (ms): its first record's start, its last record's end. */
  startedAt: number;
  endedAt: number;
  /**
   * The meter's reads since the group's last wait ended (ms). Those before it were taken out of
   * its waits: the pacer starts the work before a send as early as that work took, so the send
   * slots, and the group's end, do not move with them. Only the ones after its last wait delay it.
   */
  tailMeterMs: number;
}

interface Invocation extends MeterTime {
  memoryMb: number;
  /** Pacing waits asked for (ms), and the part of them skipped (not waited here). */
  sleptMs: number;
  skippedMs: number;
  /** The sender's FIFO groups in this invocation (empty for the other functions). */
  groups: Map<string, Group>;
  /** Its own EMF buffer, as a Lambda container has while it runs one invocation. */
  metrics: Metrics;
}

interface Scope {
  bucket: string;
  invocation: Invocation | undefined;
  /** Inside a sender batch: the group whose record this pump runs. */
  group?: Group;
}

/** A sleep not over yet: when it ends on the virtual time line, and whether a pump sleeps it. */
interface Sleeper {
  wakeAt: number;
  pump: boolean;
  wake: () => void;
}

/**
 * How a local queue's deliveries reach their consumer as Lambda's event source mapping hands them
 * over: in batches of up to `size` records. Deliveries that arrive within `windowMs` of a batch's
 * first one join it; `run` invokes the consumer with them and answers the message ids that failed
 * (partial batch response). The sender's window is real time (FIFO mappings have no batching window:
 * it only gathers the records that arrive together); the callback sender's is its mapping's
 * `maximumBatchingWindowInSeconds`, on the meter's virtual clock, so a batch gathers what a window
 * gathers on AWS's time line, not on this run's faster one.
 */
export interface ConsumerBatching<T> {
  size: number;
  windowMs: number;
  /** Deliveries the local consumer holds at once (the mapping's batches in flight x their size). */
  concurrency: number;
  run(deliveries: MessageDelivery<T>[]): Promise<ReadonlySet<string>>;
}

const beginMeterTime = (t: MeterTime): void => {
  if (t.ownReads === 0) t.ownReadsSince = performance.now();
  t.ownReads += 1;
};

const endMeterTime = (t: MeterTime & { tailMeterMs?: number }): void => {
  t.ownReads -= 1;
  if (t.ownReads !== 0) return;
  const ms = performance.now() - t.ownReadsSince;
  t.meterMs += ms;
  if (t.tailMeterMs !== undefined) t.tailMeterMs += ms;
};

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
  /** What the clock has jumped so far, less its stops: the virtual time line is real time plus this. */
  #skippedMs = 0;
  /** Set while the clock stands still (see `#settle`): the real time it stopped at. */
  #stoppedAt: { mono: number; wall: number } | undefined;
  /** Pumps running (one per sender record being run), and of them the ones asleep. */
  #pumps = 0;
  #pumpsAsleep = 0;
  #sleepers: Sleeper[] = [];
  #settleQueued = false;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #infra: DeployedInfra;
  readonly #background: Metrics;
  /** Every custom metric seen in EMF (namespace, name, dimension values): billed monthly. */
  readonly #customMetrics = new Set<string>();
  #inFlight = 0;

  constructor(infra: DeployedInfra) {
    this.#infra = infra;
    this.#background = createEmfMetrics({ serviceName: 'billing', clock: this.clock });
  }

  /** Real time plus every jump so far. */
  readonly clock: Clock = {
    now: () => new Date((this.#stoppedAt?.wall ?? Date.now()) + this.#skippedMs),
  };

  /** The virtual time line, sub-millisecond, for durations. */
  #virtualMs(): number {
    return (this.#stoppedAt?.mono ?? performance.now()) + this.#skippedMs;
  }

  #stopClock(): void {
    this.#stoppedAt ??= { mono: performance.now(), wall: Date.now() };
  }

  /** The clock goes on from where it stood: the real time it stood still is taken off the offset. */
  #startClock(): void {
    if (!this.#stoppedAt) return;
    this.#skippedMs -= performance.now() - this.#stoppedAt.mono;
    this.#stoppedAt = undefined;
  }

  /**
   * Returns when the virtual clock has moved on by `ms`. The wait is not waited out for real: once
   * every pump running is asleep (and the other functions' invocations are not queueing up, see
   * `#settle`), the clock jumps to the earliest wake-up. While a pump works, time runs for real and
   * the sleepers wake on time. The running invocation counts the wait as asked for (`sleptMs`);
   * outside the sender, the part not waited for real is added to its billed time (`skippedMs`).
   */
  readonly sleep = async (ms: number): Promise<void> => {
    const wait = Math.max(0, ms);
    const scope = this.#scope.getStore();
    const pump = scope?.group !== undefined;
    const wakeAt = this.#virtualMs() + wait;
    const started = performance.now();
    if (scope?.invocation) scope.invocation.sleptMs += wait;
    await new Promise<void>((wake) => {
      this.#sleepers.push({ wakeAt, pump, wake });
      if (pump) this.#pumpsAsleep += 1;
      this.#queueSettle();
    });
    if (scope?.invocation && !pump)
      scope.invocation.skippedMs += Math.max(0, wait - (performance.now() - started));
    if (scope?.group) scope.group.tailMeterMs = 0;
  };

  /** Settles the sleepers soon, after pending I/O had its turn. */
  #queueSettle(): void {
    if (this.#settleQueued) return;
    this.#settleQueued = true;
    setImmediate(() => {
      this.#settleQueued = false;
      this.#settle();
    });
  }

  /**
   * Jumps the clock if every pump sleeps, wakes whoever is due, and looks again when the next is due.
   * While more than MAX_BACKLOG invocations of the other functions queue up (they run one at a time
   * here, in parallel on AWS) and every pump sleeps, the clock stands still: the pumps wait for the
   * receipts and callbacks their sends set off, without that wait being billed or dating anything.
   */
  #settle(): void {
    clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    const allAsleep = this.#pumpsAsleep >= this.#pumps;
    const crowded = this.#backlog() > MAX_BACKLOG;
    if (this.#pumps > 0 && allAsleep && crowded) this.#stopClock();
    else this.#startClock();
    if (this.#sleepers.length === 0) return;
    let now = this.#virtualMs();
    const earliest = Math.min(...this.#sleepers.map((s) => s.wakeAt));
    if (allAsleep && !crowded && earliest > now) {
      this.#skippedMs += earliest - now;
      now = earliest;
    }
    const due = this.#sleepers.filter((s) => s.wakeAt <= now);
    this.#sleepers = this.#sleepers.filter((s) => s.wakeAt > now);
    for (const sleeper of due) {
      if (sleeper.pump) this.#pumpsAsleep -= 1;
      sleeper.wake();
    }
    if (this.#sleepers.length > 0) {
      const next = Math.min(...this.#sleepers.map((s) => s.wakeAt));
      const realMs = this.#stoppedAt ? 20 : Math.min(50, Math.max(1, next - now));
      this.#settleTimer = setTimeout(() => this.#settle(), realMs);
    }
  }

  /**
   * Runs `work` (one SQS record of a sender batch) as a pump of FIFO group `groupId` in the running
   * invocation: while it runs, the clock jumps only when it sleeps too. Its time line is the
   * group's (lib/lambda/sender-handler.ts `aroundRecord`).
   */
  async pump<T>(groupId: string, work: () => Promise<T>): Promise<T> {
    const scope = this.#scope.getStore();
    const invocation = scope?.invocation;
    if (!scope || !invocation) throw new Error('cost meter: a pump runs inside an invocation');
    // A pump at work: the clock runs.
    this.#startClock();
    let group = invocation.groups.get(groupId);
    if (!group) {
      const now = this.#virtualMs();
      group = { startedAt: now, endedAt: now, meterMs: 0, tailMeterMs: 0, ownReads: 0, ownReadsSince: 0 };
      invocation.groups.set(groupId, group);
    }
    this.#pumps += 1;
    try {
      return await this.#scope.run({ ...scope, group }, work);
    } finally {
      this.#pumps -= 1;
      group.endedAt = this.#virtualMs();
      // The others may all be asleep now.
      this.#queueSettle();
    }
  }

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
    // The backlog shrank: the pumps' clock may move again.
    this.#queueSettle();
  }

  /** The meter's own reads of the running invocation (dynamodb-meter.ts): their wall time is not billed. */
  readonly ownRead = (phase: 'start' | 'end'): void => {
    const scope = this.#scope.getStore();
    if (!scope?.invocation) return;
    for (const t of scope.group ? [scope.invocation, scope.group] : [scope.invocation])
      if (phase === 'start') beginMeterTime(t);
      else endMeterTime(t);
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
      groups: new Map(),
      metrics: createEmfMetrics({ serviceName: 'billing', clock: this.clock }),
    };
    const serial = fn !== SENDER;
    this.#inFlight += 1;
    if (serial) await this.#takeTurn();
    const started = performance.now();
    const startedVirtual = this.#virtualMs();
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
      const durationMs = this.#billedMs(invocation, performance.now() - started, startedVirtual);
      const tally = this.#tally(fn);
      tally.invocations += 1;
      tally.durationMs += Math.ceil(durationMs);
      tally.sleptMs += invocation.sleptMs;
      tally.groups += invocation.groups.size;
      for (const group of invocation.groups.values()) tally.groupMs += group.endedAt - group.startedAt;
      tally.gbSeconds += invocationGbSeconds(durationMs, invocation.memoryMb);
      tally.logBytes += PLATFORM_LOG_BYTES;
    }
  }

  /**
   * An invocation's billed duration. A sender batch's pumps ran at once on the shared virtual time
   * line: it lasted from its start to its end on it, that is the longest group's time line (not the
   * sum of the groups), less the meter's own reads that delayed the end (those of the group that
   * ended last, after its last wait). The other functions: real wall time less the meter's reads,
   * plus any wait they skipped.
   */
  #billedMs(invocation: Invocation, realMs: number, startedVirtual: number): number {
    if (invocation.groups.size === 0) return realMs - invocation.meterMs + invocation.skippedMs;
    const last = [...invocation.groups.values()].reduce((a, b) => (b.endedAt > a.endedAt ? b : a));
    return Math.max(0, this.#virtualMs() - startedVirtual - last.tailMeterMs);
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
   * each publish is a SendMessage; each delivery (or batch of them, with a `ConsumerBatching`) is one
   * invocation of the consuming function, with the receives and the delete Lambda's event source
   * mapping makes for it; each schedule is one Scheduler invocation, its table writes the local
   * stand-in's.
   */
  instrument(
    c: Container,
    senderBatching?: ConsumerBatching<WorkItem>,
    callbackBatching?: ConsumerBatching<CallbackRef>,
  ): void {
    if (senderBatching)
      this.#batchDeliveries(c.workQueue, workItemCodec, 'fifo', SENDER, senderBatching, {
        window: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        // One ReceiveMessage brings a batch: the records of a FIFO batch are there together.
        receives: () => 1,
      });
    else this.#instrumentQueue(c.workQueue, workItemCodec, 'fifo', SENDER);
    if (callbackBatching)
      this.#batchDeliveries(
        c.callbackQueue,
        callbackRefCodec,
        'standard',
        CALLBACK_SENDER,
        callbackBatching,
        {
          window: this.sleep,
          // A long poll returns as soon as a message is there, so events that trickle in (tens a second
          // at most here, spread over Lambda's pollers) come about one a receive while the window
          // gathers them: one ReceiveMessage per record, an upper bound that holds at these rates.
          receives: (records) => records,
        },
      );
    else this.#instrumentQueue(c.callbackQueue, callbackRefCodec, 'standard', CALLBACK_SENDER);
    const scheduler = c.scheduler;
    const schedule = scheduler.schedule.bind(scheduler);
    const cancel = scheduler.cancel.bind(scheduler);
    scheduler.schedule = (...args) => {
      this.#current().schedulerInvocations += 1;
      return this.standIn('scheduler', () => schedule(...args));
    };
    scheduler.cancel = (...args) => this.standIn('scheduler', () => cancel(...args));
  }

  /** Each publish is one SendMessage of the encoded item's size. */
  #meterPublishes<T>(queue: MessageQueue<T>, codec: MessageCodec<T>, kind: 'fifo' | 'standard'): void {
    const publish = queue.publish.bind(queue);
    queue.publish = (item) => {
      this.sqsRequest(kind, Buffer.byteLength(codec.encode(item)));
      return publish(item);
    };
  }

  #instrumentQueue<T>(
    queue: MessageQueue<T>,
    codec: MessageCodec<T>,
    kind: 'fifo' | 'standard',
    consumer: string,
  ): void {
    this.#meterPublishes(queue, codec, kind);
    const consume = queue.consume.bind(queue);
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
   * A queue as its consumer's event source mapping consumes it: the local consumer's deliveries
   * (whatever handler it was given) are gathered into batches and each batch is one invocation of
   * `fn` (`batching.run`), with `receives(records)` ReceiveMessage requests and, when a record
   * succeeded, one DeleteMessageBatch. Each delivery is settled when its batch's invocation ends, as
   * a record stays in flight (on FIFO, holding its group) until then; a failed record is returned.
   */
  #batchDeliveries<T>(
    queue: MessageQueue<T>,
    codec: MessageCodec<T>,
    kind: 'fifo' | 'standard',
    fn: string,
    batching: ConsumerBatching<T>,
    model: { window: (ms: number) => Promise<void>; receives: (records: number) => number },
  ): void {
    this.#meterPublishes(queue, codec, kind);
    const consume = queue.consume.bind(queue);
    queue.consume = (_handler, options) => {
      type Held = { delivery: MessageDelivery<T>; done: () => void; fail: (e: Error) => void };
      let open: Held[] = [];
      /** The window of the batch being gathered (closing it twice is harmless: it is emptied). */
      let windowOpen = false;
      const close = () => {
        windowOpen = false;
        const batch = open;
        open = [];
        if (batch.length === 0) return;
        const deliveries = batch.map((held) => held.delivery);
        this.invoke(fn, async () => {
          // Each receive is billed per 64 KB chunk of what it brought.
          const bytes = deliveries.map((d) => Buffer.byteLength(codec.encode(d.item)));
          const receives = model.receives(deliveries.length);
          const perReceive = bytes.reduce((n, b) => n + b, 0) / receives;
          for (let i = 0; i < receives; i++) this.sqsRequest(kind, perReceive);
          const failed = await batching.run(deliveries);
          if (failed.size < deliveries.length) this.sqsRequest(kind);
          return failed;
        }).then(
          (failed) => {
            for (const held of batch)
              if (failed.has(held.delivery.messageId))
                held.fail(new Error(`${fn} failed record ${held.delivery.messageId}`));
              else held.done();
          },
          (error: unknown) => {
            for (const held of batch) held.fail(error as Error);
          },
        );
      };
      return consume(
        (delivery) =>
          new Promise<void>((done, fail) => {
            open.push({ delivery, done, fail });
            if (open.length >= batching.size) close();
            else if (!windowOpen) {
              windowOpen = true;
              const gathering = open;
              void model.window(batching.windowMs).then(() => {
                // Still the same batch: it was not closed full in the meantime.
                if (open === gathering) close();
              });
            }
          }),
        { ...options, concurrency: Math.max(options.concurrency, batching.concurrency) },
      );
    };
  }

  /**
   * An HTTP handler as API Gateway and its route's function run it: one API request (per 512 KB
   * of body), one invocation, and an access log line. A route whose function has a function URL in
   * infra/ (the Evolution webhook, which `instance webhook` points there) is reached through it
   * instead: the invocation only (a function URL has no per-request charge and no access log).
   */
  httpHandler(handler: HttpLambdaHandler): HttpLambdaHandler {
    return async (event: APIGatewayProxyEventV2, context) => {
      const fn = routeOf(event.routeKey);
      const viaFunctionUrl = this.#infra.functionUrls.has(fn);
      const started = performance.now();
      let status = 500;
      try {
        const result = (await this.invoke(fn, async () => {
          const bytes = event.body
            ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').length
            : 0;
          if (!viaFunctionUrl)
            this.#tally(fn).apiGatewayRequests += Math.max(1, Math.ceil(bytes / API_CHUNK));
          return handler(event, context);
        })) as APIGatewayProxyResultV2 & { statusCode?: number };
        status = result.statusCode ?? 200;
        return result;
      } finally {
        if (!viaFunctionUrl) this.#logAccess(fn, event.routeKey, status, performance.now() - started);
      }
    };
  }

  /** The API stage's access log line of one request (infra/api.ts ACCESS_LOG_FORMAT). */
  #logAccess(fn: string, routeKey: string, status: number, latencyMs: number): void {
    const line = accessLogLine(this.#infra.accessLogFormat, routeKey, status, latencyMs);
    this.#tally(fn).logBytes += Buffer.byteLength(line) + 1;
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

  /**
   * Moves the virtual clock on by `ms` at once, between scenarios (a month's quiet for the crons):
   * nothing may be running on it.
   */
  advance(ms: number): void {
    if (this.#pumps > 0 || this.#sleepers.length > 0) throw new Error('CostMeter.advance: pumps are running');
    this.#skippedMs += ms;
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
