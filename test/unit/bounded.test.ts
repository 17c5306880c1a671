import { describe, expect, it } from 'vitest';
import { allOf, forEachBounded, groupsWithin } from '../../lib/app/bounded.ts';

/** Tasks that end when the test says so, recording what ran at once. */
const controlledTasks = () => {
  const running = new Set<string>();
  const started: string[] = [];
  let peak = 0;
  const finishers = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const task = (item: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      running.add(item);
      peak = Math.max(peak, running.size);
      finishers.set(item, {
        resolve: () => {
          running.delete(item);
          resolve();
        },
        reject: (error) => {
          running.delete(item);
          reject(error);
        },
      });
    });
  /** Lets the event loop run the scheduler's continuations. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { task, started, running, peak: () => peak, finishers, settle };
};

describe('forEachBounded', () => {
  it('runs the items in order, never more than the limit at once', async () => {
    // Prepare: seven items, three at once
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const t = controlledTasks();

    // Act: run them, ending whatever runs, until all are done
    const done = forEachBounded(items, 3, t.task);
    const concurrently: string[][] = [];
    for (let round = 0; round < 20; round++) {
      await t.settle();
      if (t.running.size === 0) break;
      concurrently.push([...t.running]);
      for (const id of [...t.running]) t.finishers.get(id)?.resolve();
    }
    await done;

    // Assess
    expect(t.started).toEqual(items);
    expect(t.peak()).toBe(3);
    expect(concurrently).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
  });

  it('starts nothing after a failure and rejects once the running tasks have ended', async () => {
    // Prepare
    const t = controlledTasks();
    let outcome: unknown = 'pending';

    // Act: a fails while b runs
    const done = forEachBounded(['a', 'b', 'c', 'd'], 2, t.task).then(
      () => (outcome = 'resolved'),
      (error: Error) => (outcome = error.message),
    );
    await t.settle();
    t.finishers.get('a')?.reject(new Error('store down'));
    await t.settle();
    const whileBRuns = outcome;
    t.finishers.get('b')?.resolve();
    await done;

    // Assess
    expect(whileBRuns).toBe('pending');
    expect(outcome).toBe('store down');
    expect(t.started).toEqual(['a', 'b']);
  });

  it('resolves at once for no items', async () => {
    const ran: string[] = [];
    await forEachBounded([], 2, async (item: string) => {
      ran.push(item);
    });
    expect(ran).toEqual([]);
  });
});

describe('groupsWithin', () => {
  it('cuts the items in order into groups within the count and the weight, a heavier one alone', () => {
    // Prepare: weights by name; at most 3 items and 100 of weight a group
    const weights: Record<string, number> = { a: 1, b: 1, c: 1, d: 1, e: 60, f: 50, g: 250, h: 1 };
    const bound = { count: 3, weight: 100, weightOf: (id: string) => weights[id] ?? 0 };

    // Act
    const groups = groupsWithin(Object.keys(weights), bound);

    // Assess
    expect(groups).toEqual([['a', 'b', 'c'], ['d', 'e'], ['f'], ['g'], ['h']]);
    expect(groupsWithin([], bound)).toEqual([]);
  });
});

describe('allOf', () => {
  it('rejects with the first failure only once every task has ended', async () => {
    // Prepare: the second task fails at once, the others end later
    const ended: string[] = [];
    const endsIn = (ms: number, name: string, fail = false) =>
      new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          ended.push(name);
          if (fail) reject(new Error(name));
          else resolve();
        }, ms),
      );

    // Act
    const outcome = allOf([
      endsIn(30, 'slow'),
      endsIn(0, 'first failure', true),
      endsIn(10, 'second failure', true),
    ]);

    // Assess
    await expect(outcome).rejects.toThrow('first failure');
    expect(ended.sort()).toEqual(['first failure', 'second failure', 'slow']);
    await expect(allOf([endsIn(0, 'a'), endsIn(5, 'b')])).resolves.toBeUndefined();
  });
});
