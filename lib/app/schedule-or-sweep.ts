import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { ScheduleOptions, Scheduler } from '../ports/scheduler.ts';
import type { WorkItem } from '../ports/work-queue.ts';

/**
 * Asks the scheduler to publish a queue's work item at `at`. A scheduler that cannot (EventBridge
 * throttling or an outage) must not strand the queue: the caller has already stored `at` as the
 * queue's `nextRunAt`, which keeps it in the due index, so the sweeper publishes it once that time
 * has passed (within `SWEEPER_GRACE_SECONDS` plus one sweep). The failure is a WARN and a metric,
 * never an error of the pump. Returns whether the schedule was made.
 */
export const scheduleOrLeaveToSweeper = async (
  deps: { scheduler: Scheduler; logger: Logger; metrics: Metrics },
  name: string,
  at: Date,
  item: WorkItem,
  options?: ScheduleOptions,
): Promise<boolean> => {
  try {
    await deps.scheduler.schedule(name, at, item, options);
    return true;
  } catch (error) {
    deps.metrics.dependencyFailed({ dependency: 'scheduler', operation: 'schedule' });
    deps.logger.warn('scheduler unavailable: the sweeper will publish the queue at its next run time', {
      dependency: 'scheduler',
      queueId: item.queueId,
      at: at.toISOString(),
      error: error as Error,
    });
    return false;
  }
};
