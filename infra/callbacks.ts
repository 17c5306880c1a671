import { callbackQueue } from './queues.ts';
import { appFunctionArgs, TABLE_ACTIONS } from './runtime.ts';

/** Lambdas the callbacks queue may run at once: bounds the posts in flight towards the ERPs. */
export const CALLBACK_SENDER_MAX_CONCURRENCY = 10;

/**
 * The callback sender (functions/callback-sender.ts): the callbacks queue's consumer posts each new
 * event at once, with the same claim as the every-minute deliverer (infra/cron.ts), which remains
 * the safety net and makes the retries. Batches of 10 are posted in parallel with partial batch
 * responses, so a record that failed (store error) comes back alone. The timeout stays well under
 * the queue's 60 s visibility timeout (one post has a 5 s client timeout).
 */
export const callbackSender = callbackQueue.subscribe(
  appFunctionArgs('functions/callback-sender.handler', {
    timeout: '30 seconds',
    memory: '256 MB',
    // Claims and finishes the event; the key's signing secrets by key id (gsi1).
    access: { table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write], indexes: ['gsi1'] },
  }),
  {
    batch: { size: 10, partialResponses: true },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: CALLBACK_SENDER_MAX_CONCURRENCY } },
    },
  },
);

/** The callback sender's Lambda function (for alarms). */
export const callbackSenderFunction = callbackSender.nodes.function;
