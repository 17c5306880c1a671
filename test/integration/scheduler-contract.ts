import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type { BillingQueue } from '../../lib/domain/types.ts';
import type { Scheduler } from '../../lib/ports/scheduler.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';

/**
 * One scheduler on fresh state, a clock the test moves, and the work queue it releases into.
 * "Fired" is what a scheduler's user can observe: the queue's work item reaches the work queue
 * (EventBridge: schedule -> release function -> queue; locally: poller -> release -> queue).
 */
export interface SchedulerFixture {
  /** The scheduler under test; `restart` replaces it. */
  scheduler: Scheduler;
  /** Sets the time the scheduler sees. */
  setNow(at: Date): void;
  /** Gives the scheduler the chance to fire what is due at the current time. */
  fireDue(): Promise<void>;
  /** Work items published so far, in order. */
  published(): WorkItem[];
  /** Stores `queue` as the pump leaves it before scheduling its item. */
  putQueue(queue: BillingQueue): Promise<void>;
  /** Makes the queue paused, as a pause request would. */
  pauseQueue(queueId: string): Promise<void>;
  /** A new scheduler instance on the same durable state (a process restart). */
  restart(): void;
  dispose(): Promise<void>;
}

/** EventBridge's precision: a schedule fires within the minute after `at`. */
const PRECISION_MS = 60_000;
const T0 = new Date('2025-03-10T10:00:00.000Z');

/** A queue deferred to `at` (status `scheduled`), and the item the pump scheduled for it. */
export const deferredQueue = (
  at: Date,
  overrides: Partial<BillingQueue> = {},
): { queue: BillingQueue; item: WorkItem } => {
  const queue = newBillingQueue({
    id: randomUUID(),
    tenantId: 'tenant-1',
    campaignId: 'campaign-1',
    externalId: 'fatura-1',
    templateType: 'overdue',
    instanceId: 'instance-1',
    status: 'scheduled',
    totalContacts: 3,
    createdAt: '2025-03-09T20:00:00.000Z',
    nextRunAt: at.toISOString(),
    publishGeneration: 2,
    ...overrides,
  });
  const item: WorkItem = {
    queueId: queue.id,
    tenantId: queue.tenantId,
    instanceId: queue.instanceId ?? 'none',
    generation: queue.publishGeneration,
  };
  return { queue, item };
};

/** The contract every Scheduler implementation whose firing can be observed passes. */
export const runSchedulerContract = (name: string, makeFixture: () => Promise<SchedulerFixture>): void => {
  describe(`${name} (Scheduler contract)`, () => {
    let f: SchedulerFixture;
    const releasedFor = (queueId: string) => f.published().filter((i) => i.queueId === queueId);

    beforeEach(async () => {
      f = await makeFixture();
      f.setNow(T0);
    });
    afterEach(async () => {
      await f.dispose();
    });

    it('fires once the time has come and never before it', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 3 * 60 * 60_000 + 17_500);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);

      // Act
      f.setNow(new Date(at.getTime() - 1));
      await f.fireDue();
      const beforeAt = releasedFor(queue.id).length;
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(beforeAt).toBe(0);
      expect(releasedFor(queue.id)).toHaveLength(1);
    });

    it('releases the item with a newer publish generation when it fires', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 10 * 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);

      // Act
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      const [released] = releasedFor(queue.id);
      expect(released).toMatchObject({
        queueId: queue.id,
        tenantId: queue.tenantId,
        instanceId: 'instance-1',
      });
      expect(released?.generation).toBeGreaterThan(item.generation);
    });

    it('fires only once however often it is polled afterwards', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);

      // Act
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();
      f.setNow(new Date(at.getTime() + 5 * PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(queue.id)).toHaveLength(1);
    });

    it('fires once when the same name is scheduled twice', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);

      // Act
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(queue.id)).toHaveLength(1);
    });

    it('does not fire a cancelled schedule', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);

      // Act
      await f.scheduler.cancel(`resume-${queue.id}`);
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(queue.id)).toHaveLength(0);
    });

    it('accepts the cancel of a schedule that does not exist', async () => {
      // Act
      const cancelled = f.scheduler.cancel(`resume-${randomUUID()}`);

      // Assess
      await expect(cancelled).resolves.toBeUndefined();
    });

    it('fires after a restart a schedule made before it', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 2 * 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);

      // Act
      f.restart();
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(queue.id)).toHaveLength(1);
    });

    it('publishes nothing when the queue was paused before the schedule fired', async () => {
      // Prepare
      const at = new Date(T0.getTime() + 60_000);
      const { queue, item } = deferredQueue(at);
      await f.putQueue(queue);
      await f.scheduler.schedule(`resume-${queue.id}`, at, item);
      await f.pauseQueue(queue.id);

      // Act
      f.setNow(new Date(at.getTime() + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(queue.id)).toHaveLength(0);
    });

    it('keeps schedules of different names apart', async () => {
      // Prepare
      const early = deferredQueue(new Date(T0.getTime() + 60_000));
      const late = deferredQueue(new Date(T0.getTime() + 60 * 60_000));
      await f.putQueue(early.queue);
      await f.putQueue(late.queue);
      await f.scheduler.schedule(`resume-${early.queue.id}`, new Date(T0.getTime() + 60_000), early.item);
      await f.scheduler.schedule(`resume-${late.queue.id}`, new Date(T0.getTime() + 60 * 60_000), late.item);

      // Act
      f.setNow(new Date(T0.getTime() + 60_000 + PRECISION_MS));
      await f.fireDue();

      // Assess
      expect(releasedFor(early.queue.id)).toHaveLength(1);
      expect(releasedFor(late.queue.id)).toHaveLength(0);
    });
  });
};
