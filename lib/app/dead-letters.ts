import { isFinalQueueStatus } from '../domain/queue-state.ts';
import type { BillingQueue, QueueStatus } from '../domain/types.ts';
import type { DeadLetter, DeadLetters } from '../ports/dead-letters.ts';
import type { CampaignStore, SendingStore } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { workItemOf } from './queue-work.ts';

export interface DeadLetterDeps {
  store: Pick<CampaignStore, 'getQueue'> & Pick<SendingStore, 'nextPublishGeneration'>;
  workQueue: Pick<WorkQueue, 'publish'>;
  deadLetters: DeadLetters;
}

/** What `redriveDeadLetters` does with a letter: back on the work queue, off the DLQ, or left for a person. */
export type DeadLetterFate = 'redrive' | 'drop' | 'keep';

/** A dead letter as the operator reads it, with what redrive would do with it and why. */
export interface DeadLetterView {
  message_id: string;
  queue_id: string | null;
  tenant_id: string | null;
  deliveries: number;
  last_error: string | null;
  dead_lettered_at: string | null;
  /** The queue's status now, or null when it is gone (or the body names no queue). */
  queue_status: QueueStatus | null;
  on_redrive: DeadLetterFate;
  /** Why, in a few words. */
  reason: string;
  /** Only for a body that is not a work item (the item's fields say it all otherwise). */
  body?: string;
}

export interface DeadLetterListing {
  /** Dead letters waiting in all (approximate on SQS). */
  total: number;
  letters: DeadLetterView[];
  /** When fewer are shown than wait (a limit, or a FIFO group hiding those behind its head). */
  note?: string;
}

export interface RedriveResult {
  redriven: number;
  dropped: number;
  /** Left in the DLQ for a person to look at (bodies that are not work items). */
  kept: number;
  /** Dead letters still waiting after the run (approximate on SQS). */
  remaining: number;
  message: string;
}

/** Default number of letters one command looks at. */
export const DEAD_LETTER_LIMIT = 100;

/**
 * What redrive does with a letter, given its queue as stored now: a queue that still has work gets
 * its item back; a finished, gone or mismatched one is dropped (redriving it would only dead-letter
 * again, or do nothing, and keep the alarm on); a body that is not a work item is kept for a person.
 */
export const fateOf = (
  letter: DeadLetter,
  queue: BillingQueue | undefined,
): { fate: DeadLetterFate; reason: string } => {
  if (!letter.item) return { fate: 'keep', reason: 'not a work item: look at the body' };
  if (!queue || queue.tenantId !== letter.item.tenantId) return { fate: 'drop', reason: 'queue gone' };
  if (isFinalQueueStatus(queue.status)) return { fate: 'drop', reason: `queue already ${queue.status}` };
  return { fate: 'redrive', reason: `queue still ${queue.status}` };
};

const queueOf = async (deps: DeadLetterDeps, letter: DeadLetter): Promise<BillingQueue | undefined> =>
  letter.item ? deps.store.getQueue(letter.item.queueId) : undefined;

/**
 * `dlq list`: the dead letters, oldest first, with their queue's status and what redrive would do.
 * 1. count the letters; 2. look at up to `limit` of them (they stay in the DLQ);
 * 3. read each one's queue (base table, consistent) to say what redrive would do.
 */
export const listDeadLetters = async (
  deps: DeadLetterDeps,
  limit = DEAD_LETTER_LIMIT,
): Promise<DeadLetterListing> => {
  const total = await deps.deadLetters.count();
  const letters: DeadLetterView[] = [];
  for (const letter of await deps.deadLetters.list(limit)) {
    const queue = await queueOf(deps, letter);
    const { fate, reason } = fateOf(letter, queue);
    letters.push({
      message_id: letter.messageId,
      queue_id: letter.item?.queueId ?? null,
      tenant_id: letter.item?.tenantId ?? null,
      deliveries: letter.deliveries,
      last_error: letter.lastError,
      dead_lettered_at: letter.deadLetteredAt,
      queue_status: queue && letter.item && queue.tenantId === letter.item.tenantId ? queue.status : null,
      on_redrive: fate,
      reason,
      ...(letter.item ? {} : { body: letter.body }),
    });
  }
  return {
    total,
    letters,
    ...(letters.length < total
      ? {
          note: `${letters.length} of ${total} shown: raise --limit, or (SQS FIFO) redrive the first ones to see those behind them`,
        }
      : {}),
  };
};

/**
 * `dlq redrive`: every dead letter (up to `limit`) is dealt with once:
 * 1. read its queue; decide (`fateOf`);
 * 2. redrive: publish the queue's item with a NEW publish generation (so FIFO deduplication, which
 *    is by queue id + generation, lets it through, and the pump takes it as the current item), then
 *    take the letter off the DLQ; a second letter of a queue redriven in this run is only removed;
 * 3. drop: take the letter off the DLQ; keep: leave it.
 * Publish comes before removal: a crash in between leaves a duplicate item, which the instance
 * lease and the contact claims make harmless, never a lost one. Running it twice is harmless too.
 */
export const redriveDeadLetters = async (
  deps: DeadLetterDeps,
  limit = DEAD_LETTER_LIMIT,
): Promise<RedriveResult> => {
  const redrivenQueues = new Set<string>();
  let redriven = 0;
  let dropped = 0;
  let kept = 0;
  await deps.deadLetters.settle(async (letter) => {
    const queue = await queueOf(deps, letter);
    const { fate } = fateOf(letter, queue);
    if (fate === 'keep') {
      kept += 1;
      return 'keep';
    }
    if (fate === 'drop' || !queue) {
      dropped += 1;
      return 'remove';
    }
    if (!redrivenQueues.has(queue.id)) {
      const generation = await deps.store.nextPublishGeneration(queue.id);
      await deps.workQueue.publish(workItemOf(queue, generation));
      redrivenQueues.add(queue.id);
    }
    redriven += 1;
    return 'remove';
  }, limit);
  const remaining = await deps.deadLetters.count();
  return {
    redriven,
    dropped,
    kept,
    remaining,
    message: `${redriven} redriven, ${dropped} dropped (queue finished or gone), ${kept} kept (not a work item)`,
  };
};

/**
 * `dlq drop --id`: removes one dead letter by its message id, whatever it holds (for a body that
 * is not a work item, once someone has looked at it). Looks at up to `limit` letters to find it;
 * true when it was found and removed.
 */
export const dropDeadLetter = async (
  deps: Pick<DeadLetterDeps, 'deadLetters'>,
  messageId: string,
  limit = DEAD_LETTER_LIMIT,
): Promise<boolean> => {
  const { removed } = await deps.deadLetters.settle(
    async (letter) => (letter.messageId === messageId ? 'remove' : 'keep'),
    limit,
  );
  return removed > 0;
};
