import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** How often the process looks whether it is idle. */
const CHECK_EVERY_MS = 5_000;
/** Event-loop utilization under which the last CHECK_EVERY_MS counts as idle. */
const IDLE_UTILIZATION = 0.1;
/** JS heap growth since the last collection that is worth giving back. */
const WORTH_RELEASING_BYTES = 32 * 1024 * 1024;

/**
 * Gives the JS heap that a burst of load grew back to the system once the process is idle again.
 *
 * Under an import V8 grows its heap to a few hundred MB (8 requests of 500 contacts at once, each
 * parsed, rendered and marshalled, and parsed again by the embedded DynamoDB in this same process),
 * and keeps it: V8 shrinks the heap on the collections that allocation triggers, and Node never
 * tells it that the process went idle, so a quiet local service stayed at its peak (bench/README.md,
 * load). Every CHECK_EVERY_MS this looks at the event loop; when it was idle and the heap grew by
 * WORTH_RELEASING_BYTES since the last look, one full collection runs (tens of ms, at a quiet time),
 * which frees the emptied pages. Local mode only; a Lambda's heap ends with its sandbox.
 */
export const releaseMemoryWhenIdle = (): void => {
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;
  let since = performance.eventLoopUtilization();
  let settledHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const idle = performance.eventLoopUtilization(now, since).utilization < IDLE_UTILIZATION;
    since = now;
    if (!idle) return;
    if (process.memoryUsage().heapUsed > settledHeap + WORTH_RELEASING_BYTES) collect();
    settledHeap = process.memoryUsage().heapUsed;
  }, CHECK_EVERY_MS);
  // Never keeps the process alive: it stops with the process.
  timer.unref();
};
