import { describe, expect, it } from 'vitest';
import { FIGURES_FLUSH_INTERVAL_MS, ProgressBuffer } from '../../lib/app/queue-progress.ts';
import type { Store } from '../../lib/ports/store.ts';
import { pumpWorld } from '../support/pump-world.ts';

/** A queue of the pump's world, with its store counting the writes of the tenant's figures. */
const bufferWorld = async () => {
  const w = await pumpWorld();
  const figureWrites: string[] = [];
  const store: Store = {
    ...w.base.store,
    addTenantFigures: async (tenantId, hourStart, figures, expiresAt) => {
      figureWrites.push(hourStart.toISOString());
      await w.base.store.addTenantFigures(tenantId, hourStart, figures, expiresAt);
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
  return { w, clock, later, buffer, figureWrites, figures };
};

describe('ProgressBuffer', () => {
  it("writes the queue counters at every flush and the tenant's figures once the interval has passed", async () => {
    // Prepare
    const { w, clock, later, buffer, figureWrites, figures } = await bufferWorld();
    const progress = buffer();

    // Act
    progress.add({ contactsSent: 1 }, clock.now());
    await progress.flush();
    later(FIGURES_FLUSH_INTERVAL_MS / 2);
    progress.add({ contactsSent: 1 }, clock.now());
    await progress.flush();
    const writesBefore = figureWrites.length;
    later(FIGURES_FLUSH_INTERVAL_MS / 2);
    progress.add({ contactsFailed: 1, contactsPendingRetry: -1 }, clock.now());
    await progress.flush();

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

  it('writes the figures of an hour that has ended at the next flush', async () => {
    // Prepare
    const { clock, later, buffer, figureWrites } = await bufferWorld();
    clock.set('2026-03-02T13:59:50.000Z');
    const progress = buffer();
    progress.add({ contactsSent: 1 }, clock.now());

    // Act
    later(15_000);
    await progress.flush();

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
});
