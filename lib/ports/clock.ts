/** The current time. Tests drive it; the domain never reads a clock on its own. */
export interface Clock {
  /** Now, as a Date. */
  now(): Date;
  /**
   * A monotonic reading in milliseconds (sub-millisecond, arbitrary origin), for measuring short
   * intervals. Optional: fake clocks leave it out, and intervals are then read from `now()`.
   */
  monotonicMs?(): number;
}

export const systemClock: Clock = { now: () => new Date(), monotonicMs: () => performance.now() };

/**
 * The clock a pump run paces by: the wall clock's reading when the run starts, advanced by the
 * monotonic clock. The wall clock alone can step back (NTP corrections: on the project machine
 * about 1 ms every 2 s), which would put two gateway calls closer than the interval the pump
 * measured between them; anchored once per run, the readings stay close enough to the wall clock
 * for the lease, which carries the last send time to the next run, on any process.
 */
export interface IntervalClock {
  /** Milliseconds on the wall clock's scale, sub-millisecond, never going back. */
  now(): number;
  /**
   * Waits until `at` (a reading of `now()`), never returning before it: the last millisecond, which
   * a timer cannot hit, is waited out by yielding to the event loop until the clock passes `at`.
   */
  waitUntil(at: number, sleep: (ms: number) => Promise<void>): Promise<void>;
  /**
   * A past reading of this clock placed on the wall clock as it reads now, never earlier than the
   * wall's true time of that reading. The two clocks drift apart (on the project machine the wall
   * gains about 0.4 ms a second on the monotonic clock), so a time handed to another run (the
   * lease's last send) is anchored again when handed over, not placed by the anchor of a run that
   * started seconds or minutes before.
   */
  onWallNow(reading: number): number;
  /**
   * A reading of this clock on the process's monotonic clock, and back; undefined for a clock
   * without one. Two runs in one process hand a time over exactly this way, wall steps or not.
   */
  toMonotonic(reading: number): number | undefined;
  fromMonotonic(monotonic: number): number | undefined;
}

/** Yields to the event loop once (I/O and timers of other work run), then resolves. */
const yieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A wall-clock reading bracketed this tightly by monotonic ones is taken at once. */
const TIGHT_BRACKET_MS = 0.2;
/** Brackets tried at most; the tightest is kept. */
const ANCHOR_TRIES = 5;
/** The wall clock's resolution: `Date` reads whole milliseconds, truncated. */
const WALL_CLOCK_RESOLUTION_MS = 1;

/**
 * Where the wall clock stands against the monotonic one, from a wall reading taken between two
 * monotonic ones: `low + monotonic` is never after the wall's true time, `high + monotonic` never
 * before it, whatever happened between the reads. A thread descheduled between them (a loaded
 * machine; a Lambda function throttled to its share of a CPU, tens of ms) widens the gap between
 * the two, never the guarantee: a run waits on the low side (a moment on the wall is never reached
 * early) and hands its last send over on the high side (never placed early), so the next holder,
 * pacing from it, never sends within the interval of this run's last call. The tightest of a few
 * brackets is kept (the first, almost always), and the wall's truncation counts on the high side.
 */
const anchorBounds = (clock: Clock, monotonicMs: () => number): { low: number; high: number } => {
  let best = { width: Number.POSITIVE_INFINITY, low: 0, high: 0 };
  for (let i = 0; i < ANCHOR_TRIES && best.width > TIGHT_BRACKET_MS; i++) {
    const before = monotonicMs();
    const wall = clock.now().getTime();
    const after = monotonicMs();
    if (after - before < best.width)
      best = { width: after - before, low: wall - after, high: wall + WALL_CLOCK_RESOLUTION_MS - before };
  }
  return best;
};

export const intervalClockOf = (clock: Clock): IntervalClock => {
  const monotonicMs = clock.monotonicMs?.bind(clock);
  if (!monotonicMs) {
    // A fake clock moves only when told to (its sleep advances it): whole-millisecond sleeps.
    const now = () => clock.now().getTime();
    return {
      now,
      waitUntil: async (at, sleep) => {
        const left = at - now();
        if (left > 0) await sleep(Math.ceil(left));
      },
      onWallNow: (reading) => reading,
      toMonotonic: () => undefined,
      fromMonotonic: () => undefined,
    };
  }
  // Never ahead of the wall: a run waiting for a moment the lease names never calls before it.
  const offset = anchorBounds(clock, monotonicMs).low;
  const now = () => offset + monotonicMs();
  return {
    now,
    waitUntil: async (at, sleep) => {
      for (let left = at - now(); left > 0; left = at - now()) {
        if (left > 2) await sleep(Math.floor(left - 1));
        else await yieldOnce();
      }
    },
    onWallNow: (reading) => reading - offset + anchorBounds(clock, monotonicMs).high,
    toMonotonic: (reading) => reading - offset,
    fromMonotonic: (monotonic) => monotonic + offset,
  };
};
