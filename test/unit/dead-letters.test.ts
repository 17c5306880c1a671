import { describe, expect, it } from 'vitest';
import { dropDeadLetter, listDeadLetters, redriveDeadLetters } from '../../lib/app/dead-letters.ts';
import { newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type { BillingQueue, QueueStatus } from '../../lib/domain/types.ts';
import type { DeadLetter, DeadLetters } from '../../lib/ports/dead-letters.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';

/** A dead-letter queue in memory: settle removes what `decide` says, keeps the rest in order. */
const memoryDeadLetters = (letters: DeadLetter[]): DeadLetters & { letters: DeadLetter[] } => {
  const state = {
    letters,
    list: async (limit: number) => state.letters.slice(0, limit),
    count: async () => state.letters.length,
    settle: async (decide: (letter: DeadLetter) => Promise<'remove' | 'keep'>, limit: number) => {
      const kept: DeadLetter[] = [];
      let seen = 0;
      let removed = 0;
      const pending = [...state.letters];
      try {
        while (pending.length > 0 && seen < limit) {
          const letter = pending.shift() as DeadLetter;
          seen += 1;
          try {
            if ((await decide(letter)) === 'remove') removed += 1;
            else kept.push(letter);
          } catch (error) {
            kept.push(letter);
            throw error;
          }
        }
      } finally {
        state.letters = [...kept, ...pending];
      }
      return { seen, removed };
    },
    close: async () => undefined,
  };
  return state;
};

const letterFor = (item: WorkItem | null, n = 1): DeadLetter => ({
  messageId: `m-${n}`,
  item,
  body: item ? JSON.stringify(item) : 'garbage',
  deliveries: 5,
  lastError: item ? null : 'malformed body: not a work item',
  deadLetteredAt: null,
});

const queueWith = (id: string, status: QueueStatus, tenantId = 't-1'): BillingQueue =>
  newBillingQueue({
    id,
    tenantId,
    campaignId: `c-${id}`,
    externalId: `e-${id}`,
    templateType: 'notification',
    instanceId: 'inst-now',
    totalContacts: 3,
    createdAt: '2026-12-16T12:00:00.000Z',
    status,
    publishGeneration: 4,
  });

/** The store part the use cases read and write, in memory. */
const memoryStore = (queues: BillingQueue[]) => {
  const byId = new Map(queues.map((q) => [q.id, { ...q }]));
  return {
    getQueue: async (id: string) => byId.get(id),
    nextPublishGeneration: async (id: string) => {
      const queue = byId.get(id);
      if (!queue) throw new Error(`no queue ${id}`);
      queue.publishGeneration += 1;
      return queue.publishGeneration;
    },
  };
};

const itemOf = (queueId: string, generation = 1, tenantId = 't-1'): WorkItem => ({
  queueId,
  tenantId,
  instanceId: 'inst-old',
  generation,
});

describe('redriveDeadLetters', () => {
  it('republishes a live queue with a new generation and its current instance, and drops finished or gone ones', async () => {
    // Prepare
    const store = memoryStore([
      queueWith('running', 'running'),
      queueWith('done', 'completed'),
      queueWith('stopped', 'cancelled'),
      queueWith('broken', 'failed'),
    ]);
    const deadLetters = memoryDeadLetters(
      ['running', 'done', 'stopped', 'broken', 'gone'].map((id, n) => letterFor(itemOf(id), n)),
    );
    const published: WorkItem[] = [];

    // Act
    const result = await redriveDeadLetters({
      store,
      workQueue: { publish: async (item) => void published.push(item) },
      deadLetters,
    });

    // Assess
    expect(result).toMatchObject({ redriven: 1, dropped: 4, kept: 0, remaining: 0 });
    expect(result.message).toBe('1 redriven, 4 dropped (queue finished or gone), 0 kept (not a work item)');
    expect(published).toEqual([
      { queueId: 'running', tenantId: 't-1', instanceId: 'inst-now', generation: 5 },
    ]);
  });

  it('keeps a body that is not a work item and drops an item naming another tenant', async () => {
    // Prepare
    const store = memoryStore([queueWith('q-1', 'running', 't-other')]);
    const deadLetters = memoryDeadLetters([letterFor(null, 1), letterFor(itemOf('q-1'), 2)]);
    const published: WorkItem[] = [];

    // Act
    const result = await redriveDeadLetters({
      store,
      workQueue: { publish: async (item) => void published.push(item) },
      deadLetters,
    });

    // Assess
    expect(result).toMatchObject({ redriven: 0, dropped: 1, kept: 1, remaining: 1 });
    expect(published).toEqual([]);
    expect(deadLetters.letters.map((l) => l.messageId)).toEqual(['m-1']);
  });

  it('publishes a queue once when several of its generations died', async () => {
    // Prepare
    const store = memoryStore([queueWith('q-1', 'pending')]);
    const deadLetters = memoryDeadLetters([letterFor(itemOf('q-1', 1), 1), letterFor(itemOf('q-1', 2), 2)]);
    const published: WorkItem[] = [];

    // Act
    const result = await redriveDeadLetters({
      store,
      workQueue: { publish: async (item) => void published.push(item) },
      deadLetters,
    });

    // Assess
    expect(result).toMatchObject({ redriven: 2, dropped: 0, remaining: 0 });
    expect(published).toHaveLength(1);
  });

  it('leaves the letter in the DLQ when the work queue refuses the publish', async () => {
    // Prepare
    const store = memoryStore([queueWith('q-1', 'running')]);
    const deadLetters = memoryDeadLetters([letterFor(itemOf('q-1'))]);

    // Act
    const attempt = redriveDeadLetters({
      store,
      workQueue: {
        publish: async () => {
          throw new Error('broker down');
        },
      },
      deadLetters,
    });

    // Assess
    await expect(attempt).rejects.toThrow('broker down');
    expect(deadLetters.letters).toHaveLength(1);
  });
});

describe('listDeadLetters', () => {
  it('shows each letter with its queue status and what redrive would do, and says when some are not shown', async () => {
    // Prepare
    const store = memoryStore([queueWith('q-live', 'paused'), queueWith('q-done', 'completed')]);
    const deadLetters = memoryDeadLetters([
      letterFor(itemOf('q-live'), 1),
      letterFor(itemOf('q-done'), 2),
      letterFor(null, 3),
    ]);

    // Act
    const listing = await listDeadLetters({ store, workQueue: { publish: async () => {} }, deadLetters }, 2);

    // Assess
    expect(listing.total).toBe(3);
    expect(listing.note).toMatch(/2 of 3 shown/);
    expect(listing.letters).toEqual([
      expect.objectContaining({
        message_id: 'm-1',
        queue_id: 'q-live',
        tenant_id: 't-1',
        deliveries: 5,
        queue_status: 'paused',
        on_redrive: 'redrive',
      }),
      expect.objectContaining({ queue_id: 'q-done', queue_status: 'completed', on_redrive: 'drop' }),
    ]);
    expect(deadLetters.letters).toHaveLength(3);
  });
});

describe('dropDeadLetter', () => {
  it('removes only the letter with that message id, and says when there is none', async () => {
    // Prepare
    const deadLetters = memoryDeadLetters([letterFor(itemOf('q-1'), 1), letterFor(null, 2)]);

    // Act
    const dropped = await dropDeadLetter({ deadLetters }, 'm-2');
    const missing = await dropDeadLetter({ deadLetters }, 'm-9');

    // Assess
    expect(dropped).toBe(true);
    expect(missing).toBe(false);
    expect(deadLetters.letters.map((l) => l.messageId)).toEqual(['m-1']);
  });
});
