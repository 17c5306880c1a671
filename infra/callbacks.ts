import { callbackQueue } from './queues.ts';
import { appFunctionArgs, TABLE_ACTIONS } from './runtime.ts';

/** Lambdas the callbacks queue may run at once: bounds the posts in flight towards the ERPs. */
export const CALLBACK_SENDER_MAX_CONCURRENCY = 10;

/** Records the callback sender gets at most per invocation (Lambda's maximum without a window is 10). */
export const CALLBACK_BATCH_SIZE = 10;

/**
 * How long Lambda's poller may gather records before it invokes the callback sender (it invokes at
 * once when CALLBACK_BATCH_SIZE are there). Without a window every event is an invocation of its own
 * with a delete of its own; with one, a batch is one invocation and one DeleteMessageBatch of its
 * successful records. The price is up to this much added to a callback's latency (README,
 * Callbacks). At the default pace 10 instances raise ~10 events a second, so 2 s fills batches.
 */
export const CALLBACK_BATCH_WINDOW_SECONDS = 2;

/**
 * The callback sender (functions/callback-sender.ts): the callbacks queue's consumer posts each new
 * event as soon as its batch is handed over, with the same claim as the every-minute deliverer
 * (infra/cron.ts), which remains the safety net and makes the retries. A batch's records are posted
 * in parallel with partial batch responses, so a record that failed (store error) comes back alone.
 * The timeout stays well under the queue's 60 s visibility timeout (one post has a 5 s client
 * timeout); the window is spent before the invocation, not in it.
 */
export const callbackSender = callbackQueue.subscribe(
  appFunctionArgs('functions/callback-sender.handler', {
    timeout: '30 seconds',
    memory: '256 MB',
    // Stores the announced event (the put that claims its first attempt), claims later ones and
    // finishes them; the key's signing secrets by key id (gsi1).
    access: { table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write], indexes: ['gsi1'] },
  }),
  {
    batch: {
      size: CALLBACK_BATCH_SIZE,
      window: `${CALLBACK_BATCH_WINDOW_SECONDS} seconds`,
      partialResponses: true,
    },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: CALLBACK_SENDER_MAX_CONCURRENCY } },
    },
  },
);

/** The callback sender's Lambda function (for alarms). */
export const callbackSenderFunction = callbackSender.nodes.function;
