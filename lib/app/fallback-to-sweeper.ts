import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { ScheduleOptions, Scheduler } from '../ports/scheduler.ts';
import type { WorkItem, WorkQueue } from '../ports/work-queue.ts';

/**
 * When a dependency that moves work along (the work queue, the scheduler) fails, the stored queue
 * is the outbox: its status and `nextRunAt` keep it in the due index, and the sweeper publishes it
 * (design section 5, Sweeper). These helpers turn such a failure into a WARN and a metric instead
 * of an error of the request or pump that hit it.
 */

/** How long an accept waits for the work queue before answering anyway (the sweeper publishes). */
export const PUBLISH_TIMEOUT_MS = 2_000;

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

/**
 * Publishes a queue's work item, waiting at most `PUBLISH_TIMEOUT_MS`. A broker that is down or
 * slow does not fail the caller: the queue is stored `pending`, so the sweeper publishes it once
 * it has waited `SWEEPER_GRACE_SECONDS` (a publish that lands later anyway is harmless: the
 * sender's claims make a second pump send nothing twice). Returns whether the publish was confirmed.
 */
export const publishOrLeaveToSweeper = async (
  deps: { workQueue: WorkQueue; logger: Logger; metrics: Metrics },
  item: WorkItem,
): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const publishing = deps.workQueue.publish(item).then(
    () => true,
    (error: unknown) => error,
  );
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), PUBLISH_TIMEOUT_MS);
  });
  const outcome = await Promise.race([publishing, timedOut]);
  clearTimeout(timer);
  if (outcome === true) return true;
  deps.metrics.dependencyFailed({ dependency: 'work_queue', operation: 'publish' });
  deps.logger.warn('work queue unavailable: the sweeper will publish the queue', {
    dependency: 'work_queue',
    queueId: item.queueId,
    ...(outcome === 'timeout' ? { timeoutMs: PUBLISH_TIMEOUT_MS } : { error: outcome as Error }),
  });
  return false;
};
