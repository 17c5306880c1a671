import { describe, expect, it } from 'vitest';
import { ownedQueues } from '../../lib/app/tenant-queues.ts';
import { QUEUE_STATUSES } from '../../lib/domain/types.ts';
import type { Store } from '../../lib/ports/store.ts';
import { debtorDeps, seedQueue } from '../support/debtor-world.ts';

describe('ownedQueues', () => {
  it("walks each status's partition on its own when asked for every queue, and finds them all", async () => {
    // Prepare: queues in three statuses; the store records each listing asked of it
    const deps = await debtorDeps();
    for (const [id, status] of [
      ['qa', 'pending'],
      ['qb', 'completed'],
      ['qc', 'completed'],
      ['qd', 'cancelled'],
    ] as const)
      await seedQueue(deps, id, status, [{ status: 'pending', phone: '+5511988880001' }]);
    const asked: Array<string | undefined> = [];
    const listQueues: Store['listQueues'] = (tenantId, page) => {
      asked.push(page.status);
      return deps.store.listQueues(tenantId, page);
    };
    // Later than the look back at new queues, so the listing alone finds them.
    deps.clock.set('2026-03-02T14:00:00.000Z');

    // Act
    const queues = await ownedQueues({ ...deps, store: { ...deps.store, listQueues } }, { tenantId: 'acme' });

    // Assess: one listing per status (none merged across them), every queue once
    expect([...asked].sort()).toEqual([...QUEUE_STATUSES].sort());
    expect(queues.map((q) => q.id).sort()).toEqual(['qa', 'qb', 'qc', 'qd']);
  });
});
