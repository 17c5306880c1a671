import type { WorkItem } from './work-queue.ts';

/** Per-schedule hints; an adapter that has no use for one ignores it. */
export interface ScheduleOptions {
  /**
   * The tenant's IANA timezone: EventBridge Scheduler evaluates the schedule in it, so the
   * console shows the tenant's local time. The instant fired is `at` whatever the zone.
   */
  timezone?: string;
}

/**
 * Defers work to a later time (the next business-hours window, an instance re-check, a retry):
 * EventBridge Scheduler in AWS, a store-backed poller locally. Nothing sleeps for hours.
 */
export interface Scheduler {
  /**
   * Releases `item` at `at` or soon after (never before): its queue's work is published again if
   * the queue still waits for it. Creating a schedule whose `name` exists is a no-op, so a
   * repeated deferral is harmless.
   */
  schedule(name: string, at: Date, item: WorkItem, options?: ScheduleOptions): Promise<void>;
  /** Removes a schedule that has not fired (no error when there is none). */
  cancel(name: string): Promise<void>;
}
