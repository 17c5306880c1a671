import { currentWindowEnd, isOpen, nextOpening } from './business-hours.ts';
import type { BusinessCalendar } from './tenant-types.ts';

export interface SendPlan {
  /** When the first message can go (now, or the next opening). */
  start: Date;
  /** When the last message is expected. */
  end: Date;
}

/** Walking more windows than this means the queue is months long: stop simulating and extrapolate. */
const MAX_WINDOWS = 400;

/**
 * When `count` messages at one per `intervalMs`, starting no earlier than `from`, will have gone
 * out, simulating the calendar: messages only inside windows, none on holidays, closed nights and
 * weekends skipped. Without a calendar (notifications go 24/7) it is plain arithmetic.
 */
export const planSending = (
  calendar: BusinessCalendar | undefined,
  from: Date,
  count: number,
  intervalMs: number,
): SendPlan => {
  if (!calendar) return { start: from, end: new Date(from.getTime() + Math.max(0, count - 1) * intervalMs) };
  let t = isOpen(calendar, from) ? from : nextOpening(calendar, from);
  const start = t;
  let left = count;
  let last = t;
  for (let windows = 0; left > 0; windows++) {
    const close = currentWindowEnd(calendar, t);
    if (!close || windows >= MAX_WINDOWS) {
      return { start, end: new Date(t.getTime() + (left - 1) * intervalMs) };
    }
    // Messages that fit before closing time: one at t, then one per interval.
    const fit = Math.max(1, Math.ceil((close.getTime() - t.getTime()) / intervalMs));
    const sent = Math.min(fit, left);
    last = new Date(t.getTime() + (sent - 1) * intervalMs);
    left -= sent;
    if (left > 0) t = nextOpening(calendar, close);
  }
  return { start, end: last };
};
