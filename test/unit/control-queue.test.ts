import { describe, expect, it } from 'vitest';
import { RECOUNT_RECHECK_MARGIN_MS } from '../../lib/app/cancelled-queue-counters.ts';
import { controlQueue } from '../../lib/app/control-queue.ts';
import { releaseWork } from '../../lib/app/release-work.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type { BillingContact, ContactStatus, QueueStatus } from '../../lib/domain/types.ts';
import { campaign } from '../integration/store-contract/callback-store-contract.ts';
import { tenant } from '../integration/store-contract/tenant-store-contract.ts';
import { inMemoryDeps, refusalOf } from '../support/use-case-deps.ts';

const QUEUE_ID = 'queue-1';
const CREATED_AT = '2026-03-02T12:00:00.000Z';
const DAY = 86_400_000;

const contact = (position: number, status: ContactStatus, extra: Partial<BillingContact> = {}) => ({
  ...newBillingContact({
    queueId: QUEUE_ID,
    tenantId: 'acme',
    position,
    phone: `+55119876500${String(position).padStart(2, '0')}`,
    name: `Cliente ${position}`,
    invoiceNumber: null,
    variables: {},
    variationId: 'v1',
    renderedMessage: 'Olá',
    createdAt: CREATED_AT,
  }),
  status,
  ...extra,
});

/** A queue of tenant acme in `status` with a pending, a retrying, a sent and a sending contact. */
const withQueue = async (status: QueueStatus) => {
  const deps = inMemoryDeps();
  const queue = newBillingQueue({
    id: QUEUE_ID,
    tenantId: 'acme',
    campaignId: 'camp-1',
    externalId: 'fatura-1',
    templateType: 'notification',
    instanceId: 'inst-1',
    status,
    totalContacts: 4,
    createdAt: CREATED_AT,
  });
  await deps.store.createQueue({ ...queue, contactsPendingRetry: 1 });
  await deps.store.putContacts([
    contact(0, 'pending'),
    contact(1, 'retry', { retryAt: '2026-03-02T14:00:00.000Z', attempts: 1 }),
    contact(2, 'sent', { attempts: 1 }),
    contact(3, 'sending', { attempts: 1 }),
  ]);
  return deps;
};

describe('controlQueue', () => {
  it.each(['pending', 'scheduled', 'running'] as const)(
    'pauses a %s queue and publishes nothing',
    async (status) => {
      // Prepare
      const deps = await withQueue(status);

      // Act
      const result = await controlQueue(deps, 'acme', QUEUE_ID, 'pause');

      // Assess
      expect(result.message).toBe('Fila pausada');
      expect(result.queue).toMatchObject({ status: 'paused', pausedAt: deps.clock.now().toISOString() });
      expect((await deps.store.getQueue(QUEUE_ID))?.status).toBe('paused');
      expect(deps.statusChanges).toEqual([
        { tenantId: 'acme', queueId: QUEUE_ID, from: status, to: 'paused' },
      ]);
      expect(deps.published).toEqual([]);
    },
  );

  it.each(['paused', 'instance_down'] as const)(
    'resumes a %s queue as pending and publishes its work item with a new generation',
    async (status) => {
      // Prepare
      const deps = await withQueue(status);

      // Act
      const result = await controlQueue(deps, 'acme', QUEUE_ID, 'resume');

      // Assess
      expect(result.message).toBe('Fila retomada');
      expect(result.queue).toMatchObject({ status: 'pending', pausedAt: null, pauseReason: '' });
      expect(deps.published).toEqual([
        expect.objectContaining({ queueId: QUEUE_ID, tenantId: 'acme', generation: 1 }),
      ]);
    },
  );

  it('cancels the unsent contacts, leaves sent and sending ones, and gives up the pending retry', async () => {
    // Prepare
    const deps = await withQueue('running');

    // Act
    const result = await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');

    // Assess
    expect(result.message).toBe('Fila cancelada');
    expect(result.queue).toMatchObject({
      status: 'cancelled',
      completedAt: deps.clock.now().toISOString(),
      contactsCancelled: 2,
      contactsPendingRetry: 0,
    });
    const statuses = (await deps.store.listContacts(QUEUE_ID, { limit: 10 })).items.map((c) => c.status);
    expect(statuses).toEqual(['cancelled', 'cancelled', 'sent', 'sending']);
  });

  it('recounts on cancel the sends a pump that died left uncounted, and leaves the instance free', async () => {
    // Prepare: contact 2 is sent but the counters say none: its pump died before writing them, and
    // no pump holds the instance.
    const deps = await withQueue('running');
    expect((await deps.store.getQueue(QUEUE_ID))?.contactsSent).toBe(0);

    // Act
    const result = await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');

    // Assess
    expect(result.queue).toMatchObject({ status: 'cancelled', contactsSent: 1, contactsCancelled: 2 });
    expect(await deps.store.getQueue(QUEUE_ID)).toMatchObject({ contactsSent: 1, contactsCancelled: 2 });
    const now = deps.clock.now().toISOString();
    const next = await deps.store.acquireInstanceLease(
      'acme',
      'inst-1',
      { owner: 'pump-2', queueId: 'queue-2' },
      now,
      '2026-03-02T14:00:00.000Z',
    );
    expect(next.acquired).toBe(true);
    expect(deps.scheduled).toEqual([]);
  });

  it('recounts on cancel while a pump of another queue holds the instance: none of this queue can write', async () => {
    // Prepare: contact 2 is sent but uncounted; the instance is held for queue-2's turn.
    const deps = await withQueue('running');
    const now = deps.clock.now().toISOString();
    const holder = { owner: 'pump-2', queueId: 'queue-2' };
    await deps.store.acquireInstanceLease('acme', 'inst-1', holder, now, '2026-03-02T14:00:00.000Z');

    // Act
    const result = await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');

    // Assess: recounted, and queue-2's pump keeps its lease
    expect(result.queue).toMatchObject({ status: 'cancelled', contactsSent: 1, contactsCancelled: 2 });
    expect(deps.scheduled).toEqual([]);
    expect(
      await deps.store.renewInstanceLease('acme', 'inst-1', 'pump-2', '2026-03-02T14:00:00.000Z', null),
    ).toBe(true);
  });

  it("leaves the counters to the queue's own pump while it holds the instance, and recounts once its lease is over", async () => {
    // Prepare: a pump of this queue holds the instance until 13:01, its send of contact 2 not counted yet.
    const deps = await withQueue('running');
    const now = deps.clock.now().toISOString();
    const leaseEnd = '2026-03-02T13:01:00.000Z';
    await deps.store.acquireInstanceLease(
      'acme',
      'inst-1',
      { owner: 'pump-1', queueId: QUEUE_ID },
      now,
      leaseEnd,
    );

    // Act: the cancel; then the pump dies (it never writes its change) and the recount schedule fires
    const result = await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');
    const stillHeld = await deps.store.renewInstanceLease('acme', 'inst-1', 'pump-1', leaseEnd, null);
    const [schedule] = deps.scheduled;
    deps.clock.set(schedule?.at ?? now);
    const fired = await releaseWork(deps, schedule?.item ?? fail());

    // Assess: a recount at the cancel would have counted contact 2 twice had the pump lived to write it.
    expect(result.queue).toMatchObject({ status: 'cancelled', contactsSent: 0, contactsCancelled: 2 });
    expect(stillHeld).toBe(true);
    expect(deps.scheduled).toHaveLength(1);
    expect(schedule).toMatchObject({
      name: `recount-${QUEUE_ID}`,
      at: new Date(Date.parse(leaseEnd) + RECOUNT_RECHECK_MARGIN_MS).toISOString(),
      item: { queueId: QUEUE_ID, recount: true },
    });
    expect(fired).toEqual({ released: false, reason: 'counters_checked' });
    expect(deps.published).toEqual([]);
    expect(await deps.store.getQueue(QUEUE_ID)).toMatchObject({ contactsSent: 1, contactsCancelled: 2 });
  });

  it("does not recount when the schedule finds the queue's pump still holding the instance: it lived, and writes its own", async () => {
    // Prepare: the cancel found this queue's pump holding the instance; the pump renewed its lease since
    const deps = await withQueue('running');
    const now = deps.clock.now().toISOString();
    const holder = { owner: 'pump-1', queueId: QUEUE_ID };
    await deps.store.acquireInstanceLease('acme', 'inst-1', holder, now, '2026-03-02T13:01:00.000Z');
    await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');
    const [schedule] = deps.scheduled;
    deps.clock.set(schedule?.at ?? now);
    await deps.store.renewInstanceLease('acme', 'inst-1', 'pump-1', '2026-03-02T13:02:00.000Z', null);

    // Act
    const fired = await releaseWork(deps, schedule?.item ?? fail());

    // Assess
    expect(fired).toEqual({ released: false, reason: 'counters_checked' });
    expect(await deps.store.getQueue(QUEUE_ID)).toMatchObject({ contactsSent: 0 });
    expect(deps.warnings).toContain(
      'a pump of the cancelled queue still holds its instance; it writes its own counters',
    );
  });

  it("lets a cancelled queue, its campaign and the contacts it cancelled expire after the tenant's retention", async () => {
    // Prepare: the tenant keeps 30 days
    const deps = await withQueue('running');
    await deps.store.createTenant(
      tenant('acme', { config: { ...DEFAULT_BILLING_CONFIG, retentionDays: 30 } }),
    );
    await deps.store.createCampaign(campaign({ queueId: QUEUE_ID, externalId: 'fatura-1' }));
    const cancelledAt = deps.clock.now().getTime();
    const sweepAt = async (ms: number) =>
      (await deps.store.deleteExpired(new Date(ms).toISOString(), { limit: 100 })).deleted;

    // Act
    await controlQueue(deps, 'acme', QUEUE_ID, 'cancel');
    const early = await sweepAt(cancelledAt + 30 * DAY - 1000);
    const due = await sweepAt(cancelledAt + 30 * DAY);

    // Assess: queue, campaign and the two contacts the cancel settled; the sent and the sending
    // contact were settled by others (their own writes give them their expiry)
    expect([early, due]).toEqual([0, 4]);
    expect(await deps.store.getQueue(QUEUE_ID)).toBeUndefined();
    expect(await deps.store.getCampaign('acme', 'fatura-1')).toBeUndefined();
    const left = await Promise.all([0, 1, 2, 3].map((p) => deps.store.getContact(QUEUE_ID, p)));
    expect(left.map((c) => c?.status)).toEqual([undefined, undefined, 'sent', 'sending']);
  });

  it('refuses to pause a paused queue, to resume a running one, and anything on a finished one', async () => {
    // Prepare
    const paused = await withQueue('paused');
    const running = await withQueue('running');
    const completed = await withQueue('completed');
    const cancelled = await withQueue('cancelled');

    // Act
    const refusals = await Promise.all([
      refusalOf(() => controlQueue(paused, 'acme', QUEUE_ID, 'pause')),
      refusalOf(() => controlQueue(running, 'acme', QUEUE_ID, 'resume')),
      refusalOf(() => controlQueue(completed, 'acme', QUEUE_ID, 'pause')),
      refusalOf(() => controlQueue(completed, 'acme', QUEUE_ID, 'resume')),
      refusalOf(() => controlQueue(cancelled, 'acme', QUEUE_ID, 'cancel')),
    ]);

    // Assess
    expect(refusals.map((e) => e.code)).toEqual([
      'QUEUE_ALREADY_PAUSED',
      'QUEUE_NOT_PAUSED',
      'QUEUE_ALREADY_FINISHED',
      'QUEUE_ALREADY_FINISHED',
      'QUEUE_ALREADY_FINISHED',
    ]);
    expect((await running.store.getQueue(QUEUE_ID))?.status).toBe('running');
    expect(
      (await cancelled.store.listContacts(QUEUE_ID, { limit: 10, status: 'pending' })).items,
    ).toHaveLength(1);
  });

  it("answers 404 for another tenant's queue and for an unknown one, changing nothing", async () => {
    // Prepare
    const deps = await withQueue('running');

    // Act
    const otherTenant = await refusalOf(() => controlQueue(deps, 'beta', QUEUE_ID, 'cancel'));
    const unknown = await refusalOf(() => controlQueue(deps, 'acme', 'queue-x', 'pause'));

    // Assess
    expect([otherTenant.code, otherTenant.status, unknown.code]).toEqual([
      'QUEUE_NOT_FOUND',
      404,
      'QUEUE_NOT_FOUND',
    ]);
    expect((await deps.store.getQueue(QUEUE_ID))?.status).toBe('running');
  });
});

const fail = (): never => {
  throw new Error('no recount schedule');
};
