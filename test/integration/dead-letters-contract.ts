import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter, DeadLetters } from '../../lib/ports/dead-letters.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { waitFor } from '../support/wait-for.ts';

/** One DeadLetters adapter over a fresh work queue and its dead-letter queue, on the real broker. */
export interface DeadLettersFixture {
  deadLetters: DeadLetters;
  /** The work queue whose dead letters these are (the product's adapter, retrying at once). */
  workQueue: WorkQueue;
  /** Deliveries before the work queue dead-letters an item, as configured for this fixture. */
  maxReceiveCount: number;
  /** Puts a body on the work queue without the adapter (e.g. one that is not a work item). */
  publishRaw(body: string, instanceId: string): Promise<void>;
  /** Closes the adapters and deletes the queues. */
  dispose(): Promise<void>;
}

const item = (overrides: Partial<WorkItem> = {}): WorkItem => ({
  queueId: `q-${randomUUID().slice(0, 8)}`,
  tenantId: 'tenant-1',
  instanceId: `instance-${randomUUID().slice(0, 4)}`,
  generation: 1,
  ...overrides,
});

const queueIds = (letters: DeadLetter[]): string[] => letters.map((l) => l.item?.queueId ?? '').sort();

/**
 * The behaviour every DeadLetters implementation must show (SQS and RabbitMQ run the same cases).
 * Letters get into the dead-letter queue the real way: published on the work queue and failed by a
 * consumer until the broker gives up on them.
 */
export function deadLettersContract(name: string, makeFixture: () => Promise<DeadLettersFixture>): void {
  describe(`${name} (DeadLetters contract)`, () => {
    const fixtures: DeadLettersFixture[] = [];
    afterEach(async () => {
      await Promise.all(fixtures.splice(0).map((fixture) => fixture.dispose()));
    });

    const fresh = async () => {
      const fixture = await makeFixture();
      fixtures.push(fixture);
      return fixture;
    };

    /** Publishes (items or raw bodies) and fails every delivery until `expected` letters are dead. */
    const bury = async (fixture: DeadLettersFixture, publish: () => Promise<void>, expected: number) => {
      const consumer = await fixture.workQueue.consume(
        async () => {
          throw new Error('simulated crash');
        },
        { concurrency: 1 },
      );
      try {
        await publish();
        await waitFor(async () => (await fixture.deadLetters.count()) >= expected, {
          what: `${expected} dead letters`,
          timeoutMs: 20_000,
        });
      } finally {
        await consumer.stop();
      }
    };
    const buryItems = (fixture: DeadLettersFixture, items: WorkItem[]) =>
      bury(
        fixture,
        async () => {
          for (const work of items) await fixture.workQueue.publish(work);
        },
        items.length,
      );

    it('lists nothing and counts zero when nothing died', async () => {
      // Prepare
      const { deadLetters } = await fresh();

      // Act
      const letters = await deadLetters.list(10);

      // Assess
      expect(letters).toEqual([]);
      expect(await deadLetters.count()).toBe(0);
    });

    it('lists a dead item with its queue, tenant and deliveries, and leaves it there', async () => {
      // Prepare
      const fixture = await fresh();
      const dead = item({ generation: 3 });
      await buryItems(fixture, [dead]);

      // Act
      const first = await fixture.deadLetters.list(10);
      const second = await fixture.deadLetters.list(10);

      // Assess
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ item: dead, deliveries: fixture.maxReceiveCount });
      expect(first[0]?.messageId).not.toBe('');
      expect(second.map((l) => l.messageId)).toEqual(first.map((l) => l.messageId));
      expect(await fixture.deadLetters.count()).toBe(1);
    });

    it('lists a body that is not a work item with no item, its body and an error saying so', async () => {
      // Prepare
      const fixture = await fresh();
      await bury(fixture, () => fixture.publishRaw('{"queueId":', 'instance-poison'), 1);

      // Act
      const letters = await fixture.deadLetters.list(10);

      // Assess
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ item: null, body: '{"queueId":' });
      expect(letters[0]?.lastError).toMatch(/not a work item/);
    });

    it('removes the letters decided so and keeps the others, each seen once', async () => {
      // Prepare
      const fixture = await fresh();
      const [a, b, c] = [item(), item(), item()] as [WorkItem, WorkItem, WorkItem];
      await buryItems(fixture, [a, b, c]);
      const decided: string[] = [];

      // Act
      const result = await fixture.deadLetters.settle(async (letter) => {
        decided.push(letter.item?.queueId ?? '');
        return letter.item?.queueId === b.queueId ? 'remove' : 'keep';
      }, 10);

      // Assess
      expect(result).toEqual({ seen: 3, removed: 1 });
      expect(decided.sort()).toEqual([a.queueId, b.queueId, c.queueId].sort());
      expect(queueIds(await fixture.deadLetters.list(10))).toEqual([a.queueId, c.queueId].sort());
      expect(await fixture.deadLetters.count()).toBe(2);
    });

    it('reaches every letter of one WhatsApp instance when each is removed, in their order', async () => {
      // Prepare: one instance is one FIFO group on SQS, where a letter in hand hides those behind it.
      const fixture = await fresh();
      const items = [1, 2, 3].map((n) => item({ instanceId: 'instance-shared', queueId: `q-${n}` }));
      await buryItems(fixture, items);
      const decided: string[] = [];

      // Act
      const result = await fixture.deadLetters.settle(async (letter) => {
        decided.push(letter.item?.queueId ?? '');
        return 'remove';
      }, 10);

      // Assess
      expect(result).toEqual({ seen: 3, removed: 3 });
      expect(decided).toEqual(['q-1', 'q-2', 'q-3']);
      expect(await fixture.deadLetters.count()).toBe(0);
    });

    it('leaves the letter in hand and the unseen ones when deciding fails, and says why', async () => {
      // Prepare
      const fixture = await fresh();
      await buryItems(fixture, [item(), item()]);

      // Act
      const attempt = fixture.deadLetters.settle(async () => {
        throw new Error('work queue down');
      }, 10);

      // Assess
      await expect(attempt).rejects.toThrow('work queue down');
      expect(await fixture.deadLetters.list(10)).toHaveLength(2);
    });

    it('looks at no more letters than the limit', async () => {
      // Prepare
      const fixture = await fresh();
      await buryItems(fixture, [item(), item(), item()]);

      // Act
      const listed = await fixture.deadLetters.list(2);
      const settled = await fixture.deadLetters.settle(async () => 'remove', 2);

      // Assess
      expect(listed).toHaveLength(2);
      expect(settled).toEqual({ seen: 2, removed: 2 });
      expect(await fixture.deadLetters.count()).toBe(1);
    });
  });
}
