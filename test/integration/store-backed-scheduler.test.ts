import { describe, expect, it } from 'vitest';
import {
  createStoreBackedScheduler,
  type StoreBackedScheduler,
} from '../../lib/adapters/scheduler/store-backed-scheduler.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { releaserOf } from '../../lib/app/release-work.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { useDynalite } from '../support/dynalite.ts';
import { deferredQueue, runSchedulerContract, type SchedulerFixture } from './scheduler-contract.ts';

const db = useDynalite();

/** A work queue that records what is published (the scheduler's output) and can be told to fail. */
const recordingWorkQueue = () => {
  const published: WorkItem[] = [];
  let failures = 0;
  const workQueue: WorkQueue = {
    async publish(item) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('broker unavailable');
      }
      published.push(item);
    },
    consume: async () => {
      throw new Error('the scheduler never consumes');
    },
    reachability: async () => 'ok' as const,
    close: async () => undefined,
  };
  return {
    workQueue,
    published,
    failNext: (n: number) => {
      failures = n;
    },
  };
};

/** A store-backed scheduler on its own fresh table, a movable clock and a recording work queue. */
const freshFixture = async () => {
  const tableName = await db.freshTable('scheduler-test');
  let now = new Date(0);
  const clock: Clock = { now: () => now };
  const store: Store = createDynamoDbStore({ client: db.doc, tableName, clock });
  const recorder = recordingWorkQueue();
  const make = (): StoreBackedScheduler =>
    createStoreBackedScheduler({
      store,
      clock,
      release: releaserOf({ store, workQueue: recorder.workQueue, clock }),
    });
  let scheduler = make();
  const fixture: SchedulerFixture & {
    store: Store;
    local: () => StoreBackedScheduler;
    failNext: (n: number) => void;
  } = {
    get scheduler() {
      return scheduler;
    },
    store,
    local: () => scheduler,
    failNext: recorder.failNext,
    setNow: (at) => {
      now = at;
    },
    fireDue: async () => {
      await scheduler.fireDue();
    },
    published: () => [...recorder.published],
    putQueue: async (queue) => {
      await store.createQueue(queue);
    },
    pauseQueue: async (queueId) => {
      await store.transitionQueue(queueId, ['scheduled', 'pending', 'running'], 'paused', {
        pausedAt: now.toISOString(),
        pauseReason: 'pausada pelo teste',
      });
    },
    restart: () => {
      scheduler = make();
    },
    dispose: async () => undefined,
  };
  return fixture;
};

runSchedulerContract('createStoreBackedScheduler', freshFixture);

describe('createStoreBackedScheduler', () => {
  const at = new Date('2025-03-10T11:00:00.000Z');

  it('fires exactly at `at`, with no rounding of its own', async () => {
    // Prepare
    const f = await freshFixture();
    const { queue, item } = deferredQueue(at);
    await f.putQueue(queue);
    await f.scheduler.schedule(`resume-${queue.id}`, at, item);

    // Act
    f.setNow(at);
    const fired = await f.local().fireDue();

    // Assess
    expect(fired).toBe(1);
    expect(f.published().map((i) => i.queueId)).toEqual([queue.id]);
  });

  it('fires every due schedule in one poll, beyond one page of the due index', async () => {
    // Prepare
    const f = await freshFixture();
    const queues = Array.from({ length: 55 }, () => deferredQueue(at));
    await Promise.all(
      queues.map(async ({ queue, item }) => {
        await f.putQueue(queue);
        await f.scheduler.schedule(`resume-${queue.id}`, at, item);
      }),
    );

    // Act
    f.setNow(new Date(at.getTime() + 1000));
    const fired = await f.local().fireDue();

    // Assess
    expect(fired).toBe(55);
    expect(new Set(f.published().map((i) => i.queueId))).toEqual(new Set(queues.map((q) => q.queue.id)));
  });

  it('keeps a schedule whose release failed and fires it on a later poll', async () => {
    // Prepare
    const f = await freshFixture();
    const { queue, item } = deferredQueue(at);
    await f.putQueue(queue);
    await f.scheduler.schedule(`resume-${queue.id}`, at, item);
    f.setNow(at);
    f.failNext(1);

    // Act
    const failedPoll = f.local().fireDue();
    await expect(failedPoll).rejects.toThrow('broker unavailable');
    const fired = await f.local().fireDue();

    // Assess
    expect(fired).toBe(1);
    expect(f.published().map((i) => i.queueId)).toEqual([queue.id]);
  });

  it('counts a schedule whose queue no longer waits as fired, and publishes nothing for it', async () => {
    // Prepare
    const f = await freshFixture();
    const { queue, item } = deferredQueue(at, { status: 'completed', nextRunAt: null });
    await f.putQueue(queue);
    await f.scheduler.schedule(`resume-${queue.id}`, at, item);
    f.setNow(at);

    // Act
    const fired = await f.local().fireDue();
    const again = await f.local().fireDue();

    // Assess
    expect(fired).toBe(1);
    expect(again).toBe(0);
    expect(f.published()).toEqual([]);
  });

  it('drops a stored schedule whose payload is not a work item instead of failing every poll', async () => {
    // Prepare
    const f = await freshFixture();
    await f.store.createSchedule({
      name: 'broken',
      dueAt: at.toISOString(),
      payload: '{"queueId":""}',
      createdAt: at.toISOString(),
    });
    f.setNow(at);

    // Act
    const fired = await f.local().fireDue();
    const leftOver = await f.store.listDueSchedules(at.toISOString(), 10);

    // Assess
    expect(fired).toBe(0);
    expect(leftOver).toEqual([]);
    expect(f.published()).toEqual([]);
  });
});
