import { parseArgs } from 'node:util';
import fc from 'fast-check';
import {
  anyRequest,
  describeRequest,
  type FuzzTargets,
  fuzzAgent,
  isServerFault,
  sendFuzzRequest,
} from '../test/support/request-generators.ts';

/**
 * `npm run fuzz -- --requests 10000`: sends generated requests (the generators of the no-5xx
 * property test, test/support/request-generators.ts) to every route of a RUNNING stack and ends
 * with `fuzz: N requests, M 5xx`; exits 1 when M > 0, 2 when the stack cannot be reached.
 * A request with no answer at all counts as a 5xx. Only the webhook's documented 503
 * WEBHOOK_RETRY_LATER is allowed.
 *
 * Environment: BILLING_API_URL (default http://127.0.0.1:3000), BILLING_API_KEY (a valid key:
 * without it, authenticated routes only see the key check), BILLING_WEBHOOK_SECRET (with
 * BILLING_WEBHOOK_TENANT and BILLING_WEBHOOK_INSTANCE, default `demo`/`demo`: webhooks then get
 * past authentication), MAX_BODY_BYTES (the stack's limit, default 1 MiB).
 *
 * With a valid key it creates campaigns and pauses or cancels queues: point it at a stack you
 * can throw away, never at production.
 */

const SHOWN_FAULTS = 5;

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
  },
});

const positive = (name: string, text: string | undefined): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`fuzz: --${name} must be a positive integer, got ${text}`);
    process.exit(2);
  }
  return n;
};

const total = positive('requests', values.requests);
const concurrency = positive('concurrency', values.concurrency);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const baseUrl = (process.env.BILLING_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const apiKey = process.env.BILLING_API_KEY || undefined;
const webhookSecret = process.env.BILLING_WEBHOOK_SECRET || undefined;
const maxBodyBytes = positive('MAX_BODY_BYTES', process.env.MAX_BODY_BYTES ?? '1048576');

const agent = fuzzAgent();

// The stack must answer before anything is counted: a stopped stack is not a 5xx.
const health = await sendFuzzRequest(
  baseUrl,
  { method: 'GET', path: '/health', headers: {}, route: '/health' },
  { agent, timeoutMs: 10_000 },
);
if (health.status === null) {
  console.error(`fuzz: no stack answers at ${baseUrl} (${health.body}); start one with npm start`);
  process.exit(2);
}

/** Queue ids of the key's tenant (first page), so status, control and contacts reach real queues. */
const knownQueueIds = async (): Promise<string[]> => {
  if (!apiKey) return [];
  const answer = await sendFuzzRequest(
    baseUrl,
    {
      method: 'GET',
      path: '/api/v1/billing/queues?limit=20',
      headers: { 'x-billing-api-key': apiKey },
      route: '',
    },
    { agent },
  );
  try {
    const body = JSON.parse(answer.body) as { queues?: Array<{ id?: unknown }> };
    return (body.queues ?? []).flatMap((q) => (typeof q.id === 'string' ? [q.id] : []));
  } catch {
    return [];
  }
};

const targets: FuzzTargets = {
  apiKey,
  queueIds: await knownQueueIds(),
  webhook: webhookSecret
    ? {
        tenantId: process.env.BILLING_WEBHOOK_TENANT || 'demo',
        instanceId: process.env.BILLING_WEBHOOK_INSTANCE || 'demo',
        secret: webhookSecret,
      }
    : undefined,
  maxBodyBytes,
};
const secrets = [apiKey, webhookSecret].filter((s): s is string => s !== undefined);

console.log(
  `fuzz: seed ${seed}, ${total} requests to ${baseUrl} (${apiKey ? 'with' : 'without'} a valid key, ${
    webhookSecret ? 'with' : 'without'
  } a webhook secret, ${targets.queueIds?.length ?? 0} known queues)`,
);

const arbitrary = anyRequest(targets);
const statuses = new Map<string, number>();
let sent = 0;
let faults = 0;
// Generated a chunk at a time (one seed each) so that 1 MiB bodies never pile up in memory.
for (let chunk = 0; sent < total; chunk++) {
  const size = Math.min(concurrency, total - sent);
  const requests = fc.sample(arbitrary, { numRuns: size, seed: seed + chunk });
  const answers = await Promise.all(requests.map((request) => sendFuzzRequest(baseUrl, request, { agent })));
  answers.forEach((answer, i) => {
    const request = requests[i];
    if (!request) return;
    const status = String(answer.status ?? 'no answer');
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (!isServerFault(request, answer)) return;
    faults++;
    if (faults <= SHOWN_FAULTS)
      console.log(
        `5xx #${faults} (chunk ${chunk}, seed ${seed + chunk}): ${describeRequest(request, answer, secrets)}`,
      );
  });
  sent += size;
  if (sent % 1000 < size) console.log(`fuzz: ${sent}/${total} sent, ${faults} 5xx so far`);
}
agent.destroy();

const byStatus = [...statuses.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`);
console.log(`statuses: ${byStatus.join(', ')}`);
console.log(`fuzz: ${sent} requests, ${faults} 5xx`);
process.exit(faults > 0 ? 1 : 0);
