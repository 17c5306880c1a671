import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvolutionGateway } from '../../lib/adapters/gateway/evolution-gateway.ts';
import { addInstance, setInstanceActive } from '../../lib/app/add-instance.ts';
import { workItemOf } from '../../lib/app/queue-work.ts';
import type { SimSentMessage } from '../../lib/local/evolution-simulator/index.ts';
import {
  FAST_PACE,
  type QueueDriver,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';

/**
 * Exactly once where the first version broke (issue 10): work parked without a way out, two
 * pumps on one instance when a lease ran out during a slow send, and counters a cancel left wrong.
 * Every suite here runs on a DynamoDB whose eventually consistent reads lag.
 */

const numbersOf = (log: readonly SimSentMessage[]) => log.map((m) => m.number).sort();

/** A tenant with no WhatsApp instance of ours yet (the simulator has one ready for it). */
const tenantWithoutInstance = async (s: SendingStack): Promise<SendingTenant> => {
  const created = await s.test.createTenant({ config: FAST_PACE });
  const tenant = { ...created, instance: `inst-${created.tenantId}` };
  s.simulator.upsertInstance(tenant.instance, { state: 'open' });
  return tenant;
};

const connect = (s: SendingStack, tenant: SendingTenant, id = tenant.instance) =>
  addInstance(s.test.container, {
    tenantId: tenant.tenantId,
    id,
    instanceName: id,
    baseUrl: s.simulator.url,
    credentialRef: `plain:${s.simulator.apiKey}`,
    // An old number: these tests send more than a first warm-up day allows.
    warmup: { enabled: false },
  });

describe.each<QueueDriver>(['sqs'])('work never parks without a way out (%s driver)', (driver) => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack(driver);
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('accepts a batch while the tenant has no instance, parks it with a re-check, and starts it once one is added', async () => {
    // Prepare
    const tenant = await tenantWithoutInstance(s);

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 3);
    const parked = await s.waitForStatus(tenant, queueId, ['instance_down'], 10_000);
    // Waking finds parked queues through an index: one parked a moment ago may only show there
    // shortly after (it would then start at its own re-check, a minute later).
    await s.dynamo?.catchUp();
    await connect(s, tenant);
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 15_000);

    // Assess
    expect(parked.pause_reason).toMatch(
      /^Nenhuma instância WhatsApp ativa para esta fila; nova verificação em 1 min$/,
    );
    expect(Date.parse(parked.next_run_at)).toBeGreaterThan(Date.now());
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 3, pause_reason: '' });
    expect(numbersOf(s.sent(tenant))).toEqual([...numbers].sort());
  }, 40_000);

  it("sends through the tenant's other active instance when the queue's own was deactivated", async () => {
    // Prepare: two instances; the first one (the queue's at accept time) is then switched off.
    const tenant = await s.tenant();
    const spare = `${tenant.instance}-b`;
    s.simulator.upsertInstance(spare, { state: 'open' });
    await connect(s, tenant, spare);
    s.simulator.setState(tenant.instance, 'close');
    const { queueId } = await s.sendBatch(tenant, 2);
    await s.waitForStatus(tenant, queueId, ['instance_down'], 10_000);

    // Act
    await setInstanceActive(s.test.container, tenant.tenantId, tenant.instance, false);
    await s.control(tenant, queueId, 'resume');
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 15_000);

    // Assess
    expect(done.contacts_sent).toBe(2);
    expect(s.simulator.sent().filter((m) => m.instance === spare)).toHaveLength(2);
    expect(s.sent(tenant)).toHaveLength(0);
  }, 40_000);

  it('leaves a contact untouched, then sends it, when the opt-out check fails before its claim', async () => {
    // Prepare: the store fails the first opt-out check of the run (a blip of DynamoDB): the read
    // of the tenant's opt-out stamp, the check's first request (this tenant has no opt-outs, so
    // it looks no phone up).
    const tenant = await s.tenant();
    const store = s.test.container.store;
    const optOutStamp = store.optOutStamp;
    let failures = 0;
    store.optOutStamp = async (...args) => {
      if (failures++ === 0) throw new Error('blip: the opt-out check failed');
      return optOutStamp.apply(store, args);
    };
    try {
      // Act
      const { queueId, numbers } = await s.sendBatch(tenant, 3);
      const done = await s.waitForStatus(tenant, queueId, ['completed'], 50_000);

      // Assess: nobody was left `unknown` by a claim whose send never happened.
      expect(failures).toBeGreaterThan(1);
      expect(done).toMatchObject({ contacts_sent: 3, contacts_unknown: 0 });
      expect(numbersOf(s.sent(tenant))).toEqual([...numbers].sort());
    } finally {
      store.optOutStamp = optOutStamp;
    }
  }, 60_000);

  it('takes cancelled retries out of contacts_pending_retry', async () => {
    // Prepare: the only contact fails once and waits a minute for its retry.
    const tenant = await s.tenant({ ...FAST_PACE, retryBackoffSeconds: 60 });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'http500', count: 1 });
    const { queueId } = await s.sendBatch(tenant, 1);
    await s.waitForStatus(tenant, queueId, ['scheduled', 'running'], 10_000);
    await expect
      .poll(async () => (await s.status(tenant, queueId)).contacts_pending_retry, { timeout: 10_000 })
      .toBe(1);

    // Act
    const cancelled = await s.control(tenant, queueId, 'cancel');

    // Assess
    expect(cancelled.status).toBe(200);
    expect(await s.status(tenant, queueId)).toMatchObject({
      status: 'cancelled',
      contacts_cancelled: 1,
      contacts_pending_retry: 0,
    });
  }, 30_000);
});

describe('the instance lease is a real lock (rabbitmq driver, no message groups)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    // A 6 s lease and sends that take 10 s (Evolution holds sendText open for its `delay`, the
    // typing presence; the client's timeout is 16 s): the configured lease runs out while a send is
    // still in flight.
    s = await startSendingStack('rabbitmq', {
      env: { SENDER_LEASE_SECONDS: '6', SENDER_BUDGET_SECONDS: '60', GATEWAY_TIMEOUT_MS: '16000' },
      gateway: createEvolutionGateway({ timeoutMs: 16_000, delayMs: 10_000 }),
    });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('never takes an in-flight send for abandoned, even when the same work item runs twice', async () => {
    // Prepare: `retry` policy, so a claim wrongly taken for abandoned would be sent again.
    const tenant = await s.tenant({ ...FAST_PACE, ambiguousSendPolicy: 'retry' });

    // Act: a second copy of the work item makes a second pump wait for the lease meanwhile.
    const { queueId, numbers } = await s.sendBatch(tenant, 2);
    const queue = await s.test.container.store.getQueue(queueId);
    if (!queue) throw new Error('queue not stored');
    await s.test.container.workQueue.publish(workItemOf(queue, 1000));
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 50_000);

    // Assess: each debtor once, counted once.
    expect(numbersOf(s.sent(tenant))).toEqual([...numbers].sort());
    expect(done).toMatchObject({ contacts_sent: 2, contacts_unknown: 0, contacts_pending_retry: 0 });
  }, 70_000);
});
