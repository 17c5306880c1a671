import type { WorkItem } from './work-queue.ts';

/**
 * Defers work to a later time (the next business-hours window, an instance re-check, a retry):
 * EventBridge Scheduler in AWS, a store-backed poller locally. Nothing sleeps for hours.
 */
export interface Scheduler {
  /**
   * Publishes `item` to the work queue at `at` or soon after (never before). Creating a schedule
   * whose `name` exists is a no-op, so a repeated deferral is harmless.
   */
  schedule(name: string, at: Date, item: WorkItem): Promise<void>;
  /** Removes a schedule that has not fired (no error when there is none). */
  cancel(name: string): Promise<void>;
}
