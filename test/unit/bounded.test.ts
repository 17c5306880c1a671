import { describe, expect, it } from 'vitest';
import { allOf, forEachWithin, groupsWithin } from '../../lib/app/bounded.ts';

/** Tasks that end when the test says so, recording what ran at once. */
const controlledTasks = (weights: Record<string, number>) => {
  const running = new Set<string>();
  const started: string[] = [];
  const peaks = { count: 0, weight: 0 };
  const finishers = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const task = (item: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(item);
      running.add(item);
      peaks.count = Math.max(peaks.count, running.size);
      peaks.weight = Math.max(
        peaks.weight,
        [...running].reduce((sum, id) => sum + (weights[id] ?? 0), 0),
      );
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
  return { task, started, running, peaks, finishers, settle };
};

describe('forEachWithin', () => {
  it('runs many light items at once, heavy ones a few at a time, and a heavier one alone', async () => {
    // Prepare: five light items, three of 400, one of 1500, within 3 at once and a weight of 1000
    const weights: Record<string, number> = {
      a: 1,
      b: 1,
      c: 1,
      d: 1,
      e: 1,
      H1: 400,
      H2: 400,
      H3: 400,
      X: 1500,
    };
    const items = Object.keys(weights);
    const t = controlledTasks(weights);

    // Act: run them, ending whatever runs, until all are done
    const done = forEachWithin(items, { count: 3, weight: 1000, weightOf: (id) => weights[id] ?? 0 }, t.task);
    const concurrently: string[][] = [];
    for (let round = 0; round < 20; round++) {
      await t.settle();
      if (t.running.size === 0) break;
      concurrently.push([...t.running]);
      for (const id of [...t.running]) t.finishers.get(id)?.resolve();
    }
    await done;

    // Assess: every item once, in order; at most 3 at once; at most 1000 together but X, alone
    expect(t.started).toEqual(items);
    expect(t.peaks.count).toBe(3);
    expect(concurrently).toEqual([['a', 'b', 'c'], ['d', 'e', 'H1'], ['H2', 'H3'], ['X']]);
    for (const group of concurrently.filter((g) => g.length > 1)) {
      expect(group.reduce((sum, id) => sum + (weights[id] ?? 0), 0)).toBeLessThanOrEqual(1000);
    }
  });

  it('starts nothing after a failure and rejects once the running tasks have ended', async () => {
    // Prepare
    const weights: Record<string, number> = { a: 1, b: 1, c: 1, d: 1 };
    const t = controlledTasks(weights);
    let outcome: unknown = 'pending';

    // Act: a fails while b runs
    const done = forEachWithin(
      Object.keys(weights),
      { count: 2, weight: 10, weightOf: () => 1 },
      t.task,
    ).then(
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
    await forEachWithin([], { count: 2, weight: 10, weightOf: () => 1 }, async (item: string) => {
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
