/** Schedules of the store-backed scheduler (local mode; EventBridge Scheduler in AWS). */
export interface ScheduleStore {
  /** Stores a schedule unless one with this name exists ('exists' then: a repeat is a no-op). */
  createSchedule(schedule: StoredSchedule): Promise<'created' | 'exists'>;
  /** Schedules due by `now`, earliest first (candidates: `claimSchedule` decides). */
  listDueSchedules(now: string, limit: number): Promise<StoredSchedule[]>;
  /** Removes a schedule and returns it, or undefined when another poller (or a cancel) got it first. */
  claimSchedule(name: string): Promise<StoredSchedule | undefined>;
}

export interface StoredSchedule {
  name: string;
  dueAt: string;
  /** The work item to publish, as JSON. */
  payload: string;
  createdAt: string;
}
