/**
 * Sizing of the sender and of the work queue that feeds it, in one place because they constrain
 * each other (checked by test/unit/infra-synth.test.ts):
 *
 *   SENDER_BUDGET_SECONDS < SENDER_TIMEOUT_SECONDS - 30   (lib/lambda/sender-handler.ts keeps 30 s back to
 *                                                          publish the continuation and free the lease)
 *   work queue visibility >= 6 x SENDER_TIMEOUT_SECONDS   (AWS's advice for SQS event sources: a record
 *                                                          retried after a throttle is not redelivered
 *                                                          while the first try may still run)
 *   SENDER_MAX_CONCURRENCY <= SENDER_RESERVED_CONCURRENCY (design section 8, see infra/sender.ts)
 */

/**
 * Lambda timeout of the sender. Five minutes: long enough for a useful run (at the default pace of
 * 20 messages a minute, ~70 sends per run) and short enough that a crashed run's work item comes back
 * in half an hour (6 x timeout) instead of an hour and a half with the 15-minute maximum.
 */
export const SENDER_TIMEOUT_SECONDS = 300;

/** Time a run may send before it hands over with a continuation (lib/config.ts SENDER_BUDGET_SECONDS). */
export const SENDER_BUDGET_SECONDS = 240;

/**
 * 256 MB, measured against 128 (bench/README.md, "Sender memory"): the bundled sender alone is at
 * ~106 MB of resident memory after init (5.8 MB bundle, 28 MB of heap), which leaves 128 MB no room
 * for the sockets and buffers of ten pumps at once, and 128 MB gets 7% of a vCPU. Lambda bills the
 * pacing waits by memory x wall time, but one invocation now waits for up to SENDER_BATCH_SIZE
 * instances at once, which divides that cost far more than halving the memory would.
 */
export const SENDER_MEMORY_MB = 256;

/**
 * Sender invocations running at once (the event source mapping accepts 2..1000). Each runs the pumps
 * of up to SENDER_BATCH_SIZE instances (FIFO groups), so the ceiling of instances sending at once is
 * SENDER_MAX_CONCURRENCY x SENDER_BATCH_SIZE = 100; past it, instances take turns: every run ends
 * after its budget and puts its queue at the back of the work queue (bench/README.md, fairness).
 */
export const SENDER_MAX_CONCURRENCY = 10;

/**
 * Work items per invocation: 10, the most an SQS FIFO event source hands over. The records of one
 * group (instance) run one after another, the groups at once (lib/lambda/fifo-groups.ts): one
 * invocation pays for the pacing waits of up to ten instances instead of one.
 */
export const SENDER_BATCH_SIZE = 10;

/** Global ceiling of the sender function (reserved concurrency), never below SENDER_MAX_CONCURRENCY. */
export const SENDER_RESERVED_CONCURRENCY = 10;

/**
 * Receives before a work item goes to the dead-letter queue. Five, the floor we accept: a failed item
 * stays invisible for the whole visibility timeout and, FIFO, holds its instance's later items behind
 * it, so each extra attempt costs the instance half an hour of standstill.
 */
export const WORK_QUEUE_MAX_RECEIVE_COUNT = 5;

/** Work queue visibility timeout: six times the sender's timeout. */
export const WORK_QUEUE_VISIBILITY_SECONDS = 6 * SENDER_TIMEOUT_SECONDS;
