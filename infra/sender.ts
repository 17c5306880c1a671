import { workQueue } from './queues.ts';
import { appFunctionArgs, TABLE_ACTIONS } from './runtime.ts';
import { schedulerEnvironment, schedulerPermissions } from './scheduler.ts';
import {
  SENDER_BATCH_SIZE,
  SENDER_BUDGET_SECONDS,
  SENDER_MAX_CONCURRENCY,
  SENDER_MEMORY_MB,
  SENDER_RESERVED_CONCURRENCY,
  SENDER_TIMEOUT_SECONDS,
} from './sender-limits.ts';

/**
 * The sender: the work queue's only consumer (functions/sender.ts), up to SENDER_BATCH_SIZE work items
 * per invocation, the pumps of different instances at once, with partial batch responses so a failed
 * item (and the ones behind it in its instance's group) alone comes back.
 *
 * Two limits, on purpose (design section 8):
 * - `maximumConcurrency` on the event source mapping is the real limiter. The SQS poller honours it and
 *   simply leaves messages in the queue; reserved concurrency alone does not stop the poller, which
 *   keeps invoking, gets throttled, and counts each throttle as a receive, so healthy work items drift
 *   into the dead-letter queue. SST has no option for it, hence the `transform` of the mapping.
 * - Reserved concurrency (>= maximumConcurrency) is the global ceiling of the function, whoever invokes
 *   it, and keeps that capacity from being eaten by the API's functions.
 * Per-instance pace is neither of them: the FIFO group (one pump per instance) plus the pacing slot in
 * the store do that.
 */
export const sender = workQueue.subscribe(
  appFunctionArgs('functions/sender.handler', {
    timeout: `${SENDER_TIMEOUT_SECONDS} seconds`,
    memory: `${SENDER_MEMORY_MB} MB`,
    concurrency: { reserved: SENDER_RESERVED_CONCURRENCY },
    // Sends through the instance's gateway (its credential), publishes continuations and callbacks;
    // receive/delete on the work queue come with the subscription. gsi1: a phone's reminders (the
    // per-debtor frequency cap) and a queue's contacts left in `sending`.
    access: {
      table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write],
      indexes: ['gsi1'],
      publishes: ['work', 'callbacks'],
      readsGatewayCredentials: true,
    },
    environment: { ...schedulerEnvironment, SENDER_BUDGET_SECONDS: String(SENDER_BUDGET_SECONDS) },
    permissions: schedulerPermissions,
  }),
  {
    // Several instances' pumps per invocation: they wait for their pacing slots together.
    batch: { size: SENDER_BATCH_SIZE, partialResponses: true },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: SENDER_MAX_CONCURRENCY } },
    },
  },
);

/** The sender's Lambda function (for alarms and the dashboard). */
export const senderFunction = sender.nodes.function;
