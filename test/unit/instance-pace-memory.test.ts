import { describe, expect, it } from 'vitest';
import { createInstancePaceMemory } from '../../lib/app/instance-pace-memory.ts';
import type { IntervalClock } from '../../lib/ports/clock.ts';

/** A run's clock: the process's monotonic time plus the run's anchor (`offset`). */
const runClock = (offset: number | undefined): IntervalClock => ({
  now: () => 0,
  waitUntil: async () => undefined,
  onWallNow: (reading) => reading,
  toMonotonic: (reading) => (offset === undefined ? undefined : reading - offset),
  fromMonotonic: (monotonic) => (offset === undefined ? undefined : monotonic + offset),
});

describe('instance pace memory', () => {
  it('lets the next run in the process pace from the exact hand-over when the lease reads earlier (a wall step)', () => {
    // Prepare: a run anchored at 1000 hands over its last call at 5000 on its clock (4000 monotonic)
    const { paceFrom, rememberHandover } = createInstancePaceMemory();
    rememberHandover('acme', 'inst-steps', runClock(1000), 5000);

    // Act: the next run is anchored 3 ms higher (the wall stepped); the lease says 4998 on the wall
    const from = paceFrom('acme', 'inst-steps', runClock(1003), 4998);

    // Assess: 4000 monotonic on its clock
    expect(from).toBe(5003);
  });

  it("keeps the lease's time when it is later (another process sent since), and for clocks without a monotonic reading", () => {
    // Prepare
    const { paceFrom, rememberHandover } = createInstancePaceMemory();
    rememberHandover('acme', 'inst-later', runClock(0), 2000);
    rememberHandover('acme', 'inst-fake', runClock(undefined), 2000);

    // Act
    const leaseLater = paceFrom('acme', 'inst-later', runClock(0), 2500);
    const fake = paceFrom('acme', 'inst-fake', runClock(undefined), 1500);
    const otherTenant = paceFrom('other', 'inst-later', runClock(0), 100);

    // Assess
    expect(leaseLater).toBe(2500);
    expect(fake).toBe(1500);
    expect(otherTenant).toBe(100);
  });
});
