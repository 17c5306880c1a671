import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECEIPT_RECOUNT_QUIET_MS } from '../../lib/app/receipt-recount.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { checkBroker, deleteBrokerQueues } from './broker-queues.ts';
import { type CallbackReceiver, startCallbackReceiver } from './callback-receiver.ts';
import type { ChildProgram } from './child-program.ts';
import { createErpClient, type ErpAnswer, type ErpBatch } from './erp-client.ts';
import { freePort } from './free-port.ts';
import { createRandom } from './random.ts';
import {
  FINAL_QUEUE_STATUSES,
  gatewaySends,
  listContacts,
  type QueueStatus,
  queueStatus,
  SENDABLE_CONTACT_STATUSES,
} from './service-reads.ts';
import { SIMULATOR_API_KEY, startSimulatorProcess } from './simulator-process.ts';
import { runAdmin, STACK_TIMINGS, stackEnvironment, startStackProcess } from './stack-process.ts';
import { startStoreProcess } from './store-process.ts';
import type { StoreProxy } from './store-proxy.ts';
import {
  type CallbackTally,
  CHAOS_CALLBACK_EVENTS,
  CHAOS_RECEIPT_EVENTS,
  type CounterDrift,
  describeFinding,
  describeMissingCallback,
  digitsOf,
  type ReportedContact,
  type Tally,
  tallyCallbacks,
  tallyCounters,
  tallyRun,
} from './tally.ts';

export type ChaosDriver = 'sqs' | 'rabbitmq';
export type KillPhase = 'accepting' | 'sending';

/** A difference with its sign (`+0`, `-2`). */
const signed = (n: number): string => (n < 0 ? String(n) : `+${n}`);
/** What the run does to the stack next: a kill in one of its phases, or a fault of its store. */
export type StoreFault = 'store outage' | 'store hang' | 'counters throttle';
export type ChaosEvent = KillPhase | StoreFault;

export interface ChaosOptions {
  driver: ChaosDriver;
  kills: number;
  seed: number;
  /** Contacts per ERP batch. */
  batchSize: number;
  /** The demo tenant's pace during the run. */
  messagesPerMinute: number;
  /** Extra time the simulator takes for every call, so a kill can land inside a send. */
  gatewayLatencyMs: number;
  amqpUrl: string;
  /**
   * The tenant's policy for a send whose outcome a kill made unknown. `retry` resends it, so a
   * kill inside a send makes a duplicate: a way to see chaos catch one.
   */
  ambiguousSendPolicy: 'mark_unknown' | 'retry';
  /**
   * The gateway acknowledges every send (SERVER_ACK, DELIVERY_ACK, READ) through the stack's webhook,
   * set as an operator sets it (`admin instance webhook`), and the batches ask for the `delivered`
   * and `read` callbacks too: receipts go through the kills as well.
   */
  receipts: boolean;
  /**
   * Times the stack loses its store (DynamoDB unreachable: connections refused and dropped) for
   * STORE_OUTAGE_MIN_MS to STORE_OUTAGE_MAX_MS while it sends, between the kills. The store then
   * runs in a program of its own behind a proxy the run cuts (store-proxy.ts).
   */
  storeOutages: number;
  /**
   * Times the store takes the stack's requests and does not answer them (store-proxy.ts, `hold`)
   * for STORE_OUTAGE_MIN_MS to STORE_OUTAGE_MAX_MS while it sends: every write still takes effect,
   * its answer is lost or late, and the SDK retries a write that has already happened.
   */
  storeHangs: number;
  /**
   * Times DynamoDB throttles the queues' counters items (a hot item: store-proxy.ts, `throttle`)
   * for STORE_OUTAGE_MIN_MS to STORE_OUTAGE_MAX_MS while it sends: every other request goes
   * through, so a receipt's contact write lands and its counters write fails past the SDK's
   * retries, which the receipt recount has to make right.
   */
  counterThrottles: number;
  /** Keep the data dir and logs even when the run is clean. */
  keep: boolean;
  say: (line: string) => void;
}

export interface ChaosResult {
  driver: ChaosDriver;
  kills: number;
  storeOutages: number;
  storeHangs: number;
  counterThrottles: number;
  tally: Tally;
  /** What the ERP's callback endpoint got against what every contact and queue owed it. */
  callbacks: CallbackTally;
  /** The wait for completion ran out: what was still unsent is counted lost. */
  timedOut: boolean;
  /** Queues whose delivered or read counters still disagreed with their contacts (with --receipts). */
  receiptCountersOff: number;
  /** Where the data and logs were kept (a run with findings, or --keep). */
  keptIn: string | undefined;
}

/** How long a restarted stack may take to print its banner. */
const START_TIMEOUT_MS = 60_000;
/**
 * The ERP's HTTP client timeout. A retry of a request that died mid-accept waits for the dead
 * request's campaign lease; a client that gave up sooner would only retry again.
 */
const ERP_REQUEST_TIMEOUT_MS = 40_000;
const ERP_GIVE_UP_MS = 5 * 60_000;
/**
 * How long the callbacks owed may still take once every queue is done: a post a kill cut short
 * comes back after the callbacks queue's visibility timeout (60 s locally) or the claim's lease
 * (30 s) and the next poll; twice that, bounded.
 */
const CALLBACK_WAIT_MS = 150_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * How long a store outage or hang lasts: from a blip the SDK's retries cover (or, hung, an answer
 * that is only late) to one that outlasts the callbacks' five receives and, hung, the SDK's four
 * 5 s attempts (about 21 s).
 */
const STORE_OUTAGE_MIN_MS = 2_000;
const STORE_OUTAGE_MAX_MS = 25_000;

/** What each store fault does to the proxy, and how the run's log says it. */
const STORE_FAULTS: Record<
  StoreFault,
  {
    begin(proxy: StoreProxy): Promise<void> | void;
    end(proxy: StoreProxy): Promise<void> | void;
    during: string;
    after: string;
  }
> = {
  'store outage': {
    begin: (proxy) => proxy.cut(),
    end: (proxy) => proxy.restore(),
    during: 'unreachable',
    after: 'reachable',
  },
  'store hang': {
    begin: (proxy) => proxy.hold(),
    end: (proxy) => proxy.release(),
    during: 'taking requests and not answering',
    after: 'answering',
  },
  'counters throttle': {
    begin: (proxy) => proxy.throttle(isCountersWrite),
    end: (proxy) => proxy.unthrottle(),
    during: "throttling the queues' counters writes (a hot item)",
    after: 'taking counters writes',
  },
};

/** A write of a queue's counters item (`QUEUE#<id>` / `COUNTERS`), as the SDK sends it. */
const isCountersWrite = (request: string): boolean =>
  request.includes('DynamoDB_20120810.UpdateItem') && request.includes('"sk":{"S":"COUNTERS"}');

/** The store's faults placed at random among the kill phases (none: the kill phases as they are). */
export const withStoreFaults = (
  phases: readonly KillPhase[],
  faults: { outages: number; hangs: number; counterThrottles?: number },
  int: (min: number, max: number) => number,
): ChaosEvent[] => {
  const events: ChaosEvent[] = [...phases];
  const place = (fault: StoreFault, times: number) => {
    for (let i = 0; i < times; i++) events.splice(int(0, events.length), 0, fault);
  };
  place('store outage', faults.outages);
  place('store hang', faults.hangs);
  place('counters throttle', faults.counterThrottles ?? 0);
  return events;
};

/** Half the kills (rounded down) hit an accept, the rest a send, in a random order. */
export const killPhases = (kills: number, shuffle: <T>(items: readonly T[]) => T[]): KillPhase[] => {
  const accepting = Math.floor(kills / 2);
  return shuffle([
    ...Array<KillPhase>(accepting).fill('accepting'),
    ...Array<KillPhase>(kills - accepting).fill('sending'),
  ]);
};

/**
 * The debtors of batch `n`: every debtor of a run has their own mobile number, `+55 11 98nnn-iiii`.
 * Each batch asks for a callback of every contact's outcome and of its queue's completion.
 */
const batchOf = (
  runId: string,
  n: number,
  size: number,
  callbackUrl: string,
  callbackEvents: readonly string[],
): ErpBatch => {
  const externalId = `chaos-${runId}-${n}`;
  const contacts = Array.from({ length: size }, (_, i) => ({
    nome_cliente: `Cliente ${n}.${i + 1}`,
    telefone: `+55 11 98${String(n).padStart(3, '0')}-${String(i).padStart(4, '0')}`,
    mensagem: `Aviso ${n}.${i + 1} do teste de caos.`,
  }));
  // Notifications go out 24/7: the run never waits for the demo tenant's business hours.
  return {
    externalId,
    type: 'notification',
    body: {
      external_id: externalId,
      contacts,
      callback_url: callbackUrl,
      callback_events: [...callbackEvents],
    },
  };
};

/** One progress line: queues by status, and the contacts' counters summed over them. */
const describeQueues = (states: QueueStatus[]): string => {
  const byStatus = new Map<string, number>();
  for (const s of [...states].sort((a, b) => a.status.localeCompare(b.status)))
    byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
  const sum = (f: (s: QueueStatus) => number) => states.reduce((n, s) => n + f(s), 0);
  return (
    `queues: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ') || 'none'}; contacts: ` +
    `${sum((s) => s.contacts_sent)} sent, ${sum((s) => s.contacts_unknown)} unknown, ` +
    `${sum((s) => s.contacts_failed)} failed, ${sum((s) => s.contacts_pending + s.contacts_pending_retry)} to go`
  );
};

/**
 * Waits until every queue is finished: in a final status, or with no contact left that a sender
 * could still act on. Prints a line when a queue changes status and every 10 s. Returns false when
 * the time ran out (after saying which queues were still open).
 */
const waitForQueues = async (options: {
  queueStates: () => Promise<QueueStatus[]>;
  sendableContacts: (queueId: string, status: string) => Promise<number>;
  timeoutMs: number;
  say: (line: string) => void;
}): Promise<boolean> => {
  const finished = async (s: QueueStatus): Promise<boolean> => {
    if (FINAL_QUEUE_STATUSES.includes(s.status)) return true;
    if (s.contacts_pending + s.contacts_pending_retry > 0) return false;
    // Counters may lag a crash: only the contacts themselves say nothing is left to send.
    for (const status of SENDABLE_CONTACT_STATUSES)
      if ((await options.sendableContacts(s.id, status)) > 0) return false;
    return true;
  };
  let lastLine = '';
  let lastQueues = '';
  let lastLineAt = 0;
  try {
    await waitFor(
      async () => {
        const states = await options.queueStates();
        lastLine = describeQueues(states);
        const queues = lastLine.split(';')[0] ?? '';
        if (queues !== lastQueues || Date.now() - lastLineAt > 10_000) {
          options.say(lastLine);
          lastQueues = queues;
          lastLineAt = Date.now();
        }
        for (const s of states) if (!(await finished(s))) return false;
        return true;
      },
      { timeoutMs: options.timeoutMs, intervalMs: 1000, what: 'every queue to finish' },
    );
    return true;
  } catch (error) {
    options.say(`${(error as Error).message}; still open: ${lastLine}. What is still unsent counts as lost.`);
    return false;
  }
};

/**
 * The queues' receipt counters against their contacts, until they agree: a receipt whose counters
 * write a kill or a lost store cut off is counted by the sweeper's recount once the gateway's retry
 * flagged its queue and its receipts have been quiet for RECEIPT_RECOUNT_QUIET_MS
 * (lib/app/receipt-recount.ts). Waits that long and a minute more at most; the drift last seen.
 */
const waitForReceiptCounters = async (options: {
  drift: () => Promise<CounterDrift>;
  say: (line: string) => void;
}): Promise<CounterDrift> => {
  let last = await options.drift();
  if (last.queuesOff === 0) return last;
  options.say(
    `receipt counters: ${last.queuesOff} queues off their contacts (delivered ${signed(last.delivered)}, ` +
      `read ${signed(last.read)}); waiting up to ${seconds(RECEIPT_RECOUNT_QUIET_MS + 60_000)} for their recount`,
  );
  try {
    await waitFor(
      async () => {
        last = await options.drift();
        return last.queuesOff === 0;
      },
      { timeoutMs: RECEIPT_RECOUNT_QUIET_MS + 60_000, intervalMs: 5000, what: 'receipt counters to agree' },
    );
  } catch (error) {
    options.say(`${(error as Error).message}: ${last.queuesOff} queues still off`);
  }
  return last;
};

/**
 * Waits until the ERP has every callback it is owed (or the time runs out): prints a line when
 * the count moves or every 10 s, and returns the tally as it stands at the end.
 */
const waitForCallbacks = async (options: {
  contacts: readonly ReportedContact[];
  completedQueues: () => Promise<string[]>;
  receiver: CallbackReceiver;
  say: (line: string) => void;
}): Promise<CallbackTally> => {
  const tally = async () =>
    tallyCallbacks({
      contacts: options.contacts,
      completedQueues: await options.completedQueues(),
      received: options.receiver.received(),
      badSignatures: options.receiver.badSignatures(),
    });
  let last = await tally();
  let lastLine = '';
  let lastLineAt = 0;
  try {
    await waitFor(
      async () => {
        last = await tally();
        const line = `callbacks: ${last.received} of ${last.expected} received`;
        if (line !== lastLine || Date.now() - lastLineAt > 10_000) {
          options.say(line);
          lastLine = line;
          lastLineAt = Date.now();
        }
        return last.missing.length === 0;
      },
      { timeoutMs: CALLBACK_WAIT_MS, intervalMs: 1000, what: 'every callback owed' },
    );
  } catch (error) {
    options.say(`${(error as Error).message}: ${last.missing.length} callbacks never came`);
  }
  return last;
};

/**
 * One chaos run on one queue driver: the Evolution simulator in its own process, the local stack
 * (`npm start`'s program) in another with its own data dir and ports; the stack is SIGKILLed
 * `kills` times while an ERP batch is being accepted or while messages go out, and restarted on
 * the same data each time; then every queue is waited for and D and L are counted.
 */
export const runChaos = async (options: ChaosOptions): Promise<ChaosResult> => {
  const { driver, kills } = options;
  const begin = Date.now();
  const say = (line: string) => options.say(`[${driver} ${seconds(Date.now() - begin).padStart(7)}] ${line}`);
  const random = createRandom(options.seed);
  const runId = randomBytes(4).toString('hex');
  const workDir = await mkdtemp(join(tmpdir(), `billing-chaos-${driver}-`));
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir);
  const intervalMs = 60_000 / options.messagesPerMinute;
  const queueName = `chaos-${driver}-${runId}`;
  const phases = killPhases(kills, random.shuffle);
  const events = withStoreFaults(
    phases,
    { outages: options.storeOutages, hangs: options.storeHangs, counterThrottles: options.counterThrottles },
    random.int,
  );
  const storeFaults = options.storeOutages + options.storeHangs + options.counterThrottles;
  say(
    `seed ${options.seed}; ${kills} kills (${phases.filter((p) => p === 'accepting').length} while accepting, ` +
      `${phases.filter((p) => p === 'sending').length} while sending); ` +
      (options.storeOutages > 0 ? `${options.storeOutages} store outages while sending; ` : '') +
      (options.storeHangs > 0 ? `${options.storeHangs} store hangs while sending; ` : '') +
      (options.counterThrottles > 0 ? `${options.counterThrottles} counters throttles while sending; ` : '') +
      `batches of ${options.batchSize}; ` +
      `${options.messagesPerMinute} messages/min; gateway latency ${options.gatewayLatencyMs} ms; work dir ${workDir}`,
  );

  let simulator: ChildProgram | undefined;
  let store: { program: ChildProgram; proxy: StoreProxy } | undefined;
  let stack: ChildProgram | undefined;
  let receiver: CallbackReceiver | undefined;
  let clean = false;
  try {
    if (driver === 'rabbitmq') await checkBroker(options.amqpUrl);

    const sim = await startSimulatorProcess({
      workDir,
      latencyMs: options.gatewayLatencyMs,
      env: process.env,
      startTimeoutMs: START_TIMEOUT_MS,
    });
    simulator = sim.program;
    const simulatorUrl = sim.url;
    say(`simulator up at ${simulatorUrl} (pid ${simulator.pid})`);

    if (storeFaults > 0) {
      store = await startStoreProcess({ workDir, dataDir, startTimeoutMs: START_TIMEOUT_MS });
      say(
        `store (DynamoDB) in its own process (pid ${store.program.pid}), reached through ${store.proxy.url}`,
      );
    }

    const apiKey = `billing_chaos_${randomBytes(16).toString('hex')}`;
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = stackEnvironment({
      inherited: process.env,
      dataDir,
      port,
      dynamodbPort: await freePort(),
      driver,
      amqpUrl: options.amqpUrl,
      workQueueName: queueName,
      evolutionUrl: simulatorUrl,
      evolutionApiKey: SIMULATOR_API_KEY,
      demoApiKey: apiKey,
    });
    // With a store of its own, the stack reaches it through the proxy instead of embedding one.
    if (store) env.AWS_ENDPOINT_URL_DYNAMODB = store.proxy.url;
    let starts = 0;
    const startStack = async (): Promise<void> => {
      stack = await startStackProcess({ env, workDir, n: ++starts, startTimeoutMs: START_TIMEOUT_MS });
    };
    await startStack();
    say(
      `stack up at ${baseUrl} (pid ${stack?.pid}, ${driver === 'sqs' ? 'embedded SQS' : `RabbitMQ queue ${queueName}`})`,
    );
    receiver = await startCallbackReceiver(dataDir);
    const callbackUrl = receiver.url;
    const callbackEvents = [...CHAOS_CALLBACK_EVENTS, ...(options.receipts ? CHAOS_RECEIPT_EVENTS : [])];
    say(`ERP callback endpoint at ${callbackUrl} (${callbackEvents.join(', ')})`);

    // The demo tenant's pace, set as an operator would: the admin CLI through the running stack.
    await runAdmin(env, [
      'tenant',
      'config',
      '--tenant',
      'demo',
      '--messages-per-minute',
      String(options.messagesPerMinute),
      '--min-interval-seconds',
      '0',
      '--jitter-seconds',
      String(Math.min(1, intervalMs / 4000)),
      // The run's own polling must never be throttled.
      '--rate-limit-per-hour',
      '1000000',
      '--ambiguous-send-policy',
      options.ambiguousSendPolicy,
    ]);
    if (options.receipts) {
      // The gateway's webhook, as an operator sets it: Evolution's /webhook/set through the admin CLI.
      await runAdmin(env, [
        'instance',
        'webhook',
        '--tenant',
        'demo',
        '--instance',
        'demo',
        '--url',
        baseUrl,
      ]);
      // Evolution retries a webhook for about 30 minutes (5 s to 300 s apart); the simulator's
      // default (20 ms doubling, 1 s at most) gives up within about 5 s, less than a few kills in a
      // row keep the stack down. Evolution's first wait, 5 s, keeps them coming for ~50 s.
      const slowerRetries = await fetch(`${simulatorUrl}/_sim/instances/demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ webhook: { retryBackoffMs: 5000 } }),
      });
      if (!slowerRetries.ok)
        throw new Error(`the simulator refused its webhook settings: ${slowerRetries.status}`);
      say(`gateway webhook set to ${baseUrl}: every send is acknowledged (SERVER_ACK, DELIVERY_ACK, READ)`);
    }

    const lastRetryReason = new Map<string, string>();
    // The ERP: every batch is retried until answered, in the background, across kills.
    const erp = createErpClient({
      baseUrl,
      apiKey,
      requestTimeoutMs: ERP_REQUEST_TIMEOUT_MS,
      giveUpAfterMs: ERP_GIVE_UP_MS,
      // One line per change of reason: a stack that is down refuses many attempts in a row.
      onRetry: (externalId, attempt, why) => {
        if (lastRetryReason.get(externalId) === why) return;
        lastRetryReason.set(externalId, why);
        say(`ERP: batch ${externalId} attempt ${attempt} got no answer (${why}); retrying the same request`);
      },
    });
    const answers: ErpAnswer[] = [];
    const submissions: Promise<ErpAnswer>[] = [];
    let erpFailure: Error | undefined;
    const batches = new Map<string, ErpBatch>();
    const submit = (): { batch: ErpBatch; answer: Promise<ErpAnswer> } => {
      const batch = batchOf(runId, batches.size + 1, options.batchSize, callbackUrl, callbackEvents);
      batches.set(batch.externalId, batch);
      const answer = erp.submit(batch).then((a) => {
        answers.push(a);
        const how = a.attempts > 1 ? ` after ${a.attempts} attempts${a.replayed ? ' (replayed)' : ''}` : '';
        say(`ERP: batch ${a.externalId} answered${how}: queue ${a.queueId}, ${a.accepted} accepted`);
        return a;
      });
      answer.catch((error: Error) => {
        erpFailure ??= error;
      });
      submissions.push(answer);
      return { batch, answer };
    };
    /** The shortest of the last accepts answered at the first try (the warm-up one included). */
    const recentAcceptMs = (): number => {
      const times = answers.flatMap((a) => (a.attempts === 1 && a.firstAttemptMs ? [a.firstAttemptMs] : []));
      return Math.max(20, Math.min(...times.slice(-5), 1000));
    };
    const checkErp = () => {
      if (erpFailure) throw erpFailure;
    };

    const queueStates = async (): Promise<QueueStatus[]> =>
      Promise.all(answers.map((a) => queueStatus(baseUrl, apiKey, a.queueId)));
    // A first batch accepted in peace: something to send, and how long an accept takes here.
    const first = await submit().answer;
    say(`first accept took ${first.firstAttemptMs} ms`);

    /** Fresh work, then the moment a pump is seen sending it: how many sends the gateway has had. */
    const whileSending = async (what: string): Promise<number> => {
      await submit().answer;
      const before = (await gatewaySends(simulatorUrl)).length;
      return waitFor(
        async () => {
          const count = (await gatewaySends(simulatorUrl)).length;
          return count > before && count;
        },
        { timeoutMs: 90_000, what: () => `a send before ${what} (stack log: ${join(workDir, 'stack.log')})` },
      );
    };

    let n = 0;
    const faultsSoFar: Record<StoreFault, number> = {
      'store outage': 0,
      'store hang': 0,
      'counters throttle': 0,
    };
    const faultCounts: Record<StoreFault, number> = {
      'store outage': options.storeOutages,
      'store hang': options.storeHangs,
      'counters throttle': options.counterThrottles,
    };
    for (const event of events) {
      checkErp();
      if (event !== 'accepting' && event !== 'sending') {
        const fault = STORE_FAULTS[event];
        const k = ++faultsSoFar[event];
        const of = faultCounts[event];
        const sent = await whileSending(`${event} ${k}`);
        await pause(random.next() * 2 * intervalMs);
        const lastsMs = random.int(STORE_OUTAGE_MIN_MS, STORE_OUTAGE_MAX_MS);
        say(
          `${event} ${k}/${of} during sending: DynamoDB ${fault.during} for ${seconds(lastsMs)}; ${sent} sends so far`,
        );
        if (!store) throw new Error('a store fault needs the store behind its proxy');
        const { proxy } = store;
        await fault.begin(proxy);
        await pause(lastsMs);
        await fault.end(proxy);
        say(`${event} ${k}/${of} over: DynamoDB ${fault.after} again`);
        continue;
      }
      const phase = event;
      n += 1;
      let detail: string;
      if (phase === 'accepting') {
        const { batch } = submit();
        // Within the shortest recent accept, so the kill almost always finds the request mid-way.
        const delay = random.next() * 0.9 * recentAcceptMs();
        await pause(delay);
        const midRequest = erp.inFlight(batch.externalId);
        detail = `batch ${batch.externalId}, ${Math.round(delay)} ms after its POST went out (${midRequest ? 'not answered yet' : 'already answered'})`;
      } else {
        // Fresh work, so a pump is sure to be sending when the kill comes.
        const sent = await whileSending(`kill ${n}`);
        const delay = random.next() * 2 * intervalMs;
        await pause(delay);
        detail = `${Math.round(delay)} ms after a send was seen, ${sent} sends so far`;
      }
      say(`kill ${n}/${kills} during ${phase}: SIGKILL to the stack's process group; ${detail}`);
      await stack?.kill('SIGKILL');
      const restartAt = Date.now();
      await startStack();
      say(`restart ${n}/${kills}: stack up again on the same data in ${seconds(Date.now() - restartAt)}`);
    }

    // Every batch answered (the ERP keeps retrying), then every queue finished.
    await Promise.allSettled(submissions);
    checkErp();
    const states = await queueStates();
    const toGo = states.reduce((n, s) => n + s.contacts_pending + s.contacts_pending_retry, 0);
    // Long enough for the last contacts at the tenant's pace, a dead pump's lease, the sweeper
    // (grace plus one interval) and a settled claim, twice over; bounded all the same.
    const completionTimeoutMs =
      60_000 +
      2 * toGo * intervalMs +
      2 *
        1000 *
        (STACK_TIMINGS.SENDER_LEASE_SECONDS +
          STACK_TIMINGS.SWEEPER_GRACE_SECONDS +
          STACK_TIMINGS.SWEEPER_INTERVAL_SECONDS +
          STACK_TIMINGS.GATEWAY_TIMEOUT_MS / 1000);
    say(
      `all ${answers.length} batches answered; waiting up to ${seconds(completionTimeoutMs)} for every queue (${describeQueues(states)})`,
    );
    const timedOut = !(await waitForQueues({
      queueStates,
      sendableContacts: async (queueId, status) =>
        (
          await listContacts(baseUrl, apiKey, queueId, status)
        ).length,
      timeoutMs: completionTimeoutMs,
      say,
    }));

    // The verdict: the gateway's log against what the API reports.
    const accepted = new Map<string, string>();
    for (const answer of answers) {
      batches.get(answer.externalId)?.body.contacts.forEach((c, i) => {
        if (!answer.rejected.includes(i)) accepted.set(digitsOf(c.telefone as string), answer.externalId);
      });
      if (answer.rejected.length > 0)
        say(
          `warning: batch ${answer.externalId} had ${answer.rejected.length} contacts refused (indexes ${answer.rejected.join(', ')})`,
        );
    }
    const contacts: ReportedContact[] = [];
    for (const answer of answers) contacts.push(...(await listContacts(baseUrl, apiKey, answer.queueId)));
    const tally = tallyRun({ accepted, contacts, sends: await gatewaySends(simulatorUrl) });
    for (const f of tally.duplicated) say(describeFinding('duplicated', f));
    for (const f of tally.lost) say(describeFinding('lost', f));
    say(
      `${tally.accepted} debtors accepted in ${answers.length} batches: ${tally.deliveredOnce} got one message, ` +
        `${tally.unknown} unknown, ${tally.duplicated.length} duplicated, ${tally.lost.length} lost`,
    );

    // The ERP's side: every outcome and every completion called back, signed, whatever the kills did.
    const callbacks = await waitForCallbacks({
      contacts,
      completedQueues: async () =>
        (await queueStates()).filter((q) => q.status === 'completed').map((q) => q.id),
      receiver,
      say,
    });
    for (const m of callbacks.missing) say(describeMissingCallback(m));
    let counterDrift: CounterDrift | undefined;
    if (options.receipts) {
      // Read again: the last sends' receipts may have come in while the callbacks were awaited.
      const settled: ReportedContact[] = [];
      for (const answer of answers) settled.push(...(await listContacts(baseUrl, apiKey, answer.queueId)));
      const count = (status: string) => settled.filter((c) => c.status === status).length;
      say(
        `receipts: ${count('read')} read, ${count('delivered')} delivered, ${count('sent')} sent and never ` +
          'acknowledged (the gateway gave up on their webhooks: the simulator retries for about 50 s here, Evolution for 30 min)',
      );
      counterDrift = await waitForReceiptCounters({
        drift: async () => tallyCounters(await queueStates(), settled),
        say,
      });
      say(
        `receipt counters: ${counterDrift.queues - counterDrift.queuesOff} of ${counterDrift.queues} queues agree ` +
          `with their contacts; delivered ${signed(counterDrift.delivered)}, read ${signed(counterDrift.read)}`,
      );
    }
    say(
      `callbacks: ${callbacks.received} of ${callbacks.expected} owed received, ${callbacks.missing.length} missing, ` +
        `${callbacks.repeated} posted more than once (allowed: de-duplicated by event_id), ` +
        `${callbacks.badSignatures} badly signed`,
    );
    clean =
      !timedOut &&
      tally.duplicated.length === 0 &&
      tally.lost.length === 0 &&
      callbacks.missing.length === 0 &&
      callbacks.badSignatures === 0 &&
      (counterDrift?.queuesOff ?? 0) === 0;
    const keptIn = clean && !options.keep ? undefined : workDir;
    return {
      driver,
      kills,
      storeOutages: options.storeOutages,
      storeHangs: options.storeHangs,
      counterThrottles: options.counterThrottles,
      tally,
      callbacks,
      timedOut,
      receiptCountersOff: counterDrift?.queuesOff ?? 0,
      keptIn,
    };
  } finally {
    // A clean stop now: nothing is left to test, and RabbitMQ gets its connections closed properly.
    await stopGently(stack);
    await stopGently(simulator);
    await store?.proxy.close();
    await stopGently(store?.program);
    await receiver?.close();
    if (driver === 'rabbitmq')
      await deleteBrokerQueues(options.amqpUrl, queueName).catch((error: unknown) =>
        say(`could not delete the RabbitMQ queues of ${queueName}: ${String(error)}`),
      );
    if (clean && !options.keep) await rm(workDir, { recursive: true, force: true });
    else say(`data and logs kept in ${workDir} (stack.log, simulator.log, data/)`);
  }
};

/** SIGTERM, then SIGKILL if the program has not stopped within 10 s. */
const stopGently = async (program: ChildProgram | undefined): Promise<void> => {
  if (!program || program.exited()) return;
  const timer = setTimeout(() => void program.kill('SIGKILL'), 10_000);
  await program.kill('SIGTERM');
  clearTimeout(timer);
};
