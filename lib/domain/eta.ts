import { currentWindowEnd, isOpen, nextOpening } from './business-hours.ts';
import { localDateIn, nextLocalMidnight } from './due-date.ts';
import type { BusinessCalendar } from './tenant-types.ts';

export interface SendPlan {
  /** When the first message can go (now, or the next opening). */
  start: Date;
  /** When the last message is expected. */
  end: Date;
}

/**
 * A limit on the messages one instance sends per local day (a new number's warm-up, warmup.ts):
 * once a day's cap is reached, sending goes on at the next day's opening, as the sender does.
 */
export interface DailySendCap {
  /** The timezone whose midnight starts a day. */
  timezone: string;
  /** At most this many on the local day `day` (`yyyy-mm-dd`); undefined when that day has no cap. */
  capOn(day: string): number | undefined;
  /** What was sent already on a local day (`yyyy-mm-dd`; today, as read): counted against its cap. */
  sent: { day: string; count: number };
}

/**
 * How many messages the instance sends until a queue with `remaining` contacts is done, when it
 * shares the instance with other queues that have `others` left each: queues on one instance take
 * turns (the sender's instance lease), so until it finishes, each other queue sends about as many
 * as it does, or all it has when that is fewer. Turns last a few minutes, so this is the fair share,
 * within one turn of what the actual order gives.
 */
export const sharedSendCount = (remaining: number, others: readonly number[]): number =>
  others.reduce((count, other) => count + Math.min(Math.max(0, other), remaining), remaining);

/** Walking more windows than this means the queue is months long: stop simulating and extrapolate. */
const MAX_WINDOWS = 400;

/**
 * When `count` messages at one per `intervalMs`, starting no earlier than `from`, will have gone
 * out, simulating the calendar: messages only inside windows, none on holidays, closed nights and
 * weekends skipped; with a daily cap, no more than it allows on a day. Without a calendar
 * (notifications go 24/7) or cap it is plain arithmetic.
 */
export const planSending = (
  calendar: BusinessCalendar | undefined,
  from: Date,
  count: number,
  intervalMs: number,
  dailyCap?: DailySendCap,
): SendPlan => {
  let t = !calendar || isOpen(calendar, from) ? from : nextOpening(calendar, from);
  let start: Date | undefined;
  let left = count;
  let last = t;
  // What the day being walked has sent so far (on the day of `dailyCap.sent`, what it says).
  let day: string | undefined;
  let sentThatDay = 0;
  for (let windows = 0; left > 0; windows++) {
    const today = dailyCap ? localDateIn(dailyCap.timezone, t) : undefined;
    if (today !== day) {
      day = today;
      sentThatDay = dailyCap && today === dailyCap.sent.day ? dailyCap.sent.count : 0;
    }
    const cap = today === undefined ? undefined : dailyCap?.capOn(today);
    const capLeft = cap === undefined ? Number.POSITIVE_INFINITY : Math.max(0, cap - sentThatDay);
    // The stretch sending may go on from t: to closing time, or (a capped day) to midnight.
    const close = calendar ? currentWindowEnd(calendar, t) : undefined;
    const dayEnd = cap === undefined || !dailyCap ? undefined : nextLocalMidnight(dailyCap.timezone, t);
    const ends = [close, dayEnd].flatMap((end) => (end ? [end.getTime()] : []));
    const until = ends.length > 0 ? new Date(Math.min(...ends)) : undefined;
    if ((calendar && !close) || windows >= MAX_WINDOWS || !until) {
      return { start: start ?? t, end: new Date(t.getTime() + (left - 1) * intervalMs) };
    }
    // Messages that fit before the stretch ends: one at t, then one per interval, within the cap.
    const fit = Math.max(1, Math.ceil((until.getTime() - t.getTime()) / intervalMs));
    const sent = Math.min(fit, left, capLeft);
    if (sent > 0) {
      start ??= t;
      last = new Date(t.getTime() + (sent - 1) * intervalMs);
      left -= sent;
      sentThatDay += sent;
    }
    if (left === 0) break;
    // The day's cap is spent: on from the next day's opening (its midnight without a calendar),
    // as the sender waits. Else the window closed, or the day ended with cap to spare.
    const next = dailyCap && sent >= capLeft ? nextLocalMidnight(dailyCap.timezone, t) : until;
    t = calendar ? nextOpening(calendar, next) : next;
  }
  return { start: start ?? t, end: last };
};
