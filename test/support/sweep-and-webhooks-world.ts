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
import type { DynaliteFixture } from './dynalite.ts';
import { createTestClock } from './local-stack.ts';

/** When the world's clock starts. */
export const T0 = '2026-03-02T13:00:00.000Z';
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
 * clock the test moves: what a queue's contacts and counters look like to the sweeper (stall
 * detection, receipt recounts), minute by minute.
 */
export const sweepAndWebhooksWorld = async (
  db: DynaliteFixture,
  options: {
    /** The tenant's delivery timeout. */
    timeoutMinutes?: number;
    /** The store the webhook intake writes through (a test that loses some of its writes wraps it). */
    ingestStore?: (store: Store) => Store;
    /** The store the sweeper works on (the same). */
    sweepStore?: (store: Store) => Store;
  } = {},
) => {
  const timeoutMinutes = options.timeoutMinutes ?? 15;
  const tableName = await db.freshTable('sweep-world');
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
  const sweepDeps: SweepDeps = {
    store: options.sweepStore ? options.sweepStore(store) : store,
    workQueue,
    clock,
    logger,
    events,
    metrics,
  };
  const ingestDeps = {
    store: options.ingestStore ? options.ingestStore(store) : store,
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
