import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { SENDER_BATCH_SIZE, SENDER_MAX_CONCURRENCY } from '../infra/sender-limits.ts';
import { tableDefinition } from '../lib/adapters/store/table-schema.ts';
import { configureInstanceWebhook } from '../lib/admin/instance-webhook.ts';
import { addInstance } from '../lib/app/add-instance.ts';
import { createApiKey } from '../lib/app/create-api-key.ts';
import { createTenant } from '../lib/app/create-tenant.ts';
import { DEMO_TEMPLATES } from '../lib/app/seed-demo-tenant.ts';
import { setBusinessHours } from '../lib/app/set-business-hours.ts';
import { setTemplate } from '../lib/app/set-template.ts';
import { callbackQueueName } from '../lib/composition/queues.ts';
import {
  type Container,
  createContainer,
  createDynamoDbClient,
  createDynamoDocumentClient,
} from '../lib/composition.ts';
import { DEFAULT_BILLING_CONFIG } from '../lib/domain/billing-config.ts';
import type { BusinessCalendar, Weekday } from '../lib/domain/tenant-types.ts';
import type { BillingQueue } from '../lib/domain/types.ts';
import { createCallbackDelivererHandler } from '../lib/lambda/callback-deliverer-handler.ts';
import { createCallbackSenderHandler } from '../lib/lambda/callback-sender-handler.ts';
import { createSenderHandler } from '../lib/lambda/sender-handler.ts';
import { createSweeperHandler } from '../lib/lambda/sweeper-handler.ts';
import { startApiGatewayServer } from '../lib/local/api-gateway-server.ts';
import { startEvolutionSimulator } from '../lib/local/evolution-simulator/index.ts';
import type { SimWebhookDelivery } from '../lib/local/evolution-simulator/types.ts';
import { loadRoutes } from '../lib/local/local-stack.ts';
import { startWorker, toCallbackSqsEvent, toSqsEvent } from '../lib/local/worker.ts';
import type { CallbackRef } from '../lib/ports/callback-queue.ts';
import type { DeadLetters } from '../lib/ports/dead-letters.ts';
import type { Store } from '../lib/ports/store.ts';
import type { WorkItem } from '../lib/ports/work-queue.ts';
import {
  type CostTable,
  costOf,
  costPerMillion,
  type Usage,
  writeUnitsPerMessage,
} from './cost/cost-model.ts';
import { type DeployedInfra, readDeployedInfra } from './cost/deployed-infra.ts';
import { meterDynamoDb } from './cost/dynamodb-meter.ts';
import {
  type Item,
  itemSize,
  type ProjectionType,
  storedBytes,
  tableModelOf,
  withIndexProjection,
} from './cost/dynamodb-sizing.ts';
import {
  BACKGROUND,
  type ConsumerBatching,
  CostMeter,
  isStandIn,
  type Tally,
  usageOf,
} from './cost/metering.ts';
import {
  MONTHLY_PROFILES,
  monthlyEstimate,
  type ScenarioPerMillion,
  type UsdRange,
} from './cost/monthly-examples.ts';
import { GB, PRICES } from './cost/prices.ts';
import {
  API,
  benchContacts,
  fmt,
  machineLine,
  postJson,
  printGrid,
  printTable,
  runIfMain,
  startBenchStack,
  waitFor,
} from './ingest.ts';
import { itemShape } from './request-kind.ts';

/**
 * Cost benchmark (`npm run bench:cost`, issue 12): what sending a million overdue reminders costs
 * on AWS at list prices (cost/prices.ts), from what the real code paths do on the local stack.
 * Two scenarios, each a fleet of instances sending at once (K tenants with one instance each, the
 * contacts split evenly among them: one ERP batch each) of realistic overdue contacts (every one
 * with a PIX code and a payment link) at the tenant's default pace:
 * - core: accept (one POST per instance) and send;
 * - all-in: the same, with each instance's webhook set by `instance webhook` (receipts: SERVER_ACK,
 *   DELIVERY_ACK, READ, and whatever else it subscribes) and the campaigns asking for three callback
 *   events per contact (sent, delivered, read), posted to a local receiver.
 * The sender gets the work items as Lambda's event source mapping would, in batches of up to
 * SENDER_BATCH_SIZE records, and runs each batch through the real handler (its FIFO groups at once).
 * A third, small run sends with one instance alone, for the sender's cost when nothing shares its
 * waits. cost/metering.ts says how it counts and how the pacing wait is billed without being waited.
 */

/** The contacts of a scenario, all instances together (the API's maximum for one batch). */
export const COST_BENCH_CONTACTS = 1000;

/**
 * Instances sending at once: one sender batch's worth (bench/README.md, bench:cost, says why this is
 * a fair default for a million messages a month).
 */
export const COST_BENCH_INSTANCES = SENDER_BATCH_SIZE;

/** How long the local mapping waits for more records once a batch has its first (real time). */
const BATCH_WINDOW_MS = 200;

/** Issue 12's goals. */
export const COST_TARGETS = { coreUsd: 5, allInUsd: 10, writeUnitsPerMessage: 4 } as const;

/** One tenant of the fleet, with its one instance and its key. */
interface FleetMember {
  tenantId: string;
  instanceId: string;
  instanceName: string;
  apiKey: string;
}

const CALLBACK_EVENTS = ['sent', 'delivered', 'read'];

/** Open all week: the figures must not depend on the hour the bench runs at. */
const ALWAYS_OPEN: BusinessCalendar = {
  timezone: DEFAULT_BILLING_CONFIG.timezone,
  weekly: Object.fromEntries(
    ([0, 1, 2, 3, 4, 5, 6] as Weekday[]).map((d) => [d, [{ start: '00:00', end: '24:00' }]]),
  ),
  nationalHolidays: false,
  closedDates: [],
};

/**
 * When WhatsApp's acknowledgements come after a send (real time): about this order and spacing. The
 * simulator's defaults (20, 40, 60 ms) are for quick tests; here they would race the pump's own
 * record of each send and be answered "retry later" far more often than with a real phone.
 */
const RECEIPT_TIMING = { serverAckMs: 250, deliveryAckMs: 1000, readMs: 3000 };

/**
 * Lambda's event source mappings poll their queue even when it is empty: by AWS's description, a
 * few long polls at once (5 assumed here), each waiting up to 20 s. An estimate, not a count.
 */
const IDLE_POLLERS = 5;
const LONG_POLL_SECONDS = 20;
const SECONDS_PER_MONTH = 30 * 24 * 3600;

const SCENARIO_TIMEOUT_MS = 20 * 60_000;

/**
 * The Lambda context of a sender batch: its remaining time runs on the meter's clock (the pacing
 * waits it skips are time the invocation spends on AWS).
 */
const lambdaContext = (meter: CostMeter, remainingMs: number): Context => {
  const deadline = meter.clock.now().getTime() + remainingMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'sender',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:sender',
    memoryLimitInMB: '256',
    logGroupName: 'local',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - meter.clock.now().getTime()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as Context;
};

export interface ScenarioResult {
  label: 'core' | 'all-in' | 'core, 1 instance';
  /** Instances (queues) sending at once. */
  instances: number;
  sent: number;
  /** The scenario's queues, as they ended. */
  queues: BillingQueue[];
  /** Summed over the queues. */
  delivered: number;
  read: number;
  tallies: Map<string, Tally>;
  usage: Usage;
  cost: CostTable;
  /** Bytes the run added to the table and its indexes (overhead included). */
  storedBytes: number;
  /** What the run added, by item kind. */
  stored: Map<string, StoredKind>;
  callbacksReceived: number;
  /** Webhook posts of the simulator, and of them the ones that repeat an earlier post (answered 5xx). */
  webhookPosts: number;
  webhookRetries: number;
  wallMs: number;
}

export interface CostOutcome {
  code: number;
  core?: ScenarioResult;
  allIn?: ScenarioResult;
  /** The sender with one instance alone (a smaller run). */
  single?: ScenarioResult;
}

/** An ERP's callback endpoint: answers 200 to everything and counts distinct events. */
const startCallbackReceiver = async () => {
  const events = new Set<string>();
  const server: Server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      events.add(String(req.headers['x-billing-event-id'] ?? randomUUID()));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`,
    received: () => events.size,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** Items of one kind in the table: how many, their own bytes, and with their index copies and overhead. */
interface StoredKind {
  items: number;
  itemBytes: number;
  storedBytes: number;
}

const storedDiff = (
  after: Map<string, StoredKind>,
  before: Map<string, StoredKind>,
): Map<string, StoredKind> =>
  new Map(
    [...after].map(([kind, a]) => {
      const b = before.get(kind) ?? { items: 0, itemBytes: 0, storedBytes: 0 };
      return [
        kind,
        {
          items: a.items - b.items,
          itemBytes: a.itemBytes - b.itemBytes,
          storedBytes: a.storedBytes - b.storedBytes,
        },
      ];
    }),
  );

interface CostBench {
  c: Container;
  meter: CostMeter;
  infra: DeployedInfra;
  apiUrl: string;
  fleet: FleetMember[];
  /** Stops the pumps of the bench's sender handler (the worker's stop stops only its own). */
  stopSender(): void;
  /** The table through a client the meter does not see (the bench's own polling). */
  observer: Store;
  scanTable(): Promise<Map<string, StoredKind>>;
  pendingWebhooks(): number;
  webhookDeliveries(): SimWebhookDelivery[];
}

/** Waits until nothing runs (no invocation, no webhook on its way) for half a second in a row. */
const waitForQuiet = async (bench: CostBench, what: string): Promise<void> => {
  let quietSince: number | undefined;
  await waitFor(
    () => {
      const quiet = bench.meter.inFlight === 0 && bench.pendingWebhooks() === 0;
      if (!quiet) quietSince = undefined;
      else quietSince ??= performance.now();
      return quietSince !== undefined && performance.now() - quietSince >= 500;
    },
    SCENARIO_TIMEOUT_MS,
    what,
  );
};

/** `total` split into `parts` counts that differ by one at most. */
export const splitEvenly = (total: number, parts: number): number[] =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

const runScenario = async (
  bench: CostBench,
  label: ScenarioResult['label'],
  batchNo: number,
  contacts: number,
  instances: number,
  callbacks?: { url: string; received(): number },
): Promise<ScenarioResult> => {
  const { c, meter } = bench;
  const storedBefore = await bench.scanTable();
  const postsBefore = bench.webhookDeliveries().length;
  const receivedBefore = callbacks?.received() ?? 0;
  meter.reset();
  const started = performance.now();
  // One ERP batch per instance (each its tenant's), all posted before the sender starts, so the
  // mapping finds the work items together, as when a fleet's campaigns run side by side.
  const queueIds: string[] = [];
  const shares = splitEvenly(contacts, instances);
  for (const [i, member] of bench.fleet.slice(0, instances).entries()) {
    const share = shares[i] as number;
    const res = await postJson(`${bench.apiUrl}${API}/send/overdue`, member.apiKey, {
      external_id: `cost-${label}-${randomUUID()}`,
      contacts: benchContacts(share, batchNo * 100 + i, 'overdue', new Date(), 'always'),
      ...(callbacks ? { callback_url: callbacks.url, callback_events: CALLBACK_EVENTS } : {}),
    });
    if (res.status !== 200 || res.body?.accepted !== share)
      throw new Error(`${label}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    queueIds.push(res.body.queue_id as string);
  }
  const queues = async () =>
    (await Promise.all(queueIds.map((id) => bench.observer.getQueue(id)))) as BillingQueue[];
  const sum = (qs: BillingQueue[], field: 'contactsSent' | 'contactsDelivered' | 'contactsRead') =>
    qs.reduce((n, q) => n + (q?.[field] ?? 0), 0);
  const worker = await startWorker(c);
  // A line every 30 s, so a slow machine shows progress (and a stuck run shows where).
  const progress = setInterval(() => {
    void queues().then((qs) =>
      console.log(
        `  ${label}: ${qs.filter((q) => q?.status === 'completed').length}/${qs.length} queues completed, sent ${sum(qs, 'contactsSent')}/${contacts}, delivered ${sum(qs, 'contactsDelivered')}, read ${sum(qs, 'contactsRead')}, callbacks ${(callbacks?.received() ?? 0) - receivedBefore}, invocations running ${meter.inFlight}, webhooks pending ${bench.pendingWebhooks()}`,
      ),
    );
  }, 30_000);
  try {
    await waitFor(
      async () => (await queues()).every((q) => q?.status === 'completed'),
      SCENARIO_TIMEOUT_MS,
      `${label}: queues completed`,
    );
    if (callbacks)
      await waitFor(
        () => callbacks.received() - receivedBefore >= CALLBACK_EVENTS.length * contacts,
        SCENARIO_TIMEOUT_MS,
        `${label}: ${CALLBACK_EVENTS.length} callbacks per contact`,
      );
    await waitForQuiet(bench, `${label}: the last invocations`);
  } finally {
    clearInterval(progress);
    bench.stopSender();
    await worker.stop();
  }
  const wallMs = performance.now() - started;
  const ended = await queues();
  const sent = sum(ended, 'contactsSent');
  const tallies = meter.tallies();
  const usage = usageOf(tallies);
  const stored = storedDiff(await bench.scanTable(), storedBefore);
  const posts = bench.webhookDeliveries().slice(postsBefore);
  return {
    label,
    instances,
    sent,
    queues: ended,
    delivered: sum(ended, 'contactsDelivered'),
    read: sum(ended, 'contactsRead'),
    tallies,
    usage,
    cost: costPerMillion(usage, sent),
    storedBytes: [...stored.values()].reduce((n, k) => n + k.storedBytes, 0),
    stored,
    callbacksReceived: (callbacks?.received() ?? 0) - receivedBefore,
    webhookPosts: posts.length,
    webhookRetries: posts.filter((p) => p.attempt > 1).length,
    wallMs,
  };
};

/** One metered run of a cron's handler: its tally and what the handler answered. */
const meteredRun = async (bench: CostBench, functionName: string, run: () => Promise<unknown>) => {
  bench.meter.reset();
  const answer = await bench.meter.invoke(functionName, run);
  return {
    tally: bench.meter.tallies().get(functionName) as Tally,
    usd: costOf(usageOf(bench.meter.tallies()), 1).totalUsd,
    answer,
  };
};

/** Past every delivery deadline the scenarios set (the default timeout, 15 minutes), with room. */
const QUIET_AFTER_MS = (DEFAULT_BILLING_CONFIG.deliveryTimeoutMinutes + 5) * 60_000;
/** Settling runs at most before the quiet one is measured. */
const SETTLING_RUNS = 5;

/** Whether a cron run found work (a queue republished, a delivery watch checked, a callback attempted). */
const foundWork = (answer: unknown): boolean => {
  const a = (answer ?? {}) as {
    republished?: unknown[];
    watchesChecked?: number;
    receiptRecounts?: { recounted: number };
    attempted?: number;
  };
  return (
    (a.republished?.length ?? 0) > 0 ||
    (a.watchesChecked ?? 0) > 0 ||
    (a.receiptRecounts?.recounted ?? 0) > 0 ||
    (a.attempted ?? 0) > 0
  );
};

/**
 * The callbacks queue's dead-letter queue as the deliverer finds it nearly always: empty, which it
 * learns with one GetQueueAttributes a run (callback-dead-letters.ts), metered as such.
 */
const emptyCallbackDeadLetters = (meter: CostMeter): DeadLetters<CallbackRef> => ({
  count: async () => {
    meter.sqsRequest('standard');
    return 0;
  },
  list: async () => [],
  settle: async () => ({ seen: 0, removed: 0 }),
  close: async () => undefined,
});

/**
 * The crons' cost per month. The sweeper's work follows what is due when it runs (open queues,
 * delivery watches at their deadline), so it is measured twice: first with what the scenarios left
 * due, then in the quiet after them: the clock moved past every delivery deadline and the crons
 * run until one finds nothing (each watch then checked for the last time: a watch comes due again
 * a few seconds after a check while later sends' deadlines follow, so a run "at once" after the
 * first was not reliably quiet). The monthly figure is the quiet run times the runs a month; the
 * first gives the price of each due watch it checked, which follows queues (each is checked about
 * once per delivery timeout while its sends await an acknowledgement).
 */
const cronsPerMonth = async (bench: CostBench) => {
  const handlers: Record<string, () => Promise<unknown>> = {
    sweeper: () => createSweeperHandler(bench.c)(),
    'callback-deliverer': () =>
      createCallbackDelivererHandler(bench.c, emptyCallbackDeadLetters(bench.meter))(),
  };
  const runOf = (functionName: string) => {
    const run = handlers[functionName];
    if (!run) throw new Error(`cost bench: no handler for cron ${functionName}`);
    return run;
  };
  const firsts = new Map<string, Awaited<ReturnType<typeof meteredRun>>>();
  for (const cron of bench.infra.crons)
    firsts.set(cron.functionName, await meteredRun(bench, cron.functionName, runOf(cron.functionName)));
  bench.meter.advance(QUIET_AFTER_MS);
  for (const cron of bench.infra.crons)
    for (let i = 0; i < SETTLING_RUNS; i++)
      if (!foundWork((await meteredRun(bench, cron.functionName, runOf(cron.functionName))).answer)) break;
  const lines = [];
  for (const cron of bench.infra.crons) {
    const first = firsts.get(cron.functionName) as Awaited<ReturnType<typeof meteredRun>>;
    const idle = await meteredRun(bench, cron.functionName, runOf(cron.functionName));
    if (foundWork(idle.answer))
      throw new Error(`cost bench: the quiet ${cron.functionName} run still found work`);
    const checked = (first.answer as { watchesChecked?: number } | undefined)?.watchesChecked ?? 0;
    const dueWork =
      checked > 0
        ? `; the run before, with ${checked} due delivery watches: ${first.tally.durationMs} ms, ` +
          `${first.tally.dynamoRequests} store requests, $${((first.usd - idle.usd) / checked).toFixed(6)} a watch checked`
        : '';
    lines.push({
      item: `cron ${cron.functionName} (${cron.perMonth} runs with nothing due; one run: ${idle.tally.durationMs} ms, ${idle.tally.dynamoRequests} store requests${dueWork})`,
      usd: idle.usd * cron.perMonth,
    });
  }
  return lines;
};

const perMessage = (value: number, messages: number, digits = 2) => fmt(value / messages, digits);

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The cost table: per service, usage and dollars per 1M messages, core beside all-in. */
const printCostTable = (core: ScenarioResult, allIn: ScenarioResult) => {
  const services = [...new Set([...core.cost.lines, ...allIn.cost.lines].map((l) => l.service))];
  const cells = services.map((service) => {
    const a = core.cost.lines.find((l) => l.service === service);
    const b = allIn.cost.lines.find((l) => l.service === service);
    const unit = (a ?? b)?.unit ?? '';
    const amount = (n: number | undefined) =>
      n === undefined ? '-' : n >= 100 ? fmt(n, 0) : n.toPrecision(3);
    return [service, unit, amount(a?.usage), a ? usd(a.usd) : '-', amount(b?.usage), b ? usd(b.usd) : '-'];
  });
  cells.push(['total', '', '', usd(core.cost.totalUsd), '', usd(allIn.cost.totalUsd)]);
  printGrid(
    `Cost per 1M messages, us-east-1 list prices (bench/cost/prices.ts), ${core.sent} + ${allIn.sent} messages sent`,
    ['service', 'unit', 'core: used', 'core: $', 'all-in: used', 'all-in: $'],
    cells,
    new Set([2, 3, 4, 5]),
  );
};

/**
 * Per function: invocations, billed time and GB-s per message. For the sender also the FIFO groups
 * an invocation ran and how much of the groups' own time lines one billed second covered (their sum
 * over the billed duration: ~1 with one group, up to the batch size when the groups run side by side).
 */
const printFunctions = (result: ScenarioResult, infra: DeployedInfra) => {
  const cells = [...result.tallies]
    .filter(([, t]) => t.invocations > 0)
    .map(([fn, t]) => [
      fn,
      `${infra.memoryMb(fn)} MB`,
      perMessage(t.invocations, result.sent, 3),
      fmt(t.durationMs / t.invocations, 0),
      t.groups > 0 ? fmt(t.groups / t.invocations, 1) : '-',
      t.groups > 0 ? fmt(t.groupMs / Math.max(1, t.durationMs), 2) : '-',
      fmt((t.sleptMs / Math.max(1, t.groups > 0 ? t.groupMs : t.durationMs)) * 100, 1),
      perMessage(t.gbSeconds, result.sent, 4),
    ]);
  printGrid(
    `Lambda in ${result.label} (${result.sent} messages, ${result.instances} instance${result.instances === 1 ? '' : 's'} sending)`,
    [
      'function',
      'memory',
      'invocations / msg',
      'billed ms / invocation',
      'groups / invocation',
      'group time / billed time',
      'of it pacing wait %',
      'GB-s / msg',
    ],
    cells,
    new Set([2, 3, 4, 5, 6, 7]),
  );
};

/** DynamoDB units per message, by function and request kind, largest first. */
const printDynamo = (result: ScenarioResult) => {
  const rows: string[][] = [];
  for (const [bucket, t] of result.tallies) {
    if (bucket === BACKGROUND || isStandIn(bucket)) continue;
    for (const [kind, k] of Object.entries(t.byKind))
      rows.push([
        bucket,
        kind,
        perMessage(k.requests, result.sent, 3),
        perMessage(k.writeUnits, result.sent, 3),
        perMessage(k.readUnits, result.sent, 3),
      ]);
  }
  rows.sort((a, b) => Number(b[3]) - Number(a[3]) || Number(b[4]) - Number(a[4]));
  printGrid(
    `DynamoDB per message in ${result.label}, by request kind (write units include the index copies)`,
    ['function', 'request', 'requests', 'write units', 'read units'],
    rows,
    new Set([2, 3, 4]),
  );
  const index: Record<string, number> = {};
  let table = 0;
  for (const [bucket, t] of result.tallies) {
    if (bucket === BACKGROUND || isStandIn(bucket)) continue;
    table += t.tableWriteUnits;
    for (const [name, units] of Object.entries(t.indexWriteUnits)) index[name] = (index[name] ?? 0) + units;
  }
  console.log(
    `  write units per message: ${perMessage(table + Object.values(index).reduce((n, u) => n + u, 0), result.sent)} = table ${perMessage(table, result.sent)}${Object.entries(
      index,
    )
      .map(([name, units]) => ` + ${name} ${perMessage(units, result.sent)}`)
      .join('')}; read units per message ${perMessage(result.usage.dynamoReadUnits, result.sent)}`,
  );
  const background = result.tallies.get(BACKGROUND);
  const standIns = [...result.tallies].filter(([bucket]) => isStandIn(bucket));
  console.log(
    `  left out: the local worker's polls (${background?.dynamoRequests ?? 0} requests; crons on AWS, below)${standIns
      .map(([bucket, t]) => `, ${bucket} (${t.dynamoRequests} requests)`)
      .join('')}`,
  );
};

/** What the run left in the table per message, by item kind: the sizes behind the write units. */
const printStored = (result: ScenarioResult) => {
  const rows = [...result.stored]
    .filter(([, k]) => k.items !== 0 || k.storedBytes !== 0)
    .sort((a, b) => b[1].storedBytes - a[1].storedBytes)
    .map(([kind, k]) => [
      kind,
      perMessage(k.items, result.sent, 3),
      k.items > 0 ? fmt(k.itemBytes / k.items, 0) : '-',
      perMessage(k.storedBytes, result.sent, 0),
    ]);
  printGrid(
    `Stored by ${result.label}, per message (new items, and growth of items it updated)`,
    ['item', 'new items', 'average item bytes', 'bytes with index copies and overhead'],
    rows,
    new Set([1, 2, 3]),
  );
};

/** Runs both scenarios and prints the cost table; resolves with the figures. */
export const runCost = async (
  contacts = COST_BENCH_CONTACTS,
  instances = COST_BENCH_INSTANCES,
  /**
   * What if every global index projected this instead of what `tableDefinition` declares: the meter
   * bills index copies and storage by it, while the table the code runs on keeps its own (so the code
   * works as it does). Reads the code would then add (the base items an index no longer carries) are
   * not counted: a what-if for the write and storage side only.
   */
  projection?: Exclude<ProjectionType, 'INCLUDE'>,
): Promise<CostOutcome> => {
  if (!Number.isInteger(instances) || instances < 1 || instances > contacts)
    throw new Error(`cost bench: --instances must be 1..${contacts}, got ${instances}`);
  console.log(machineLine());
  const pace = DEFAULT_BILLING_CONFIG;
  const singleContacts = Math.ceil(contacts / instances);
  console.log(
    `cost bench: ${contacts} overdue contacts per scenario (PIX code and payment link each) over ${instances} instance${instances === 1 ? '' : 's'} sending at once (${splitEvenly(contacts, instances)[0]} each), sender batches of up to ${SENDER_BATCH_SIZE}${instances > 1 ? `; then ${singleContacts} on one instance alone` : ''}; default pace: ${pace.messagesPerMinute}/min, min interval ${pace.minIntervalSeconds} s, jitter ±${pace.jitterSeconds} s`,
  );
  const infra = await readDeployedInfra();
  const meter = new CostMeter(infra);
  const restoreOutput = meter.captureOutput();
  const closers: Array<() => Promise<unknown> | unknown> = [restoreOutput];
  try {
    // Our own simulator, on the stack's clock: its receipts are dated in the same (fast-forwarded) time.
    const simulator = await startEvolutionSimulator({ port: 0, now: () => meter.clock.now().getTime() });
    closers.push(() => simulator.close());
    const stackBench = await startBenchStack({
      // Lambda's settings (infra/runtime.ts): INFO logs and EMF metrics, so their bytes are counted.
      // The worker's due-callback poller stays idle: on AWS it is a cron that only retries.
      env: {
        LOG_LEVEL: 'INFO',
        METRICS_DRIVER: 'emf',
        CALLBACK_POLL_SECONDS: '3600',
        // AWS's callbacks queue keeps its messages: no safety-net due entries (npm start's embedded
        // SQS, in memory, sets one, whose index writes AWS does not make).
        CALLBACK_SAFETY_NET_SECONDS: '0',
        EVOLUTION_URL: simulator.url,
        EVOLUTION_API_KEY: simulator.apiKey,
      },
      roles: { api: false, worker: false },
      overrides: { clock: meter.clock, sleep: meter.sleep, metrics: meter.metrics },
    });
    closers.push(() => stackBench.close());
    const c = stackBench.stack.container;
    const tableName = c.config.TABLE_NAME;
    const table = withIndexProjection(tableModelOf(tableDefinition(tableName)), projection);
    if (projection)
      console.log(
        `cost bench: what-if, every index billed as ${projection} (reads it would add not counted)`,
      );
    const side = createDynamoDbClient(c.config);
    closers.push(() => side.destroy());
    meterDynamoDb(c.dynamo, {
      tableName,
      table,
      side,
      onRequest: meter.dynamoRequest,
      onOwnRead: meter.ownRead,
    });
    // The sender as Lambda runs it: the real handler, given batches of records of several FIFO
    // groups (instances) at once; each record's pump runs in a scope of its own (meter.pump).
    let senderStop = new AbortController();
    const makeSender = (signal: AbortSignal) =>
      createSenderHandler(c, {
        retryFailuresSoon: false,
        stopSignal: signal,
        aroundRecord: (record, run) => meter.pump(record.attributes.MessageGroupId ?? record.messageId, run),
      });
    let sender = makeSender(senderStop.signal);
    const senderBatching: ConsumerBatching<WorkItem> = {
      size: SENDER_BATCH_SIZE,
      windowMs: BATCH_WINDOW_MS,
      concurrency: SENDER_BATCH_SIZE * SENDER_MAX_CONCURRENCY,
      run: async (deliveries) => {
        const records = deliveries.flatMap(
          (delivery) => toSqsEvent(delivery, c.config.WORK_QUEUE_NAME).Records,
        );
        const result = await sender(
          { Records: records },
          lambdaContext(meter, c.config.SENDER_BUDGET_SECONDS * 1000 + 30_000),
        );
        return new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      },
    };
    // The callback sender as its event source mapping runs it (infra/callbacks.ts): batches of the
    // mapping's size, gathered for its window, each one invocation of the real handler.
    const callbackSender = createCallbackSenderHandler(c);
    const callbackMapping = infra.batching('callback-sender');
    const callbackBatching: ConsumerBatching<CallbackRef> = {
      size: callbackMapping.size,
      windowMs: callbackMapping.windowSeconds * 1000,
      concurrency: callbackMapping.size * callbackMapping.maxConcurrency,
      run: async (deliveries) => {
        const queueName = callbackQueueName(c.config.WORK_QUEUE_NAME);
        const records = deliveries.flatMap((delivery) => toCallbackSqsEvent(delivery, queueName).Records);
        const result = await callbackSender({ Records: records });
        return new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      },
    };
    meter.instrument(c, senderBatching, callbackBatching);
    // The API as API Gateway runs it: each request one invocation of its route's function.
    const api = await startApiGatewayServer({
      routes: loadRoutes(c).map((route) => ({ ...route, handler: meter.httpHandler(route.handler) })),
      port: 0,
      host: '127.0.0.1',
    });
    closers.push(() => api.close());
    const receiver = await startCallbackReceiver();
    closers.push(() => receiver.close());
    const observerClient = createDynamoDocumentClient(c.config);
    closers.push(() => observerClient.destroy());
    const observer = createContainer(c.config, {
      dynamo: observerClient,
      workQueue: c.workQueue,
      callbackQueue: c.callbackQueue,
    }).store;

    // The fleet: tenants with default config, the demo overdue template, open all week, one
    // established instance each, one key each.
    const fleet: FleetMember[] = [];
    for (let i = 0; i < instances; i++) {
      const member = {
        tenantId: `cost-bench-${i + 1}`,
        instanceId: `wa-cost-${i + 1}`,
        instanceName: `cost-bench-${i + 1}`,
        apiKey: '',
      };
      await createTenant(c, {
        id: member.tenantId,
        name: `Custo ${i + 1}`,
        config: { allowInsecureCallbacks: true },
      });
      await setTemplate(c, member.tenantId, 'overdue', DEMO_TEMPLATES.overdue);
      await setBusinessHours(c, member.tenantId, ALWAYS_OPEN);
      simulator.upsertInstance(member.instanceName, { webhook: RECEIPT_TIMING });
      await addInstance(c, {
        tenantId: member.tenantId,
        id: member.instanceId,
        instanceName: member.instanceName,
        baseUrl: simulator.url,
        credentialRef: 'env:EVOLUTION_API_KEY',
        // An established number: a new one's warm-up ramp would cap the day's sends below the batch.
        warmup: { enabled: false },
      });
      member.apiKey = (await createApiKey(c, { tenantId: member.tenantId, name: 'custo' })).key;
      fleet.push(member);
    }

    const scanTable = async () => {
      const kinds = new Map<string, StoredKind>();
      let start: ScanCommandInput['ExclusiveStartKey'];
      do {
        const page = await side.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
        for (const item of (page.Items ?? []) as Item[]) {
          const kind = kinds.get(itemShape(item)) ?? { items: 0, itemBytes: 0, storedBytes: 0 };
          kind.items += 1;
          kind.itemBytes += itemSize(item);
          kind.storedBytes += storedBytes(table, item);
          kinds.set(itemShape(item), kind);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return kinds;
    };
    const bench: CostBench = {
      c,
      meter,
      infra,
      apiUrl: api.url,
      fleet,
      stopSender: () => {
        senderStop.abort();
        senderStop = new AbortController();
        sender = makeSender(senderStop.signal);
      },
      observer,
      scanTable,
      pendingWebhooks: () => simulator.pendingWebhooks(),
      webhookDeliveries: () => simulator.webhookDeliveries(),
    };

    const plural = instances === 1 ? '' : 's';
    console.log(`cost bench: core (accept + send), ${instances} instance${plural} at once`);
    const core = await runScenario(bench, 'core', 300, contacts, instances);
    if (instances > 1)
      console.log(
        `cost bench: core with one instance alone (${singleContacts} contacts), for the sender's cost unshared`,
      );
    // With one instance the fleet's core run is that run already.
    const single =
      instances === 1 ? core : await runScenario(bench, 'core, 1 instance', 302, singleContacts, 1);
    // The webhook exactly as `instance webhook` sets it (its events list included).
    for (const member of fleet)
      await configureInstanceWebhook(c, {
        tenantId: member.tenantId,
        instanceId: member.instanceId,
        publicUrl: api.url,
      });
    console.log(
      `cost bench: all-in (core + receipts through the webhook + 3 callbacks per contact), ${instances} instance${plural} at once`,
    );
    const allIn = await runScenario(bench, 'all-in', 301, contacts, instances, receiver);
    const crons = await cronsPerMonth(bench);
    restoreOutput();

    console.log(`after the run: ${machineLine()}`);
    for (const r of single === core ? [core, allIn] : [core, single, allIn])
      console.log(
        `  ${r.label}: ${r.sent} sent by ${r.instances} instance${r.instances === 1 ? '' : 's'} in ${fmt(r.wallMs / 1000)} s here (${fmt(
          (r.tallies.get('sender')?.durationMs ?? 0) / 1000 / 60,
        )} min of sender time on AWS), ${r.delivered} delivered, ${r.read} read, ${r.webhookPosts} webhook posts (${r.webhookRetries} of them retries), ${r.callbacksReceived} callbacks`,
      );
    printCostTable(core, allIn);
    printFunctions(core, infra);
    if (single !== core) printFunctions(single, infra);
    printFunctions(allIn, infra);
    console.log(senderLine(single));
    if (single !== core) console.log(senderLine(core));
    printDynamo(core);
    printDynamo(allIn);
    printStored(core);
    printStored(allIn);
    for (const r of [core, allIn]) {
      const logs = [...r.tallies].filter(([b]) => b !== BACKGROUND && !isStandIn(b));
      const emf = logs.reduce((n, [, t]) => n + t.emfBytes, 0);
      const gbPerMillion = ((r.storedBytes / r.sent) * 1e6) / GB;
      const perMonth = gbPerMillion * PRICES.dynamoStorageGbMonth.usd;
      // Settled items expire after the tenant's retention (90 days by default) once written.
      const keptMonths = pace.retentionDays / 30;
      console.log(
        `  ${r.label}: CloudWatch Logs ${perMessage(r.usage.logBytes, r.sent, 0)} bytes per message (EMF ${perMessage(emf, r.sent, 0)}); table and indexes grow ${perMessage(r.storedBytes, r.sent, 0)} bytes per message: ${fmt(gbPerMillion, 2)} GB per 1M messages, ${usd(perMonth)} a month while kept, ${usd(perMonth * keptMonths)} over the default ${pace.retentionDays}-day retention (not in the totals)`,
      );
    }
    const idlePolls = IDLE_POLLERS * (SECONDS_PER_MONTH / LONG_POLL_SECONDS);
    const fixed = [
      ...crons,
      {
        item: `CloudWatch alarms (${infra.alarmMetrics} alarm metrics in infra/)`,
        usd: infra.alarmMetrics * PRICES.cloudwatchAlarmMetricMonth.usd,
      },
      {
        item: `CloudWatch dashboards (${infra.dashboards}; the first 3 of an account are free)`,
        usd: infra.dashboards * PRICES.cloudwatchDashboardMonth.usd,
      },
      {
        item: `custom metrics seen in the EMF of this run (${meter.customMetrics})`,
        usd: meter.customMetrics * PRICES.cloudwatchMetricMonth.usd,
      },
      {
        item: `SQS polling of the 2 queues while idle (estimate: ${IDLE_POLLERS} long polls of ${LONG_POLL_SECONDS} s each)`,
        usd: idlePolls * (PRICES.sqsFifoRequest.usd + PRICES.sqsStandardRequest.usd),
      },
    ];
    const fixedUsd = fixed.reduce((n, f) => n + f.usd, 0);
    printGrid(
      'Fixed monthly costs (apart from the per-message totals)',
      ['item', '$ / month'],
      [...fixed.map((f) => [f.item, usd(f.usd)]), ['total', usd(fixedUsd)]],
      new Set([1]),
    );
    printMonthlyExamples({ core, allIn, single }, fixedUsd, pace.retentionDays);
    const wu = writeUnitsPerMessage(core.usage, core.sent);
    printTable('Cost targets (issue 12)', [
      {
        figure: 'cost per 1M messages (core)',
        target: `<= ${usd(COST_TARGETS.coreUsd)}`,
        measured: usd(core.cost.totalUsd),
        pass: core.cost.totalUsd <= COST_TARGETS.coreUsd,
      },
      {
        figure: 'cost per 1M messages (all-in)',
        target: `<= ${usd(COST_TARGETS.allInUsd)}`,
        measured: usd(allIn.cost.totalUsd),
        pass: allIn.cost.totalUsd <= COST_TARGETS.allInUsd,
      },
      {
        figure: 'DynamoDB write units per sent message (core)',
        target: `<= ${COST_TARGETS.writeUnitsPerMessage}`,
        measured: fmt(wu, 2),
        pass: wu <= COST_TARGETS.writeUnitsPerMessage,
      },
    ]);
    const complete = core.sent === contacts && allIn.sent === contacts && single.sent === singleContacts;
    return { code: complete ? 0 : 1, core, allIn, single };
  } finally {
    for (const close of closers.reverse()) await close();
  }
};

/** The scenario's total per 1M messages with the sender's dollars of `sender` instead of its own. */
const withSenderOf = (r: ScenarioResult, sender: ScenarioResult): number =>
  r.cost.totalUsd - senderUsd(r) + senderUsd(sender);

const senderUsd = (r: ScenarioResult): number =>
  r.cost.lines.find((l) => l.service === 'Lambda compute: sender')?.usd ?? 0;

/** docs/deploy.md's "What a month costs": the run's figures applied to a few kinds of users. */
const printMonthlyExamples = (
  runs: { core: ScenarioResult; allIn: ScenarioResult; single: ScenarioResult },
  fixedUsd: number,
  retentionDays: number,
): void => {
  const figures = (r: ScenarioResult): ScenarioPerMillion => ({
    sharedUsd: r.cost.totalUsd,
    unsharedUsd: withSenderOf(r, runs.single),
    storageGb: ((r.storedBytes / r.sent) * 1e6) / GB,
  });
  const perMillion = { core: figures(runs.core), 'all-in': figures(runs.allIn) };
  const range = ({ low, high }: UsdRange) => (low === high ? usd(low) : `${usd(low)} to ${usd(high)}`);
  printGrid(
    `What a month costs (per-message figures of this run: shared = ${runs.core.instances} instances at once, unshared = one alone; fixed costs; ${retentionDays} days stored)`,
    ['who', 'messages a month', 'scenario', 'per-message part', 'storage', 'fixed', 'total'],
    MONTHLY_PROFILES.map((profile) => {
      const e = monthlyEstimate(profile, perMillion, fixedUsd, retentionDays);
      return [
        profile.who,
        profile.messagesPerMonth.toLocaleString('en-US'),
        `${profile.scenario}, ${profile.sharing}`,
        range(e.perMessage),
        `${fmt(e.storageGb, 2)} GB: ${usd(e.storageUsd)}`,
        usd(e.fixedUsd),
        range(e.total),
      ];
    }),
    new Set([1, 3, 5, 6]),
  );
};

/**
 * The sender's GB-s per message of a scenario, and its dollars per 1M messages: with one instance
 * alone it bills every wait; with a fleet, a batch's groups share them.
 */
export const senderLine = (r: ScenarioResult): string => {
  const t = r.tallies.get('sender');
  const gbs = (t?.gbSeconds ?? 0) / r.sent;
  return `sender GB-s per message with ${r.instances} instance${r.instances === 1 ? '' : 's'}${r.instances > 1 ? ' at once' : ''}: ${fmt(gbs, 4)} (${usd(senderUsd(r))} per 1M messages)`;
};

/** The first three of issue 12's closing lines (the fourth is the ingest bench's). */
export const costLines = (outcome: CostOutcome): string[] =>
  outcome.core && outcome.allIn
    ? [
        `cost per 1M messages (core): ${usd(outcome.core.cost.totalUsd)}`,
        `cost per 1M messages (all-in): ${usd(outcome.allIn.cost.totalUsd)}`,
        `DynamoDB write units per sent message (core): ${fmt(writeUnitsPerMessage(outcome.core.usage, outcome.core.sent), 2)}`,
      ]
    : [];

runIfMain(import.meta.url, async () => {
  // `npm run bench:cost -- --contacts 200` for a quicker look.
  // `-- --instances K` for another fleet size (1: every instance alone, as before the batches).
  // `-- --index-projection KEYS_ONLY`: what the writes and storage would be with keys-only indexes.
  const projectionAt = process.argv.indexOf('--index-projection');
  const projection = projectionAt >= 0 ? process.argv[projectionAt + 1] : undefined;
  if (projection !== undefined && projection !== 'KEYS_ONLY' && projection !== 'ALL')
    throw new Error(`cost bench: --index-projection must be KEYS_ONLY or ALL, got ${projection}`);
  const flag = (name: string, fallback: number) => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const outcome = await runCost(
    flag('--contacts', COST_BENCH_CONTACTS),
    flag('--instances', COST_BENCH_INSTANCES),
    projection,
  );
  console.log('');
  if (outcome.single) console.log(senderLine(outcome.single));
  for (const line of costLines(outcome)) console.log(line);
  return outcome.code;
});
