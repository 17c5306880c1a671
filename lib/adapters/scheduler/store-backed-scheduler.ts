import { createLogger, type Logger } from '../../observability/logger.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ScheduleOptions, Scheduler } from '../../ports/scheduler.ts';
import type { ScheduleStore } from '../../ports/store.ts';
import type { WorkItem } from '../../ports/work-queue.ts';
import { workItemCodec } from '../queue/work-item-schema.ts';

/**
 * The scheduler of local mode: schedules are items in the store (so they survive a restart) and
 * `fireDue` (called by a poller) releases the due ones. Same observable behaviour as
 * EventBridge Scheduler: at-least-once, never before `at`, a repeated name is a no-op.
 */
export interface StoreBackedScheduler extends Scheduler {
  /** Releases every schedule due now; returns how many fired (released or found no longer needed). */
  fireDue(): Promise<number>;
}

/**
 * It stands in for EventBridge Scheduler and the release function together: a due schedule goes
 * through `release`, which the composition root wires to `releaseWork` (lib/app/release-work.ts),
 * the same rule the release Lambda applies. Injected, so this adapter does not depend on a use case.
 */
export const createStoreBackedScheduler = (deps: {
  store: ScheduleStore;
  clock: Clock;
  /** Releases a due schedule's work item; throws to have the schedule put back and retried. */
  release: (item: WorkItem) => Promise<unknown>;
  /** Where a dropped schedule is reported (default: silent). */
  logger?: Logger;
}): StoreBackedScheduler => {
  const logger = deps.logger ?? createLogger('SILENT');
  return {
    // The timezone only matters to a service that shows local times; the instant is what fires.
    async schedule(name: string, at: Date, item: WorkItem, _options?: ScheduleOptions) {
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
          const item = workItemCodec.decode(claimed.payload);
          if (!item) {
            // No retry can make a malformed payload valid: report it and drop it.
            logger.error('schedule with an invalid work item dropped', { schedule: claimed.name });
            continue;
          }
          try {
            await deps.release(item);
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
  };
};
