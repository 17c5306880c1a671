import { WORK_QUEUE_MAX_RECEIVE_COUNT, WORK_QUEUE_VISIBILITY_SECONDS } from './sender-limits.ts';

/** SQS keeps a message at most 14 days: a dead letter must wait that long for someone to look at it. */
const FOURTEEN_DAYS_SECONDS = 14 * 24 * 60 * 60;

/** Where work items land after WORK_QUEUE_MAX_RECEIVE_COUNT failed receives (a FIFO queue's DLQ must be FIFO). */
export const workDeadLetterQueue = new sst.aws.Queue('WorkDeadLetterQueue', {
  fifo: true,
  transform: { queue: { messageRetentionSeconds: FOURTEEN_DAYS_SECONDS } },
});

/**
 * The sender's work queue (design section 5): FIFO, message group = WhatsApp instance, deduplication
 * id = queue id + publish generation, both set by the work item codec in
 * lib/adapters/queue/work-item-schema.ts (so no content-based deduplication). Deduplication and
 * throughput are scoped per group: instances never compete for one queue-wide FIFO limit.
 */
export const workQueue = new sst.aws.Queue('WorkQueue', {
  fifo: true,
  visibilityTimeout: `${WORK_QUEUE_VISIBILITY_SECONDS} seconds`,
  dlq: { queue: workDeadLetterQueue.arn, retry: WORK_QUEUE_MAX_RECEIVE_COUNT },
  transform: {
    queue: {
      messageRetentionSeconds: FOURTEEN_DAYS_SECONDS,
      deduplicationScope: 'messageGroup',
      fifoThroughputLimit: 'perMessageGroupId',
    },
  },
});

/**
 * Callback refs whose consumer failed five times in a row: the store was down (an ERP's refusal is a
 * recorded attempt, retried from the due index, never a failed ref), or a body that is not a ref.
 * The callback deliverer puts the refs back every minute once the store answers.
 */
export const callbackDeadLetterQueue = new sst.aws.Queue('CallbackDeadLetterQueue', {
  transform: { queue: { messageRetentionSeconds: FOURTEEN_DAYS_SECONDS } },
});

/**
 * Callbacks to the ERPs (sent, delivered, failed, replied, queue completed): a standard queue, since
 * order does not matter to a signed, timestamped event and standard queues have no throughput limit.
 * Each new pending event is published here (`{ queueId, eventId }`, lib/app/billing-events.ts) and
 * posted at once by functions/callback-sender.ts (infra/callbacks.ts); the due index and
 * functions/callback-deliverer.ts (infra/cron.ts) retry failures and catch what was never published.
 * The URL reaches every function as CALLBACK_QUEUE_URL.
 */
export const callbackQueue = new sst.aws.Queue('CallbackQueue', {
  // A delivery attempt is one HTTP POST with a short client timeout; a minute covers it with room.
  visibilityTimeout: '60 seconds',
  dlq: { queue: callbackDeadLetterQueue.arn, retry: 5 },
  transform: { queue: { messageRetentionSeconds: FOURTEEN_DAYS_SECONDS } },
});
