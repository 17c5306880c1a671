import { describe, expect, it } from 'vitest';
import { receiptDeltas } from '../../lib/app/apply-receipt.ts';
import {
  COUNTERS_FLUSH_EVERY_SENDS,
  COUNTERS_FLUSH_INTERVAL_MS,
  FIGURES_FLUSH_INTERVAL_MS,
  ProgressBuffer,
  recountCounters,
} from '../../lib/app/queue-progress.ts';
import { processedContacts } from '../../lib/domain/billing-queue.ts';
import type { Store } from '../../lib/ports/store.ts';
import { sent, T0 } from '../integration/store-contract/delivery-watch-store-contract.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';
import { pumpWorld } from '../support/pump-world.ts';

/**
 * A queue of the pump's world, with its store counting the writes of the tenant's figures, the
 * queue's progress writes and its status reads.
 */
const bufferWorld = async () => {
  const w = await pumpWorld();
  const figureWrites: string[] = [];
  const requests = { progressWrites: 0, statusReads: 0 };
  const store: Store = {
    ...w.base.store,
    addTenantFigures: async (tenantId, hourStart, figures, expiresAt) => {
      figureWrites.push(hourStart.toISOString());
      await w.base.store.addTenantFigures(tenantId, hourStart, figures, expiresAt);
    },
    updateQueueProgress: async (...args) => {
      requests.progressWrites += 1;
      return w.base.store.updateQueueProgress(...args);
    },
    getQueueStatus: async (queueId) => {
      requests.statusReads += 1;
      return w.base.store.getQueueStatus(queueId);
    },
  };
  const queue = { id: w.queueId, tenantId: 'acme' };
  const clock = w.base.clock;
  const later = (ms: number) => clock.set(new Date(clock.now().getTime() + ms).toISOString());
  const buffer = () => new ProgressBuffer({ ...w.base, store }, queue, () => 6);
  const figures = () =>
    w.base.store.listTenantFigures(
      'acme',
      new Date('2026-03-02T00:00:00Z'),
      new Date('2026-03-03T00:00:00Z'),
    );
  return { w, clock, later, buffer, figureWrites, figures, requests };
};

describe('ProgressBuffer', () => {
  it("writes the tenant's figures once their interval has passed, with the counters then due", async () => {
    // Prepare
    const { w, clock, later, buffer, figureWrites, figures } = await bufferWorld();
    const progress = buffer();

    // Act
    progress.add({ contactsSent: 1 }, clock.now());
    await progress.statusBeforeSend();
    later(FIGURES_FLUSH_INTERVAL_MS / 2);
    progress.add({ contactsSent: 1 }, clock.now());
    await progress.statusBeforeSend();
    const writesBefore = figureWrites.length;
    later(FIGURES_FLUSH_INTERVAL_MS / 2);
    progress.add({ contactsFailed: 1, contactsPendingRetry: -1 }, clock.now());
    await progress.statusBeforeSend();

    // Assess
    expect(writesBefore).toBe(0);
    expect(figureWrites).toEqual(['2026-03-02T13:00:00.000Z']);
    expect(await figures()).toMatchObject([{ sent: 2, failed: 1 }]);
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({ contactsSent: 2, contactsFailed: 1 });
  });

  it('writes every pending figure on the way out, one write per hour', async () => {
    // Prepare
    const { clock, later, buffer, figureWrites, figures } = await bufferWorld();
    const progress = buffer();
    progress.add({ contactsSent: 1 }, new Date('2026-03-02T12:59:59.000Z'));
    progress.add({ contactsSent: 1 }, clock.now());
    progress.add({ contactsSent: 1 }, clock.now());
    later(1000);

    // Act
    await progress.flushIfAny();
    await progress.flushIfAny();

    // Assess
    expect(figureWrites.sort()).toEqual(['2026-03-02T12:00:00.000Z', '2026-03-02T13:00:00.000Z']);
    expect((await figures()).map((h) => h.sent)).toEqual([1, 2]);
  });

  it('writes the figures of an hour that has ended at the next check, counters due or not', async () => {
    // Prepare
    const { clock, later, buffer, figureWrites } = await bufferWorld();
    clock.set('2026-03-02T13:59:50.000Z');
    const progress = buffer();
    progress.add({ contactsSent: 1 }, clock.now());

    // Act
    later(15_000);
    await progress.statusBeforeSend();

    // Assess
    expect(figureWrites).toEqual(['2026-03-02T13:00:00.000Z']);
  });

  it('counts nothing in the figures for counters that are no event (retry, skipped, cancelled)', async () => {
    // Prepare
    const { clock, buffer, figureWrites } = await bufferWorld();
    const progress = buffer();

    // Act
    progress.add({ contactsPendingRetry: 1, contactsSkipped: 1, contactsCancelled: 1 }, clock.now());
    await progress.flushIfAny();

    // Assess
    expect(figureWrites).toEqual([]);
  });

  it(`writes the counters once ${COUNTERS_FLUSH_EVERY_SENDS} sends are pending, and reads the status before the others`, async () => {
    // Prepare
    const { w, clock, buffer, requests } = await bufferWorld();
    const progress = buffer();
    const stored = async () => (await w.base.store.getQueue(w.queueId))?.contactsSent;

    // Act: a send, then the check before the next send, as the pump does
    const seen: Array<number | undefined> = [];
    const statuses: Array<string | undefined> = [];
    for (let sent = 1; sent <= COUNTERS_FLUSH_EVERY_SENDS + 1; sent++) {
      progress.add({ contactsSent: 1 }, clock.now());
      statuses.push(await progress.statusBeforeSend());
      seen.push(await stored());
    }

    // Assess
    expect(seen).toEqual([
      ...Array(COUNTERS_FLUSH_EVERY_SENDS - 1).fill(0),
      COUNTERS_FLUSH_EVERY_SENDS,
      COUNTERS_FLUSH_EVERY_SENDS,
    ]);
    expect(requests).toEqual({ progressWrites: 1, statusReads: COUNTERS_FLUSH_EVERY_SENDS });
    expect(new Set(statuses)).toEqual(new Set(['pending']));
  });

  it('writes a pending count once the interval has passed, however few sends it holds', async () => {
    // Prepare
    const { w, clock, later, buffer, requests } = await bufferWorld();
    const progress = buffer();
    progress.add({ contactsSent: 1 }, clock.now());

    // Act
    later(COUNTERS_FLUSH_INTERVAL_MS - 1);
    await progress.statusBeforeSend();
    const beforeInterval = (await w.base.store.getQueue(w.queueId))?.contactsSent;
    later(1);
    await progress.statusBeforeSend();

    // Assess
    expect(beforeInterval).toBe(0);
    expect((await w.base.store.getQueue(w.queueId))?.contactsSent).toBe(1);
    expect(requests).toEqual({ progressWrites: 1, statusReads: 1 });
  });

  it('never writes the queue with nothing to count, however long the run', async () => {
    // Prepare
    const { later, buffer, requests } = await bufferWorld();
    const progress = buffer();

    // Act
    later(COUNTERS_FLUSH_INTERVAL_MS * 3);
    await progress.statusBeforeSend();
    await progress.flushIfAny();

    // Assess
    expect(requests).toEqual({ progressWrites: 0, statusReads: 1 });
  });

  it('answers a pause or a cancel that came meanwhile, by the read and by the write alike', async () => {
    // Prepare
    const { w, clock, buffer } = await bufferWorld();
    const progress = buffer();
    await w.base.store.transitionQueue(w.queueId, ['pending'], 'paused', {
      pausedAt: clock.now().toISOString(),
    });

    // Act
    progress.add({ contactsSent: 1 }, clock.now());
    const byRead = await progress.statusBeforeSend();
    await w.base.store.transitionQueue(w.queueId, ['paused'], 'cancelled');
    for (let i = 1; i < COUNTERS_FLUSH_EVERY_SENDS; i++) progress.add({ contactsSent: 1 }, clock.now());
    const byWrite = await progress.statusBeforeSend();

    // Assess
    expect(byRead).toBe('paused');
    expect(byWrite).toBe('cancelled');
    expect((await w.base.store.getQueue(w.queueId))?.contactsSent).toBe(COUNTERS_FLUSH_EVERY_SENDS);
  });

  it('writes whatever is pending on the way out, before it is due', async () => {
    // Prepare
    const { w, clock, buffer, requests } = await bufferWorld();
    const progress = buffer();
    progress.add({ contactsSent: 1 }, clock.now());
    progress.add({ contactsFailed: 1 }, clock.now());

    // Act
    await progress.flushIfAny();
    await progress.flushIfAny();

    // Assess
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({ contactsSent: 1, contactsFailed: 1 });
    expect(requests.progressWrites).toBe(1);
  });

  it("forgets the counters of a run that lost its lease but still writes the tenant's figures", async () => {
    // Prepare
    const { w, clock, buffer, requests, figures } = await bufferWorld();
    const progress = buffer();
    progress.add({ contactsSent: 1 }, clock.now());
    progress.add({ contactsSent: 1 }, clock.now());

    // Act
    progress.forgetCounters();
    await progress.flushIfAny();

    // Assess
    expect(requests.progressWrites).toBe(0);
    expect((await w.base.store.getQueue(w.queueId))?.contactsSent).toBe(0);
    expect(await figures()).toMatchObject([{ sent: 2 }]);
  });
});

describe('recountCounters', () => {
  it('counts a contact whose message failed after the send as failed only, as the failure receipt moved it', async () => {
    // Prepare: three contacts the pump sent and counted; WhatsApp then reports one failed, and the
    // receipt moves it from sent to failed on the contact and in the counters
    const store = createInMemoryStore();
    const queue = acmeQueue({ totalContacts: 3, createdAt: T0, status: 'running', contactsSent: 3 });
    await store.createQueue(queue);
    await store.putContacts([sent(0), sent(1), sent(2)]);
    const receipt = await store.applyReceipt(queue.id, 0, 'failed', T0, 'falha');
    if (!receipt.applied) throw new Error('the failure receipt did not apply');
    await store.addToQueueCounters(queue.id, receiptDeltas(receipt.previous, 'failed'));

    // Act: the recount completion makes
    const recounted = await recountCounters({ store }, queue);

    // Assess: every contact counted once
    expect([recounted?.contactsSent, recounted?.contactsFailed]).toEqual([2, 1]);
    expect(recounted && processedContacts(recounted)).toBe(3);
  });
});
