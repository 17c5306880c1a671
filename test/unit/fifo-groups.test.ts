import { describe, expect, it } from 'vitest';
import { runFifoGroups } from '../../lib/lambda/fifo-groups.ts';

interface FakeRecord {
  id: string;
  group?: string;
}

const records = (...specs: [string, string | undefined][]): FakeRecord[] =>
  specs.map(([id, group]) => (group === undefined ? { id } : { id, group }));

/** A promise and its resolver, to make one record wait for another. */
const signal = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('runFifoGroups', () => {
  it("runs each group's records in their order", async () => {
    // Prepare
    const batch = records(['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['a3', 'A'], ['b2', 'B']);
    const finished: string[] = [];

    // Act: the first record of each group is the slowest, so any overlap inside a group would reorder
    const outcome = await runFifoGroups(
      batch,
      (r) => r.group,
      async (r) => {
        await new Promise((done) => setTimeout(done, r.id.endsWith('1') ? 30 : 1));
        finished.push(r.id);
      },
    );

    // Assess
    expect(outcome.failed).toEqual([]);
    expect(finished.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(finished.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('runs the groups at the same time', async () => {
    // Prepare: A's record waits until B's record has started; run one after the other, it never would
    const batch = records(['a1', 'A'], ['b1', 'B']);
    const bStarted = signal();
    const timeout = setTimeout(() => bStarted.resolve(), 2000);
    const started: string[] = [];

    // Act
    await runFifoGroups(
      batch,
      (r) => r.group,
      async (r) => {
        started.push(r.id);
        if (r.id === 'b1') bStarted.resolve();
        else await bStarted.promise;
        // Both have started before A's record went on.
        if (r.id === 'a1') started.push(`a1 saw ${started.length} started`);
      },
    );
    clearTimeout(timeout);

    // Assess
    expect(started).toEqual(['a1', 'b1', 'a1 saw 2 started']);
  });

  it('stops a group at its failure, reports the rest of that group failed unrun, and finishes the others', async () => {
    // Prepare
    const batch = records(['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['b2', 'B'], ['a3', 'A'], ['b3', 'B']);
    const ran: string[] = [];
    const boom = new Error('a2 broke');

    // Act
    const outcome = await runFifoGroups(
      batch,
      (r) => r.group,
      async (r) => {
        ran.push(r.id);
        if (r.id === 'a2') throw boom;
      },
    );

    // Assess
    expect(outcome.failed.map((r) => r.id)).toEqual(['a2', 'a3']);
    expect(outcome.errors).toEqual([{ record: batch[2], error: boom }]);
    expect(ran).not.toContain('a3');
    expect(ran.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2', 'b3']);
  });

  it('treats records without a group as groups of their own', async () => {
    // Prepare
    const batch = records(['x', undefined], ['y', undefined]);
    const ran: string[] = [];

    // Act
    const outcome = await runFifoGroups(
      batch,
      (r) => r.group,
      async (r) => {
        ran.push(r.id);
        if (r.id === 'x') throw new Error('x broke');
      },
    );

    // Assess: y is not held behind x
    expect(outcome.failed.map((r) => r.id)).toEqual(['x']);
    expect(ran).toEqual(['x', 'y']);
  });
});
