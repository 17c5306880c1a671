import { parseArgs } from 'node:util';
import { createDynamoDbStore } from '../lib/adapters/store/dynamodb-store.ts';
import { API_TIMEOUT_SECONDS } from '../lib/app/api-timeout.ts';
import { forEachBounded } from '../lib/app/bounded.ts';
import { DEMO_TENANT_ID } from '../lib/app/seed-demo-tenant.ts';
import { newBillingContact, newBillingQueue } from '../lib/domain/billing-queue.ts';
import type { Campaign } from '../lib/domain/types.ts';
import {
  API,
  BENCH_DEMO_KEY,
  countDynamoRequests,
  diffCounts,
  fmt,
  machineLine,
  printGrid,
  printTable,
  runIfMain,
  startBenchStack,
  sumCounts,
} from './ingest.ts';

/**
 * Erasure benchmark (`npm run bench:erasure`): the LGPD erasure of one phone (DELETE
 * /debtors/{telefone} over HTTP, repeated while it answers `complete: false`) on a tenant with a long
 * history: `--queues` one-contact batches (default 30,000: about 330 a day kept 90 days), the phone
 * in one batch of every thousand. The store is the local stack's DynamoDB emulator with
 * `--latency-ms` added to every request (default 10: a round trip to DynamoDB within a region for a
 * page of items; a single small item comes back faster), so the walk takes about the time it would
 * on AWS rather than the emulator's. Prints each request and how long the longest took beside the
 * API's 29 s; asserts nothing about time, exits 1 when the erasure does not complete or misses a
 * contact.
 */

const PHONE = '+5511988887777';
/** The phone is in one batch of every `PHONE_EVERY`. */
const PHONE_EVERY = 1000;
const SEED_CONCURRENCY = 32;

/** What the bench reads of an erasure's answer. */
interface ErasureAnswer {
  complete: boolean;
  queues_checked: number;
  erased: { contacts: number };
}
/** More requests than this and the erasure is not getting anywhere. */
const MAX_REQUESTS = 100;

const args = () =>
  parseArgs({
    options: {
      queues: { type: 'string', default: '30000' },
      'latency-ms': { type: 'string', default: '10' },
    },
  }).values;

/** A one-contact batch of the demo tenant, as the accept stores it, created a day before the erasure. */
const batch = (n: number, createdAt: string) => {
  const id = `bench-q${String(n).padStart(6, '0')}`;
  const phone = n % PHONE_EVERY === 0 ? PHONE : `+55119${String(70_000_000 + n).padStart(8, '0')}`;
  const campaign: Campaign = {
    id: `camp-${id}`,
    tenantId: DEMO_TENANT_ID,
    externalId: `ext-${id}`,
    templateType: 'overdue',
    queueId: id,
    requestHash: 'h',
    apiKeyId: 'bench',
    callbackUrl: null,
    callbackEvents: [],
    metadata: {},
    state: 'created',
    leaseUntil: createdAt,
    owner: 'bench',
    plan: { seed: 1, uses: {} },
    quotaReserved: true,
    accepted: 1,
    rejected: [],
    estimatedDurationMinutes: 1,
    scheduledStart: null,
    createdAt,
  };
  const queue = newBillingQueue({
    id,
    tenantId: DEMO_TENANT_ID,
    campaignId: campaign.id,
    externalId: campaign.externalId,
    templateType: 'overdue',
    instanceId: 'demo-instance',
    status: 'completed',
    totalContacts: 1,
    contactsSent: 1,
    contactsPendingRetry: 0,
    createdAt,
  });
  const contact = newBillingContact({
    queueId: id,
    tenantId: DEMO_TENANT_ID,
    position: 0,
    phone,
    name: 'Cliente',
    invoiceNumber: `NF-${n}`,
    variables: { nome_cliente: 'Cliente', numero_fatura: `NF-${n}` },
    variationId: 'v1',
    renderedMessage: `Olá Cliente, a fatura NF-${n} venceu`,
    createdAt,
    status: 'sent',
    attempts: 1,
    sentAt: createdAt,
    providerMessageId: `3EB0-${id}`,
  });
  return { campaign, queue, contact };
};

export const runErasure = async (): Promise<number> => {
  const options = args();
  const queues = Number(options.queues);
  const latencyMs = Number(options['latency-ms']);
  console.log(machineLine());
  const bench = await startBenchStack({ roles: { api: true, worker: false } });
  try {
    const { container } = bench.stack;
    // The batches are stored a day before the erasure, by a store on a clock of that day: the
    // erasure then finds them as it would on a tenant with a history (through the index walk).
    const dayBefore = new Date(Date.now() - 24 * 60 * 60_000);
    const seeding = createDynamoDbStore({
      client: container.dynamo,
      tableName: container.config.TABLE_NAME,
      clock: { now: () => dayBefore },
    });
    const seedStarted = performance.now();
    await forEachBounded(
      Array.from({ length: queues }, (_, n) => n),
      SEED_CONCURRENCY,
      async (n) => {
        const { campaign, queue, contact } = batch(n, dayBefore.toISOString());
        await seeding.createCampaign(campaign);
        await seeding.createQueue(queue);
        await seeding.putFreshContacts([contact]);
      },
    );
    console.log(`seeded ${queues} one-contact batches in ${fmt((performance.now() - seedStarted) / 1000)} s`);

    let latencyOn = false;
    container.dynamo.middlewareStack.add(
      (next) => async (request) => {
        if (latencyOn) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        return next(request);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'benchStoreLatency' },
    );
    const counter = countDynamoRequests(container.dynamo);
    latencyOn = true;

    const rows: string[][] = [];
    const times: number[] = [];
    let last: ErasureAnswer | undefined;
    for (let request = 1; request <= MAX_REQUESTS && !last?.complete; request++) {
      const before = counter.snapshot();
      const started = performance.now();
      const response = await fetch(`${bench.stack.url}${API}/debtors/${encodeURIComponent(PHONE)}`, {
        method: 'DELETE',
        headers: { 'X-Billing-API-Key': BENCH_DEMO_KEY },
      });
      const ms = performance.now() - started;
      const body = (await response.json()) as ErasureAnswer;
      if (response.status !== 200)
        throw new Error(`erasure answered ${response.status}: ${JSON.stringify(body)}`);
      last = body;
      times.push(ms);
      const requests = sumCounts(diffCounts(counter.snapshot(), before));
      rows.push([
        String(request),
        fmt(ms / 1000, 2),
        String(body.queues_checked),
        String(body.erased.contacts),
        String(requests),
        String(body.complete),
      ]);
    }
    latencyOn = false;
    printGrid(
      `DELETE /debtors/{telefone}, ${queues} batches, ${latencyMs} ms a store request`,
      [
        'request',
        'seconds',
        'queues checked (total)',
        'contacts erased (total)',
        'store requests',
        'complete',
      ],
      rows,
      new Set([0, 1, 2, 3, 4]),
    );
    const expected = Math.ceil(queues / PHONE_EVERY);
    const longest = Math.max(...times);
    const total = times.reduce((a, b) => a + b, 0);
    printTable('erasure', [
      {
        figure: 'longest request',
        target: `< ${API_TIMEOUT_SECONDS} s (the API's limit)`,
        measured: `${fmt(longest / 1000, 2)} s`,
        pass: longest < API_TIMEOUT_SECONDS * 1000,
      },
      { figure: 'requests to complete', target: '', measured: String(times.length) },
      { figure: 'all requests together', target: '', measured: `${fmt(total / 1000, 1)} s` },
      { figure: 'queues walked a second', target: '', measured: fmt(queues / (total / 1000), 0) },
      {
        figure: 'contacts erased',
        target: String(expected),
        measured: String(last?.erased.contacts ?? 0),
        pass: last?.erased.contacts === expected,
      },
    ]);
    return last?.complete && last.erased.contacts === expected ? 0 : 1;
  } finally {
    await bench.close();
  }
};

runIfMain(import.meta.url, runErasure);
