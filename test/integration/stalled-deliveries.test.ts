import { describe, expect, it } from 'vitest';
import { readEvolutionWebhook } from '../../lib/adapters/gateway/evolution-webhook-events.ts';
import { createPrometheusMetrics } from '../../lib/adapters/metrics/prometheus-metrics.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { type ApplyGatewayEventsDeps, applyGatewayEvents } from '../../lib/app/apply-gateway-events.ts';
import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { createTenant } from '../../lib/app/create-tenant.ts';
import { createDeliveryWatchArmer } from '../../lib/app/delivery-watch.ts';
import { type SweepDeps, sweep } from '../../lib/app/sweep.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import { retentionEnd } from '../../lib/domain/retention.ts';
import type { WhatsAppInstance } from '../../lib/domain/tenant-types.ts';
import type { CallbackEvent, Campaign } from '../../lib/domain/types.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { createTestClock } from '../support/local-stack.ts';

const db = useDynalite();

const T0 = '2026-03-02T13:00:00.000Z';
const MINUTE = 60_000;
const TENANT = 'acme-stall';

const instance: WhatsAppInstance = {
  id: 'inst-1',
  tenantId: TENANT,
  instanceName: 'inst-1',
  baseUrl: 'http://evolution.local',
  credentialRef: 'plain:k',
  webhookSecret: 's',
  isActive: true,
  connectionState: 'open',
  createdAt: T0,
};

/**
 * The sweeper, the webhook intake and the sender's sends over one dynalite table with a
 * clock the test moves: what a queue's contacts look like to stall detection, minute by minute.
 */
const setUp = async (timeoutMinutes = 15) => {
  const tableName = await db.freshTable('stalled');
  const clock = createTestClock(T0);
  const store: Store = createDynamoDbStore({ client: db.doc, tableName, clock });
  const metrics = createPrometheusMetrics();
  const logger = createLogger('SILENT');
  const events = createBillingEvents({ store, clock, logger });
  const deliveryWatch = createDeliveryWatchArmer({ store, clock });
  const published: string[] = [];
  const workQueue = {
    publish: async (item: { queueId: string }) => void published.push(item.queueId),
    consume: async () => undefined,
    close: async () => undefined,
  } as unknown as SweepDeps['workQueue'];
  await createTenant({ store, clock }, { id: TENANT, config: { deliveryTimeoutMinutes: timeoutMinutes } });
  const sweepDeps: SweepDeps = { store, workQueue, clock, logger, events, metrics };
  const ingestDeps = {
    store,
    events,
    clock,
    logger,
    metrics,
    workQueue,
  } as unknown as ApplyGatewayEventsDeps;

  let queues = 0;
  /** A campaign and its completed queue of `count` contacts, asking for `callbackEvents`. */
  const queue = async (count: number, callbackEvents: CallbackEvent[]) => {
    queues += 1;
    const queueId = `00000000-0000-4000-8000-00000000000${queues}`;
    const campaign: Campaign = {
      id: `11111111-0000-4000-8000-00000000000${queues}`,
      tenantId: TENANT,
      externalId: `fatura-${queues}`,
      templateType: 'notification',
      queueId,
      requestHash: 'h',
      apiKeyId: 'key-1',
      callbackUrl: 'https://erp.example.com/hook',
      callbackEvents,
      metadata: {},
      state: 'created',
      leaseUntil: T0,
      owner: 'request-1',
      plan: { seed: 1, uses: {} },
      quotaReserved: true,
      accepted: count,
      rejected: [],
      estimatedDurationMinutes: 1,
      scheduledStart: null,
      createdAt: T0,
    };
    await store.createCampaign(campaign);
    await store.createQueue(
      newBillingQueue({
        id: queueId,
        tenantId: TENANT,
        campaignId: campaign.id,
        externalId: campaign.externalId,
        templateType: 'notification',
        instanceId: instance.id,
        totalContacts: count,
        createdAt: T0,
      }),
    );
    await store.putContacts(
      Array.from({ length: count }, (_, position) =>
        newBillingContact({
          queueId,
          tenantId: TENANT,
          position,
          phone: `+55119${String(position).padStart(8, '0')}`,
          name: `Cliente ${position}`,
          invoiceNumber: null,
          variables: {},
          variationId: 'v1',
          renderedMessage: 'Olá',
          createdAt: T0,
        }),
      ),
    );
    return queueId;
  };

  /** What the sender does for one contact: claim, record the send, count it, arm the watch, emit `sent`. */
  const send = async (queueId: string, position: number): Promise<string> => {
    const at = clock.now().toISOString();
    const id = `3EB0${queueId.slice(-4)}${String(position).padStart(4, '0')}`;
    const claimed = await store.claimContact(queueId, position, at);
    if (!claimed) throw new Error(`contact ${position} not claimable`);
    await store.recordSent(
      claimed,
      { status: 'sent', providerMessageId: id, at },
      {
        id,
        tenantId: TENANT,
        phone: claimed.phone,
        instanceId: instance.id,
        direction: 'outbound',
        at,
        queueId,
        contactPosition: position,
        campaignId: null,
        externalId: null,
        templateType: 'notification',
      },
      retentionEnd(at, DEFAULT_BILLING_CONFIG.retentionDays),
    );
    await store.updateQueueProgress(queueId, { contactsSent: 1 });
    await deliveryWatch.arm(queueId, at);
    await events.emit({
      name: 'sent',
      queueId,
      contactPosition: position,
      occurredAt: at,
      providerMessageId: id,
    });
    return id;
  };

  /** Evolution's `messages.update` for one of our messages, read and applied as the webhook route does. */
  const receipt = (keyId: string, status: string) =>
    applyGatewayEvents(
      ingestDeps,
      instance,
      readEvolutionWebhook(
        {
          event: 'messages.update',
          data: { keyId, remoteJid: '5511900000000@s.whatsapp.net', fromMe: true, status },
          date_time: clock.now().toISOString(),
        },
        { receivedAt: clock.now() },
      ),
    );

  const stalledCount = async (queueId: string) => (await store.getQueue(queueId))?.contactsStalled;
  /** Stalls in the tenant's figures of T0's day. */
  const stalledFigures = async () =>
    (
      await store.listTenantFigures(
        TENANT,
        new Date('2026-03-02T00:00:00Z'),
        new Date('2026-03-03T00:00:00Z'),
      )
    ).reduce((sum, hour) => sum + hour.stalled, 0);
  const stalledMetric = () =>
    /billing_messages_stalled_total\{tenant_id="acme-stall",template_type="notification"\} (\d+)/.exec(
      metrics.render(),
    )?.[1] ?? '0';

  return {
    store,
    clock,
    queue,
    send,
    receipt,
    sweep: () => sweep(sweepDeps, { graceMs: MINUTE }),
    stalledCount,
    stalledFigures,
    stalledMetric,
  };
};

describe('stalled deliveries (sweeper, webhooks and sends on dynalite)', () => {
  it('stalls a sent message with no acknowledgement only after the timeout, once, with its event and metric', async () => {
    // Prepare: three sends at T0; one gets SERVER_ACK, one DELIVERY_ACK, one nothing
    const s = await setUp(15);
    const queueId = await s.queue(3, ['sent', 'delivery_stalled']);
    const ids = [await s.send(queueId, 0), await s.send(queueId, 1), await s.send(queueId, 2)];
    expect((await s.receipt(ids[0] as string, 'SERVER_ACK')).result).toBe('applied');
    expect((await s.receipt(ids[2] as string, 'DELIVERY_ACK')).result).toBe('applied');

    // Act: just before the timeout, then just after it, twice
    s.clock.advance(15 * MINUTE - 1000);
    const early = await s.sweep();
    const earlyCount = await s.stalledCount(queueId);
    s.clock.advance(2000);
    const first = await s.sweep();
    const second = await s.sweep();

    // Assess
    expect(early.stalled).toBe(0);
    expect(earlyCount).toBe(0);
    expect([first.stalled, second.stalled]).toEqual([1, 0]);
    // The watch was checked at its deadline, then removed (its only send is stalled for good).
    expect([early.watchesChecked, first.watchesChecked, second.watchesChecked]).toEqual([0, 1, 0]);
    expect(await s.stalledCount(queueId)).toBe(1);
    expect(s.stalledMetric()).toBe('1');
    const contacts = await s.store.listContacts(queueId, { limit: 10 });
    expect(contacts.items.map((c) => [c.status, Boolean(c.serverAckAt), Boolean(c.stalledAt)])).toEqual([
      ['sent', true, false],
      ['sent', false, true],
      ['delivered', false, false],
    ]);
    const event = await s.store.getCallbackEvent(queueId, `${queueId}:1:delivery_stalled`);
    expect(event?.payload).toMatchObject({
      event: 'delivery_stalled',
      message_id: ids[1],
      error: { code: 'DELIVERY_STALLED' },
    });
    // Nothing sent awaits an acknowledgement any more: the watch is gone until the next send.
    expect(await s.store.getDeliveryWatch(queueId)).toBeUndefined();
  });

  it('moves a stalled contact on when a late DELIVERY_ACK arrives, and it is stalled no more', async () => {
    // Prepare
    const s = await setUp(15);
    const queueId = await s.queue(1, ['delivery_stalled']);
    const id = await s.send(queueId, 0);
    s.clock.advance(16 * MINUTE);
    await s.sweep();
    expect(await s.stalledCount(queueId)).toBe(1);

    // Act
    s.clock.advance(MINUTE);
    const late = await s.receipt(id, 'DELIVERY_ACK');
    const again = await s.receipt(id, 'DELIVERY_ACK');

    // Assess
    expect([late.result, again.result]).toEqual(['applied', 'ignored']);
    const queue = await s.store.getQueue(queueId);
    expect([queue?.contactsStalled, queue?.contactsDelivered]).toEqual([0, 1]);
    expect((await s.store.getContact(queueId, 0))?.status).toBe('delivered');
  });

  it('takes a stalled contact out of the count when its SERVER_ACK comes late, once', async () => {
    // Prepare
    const s = await setUp(15);
    const queueId = await s.queue(1, ['sent']);
    const id = await s.send(queueId, 0);
    s.clock.advance(16 * MINUTE);
    await s.sweep();

    // Act
    const ack = await s.receipt(id, 'SERVER_ACK');
    const read = await s.receipt(id, 'READ');

    // Assess: the ack ended the stall; the read that followed did not count it out a second time
    expect([ack.result, read.result]).toEqual(['applied', 'applied']);
    const queue = await s.store.getQueue(queueId);
    expect([queue?.contactsStalled, queue?.contactsRead]).toEqual([0, 1]);
    // Not asked for: the event is not recorded, the counter and the metric still count
    expect(await s.store.getCallbackEvent(queueId, `${queueId}:0:delivery_stalled`)).toBeUndefined();
    expect(s.stalledMetric()).toBe('1');
  });

  it('counts each stalled contact once when sweeps run at the same time', async () => {
    // Prepare
    const s = await setUp(5);
    const queueId = await s.queue(4, ['delivery_stalled']);
    for (const position of [0, 1, 2, 3]) await s.send(queueId, position);
    s.clock.advance(6 * MINUTE);

    // Act
    const results = await Promise.all([s.sweep(), s.sweep(), s.sweep()]);

    // Assess
    expect(results.reduce((sum, r) => sum + r.stalled, 0)).toBe(4);
    expect(await s.stalledCount(queueId)).toBe(4);
    expect(await s.stalledFigures()).toBe(4);
    expect(s.stalledMetric()).toBe('4');
  });

  it('checks later sends at their own deadline, and a send after the watch went away arms it again', async () => {
    // Prepare: one send at T0, one at T0 + 10 min
    const s = await setUp(15);
    const queueId = await s.queue(3, ['delivery_stalled']);
    await s.send(queueId, 0);
    s.clock.advance(10 * MINUTE);
    await s.send(queueId, 1);

    // Act: T0 + 16 min stalls the first only; T0 + 26 min the second; then a new send re-arms
    s.clock.advance(6 * MINUTE);
    const first = await s.sweep();
    const watch = await s.store.getDeliveryWatch(queueId);
    s.clock.advance(10 * MINUTE);
    const second = await s.sweep();
    const gone = await s.store.getDeliveryWatch(queueId);
    await s.send(queueId, 2);
    const rearmed = await s.store.getDeliveryWatch(queueId);

    // Assess
    expect([first.stalled, second.stalled]).toEqual([1, 1]);
    expect(watch?.checkAt).toBe(new Date(Date.parse(T0) + 25 * MINUTE).toISOString());
    expect(watch?.fromPosition).toBe(1);
    expect(gone).toBeUndefined();
    expect(rearmed?.checkAt).toBe(new Date(Date.parse(T0) + 41 * MINUTE).toISOString());
    expect(await s.stalledCount(queueId)).toBe(2);
  });
});
