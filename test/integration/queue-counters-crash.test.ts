import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { controlQueue } from '../../lib/app/control-queue.ts';
import { createCampaign } from '../../lib/app/create-campaign.ts';
import { COUNTERS_FLUSH_EVERY_SENDS } from '../../lib/app/queue-progress.ts';
import { releaseWork } from '../../lib/app/release-work.ts';
import { type PumpDeps, runQueue } from '../../lib/app/run-queue.ts';
import { queueStatusView } from '../../lib/http/views.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { useDynalite } from '../support/dynalite.ts';
import { contacts, OPTIONS } from '../support/pump-world.ts';
import { inMemoryDeps, simpleTemplate, tenantWith } from '../support/use-case-deps.ts';
import { apiKey, instance } from './store-contract/tenant-store-contract.ts';

/**
 * A pump dies between two writes of its queue's counters (it stops for good in a pacing wait, as a
 * killed process would: no `finally`, its lease held, its last sends counted only on their contacts)
 * and a second pump takes the queue over on the same DynamoDB table (dynalite). Virtual time: a sleep
 * moves the clock.
 */
const TOTAL = 25;
/** Sends before the first pump dies: one counter write behind it, five changes still unwritten. */
const BEFORE_CRASH = COUNTERS_FLUSH_EVERY_SENDS + 5;

const db = useDynalite();

const crashWorld = async () => {
  const base = inMemoryDeps('2026-03-02T13:00:00.000Z');
  const tableName = await db.freshTable('queue-counters');
  const store = createDynamoDbStore({ client: db.doc, tableName, clock: base.clock });
  const tenant = tenantWith({ messagesPerMinute: 60, minIntervalSeconds: 1, jitterSeconds: 0 });
  await store.createTenant(tenant);
  await store.putTemplate(simpleTemplate());
  await store.putInstance(instance());
  const { campaign } = await createCampaign(
    { ...base, store },
    {
      tenant,
      apiKey: apiKey({ allowedTemplateTypes: ['notification'] }),
      templateType: 'notification',
      externalId: 'fatura-crash',
      contacts: contacts(TOTAL),
      callbackUrl: null,
      callbackEvents: [],
      metadata: {},
      canonicalBody: {},
    },
  );
  const queueId = campaign.queueId;
  const sends: string[] = [];
  /** Runs at the start of each send, before the gateway answers. */
  let onSend: () => Promise<void> = async () => undefined;
  const gateway: WhatsAppGateway = {
    sendText: async (_target, number) => {
      await onSend();
      sends.push(number);
      return { kind: 'sent', messageId: `3EB0${sends.length}`, remoteJid: `${number}@s.whatsapp.net` };
    },
    connectionState: async () => 'open',
  };
  const advance = async (ms: number) =>
    base.clock.set(new Date(base.clock.now().getTime() + ms).toISOString());
  const pumpDeps = (sleep: (ms: number) => Promise<void>): PumpDeps => ({
    ...base,
    store,
    logger: createLogger('SILENT'),
    gateway,
    events: { emit: async () => undefined },
    deliveryWatch: { arm: async () => undefined },
    secrets: { resolve: async () => 'evolution-key' },
    scheduler: { schedule: async () => undefined, cancel: async () => undefined },
    sleep,
  });

  /** Starts a pump that dies in its pacing wait once it has sent BEFORE_CRASH; resolves then. */
  const pumpThatDies = async (): Promise<void> => {
    const died = new Promise<void>((resolve) => {
      const sleep = (ms: number): Promise<void> => {
        if (sends.length < BEFORE_CRASH) return advance(ms);
        resolve();
        return new Promise<void>(() => undefined);
      };
      void runQueue(pumpDeps(sleep), base.published[0] ?? fail(), OPTIONS);
    });
    await died;
  };

  /** The queue as the status API shows it, and its counters as the contacts say. */
  const status = async () => {
    const queue = (await store.getQueue(queueId)) ?? fail();
    return queueStatusView(queue, tenant.config, base.clock.now());
  };
  const sentOnContacts = async () => (await store.summarizeContacts(queueId)).byStatus.sent ?? 0;
  const sentInFigures = async () =>
    (
      await store.listTenantFigures(
        'acme',
        new Date('2026-03-02T00:00:00Z'),
        new Date('2026-03-03T00:00:00Z'),
      )
    ).reduce((n, h) => n + h.sent, 0);

  return {
    base,
    store,
    queueId,
    sends,
    advance,
    pumpDeps,
    pumpThatDies,
    status,
    sentOnContacts,
    sentInFigures,
    setOnSend: (hook: () => Promise<void>) => {
      onSend = hook;
    },
  };
};

const fail = (): never => {
  throw new Error('missing in the crash world');
};

describe('queue counters across a pump that dies between counter writes (dynalite)', () => {
  it('are exact once another pump takes the queue over, while it runs and when it completes', async () => {
    // Prepare: the first pump dies with sends counted only on their contacts
    const w = await crashWorld();
    await w.pumpThatDies();
    const atCrash = { status: await w.status(), onContacts: await w.sentOnContacts() };
    // Past the dead pump's lease, as the sweeper or a redelivery would find it.
    await w.advance(OPTIONS.leaseMs * 4);
    let atTakeover: Awaited<ReturnType<typeof w.status>> | undefined;
    w.setOnSend(async () => {
      atTakeover ??= await w.status();
    });

    // Act
    const result = await runQueue(w.pumpDeps(w.advance), w.base.published[0] ?? fail(), OPTIONS);

    // Assess
    expect(atCrash.onContacts).toBe(BEFORE_CRASH);
    expect(atCrash.status).toMatchObject({ status: 'running', contacts_sent: COUNTERS_FLUSH_EVERY_SENDS });
    expect(atTakeover).toMatchObject({
      contacts_sent: BEFORE_CRASH,
      contacts_pending: TOTAL - BEFORE_CRASH,
      progress_percent: (BEFORE_CRASH / TOTAL) * 100,
    });
    expect(result).toBe('completed');
    expect(w.sends).toHaveLength(TOTAL);
    expect(new Set(w.sends).size).toBe(TOTAL);
    expect(await w.status()).toMatchObject({
      status: 'completed',
      contacts_sent: TOTAL,
      contacts_pending: 0,
      contacts_failed: 0,
      contacts_unknown: 0,
    });
    // The dead pump's figures were not written yet: short, never counted twice.
    expect(await w.sentInFigures()).toBe(TOTAL - BEFORE_CRASH);
  });

  it('are exact when the queue is cancelled after its pump died, once its lease has run out', async () => {
    // Prepare: the pump dies with five sends counted only on their contacts; its sender stays down.
    const w = await crashWorld();
    await w.pumpThatDies();
    await w.advance(OPTIONS.leaseMs * 4);

    // Act: the ERP cancels the queue; no run will ever recount a cancelled queue.
    await controlQueue({ ...w.base, store: w.store }, 'acme', w.queueId, 'cancel');

    // Assess
    expect(await w.status()).toMatchObject({
      status: 'cancelled',
      contacts_sent: BEFORE_CRASH,
      contacts_cancelled: TOTAL - BEFORE_CRASH,
      contacts_pending: 0,
    });
  });

  it("are exact when the queue is cancelled while its dead pump's lease still runs, once the lease is over", async () => {
    // Prepare: the pump dies with five sends counted only on their contacts, its lease still held.
    const w = await crashWorld();
    await w.pumpThatDies();

    // Act: the ERP cancels at once; the recount schedule fires when the schedule says
    await controlQueue({ ...w.base, store: w.store }, 'acme', w.queueId, 'cancel');
    const atCancel = await w.status();
    const [schedule] = w.base.scheduled;
    w.base.clock.set(schedule?.at ?? fail());
    const fired = await releaseWork({ ...w.base, store: w.store }, schedule?.item ?? fail());

    // Assess: left alone while the lease ran (its pump could have been alive), exact after it
    expect(atCancel).toMatchObject({ status: 'cancelled', contacts_sent: COUNTERS_FLUSH_EVERY_SENDS });
    expect(fired).toEqual({ released: false, reason: 'counters_checked' });
    expect(await w.status()).toMatchObject({
      status: 'cancelled',
      contacts_sent: BEFORE_CRASH,
      contacts_cancelled: TOTAL - BEFORE_CRASH,
      contacts_pending: 0,
    });
  });

  it('are exact when the queue was paused and resumed before another pump took it over', async () => {
    // Prepare: the pump dies; the ERP pauses the queue, then resumes it
    const w = await crashWorld();
    await w.pumpThatDies();
    const controlDeps = { ...w.base, store: w.store };
    await controlQueue(controlDeps, 'acme', w.queueId, 'pause');
    const whilePaused = await w.status();
    await w.advance(OPTIONS.leaseMs * 4);
    await controlQueue(controlDeps, 'acme', w.queueId, 'resume');
    let atTakeover: Awaited<ReturnType<typeof w.status>> | undefined;
    w.setOnSend(async () => {
      atTakeover ??= await w.status();
    });

    // Act
    const result = await runQueue(w.pumpDeps(w.advance), w.base.published.at(-1) ?? fail(), OPTIONS);

    // Assess
    expect(whilePaused).toMatchObject({ status: 'paused', contacts_sent: COUNTERS_FLUSH_EVERY_SENDS });
    expect(atTakeover).toMatchObject({ contacts_sent: BEFORE_CRASH, contacts_pending: TOTAL - BEFORE_CRASH });
    expect(result).toBe('completed');
    expect(new Set(w.sends).size).toBe(TOTAL);
    expect(await w.status()).toMatchObject({ status: 'completed', contacts_sent: TOTAL });
  });

  it('stops a running pump at a pause before its next send, with every send counted', async () => {
    // Prepare: the ERP pauses the queue during the send that comes after a counter write
    const w = await crashWorld();
    w.setOnSend(async () => {
      if (w.sends.length === COUNTERS_FLUSH_EVERY_SENDS + 2)
        await controlQueue({ ...w.base, store: w.store }, 'acme', w.queueId, 'pause');
    });

    // Act
    const result = await runQueue(w.pumpDeps(w.advance), w.base.published[0] ?? fail(), OPTIONS);

    // Assess: the send in flight went out; none after it
    expect(result).toBe('stopped');
    expect(w.sends).toHaveLength(COUNTERS_FLUSH_EVERY_SENDS + 3);
    expect(await w.status()).toMatchObject({
      status: 'paused',
      contacts_sent: COUNTERS_FLUSH_EVERY_SENDS + 3,
    });
  });

  it('leaves the counts of a pump that lost its lease to the next run, which recounts them', async () => {
    // Prepare: the pump stalls 13 s inside its 13th send, past its 12 s lease, and another owner
    // takes the lease meanwhile (as a pump that found it expired would)
    const w = await crashWorld();
    const options = { ...OPTIONS, leaseMs: 12_000 };
    const at = (ms: number) => new Date(w.base.clock.now().getTime() + ms).toISOString();
    w.setOnSend(async () => {
      if (w.sends.length !== COUNTERS_FLUSH_EVERY_SENDS + 2) return;
      await w.advance(13_000);
      await w.store.acquireInstanceLease(
        'acme',
        'inst-1',
        { owner: 'thief', queueId: w.queueId },
        at(0),
        at(60_000),
      );
    });
    const lost = await runQueue(w.pumpDeps(w.advance), w.base.published[0] ?? fail(), options);
    const afterLoss = { status: await w.status(), onContacts: await w.sentOnContacts() };
    await w.store.releaseInstanceLease('acme', 'inst-1', 'thief', null, w.queueId);
    let atTakeover: Awaited<ReturnType<typeof w.status>> | undefined;
    w.setOnSend(async () => {
      atTakeover ??= await w.status();
    });

    // Act
    const result = await runQueue(w.pumpDeps(w.advance), w.base.published[0] ?? fail(), options);

    // Assess: the losing pump wrote none of its last three counts; the next run counted them once
    expect(lost).toBe('lease_lost');
    expect(afterLoss.onContacts).toBe(COUNTERS_FLUSH_EVERY_SENDS + 3);
    expect(afterLoss.status).toMatchObject({ status: 'running', contacts_sent: COUNTERS_FLUSH_EVERY_SENDS });
    expect(atTakeover).toMatchObject({ contacts_sent: COUNTERS_FLUSH_EVERY_SENDS + 3 });
    expect(result).toBe('completed');
    expect(new Set(w.sends).size).toBe(TOTAL);
    expect(await w.status()).toMatchObject({ status: 'completed', contacts_sent: TOTAL });
    expect(await w.sentInFigures()).toBe(TOTAL);
  });
});
