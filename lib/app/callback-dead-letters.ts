import type { CallbackQueue, CallbackRef } from '../ports/callback-queue.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';

/**
 * Dead letters one run puts back at most: about 2 requests each (publish, delete), so a run stays a
 * few seconds inside the deliverer's minute, and a backlog left by a long outage drains at this
 * many a minute.
 */
export const CALLBACK_REDRIVE_LIMIT = 200;

export interface CallbackRedriveDeps {
  /** The callbacks queue's dead-letter queue. */
  deadLetters: DeadLetters<CallbackRef>;
  callbackQueue: Pick<CallbackQueue, 'publish'>;
}

export interface CallbackRedrive {
  /** Refs put back on the callbacks queue (and off its dead-letter queue). */
  redriven: number;
  /** Bodies that are not callback refs, left in the dead-letter queue for a person. */
  kept: number;
}

/**
 * Puts the callbacks queue's dead letters back on it. A callback ref dies only when its consumer
 * failed on every delivery, and its consumer fails only when the store does (an ERP's refusal is a
 * recorded attempt, retried from the due index, never a failed ref): a store outage longer than the
 * queue's five deliveries (about five minutes on AWS). Its event then waits for nothing else, and
 * on AWS no other path would post it (the first attempt is the ref's; the due index holds only
 * retries). So the callback deliverer calls this after a run that reached the store, which is the
 * sign the outage is over: each ref goes back, its consumer stores the event it carries if the
 * store lacks it and makes the first attempt with its usual claim (a ref whose event was posted
 * meanwhile is acknowledged without a post). Publish, then remove: a crash between them leaves a
 * duplicate ref, never a lost one. A body that is not a callback ref stays, for a person to look at
 * (its DLQ alarm stays on).
 */
export const redriveCallbackDeadLetters = async (
  deps: CallbackRedriveDeps,
  limit = CALLBACK_REDRIVE_LIMIT,
): Promise<CallbackRedrive> => {
  // Nearly always empty: one cheap look a run instead of a walk.
  if ((await deps.deadLetters.count()) === 0) return { redriven: 0, kept: 0 };
  let kept = 0;
  const { removed } = await deps.deadLetters.settle(async (letter) => {
    if (!letter.item) {
      kept += 1;
      return 'keep';
    }
    await deps.callbackQueue.publish(letter.item);
    return 'remove';
  }, limit);
  return { redriven: removed, kept };
};
