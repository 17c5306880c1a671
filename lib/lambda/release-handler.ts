import { workItemCodec, workItemSchema } from '../adapters/queue/work-item-schema.ts';
import { type ReleaseDeps, type ReleaseResult, releaseWork } from '../app/release-work.ts';
import type { WorkItem } from '../ports/work-queue.ts';

export type ReleaseHandlerResult = ReleaseResult | { released: false; reason: 'invalid_item' };

/** The schedule's Input arrives parsed (a JSON object); a string is accepted too (a hand-made test event). */
const readItem = (event: unknown): WorkItem | undefined => {
  if (typeof event === 'string') return workItemCodec.decode(event);
  const parsed = workItemSchema.safeParse(event);
  return parsed.success ? parsed.data : undefined;
};

/**
 * The target of every EventBridge schedule (design section 8): the schedule cannot set a FIFO
 * deduplication id, so this function republishes the queue's work item with a new generation,
 * if the queue still waits for it. Store or queue failures throw, so the invocation is retried.
 */
export const createReleaseHandler =
  (c: ReleaseDeps) =>
  async (event: unknown): Promise<ReleaseHandlerResult> => {
    const item = readItem(event);
    if (!item) {
      // A retry cannot fix a malformed input: log it (no secrets in a work item) and stop here.
      c.logger.error('release event is not a work item; dropped', {
        event: JSON.stringify(event)?.slice(0, 1000) ?? null,
      });
      return { released: false, reason: 'invalid_item' };
    }
    return releaseWork(c, item);
  };
