/**
 * The per-debtor frequency cap: a phone gets at most `maxRemindersPerDebtorPerDay` reminders on one
 * tenant-local day, at least `minHoursBetweenReminders` apart, counting every reminder of the capped
 * types (overdue and upcoming by default) whatever batch it came from. A reminder that would break
 * the cap is deferred, never dropped: to the first time both rules allow, inside business hours.
 */
import { nextOpening } from './business-hours.ts';
import { localDateIn, nextLocalMidnight, startOfLocalDay } from './due-date.ts';
import type { BillingConfig, BusinessCalendar } from './tenant-types.ts';
import type { TemplateType } from './types.ts';

export type FrequencyCaps = Pick<
  BillingConfig,
  'maxRemindersPerDebtorPerDay' | 'minHoursBetweenReminders' | 'frequencyCapTypes' | 'timezone'
>;

export type ReminderDecision =
  | { kind: 'send' }
  /** Not before `until`; `reason` says which rule holds it back. */
  | { kind: 'defer'; until: Date; reason: 'daily_limit' | 'min_interval' };

const HOUR_MS = 3_600_000;
/** Each round moves the candidate forward; a handful always settles (a day, a gap, an opening). */
const MAX_ROUNDS = 10;

/** Whether a queue of `type` is held to the cap (its reminders also count toward it). */
export const isCapped = (caps: FrequencyCaps, type: TemplateType): boolean =>
  caps.frequencyCapTypes.includes(type) &&
  (caps.maxRemindersPerDebtorPerDay > 0 || caps.minHoursBetweenReminders > 0);

/**
 * How far back a phone's reminders matter at `now`: the start of the local day (the daily count)
 * or `minHoursBetweenReminders` ago (the gap), whichever is earlier.
 */
export const capWindowStart = (caps: FrequencyCaps, now: Date): Date => {
  const dayStart = startOfLocalDay(caps.timezone, now);
  return new Date(Math.min(dayStart.getTime(), now.getTime() - caps.minHoursBetweenReminders * HOUR_MS));
};

/**
 * Whether a reminder to a phone whose earlier reminders went out at `reminded` may go at `now`, or
 * the first time it may: at least `minHoursBetweenReminders` after the latest one, on a local day
 * with fewer than `maxRemindersPerDebtorPerDay` of them, and open by `calendar` (undefined for a
 * type sent 24/7). A setting of 0 turns its rule off.
 */
export const decideReminder = (input: {
  caps: FrequencyCaps;
  reminded: readonly Date[];
  now: Date;
  calendar: BusinessCalendar | undefined;
}): ReminderDecision => {
  const { caps, reminded, now, calendar } = input;
  const { maxRemindersPerDebtorPerDay: perDay, minHoursBetweenReminders: gapHours, timezone } = caps;
  const latest = Math.max(Number.NEGATIVE_INFINITY, ...reminded.map((at) => at.getTime()));
  const onDay = (day: string) => reminded.filter((at) => localDateIn(timezone, at) === day).length;
  let candidate = now.getTime();
  let reason: 'daily_limit' | 'min_interval' | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let next = candidate;
    if (gapHours > 0 && latest + gapHours * HOUR_MS > next) {
      next = latest + gapHours * HOUR_MS;
      reason ??= 'min_interval';
    }
    if (perDay > 0 && onDay(localDateIn(timezone, new Date(next))) >= perDay) {
      next = nextLocalMidnight(timezone, new Date(next)).getTime();
      reason ??= 'daily_limit';
    }
    if (calendar) next = nextOpening(calendar, new Date(next)).getTime();
    if (next === candidate) break;
    candidate = next;
  }
  if (candidate === now.getTime() || reason === undefined) return { kind: 'send' };
  return { kind: 'defer', until: new Date(candidate), reason };
};

/**
 * When the last reminder the cap holds back within one batch may go: a phone the batch names k
 * times gets its later reminders as `decideReminder` allows them (by default one a day, 20 h
 * apart), whatever the pace. Each phone's first reminder is taken to go at `start`; reminders of
 * other batches are not known here. Undefined when the cap holds none back.
 */
export const lastHeldBackReminder = (input: {
  caps: FrequencyCaps;
  calendar: BusinessCalendar | undefined;
  phones: readonly string[];
  start: Date;
}): Date | undefined => {
  const { caps, calendar, phones, start } = input;
  const reminded = new Map<string, Date[]>();
  let last: Date | undefined;
  for (const phone of phones) {
    const earlier = reminded.get(phone) ?? [];
    const previous = earlier.at(-1);
    let at = start;
    if (previous) {
      const decision = decideReminder({ caps, reminded: earlier, now: previous, calendar });
      at = decision.kind === 'defer' ? decision.until : previous;
      if (!last || at > last) last = at;
    }
    reminded.set(phone, [...earlier, at]);
  }
  return last && last > start ? last : undefined;
};
