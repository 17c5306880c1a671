import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { type ReleaseDeps, releaseWork } from '../../lib/app/release-work.ts';
import type { BillingQueue, QueueStatus } from '../../lib/domain/types.ts';
import { createReleaseHandler } from '../../lib/lambda/release-handler.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
import { useDynalite } from '../support/dynalite.ts';
import { deferredQueue } from './scheduler-contract.ts';

const db = useDynalite();

const NOW = new Date('2025-03-10T11:00:30.000Z');

/** releaseWork's dependencies on a fresh table, with a work queue that records what it gets. */
const freshDeps = async (): Promise<ReleaseDeps & { published: WorkItem[] }> => {
  const tableName = await db.freshTable('release-test');
  const clock = { now: () => NOW };
  const published: WorkItem[] = [];
  return {
    store: createDynamoDbStore({ client: db.doc, tableName, clock }),
    workQueue: {
      publish: async (item) => void published.push(item),
      consume: async () => {
        throw new Error('not used');
      },
      reachability: async () => 'ok' as const,
      close: async () => undefined,
    },
    clock,
    logger: createLogger('SILENT'),
    published,
  };
};

/** Stores a queue deferred to a minute before NOW, then applies `overrides`. */
const storedQueue = async (
  deps: ReleaseDeps,
  overrides: Partial<BillingQueue> = {},
): Promise<{ queue: BillingQueue; item: WorkItem }> => {
  const deferred = deferredQueue(new Date(NOW.getTime() - 60_000), overrides);
  await deps.store.createQueue(deferred.queue);
  return deferred;
};

describe('releaseWork', () => {
  it('republishes a scheduled queue with a new publish generation', async () => {
    // Prepare
    const deps = await freshDeps();
    const { queue, item } = await storedQueue(deps, { status: 'scheduled', publishGeneration: 4 });

    // Act
    const result = await releaseWork(deps, item);

    // Assess
    expect(result).toEqual({ released: true, generation: 5 });
    expect(deps.published).toEqual([
      { queueId: queue.id, tenantId: queue.tenantId, instanceId: 'instance-1', generation: 5 },
    ]);
    expect((await deps.store.getQueue(queue.id))?.publishGeneration).toBe(5);
  });

  it('gives each release its own generation, so FIFO deduplication never swallows one', async () => {
    // Prepare
    const deps = await freshDeps();
    const { item } = await storedQueue(deps);

    // Act
    await releaseWork(deps, item);
    await releaseWork(deps, item);

    // Assess
    expect(deps.published.map((i) => i.generation)).toEqual([3, 4]);
  });

  it.each<QueueStatus>(['running', 'pending', 'instance_down'])(
    'republishes a %s queue whose check time has come',
    async (status) => {
      // Prepare
      const deps = await freshDeps();
      const { queue, item } = await storedQueue(deps, { status });

      // Act
      const result = await releaseWork(deps, item);

      // Assess
      expect(result.released).toBe(true);
      expect(deps.published.map((i) => i.queueId)).toEqual([queue.id]);
    },
  );

  it.each<QueueStatus>(['running', 'pending', 'instance_down'])(
    'ignores a %s queue whose next check is later (a newer deferral superseded this one)',
    async (status) => {
      // Prepare
      const deps = await freshDeps();
      const later = new Date(NOW.getTime() + 10 * 60_000).toISOString();
      const { item } = await storedQueue(deps, { status, nextRunAt: later });

      // Act
      const result = await releaseWork(deps, item);

      // Assess
      expect(result).toEqual({ released: false, reason: 'not_waiting' });
      expect(deps.published).toEqual([]);
    },
  );

  it('ignores a running queue with no check time (a live pump has it)', async () => {
    // Prepare
    const deps = await freshDeps();
    const { item } = await storedQueue(deps, { status: 'running', nextRunAt: null });

    // Act
    const result = await releaseWork(deps, item);

    // Assess
    expect(result).toEqual({ released: false, reason: 'not_waiting' });
    expect(deps.published).toEqual([]);
  });

  it.each<QueueStatus>(['paused', 'cancelled', 'completed', 'failed'])(
    'does nothing for a %s queue',
    async (status) => {
      // Prepare
      const deps = await freshDeps();
      const { queue, item } = await storedQueue(deps, { status });

      // Act
      const result = await releaseWork(deps, item);

      // Assess
      expect(result).toEqual({ released: false, reason: 'not_waiting' });
      expect(deps.published).toEqual([]);
      expect((await deps.store.getQueue(queue.id))?.publishGeneration).toBe(queue.publishGeneration);
    },
  );

  it('does nothing when the queue does not exist', async () => {
    // Prepare
    const deps = await freshDeps();
    const { item } = deferredQueue(NOW);

    // Act
    const result = await releaseWork(deps, item);

    // Assess
    expect(result).toEqual({ released: false, reason: 'queue_missing' });
    expect(deps.published).toEqual([]);
  });

  it('does nothing when the item names the queue under another tenant', async () => {
    // Prepare
    const deps = await freshDeps();
    const { item } = await storedQueue(deps);

    // Act
    const result = await releaseWork(deps, { ...item, tenantId: 'someone-else' });

    // Assess
    expect(result).toEqual({ released: false, reason: 'other_tenant' });
    expect(deps.published).toEqual([]);
  });
});

describe('createReleaseHandler', () => {
  it('releases the work item EventBridge Scheduler passes as the event', async () => {
    // Prepare
    const deps = await freshDeps();
    const { queue, item } = await storedQueue(deps);

    // Act
    const result = await createReleaseHandler(deps)({ ...item });

    // Assess
    expect(result).toEqual({ released: true, generation: 3 });
    expect(deps.published.map((i) => i.queueId)).toEqual([queue.id]);
  });

  it('accepts the item as a JSON string too', async () => {
    // Prepare
    const deps = await freshDeps();
    const { item } = await storedQueue(deps);

    // Act
    const result = await createReleaseHandler(deps)(JSON.stringify(item));

    // Assess
    expect(result.released).toBe(true);
  });

  it('drops an event that is not a work item without publishing or throwing', async () => {
    // Prepare
    const deps = await freshDeps();

    // Act
    const result = await createReleaseHandler(deps)({ queueId: 'q-1', generation: -1 });

    // Assess
    expect(result).toEqual({ released: false, reason: 'invalid_item' });
    expect(deps.published).toEqual([]);
  });
});
