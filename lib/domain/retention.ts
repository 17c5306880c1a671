/**
 * Retention (docs/data-model.md, Retention): how long a queue's data and a conversation's messages
 * are kept once they have served their purpose (LGPD: personal data goes when its purpose ends).
 * The tenant sets `retentionDays` (default 90); the store deletes an item once its expiry passes.
 */
import type { ContactSendResult } from './types.ts';

const DAY_MS = 86_400_000;

/** When data settled (or written) at `at` expires: `retentionDays` whole days later (an instant, ISO). */
export function retentionEnd(at: string | Date, retentionDays: number): string {
  return new Date(new Date(at).getTime() + retentionMs(retentionDays)).toISOString();
}

const retentionMs = (retentionDays: number): number => {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new Error(`retentionDays must be a positive integer, got ${retentionDays}`);
  }
  return retentionDays * DAY_MS;
};

/**
 * The earliest instant whose data is still kept at `now`: what settled (or was written) before it has
 * expired, or will be deleted any moment.
 */
export function retentionStart(now: string | Date, retentionDays: number): string {
  return new Date(new Date(now).getTime() - retentionMs(retentionDays)).toISOString();
}

/**
 * When a contact given `result` expires: null while it still has work (`pending` again, or waiting
 * in `retry`), so an unsent contact never expires however long its queue stays open or paused;
 * otherwise `retentionDays` after the result. Receipts and replies that come later do not move it:
 * a contact is kept for the retention counted from its send.
 */
export function contactExpiry(result: ContactSendResult, retentionDays: number): string | null {
  return result.status === 'pending' || result.status === 'retry'
    ? null
    : retentionEnd(result.at, retentionDays);
}
