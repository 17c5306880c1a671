import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusMetrics } from '../../lib/adapters/metrics/prometheus-metrics.ts';
import { createSqsQueue } from '../../lib/adapters/queue/sqs-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import {
  createStoreBackedScheduler,
  type StoreBackedScheduler,
} from '../../lib/adapters/scheduler/store-backed-scheduler.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import { addInstance } from '../../lib/app/add-instance.ts';
import { controlQueue } from '../../lib/app/control-queue.ts';
import { createCampaign } from '../../lib/app/create-campaign.ts';
import { createTenant } from '../../lib/app/create-tenant.ts';
import { releaserOf } from '../../lib/app/release-work.ts';
import { runQueue } from '../../lib/app/run-queue.ts';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import { sweep } from '../../lib/app/sweep.ts';
import { type Container, createContainer } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import type { BillingQueue, TemplateType } from '../../lib/domain/types.ts';
import { ensureWorkQueues, startEmbeddedSqs } from '../../lib/local/embedded-sqs.ts';
import {
  type EvolutionSimulator,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Scheduler } from '../../lib/ports/scheduler.ts';
import type { WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { createTestDocumentClient, createTestDynamoDbClient, startDynalite } from '../support/dynalite.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Time is driven through the Clock port: the pump's waits advance a manual clock, so a Friday
 * evening and the next business morning pass in milliseconds. Real store, queue and gateway.
 */
const manualClock = (start: string) => {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    set: (iso: string) => {
      now = new Date(iso).getTime();
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
};

describe('sending inside business hours', () => {
  const stops: Array<() => Promise<void> | void> = [];
  let simulator: EvolutionSimulator;
  let c: Container;
  let clock: ReturnType<typeof manualClock>;
  let scheduler: StoreBackedScheduler;
  let workQueue: WorkQueue;
  /** Clock time of every send the gateway accepted, with the number. */
  const sends: Array<{ at: string; number: string }> = [];
  /** Runs after each accepted send (a test may flip the instance's state there). */
  let afterSend: () => void = () => undefined;
  let tenantCount = 0;

  beforeAll(async () => {
    const dynamo = await startDynalite();
    stops.push(() => dynamo.stop());
    const raw = createTestDynamoDbClient(dynamo.endpoint);
    await ensureTable(raw, 'billing');
    const doc = createTestDocumentClient(dynamo.endpoint);
    simulator = await startEvolutionSimulator();
    stops.push(() => simulator.close());
    const sqs = await startEmbeddedSqs();
    stops.push(() => sqs.close());
    const sqsClient = new SQSClient({
      region: 'local',
      endpoint: sqs.endpoint,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const { queueUrl } = await ensureWorkQueues(sqsClient, { name: 'hours' });
    workQueue = createSqsQueue({ client: sqsClient, queueUrl, codec: workItemCodec, waitTimeSeconds: 1 });

    clock = manualClock('2026-12-04T20:59:00Z');
    const store = createDynamoDbStore({ client: doc, tableName: 'billing', clock });
    const base = createContainer(loadConfig({ LOG_LEVEL: 'SILENT' }), {
      store,
      clock,
      workQueue,
      logger: createLogger('SILENT'),
      random: () => 0,
      // The pump's pacing waits move the clock instead of the wall time.
      sleep: async (ms) => clock.advance(ms),
    });
    const recording: WhatsAppGateway = {
      sendText: async (target, number, text) => {
        const outcome = await base.gateway.sendText(target, number, text);
        if (outcome.kind === 'sent') sends.push({ at: clock.now().toISOString(), number });
        afterSend();
        return outcome;
      },
      connectionState: (target) => base.gateway.connectionState(target),
    };
    scheduler = createStoreBackedScheduler({
      store,
      clock,
      release: releaserOf({ store, workQueue, clock }),
    });
    c = { ...base, gateway: recording, scheduler };
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  /** A tenant at 2 messages a minute, weekdays 09:00-18:00 São Paulo, closed on `closedDates`. */
  const newTenant = async (closedDates: string[] = []) => {
    tenantCount += 1;
    const id = `hours-${tenantCount}`;
    await createTenant(c, { id, config: { messagesPerMinute: 2, minIntervalSeconds: 0, jitterSeconds: 0 } });
    await setBusinessHours(c, id, {
      timezone: 'America/Sao_Paulo',
      weekly: Object.fromEntries([1, 2, 3, 4, 5].map((d) => [d, [{ start: '09:00', end: '18:00' }]])),
      nationalHolidays: true,
      closedDates,
    });
    for (const type of ['overdue', 'notification'] as const) {
      await setTemplate(c, id, type, { variations: ['{{nome_cliente}}: {{valor}} {{mensagem}}'] });
    }
    await addInstance(c, {
      tenantId: id,
      instanceName: 'demo',
      baseUrl: simulator.url,
      credentialRef: `plain:${simulator.apiKey}`,
    });
    const tenant = await c.store.getTenant(id);
    if (!tenant) throw new Error('tenant not created');
    return tenant;
  };

  const post = async (tenantId: string, type: TemplateType, count: number, first: number) => {
    const tenant = await c.store.getTenant(tenantId);
    if (!tenant) throw new Error('no tenant');
    const contacts = Array.from({ length: count }, (_, i) => ({
      nome_cliente: `Cliente ${i}`,
      telefone: `1199${String(first + i).padStart(7, '0')}`,
      valor: 'R$ 10,00',
      data_vencimento: '01/11/2026',
      mensagem: 'aviso',
    }));
    const { campaign } = await createCampaign(c, {
      tenant,
      apiKey: { id: 'k' } as never,
      templateType: type,
      externalId: `x-${tenantId}-${first}`,
      contacts,
      callbackUrl: null,
      callbackEvents: [],
      metadata: {},
      canonicalBody: { first, type },
    });
    return campaign.queueId;
  };

  const queueOf = async (id: string): Promise<BillingQueue> => {
    const q = await c.store.getQueue(id);
    if (!q) throw new Error('queue missing');
    return q;
  };
  const item = (q: BillingQueue): WorkItem => ({
    queueId: q.id,
    tenantId: q.tenantId,
    instanceId: q.instanceId ?? 'none',
    generation: q.publishGeneration,
  });
  const options = { budgetMs: 7 * 86_400_000, leaseMs: 60_000, gatewayTimeoutMs: 15_000 };

  it('sends 2 on Friday 17:59 at 2 a minute and the rest at the next opening, skipping a holiday Monday', async () => {
    // Prepare: Friday 2026-12-04 17:59 in São Paulo; Monday 2026-12-07 is a closed date
    clock.set('2026-12-04T20:59:00Z');
    const tenant = await newTenant(['2026-12-07']);
    const queueId = await post(tenant.id, 'overdue', 5, 0);
    sends.length = 0;

    // Act: the pump runs until closing time
    const first = await runQueue(c, item(await queueOf(queueId)), options);
    const friday = await queueOf(queueId);

    // Assess: two before 18:00, then scheduled for Tuesday 09:00 (random 0 = no start jitter)
    expect(first).toBe('scheduled');
    expect(sends.map((s) => s.at)).toEqual(['2026-12-04T20:59:00.000Z', '2026-12-04T20:59:30.000Z']);
    expect(friday).toMatchObject({
      status: 'scheduled',
      nextRunAt: '2026-12-08T12:00:00.000Z',
      contactsSent: 2,
    });

    // Act: nothing fires during the weekend or on the holiday
    clock.set('2026-12-08T11:59:59Z');
    expect(await scheduler.fireDue()).toBe(0);
    // ...and at the opening the schedule publishes the work item, which the pump runs
    clock.set('2026-12-08T12:00:00Z');
    expect(await scheduler.fireDue()).toBe(1);
    const consumer = await workQueue.consume(
      async (d) => {
        if (d.item.queueId === queueId) await runQueue(c, d.item, options);
      },
      { concurrency: 1 },
    );
    stops.push(() => consumer.stop());
    const done = await waitFor(
      async () => (await queueOf(queueId)).status === 'completed' && queueOf(queueId),
      {
        timeoutMs: 15_000,
        what: 'the queue to complete on Tuesday',
      },
    );

    // Assess: the other three went Tuesday from 09:00, 30 s apart, each number once
    expect(sends.slice(2).map((s) => s.at)).toEqual([
      '2026-12-08T12:00:00.000Z',
      '2026-12-08T12:00:30.000Z',
      '2026-12-08T12:01:00.000Z',
    ]);
    expect(new Set(sends.map((s) => s.number)).size).toBe(5);
    expect(done).toMatchObject({ contactsSent: 5, totalContacts: 5 });
  });

  it('sends a notification posted on Sunday at 03:00 at once, arming its delivery watch', async () => {
    clock.set('2026-11-29T06:00:00Z');
    const tenant = await newTenant();
    const queueId = await post(tenant.id, 'notification', 1, 100);
    sends.length = 0;
    const armed: string[] = [];
    const deliveryWatch = { arm: async (id: string, at: string) => void armed.push(`${id} ${at}`) };

    const result = await runQueue({ ...c, deliveryWatch }, item(await queueOf(queueId)), options);

    expect(result).toBe('completed');
    expect(sends.map((s) => s.at)).toEqual(['2026-11-29T06:00:00.000Z']);
    // After the send, and again at completion (covers a pump that died before arming).
    expect(armed).toEqual([`${queueId} 2026-11-29T06:00:00.000Z`, `${queueId} 2026-11-29T06:00:00.000Z`]);
  });

  it('keeps a queue paused in a closed window and resumed scheduled until the opening', async () => {
    // Saturday 2026-12-05 10:00 in São Paulo
    clock.set('2026-12-05T13:00:00Z');
    const tenant = await newTenant();
    const queueId = await post(tenant.id, 'overdue', 2, 200);
    sends.length = 0;
    expect(await runQueue(c, item(await queueOf(queueId)), options)).toBe('scheduled');

    await controlQueue(c, tenant.id, queueId, 'pause');
    const resumed = await controlQueue(c, tenant.id, queueId, 'resume');
    const afterResume = await runQueue(c, item(await queueOf(queueId)), options);

    expect(resumed.queue.status).toBe('pending');
    expect(afterResume).toBe('scheduled');
    expect(await queueOf(queueId)).toMatchObject({
      status: 'scheduled',
      nextRunAt: '2026-12-07T12:00:00.000Z',
    });
    expect(sends).toHaveLength(0);
  });

  it('parks a queue in instance_down when the instance drops mid-run and finishes it by itself when it is back', async () => {
    // Prepare: a notification queue of 6; the instance closes after the second accepted send
    clock.set('2026-12-09T15:00:00Z');
    const tenant = await newTenant();
    const queueId = await post(tenant.id, 'notification', 6, 300);
    sends.length = 0;
    afterSend = () => {
      if (sends.length === 2) simulator.setState('demo', 'close');
    };

    // Act
    const result = await runQueue(c, item(await queueOf(queueId)), options);
    const down = await queueOf(queueId);

    // Assess: stopped after repeated failures, nothing lost, a re-check in a minute
    expect(result).toBe('instance_down');
    expect(down.status).toBe('instance_down');
    expect(down.pauseReason).toMatch(/desconectada .*close.*1 min/);
    expect(down.contactsSent).toBe(2);
    expect(down.contactsSent + down.contactsPendingRetry + down.contactsFailed).toBeLessThanOrEqual(6);
    expect(down.contactsFailed).toBe(0);

    // Act: still down at the first re-check -> next re-check later; then the instance is back
    clock.advance(60_000);
    // (other tests' schedules share the store, so at least this one fires)
    expect(await scheduler.fireDue()).toBeGreaterThanOrEqual(1);
    const stillDown = await runQueue(c, { ...item(await queueOf(queueId)) }, options);
    expect(stillDown).toBe('instance_down');
    expect((await queueOf(queueId)).pauseReason).toMatch(/2 min/);
    afterSend = () => undefined;
    simulator.setState('demo', 'open');
    clock.advance(2 * 60_000);
    expect(await scheduler.fireDue()).toBeGreaterThanOrEqual(1);
    const finished = await runQueue(c, item(await queueOf(queueId)), options);
    const done = await queueOf(queueId);

    // Assess: completed by itself, every contact exactly once
    expect(finished).toBe('completed');
    expect(done).toMatchObject({
      status: 'completed',
      contactsSent: 6,
      contactsPendingRetry: 0,
      pauseReason: '',
    });
    expect(sends).toHaveLength(6);
    expect(new Set(sends.map((s) => s.number)).size).toBe(6);
  });

  it('falls back to the sweeper when the scheduler cannot create a schedule: the queue still starts at its window', async () => {
    // Prepare: Saturday 10:00 in São Paulo; EventBridge throttles every schedule.
    clock.set('2026-12-12T13:00:00Z');
    const tenant = await newTenant();
    const queueId = await post(tenant.id, 'overdue', 2, 400);
    sends.length = 0;
    const metrics = createPrometheusMetrics();
    const throttled = async (): Promise<never> => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const failing: Scheduler = { schedule: throttled, cancel: throttled };
    const withoutScheduler: Container = { ...c, scheduler: failing, metrics };
    const graceMs = 60_000;

    // Act: the pump defers to Monday's opening, but no schedule can be made.
    const deferred = await runQueue(withoutScheduler, item(await queueOf(queueId)), options);
    const waiting = await queueOf(queueId);
    clock.set('2026-12-14T12:00:00Z');
    const atOpening = await sweep(withoutScheduler, { graceMs });
    clock.set('2026-12-14T12:01:00Z');
    const afterGrace = await sweep(withoutScheduler, { graceMs });
    // The work item the sweeper published is run (the first test's consumer takes items off this
    // shared queue, so the pump is called with the queue's current item).
    const ran = await runQueue(withoutScheduler, item(await queueOf(queueId)), options);
    const done = await queueOf(queueId);

    // Assess: scheduled with its opening kept as nextRunAt, published by the sweeper once its
    // grace passed, sent on Monday from 09:01, each number once; the outage counted.
    expect(deferred).toBe('scheduled');
    expect(waiting).toMatchObject({ status: 'scheduled', nextRunAt: '2026-12-14T12:00:00.000Z' });
    expect(atOpening.republished).not.toContain(queueId);
    expect(afterGrace.republished).toContain(queueId);
    expect(ran).toBe('completed');
    expect(done).toMatchObject({ status: 'completed', contactsSent: 2 });
    expect(sends.every((s) => s.at >= '2026-12-14T12:01:00.000Z')).toBe(true);
    expect(new Set(sends.map((s) => s.number)).size).toBe(2);
    expect(metrics.render()).toMatch(
      /billing_dependency_failures_total\{dependency="scheduler",operation="schedule"\} 1\n/,
    );
  });
});
