import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureTenant } from '../../lib/app/configure-tenant.ts';
import { DEMO_TENANT_ID } from '../../lib/app/seed-demo-tenant.ts';
import { OPERATIONS } from '../../lib/http/routes/index.ts';
import type { WorkQueue } from '../../lib/ports/work-queue.ts';
import { API, startTestStack, type TestStack } from '../support/local-stack.ts';
import {
  anyRequest,
  describeRequest,
  type FuzzAnswer,
  type FuzzRequest,
  type FuzzTargets,
  fuzzAgent,
  isServerFault,
  sendFuzzRequest,
} from '../support/request-generators.ts';

/**
 * Property: no request, whatever its route, method, key, path, query, content type or body (random
 * JSON, JSON nested thousands of levels deep, wrong types, sizes around the limit, not JSON at
 * all), gets a 5xx from the local stack over HTTP. The one allowed exception is the webhook's
 * documented 503 WEBHOOK_RETRY_LATER (see isServerFault). `npm run fuzz` runs the same generators
 * against a running stack.
 */

const RUNS = 80;
const REQUESTS_PER_RUN = 25;
// Small enough that near-limit bodies stay cheap, big enough for bodies nested 10,000 deep.
const MAX_BODY_BYTES = 65_536;

let s: TestStack;
let targets: FuzzTargets;
const agent = fuzzAgent();

/** Work items are recorded, not sent: accepted batches must not start sending during the fuzz. */
const recordingQueue: WorkQueue = {
  publish: async () => undefined,
  consume: async () => ({ stop: async () => undefined }),
  reachability: async () => 'ok' as const,
  close: async () => undefined,
};

beforeAll(async () => {
  s = await startTestStack({
    env: { MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
    roles: { api: true, worker: false },
    workQueue: recordingQueue,
  });
  // The demo tenant: a key whose hourly limit hides nothing behind a 429, a queue, an instance.
  await configureTenant(s.container, DEMO_TENANT_ID, { apiRateLimitPerHour: 1_000_000 });
  const accepted = await s.post(`${API}/send/notification`, {
    external_id: 'fuzz-seed',
    contacts: [{ nome_cliente: 'Ana', telefone: '+5511987654321', mensagem: 'Olá' }],
  });
  expect(accepted.status).toBe(200);
  const instance = await s.container.store.getInstance(DEMO_TENANT_ID, 'demo');
  if (!instance) throw new Error('the demo tenant has no instance');
  targets = {
    apiKey: s.demoKey,
    queueIds: [accepted.body.queue_id as string],
    webhook: { tenantId: DEMO_TENANT_ID, instanceId: instance.id, secret: instance.webhookSecret },
    maxBodyBytes: MAX_BODY_BYTES,
  };
}, 30_000);

afterAll(async () => {
  agent.destroy();
  await s?.close();
});

describe('deeply nested bodies', () => {
  it('answers 400 JSON_TOO_DEEP to the 10 KB body with metadata nested 5000 levels (it got a 500)', async () => {
    // Prepare: the body of the report, a valid batch whose metadata nests 5000 objects
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const raw = `{"contacts":[{"nome_cliente":"Ana","telefone":"+5511987654321","mensagem":"Olá"}],"metadata":${deep}}`;

    // Act
    const answer = await s.post(`${API}/send/notification`, undefined, { raw });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ success: false, code: 'JSON_TOO_DEEP' });
    expect(answer.body.message).toBe('JSON aninhado demais no corpo da requisição (máximo 64 níveis)');
  });

  it('answers 400 JSON_TOO_DEEP on every route that reads a body (the webhook: 200 ignored), at 65 levels but not at 64', async () => {
    // Prepare
    const nested = (depth: number) => `${'['.repeat(depth - 1)}{"action":"pause"}${']'.repeat(depth - 1)}`;
    const paths = [
      `${API}/send/overdue`,
      `${API}/queue/${targets.queueIds?.[0]}/control`,
      `${API}/optouts`,
      `${API}/webhooks/evolution/${DEMO_TENANT_ID}/demo`,
    ];
    const headers = { 'x-webhook-secret': targets.webhook?.secret ?? '' };

    // Act
    const tooDeep = await Promise.all(paths.map((p) => s.post(p, undefined, { raw: nested(65), headers })));
    const deepEnough = await Promise.all(
      paths.map((p) => s.post(p, undefined, { raw: nested(64), headers })),
    );

    // Assess
    // An authenticated webhook is never refused with a 4xx (Evolution would drop it for good).
    expect(tooDeep.map((a) => [a.status, a.body.code ?? a.body.result])).toEqual([
      [400, 'JSON_TOO_DEEP'],
      [400, 'JSON_TOO_DEEP'],
      [400, 'JSON_TOO_DEEP'],
      [200, 'ignored'],
    ]);
    for (const answer of deepEnough) expect(answer.body.code).not.toBe('JSON_TOO_DEEP');
    for (const answer of deepEnough) expect(answer.status).toBeLessThan(500);
  });
});

describe('every route (property)', () => {
  it('never answers 5xx to any request', async () => {
    const routesSeen = new Set<string>();
    const statuses = new Map<number, number>();
    let faults: string[] = [];

    const property = fc.asyncProperty(
      fc.array(anyRequest(targets), { minLength: REQUESTS_PER_RUN, maxLength: REQUESTS_PER_RUN }),
      async (requests: FuzzRequest[]) => {
        // Act
        const answers: FuzzAnswer[] = await Promise.all(
          requests.map((request) => sendFuzzRequest(s.url, request, { agent })),
        );

        // Assess
        faults = [];
        answers.forEach((answer, i) => {
          const request = requests[i] as FuzzRequest;
          routesSeen.add(`${request.method} ${request.route}`);
          statuses.set(answer.status ?? 0, (statuses.get(answer.status ?? 0) ?? 0) + 1);
          if (isServerFault(request, answer))
            faults.push(
              describeRequest(request, answer, [targets.apiKey ?? '', targets.webhook?.secret ?? '']),
            );
        });
        expect(faults).toEqual([]);
      },
    );
    // A batch of 25 requests is too big to shrink in time: stop at the first failing batch and
    // show its failing requests with the seed to replay them.
    const details = await fc.check(property, { numRuns: RUNS, endOnFailure: true });
    const failure = details.failed ? `seed ${details.seed}: ${faults.join('\n')}` : undefined;
    expect(failure).toBeUndefined();

    // Assess: every route was reached with its own method, and the answers were not all alike
    for (const route of OPERATIONS) expect(routesSeen, route.path).toContain(`${route.method} ${route.path}`);
    expect([...statuses.keys()].filter((status) => status >= 200 && status < 300).length).toBeGreaterThan(0);
    for (const status of [400, 401, 404, 413, 415])
      expect(statuses.get(status) ?? 0, String(status)).toBeGreaterThan(0);
  }, 120_000);
});
