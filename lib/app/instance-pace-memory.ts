import type { IntervalClock } from '../ports/clock.ts';

/**
 * The last gateway call of each instance that a run of this process handed over, on the process's
 * monotonic clock. The lease carries the last send on the wall clock, which a next holder on
 * another host needs; but the wall may step by a few ms (on the project machine under load, past
 * the hand-over's 3 ms margin: CI saw two turns of one queue 198.97 ms apart at a 200 ms interval),
 * and when the next holder runs in the same process (the local worker; a warm Lambda container
 * that ran the instance's last batch) the exact time is at hand. A run paces from the later of the
 * two. One per process, made by the composition root.
 */
export interface InstancePaceMemory {
  /** Remembers a run's hand-over time (a reading of its clock) for the instance. */
  rememberHandover(tenantId: string, instanceId: string, intervals: IntervalClock, reading: number): void;
  /**
   * What a run that took the instance paces from, on its clock: the lease's last send (`fromLease`,
   * a wall time; 0 when never), or the one handed over in this process when that is later.
   */
  paceFrom(tenantId: string, instanceId: string, intervals: IntervalClock, fromLease: number): number;
}

/** Instances remembered at once; beyond that the memory starts over (the lease still paces). */
const MEMORY_LIMIT = 10_000;

const keyOf = (tenantId: string, instanceId: string) => `${tenantId}\u0000${instanceId}`;

export const createInstancePaceMemory = (): InstancePaceMemory => {
  const lastCalls = new Map<string, number>();
  return {
    rememberHandover(tenantId, instanceId, intervals, reading) {
      const monotonic = intervals.toMonotonic(reading);
      if (monotonic === undefined || reading === 0) return;
      const key = keyOf(tenantId, instanceId);
      if (!lastCalls.has(key) && lastCalls.size >= MEMORY_LIMIT) lastCalls.clear();
      lastCalls.set(key, Math.max(lastCalls.get(key) ?? monotonic, monotonic));
    },
    paceFrom(tenantId, instanceId, intervals, fromLease) {
      const here = lastCalls.get(keyOf(tenantId, instanceId));
      const onThisClock = here === undefined ? undefined : intervals.fromMonotonic(here);
      return onThisClock === undefined ? fromLease : Math.max(fromLease, onThisClock);
    },
  };
};
