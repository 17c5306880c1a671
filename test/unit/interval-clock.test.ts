import { describe, expect, it } from 'vitest';
import { intervalClockOf, systemClock } from '../../lib/ports/clock.ts';

describe('intervalClockOf', () => {
  it('keeps going forward when the wall clock steps back', () => {
    // Prepare: a wall clock that steps back 5 ms while the monotonic one moves 1 ms
    let wall = 1_000_000;
    let monotonic = 50;
    const clock = { now: () => new Date(wall), monotonicMs: () => monotonic };
    const intervals = intervalClockOf(clock);
    const first = intervals.now();

    // Act
    wall -= 5;
    monotonic += 1;
    const second = intervals.now();

    // Assess: anchored on the wall clock at the start, then monotonic
    expect(first).toBe(1_000_000);
    expect(second).toBe(1_000_001);
  });

  it('anchors on a wall reading the monotonic clock brackets tightly: a thread descheduled mid-read does not shift it', () => {
    // Prepare: one timeline (monotonic t, wall 1_000_000 at t = 50); the thread is descheduled for
    // 14 ms before its second read of a clock, whichever that is
    let t = 50;
    const pauses = [0, 14];
    let reads = 0;
    const read = () => {
      t += pauses[reads++] ?? 0;
    };
    const clock = {
      now: () => {
        read();
        return new Date(1_000_000 + (t - 50));
      },
      monotonicMs: () => {
        read();
        return t;
      },
    };

    // Act
    const intervals = intervalClockOf(clock);

    // Assess: on the wall's own scale (reading the wall, then the monotonic clock 14 ms later, would
    // have put the run's clock 14 ms behind it)
    expect(intervals.now()).toBe(clock.now().getTime());
  });

  it('places a past reading on the wall clock as it reads now, once the two have drifted apart', () => {
    // Prepare: a wall clock that gains 0.4 ms a second on the monotonic one; a reading taken at the
    // start of a run
    let monotonic = 50;
    const wallAt = (m: number) => 1_000_000 + (m - 50) * 1.0004;
    const clock = { now: () => new Date(wallAt(monotonic)), monotonicMs: () => monotonic };
    const intervals = intervalClockOf(clock);
    const reading = intervals.now();

    // Act: five seconds later
    monotonic += 5_000;
    const stale = intervals.now();
    const placed = intervals.onWallNow(stale);

    // Assess: the run's own clock is 2 ms behind the wall by then; placed, the reading is on it (on
    // the late side by the wall's resolution, a millisecond)
    expect(stale - reading).toBe(5_000);
    expect(placed).toBe(wallAt(monotonic) + 1);
  });

  it('reads never ahead of the wall, and places a reading on it never early, however late each clock read returns', () => {
    // Prepare: one true timeline (monotonic t, the wall 1_000_000.5 ms ahead of it, read truncated);
    // every read of either clock is descheduled for 3 ms before it returns
    let t = 50;
    const trueWall = () => 1_000_000.5 + t;
    const clock = {
      now: () => {
        t += 3;
        return new Date(Math.floor(trueWall()));
      },
      monotonicMs: () => {
        t += 3;
        return t;
      },
    };
    const intervals = intervalClockOf(clock);

    // Act
    const reading = intervals.now();
    const wallWhenRead = trueWall();
    t += 1_000;
    const placed = intervals.onWallNow(reading);

    // Assess: behind the wall by at most the reads' delays, and placed no earlier than it was read
    expect(reading).toBeLessThanOrEqual(wallWhenRead);
    expect(reading).toBeGreaterThan(wallWhenRead - 10);
    expect(placed).toBeGreaterThanOrEqual(wallWhenRead);
    expect(placed).toBeLessThan(wallWhenRead + 10);
  });

  it('never returns from a wait before its moment, to the sub-millisecond', async () => {
    // Prepare
    const intervals = intervalClockOf(systemClock);
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const lateness: number[] = [];

    // Act
    for (let i = 0; i < 20; i += 1) {
      const at = intervals.now() + 3.3;
      await intervals.waitUntil(at, sleep);
      lateness.push(intervals.now() - at);
    }

    // Assess
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
  });

  it('reads a fake clock through now() and sleeps whole milliseconds on it', async () => {
    // Prepare: a fake clock whose sleep advances it
    let at = 1_000;
    const clock = { now: () => new Date(at) };
    const intervals = intervalClockOf(clock);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      at += ms;
    };

    // Act
    await intervals.waitUntil(1_002.4, sleep);
    await intervals.waitUntil(1_000, sleep);

    // Assess
    expect(slept).toEqual([3]);
    expect(intervals.now()).toBe(1_003);
  });

  it("places its readings on the process's monotonic clock and back, exactly; a fake clock has none", () => {
    // Prepare: two runs' clocks, anchored at different moments
    const first = intervalClockOf(systemClock);
    const second = intervalClockOf(systemClock);
    const fake = intervalClockOf({ now: () => new Date(1_000) });

    // Act
    const reading = first.now();
    const monotonic = first.toMonotonic(reading) as number;

    // Assess: the same moment on the other run's clock is within its anchors' difference
    expect(first.fromMonotonic(monotonic)).toBe(reading);
    expect(Math.abs((second.fromMonotonic(monotonic) as number) - reading)).toBeLessThan(5);
    expect(fake.toMonotonic(1_000)).toBeUndefined();
    expect(fake.fromMonotonic(1_000)).toBeUndefined();
  });
});
