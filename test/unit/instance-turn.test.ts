import { describe, expect, it } from 'vitest';
import { InstanceTurn } from '../../lib/app/instance-turn.ts';
import { intervalClockOf } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { inMemoryDeps } from '../support/use-case-deps.ts';

const T0 = new Date('2026-03-02T13:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The store, counting lease renewals. */
const countingRenewals = (store: Store) => {
  const renewals: string[] = [];
  const renewInstanceLease: Store['renewInstanceLease'] = async (...args) => {
    renewals.push(args[3]);
    return store.renewInstanceLease(...args);
  };
  return { store: { ...store, renewInstanceLease } as Store, renewals };
};

const takeTurn = async (
  options: { leaseMs: number; gatewayTimeoutMs: number },
  shared = inMemoryDeps(T0.toISOString()),
  now = T0,
) => {
  const counted = countingRenewals(shared.store);
  const taken = await InstanceTurn.take(
    { ...shared, store: counted.store, sleep: async () => undefined },
    acmeQueue({ totalContacts: 10, createdAt: T0.toISOString() }),
    'inst-1',
    now,
    options,
  );
  if (taken === 'continued') throw new Error('the lease was free');
  return { turn: taken.turn, lastSendAt: taken.lastSendAt, renewals: counted.renewals };
};

describe('InstanceTurn.keep (the instance lease)', () => {
  it('renews once a third of the lease is left, then counts from the renewal', async () => {
    // Prepare: a 60 s lease, a 15 s gateway timeout (a send's worth: 20 s with the margin).
    const { turn, renewals } = await takeTurn({ leaseMs: 60_000, gatewayTimeoutMs: 15_000 });

    // Act
    const early = await turn.keep(at(39), 0);
    const third = await turn.keep(at(41), 0);
    const afterRenewal = await turn.keep(at(80), 0);
    const again = await turn.keep(at(82), 0);

    // Assess
    expect([early, third, afterRenewal, again]).toEqual(['kept', 'renewed', 'kept', 'renewed']);
    expect(renewals).toEqual([at(101).toISOString(), at(142).toISOString()]);
  });

  it('never lets less than a send is worth remain, however short a third of the lease is', async () => {
    // Prepare: the lease is stretched to a send's worth (30 s + 5 s) plus a margin (5 s): 40 s. A
    // third of it (13.3 s) would leave a claim made then without the time its send may take.
    const { turn } = await takeTurn({ leaseMs: 10_000, gatewayTimeoutMs: 30_000 });

    // Act
    const fresh = await turn.keep(at(4), 0);
    const soon = await turn.keep(at(6), 0);

    // Assess
    expect(fresh).toBe('kept');
    expect(soon).toBe('renewed');
  });

  it('reports a lease another pump took once it ran out as lost', async () => {
    // Prepare
    const options = { leaseMs: 60_000, gatewayTimeoutMs: 15_000 };
    const shared = inMemoryDeps(T0.toISOString());
    const { turn } = await takeTurn(options, shared);
    // The lease ran out during a long wait, and another pump took the instance.
    await takeTurn(options, shared, at(200));

    // Act
    const kept = await turn.keep(at(201), 0);

    // Assess
    expect(kept).toBe('lost');
  });
});

/**
 * A hand-over on one true timeline (sub-millisecond): a wall clock shows it truncated to the
 * millisecond, the monotonic clock from its own origin (each reading takes 10 µs). A run anchored
 * at `firstAnchorMs` calls the gateway at 1000.5 ms and hands the instance over at once; the next
 * run, whose wall reads `nextAheadMs` ahead (another host), takes it at `nextTakesMs` and waits out
 * a 200 ms interval from the lease's last send. The true time between the two calls.
 */
const handOverGap = async (timeline: {
  firstAnchorMs: number;
  nextTakesMs: number;
  nextAheadMs: number;
}): Promise<number> => {
  let t = T0.getTime() + timeline.firstAnchorMs;
  const monotonicMs = () => {
    t += 0.01;
    return t - 5_000;
  };
  const wallAhead = (ms: number) => ({ now: () => new Date(Math.floor(t + ms)), monotonicMs });
  const sleep = async (ms: number) => {
    t += ms;
  };
  const options = { leaseMs: 60_000, gatewayTimeoutMs: 15_000 };
  const shared = inMemoryDeps(T0.toISOString());
  const first = intervalClockOf(wallAhead(0));
  const { turn } = await takeTurn(options, shared);
  t = T0.getTime() + 1000.5;
  const lastCall = t;
  await turn.release(first.onWallNow(first.now()));
  t = T0.getTime() + timeline.nextTakesMs;
  const next = intervalClockOf(wallAhead(timeline.nextAheadMs));
  const { lastSendAt } = await takeTurn(options, shared, at(timeline.nextTakesMs / 1000));
  await next.waitUntil(lastSendAt + 200, sleep);
  return t - lastCall;
};

describe('InstanceTurn.release (the hand-over)', () => {
  it('lets the next holder pace a whole interval from the last call, though the run clocks read up to a millisecond behind the wall', async () => {
    // Act: the first run anchors at .9 of a millisecond (its clock 0.9 ms behind the wall); the
    // next anchors on a whole millisecond
    const gap = await handOverGap({ firstAnchorMs: 0.9, nextTakesMs: 1100, nextAheadMs: 0 });

    // Assess: by the true timeline, the next call is no sooner than 200 ms after the last
    expect(gap).toBeGreaterThanOrEqual(200);
  });

  it('lets a next holder on another host, whose wall clock reads 2 ms ahead, pace a whole interval from the last call', async () => {
    // Act: the other host takes the instance 50 ms after the hand-over
    const gap = await handOverGap({ firstAnchorMs: 0.5, nextTakesMs: 1050, nextAheadMs: 2 });

    // Assess
    expect(gap).toBeGreaterThanOrEqual(200);
  });
});
