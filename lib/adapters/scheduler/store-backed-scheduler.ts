import type { Clock } from '../../ports/clock.ts';
import type { Scheduler } from '../../ports/scheduler.ts';
import type { Store } from '../../ports/store.ts';
import type { WorkItem, WorkQueue } from '../../ports/work-queue.ts';

/**
 * The scheduler of local mode: schedules are items in the store (so they survive a restart) and
 * `fireDue` (called by a poller) publishes the due ones. Same observable behaviour as
 * EventBridge Scheduler: at-least-once, never before `at`, a repeated name is a no-op.
 */
export interface StoreBackedScheduler extends Scheduler {
  /** Publishes every schedule due now; returns how many fired. */
  fireDue(): Promise<number>;
}

export const createStoreBackedScheduler = (deps: {
  store: Store;
  workQueue: WorkQueue;
  clock: Clock;
}): StoreBackedScheduler => ({
  async schedule(name: string, at: Date, item: WorkItem) {
    await deps.store.createSchedule({
      name,
      dueAt: at.toISOString(),
      payload: JSON.stringify(item),
      createdAt: deps.clock.now().toISOString(),
    });
  },

  async cancel(name: string) {
    await deps.store.claimSchedule(name);
  },

  async fireDue() {
    let fired = 0;
    for (;;) {
      const due = await deps.store.listDueSchedules(deps.clock.now().toISOString(), 50);
      if (due.length === 0) return fired;
      let claimedAny = false;
      for (const candidate of due) {
        const claimed = await deps.store.claimSchedule(candidate.name);
        if (!claimed) continue;
        claimedAny = true;
        try {
          await deps.workQueue.publish(JSON.parse(claimed.payload) as WorkItem);
          fired += 1;
        } catch (error) {
          // Put it back so a later poll retries it: a schedule is never lost.
          await deps.store.createSchedule(claimed);
          throw error;
        }
      }
      // Only index entries another poller already took (the index lags deletes): done for now.
      if (!claimedAny) return fired;
    }
  },
});
