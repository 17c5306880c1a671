/**
 * Business hours: when a tenant may send reminders (design section 5, "nothing is sent outside the window").
 * Windows are wall-clock `HH:mm` in the calendar's IANA zone; every conversion to an instant goes through
 * the zone, so a DST change never shifts a window by an hour.
 */
import { TZDate, tz } from '@date-fns/tz';
import { format } from 'date-fns';
import Holidays from 'date-holidays';
import { isValidLocalDate, type MinuteWindow, toMinutes, validateCalendar } from './calendar-validation.ts';
import { DomainError } from './errors.ts';
import type { BusinessCalendar, Weekday } from './tenant-types.ts';

/** How far `nextOpening` looks ahead; long enough for Carnival plus a weekend plus a run of closed dates. */
export const OPENING_SEARCH_DAYS = 60;

/** A BR holiday or custom closed date that closes the calendar for a whole local day. */
export interface Holiday {
  /** `yyyy-mm-dd` in the calendar's zone. */
  date: string;
  name: string;
  scope: 'national' | 'regional' | 'custom';
}

/** A validated calendar with its windows in minutes of the day, sorted and merged. */
interface CompiledCalendar {
  calendar: BusinessCalendar;
  windows: MinuteWindow[][];
  closed: Set<string>;
  hasAnyWindow: boolean;
}

interface LocalDay {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  date: string;
}

/** Validates (throwing the DomainError a bad calendar deserves) and prepares the calendar for lookups. */
const compile = (cal: BusinessCalendar): CompiledCalendar => {
  const result = validateCalendar(cal);
  if (!result.ok) throw result.error;
  const calendar = result.value;
  const windows: MinuteWindow[][] = [];
  for (let d = 0; d < 7; d++) {
    windows.push(
      (calendar.weekly[d as Weekday] ?? []).map((w) => ({
        start: toMinutes(w.start),
        end: toMinutes(w.end),
      })),
    );
  }
  return {
    calendar,
    windows,
    closed: new Set(calendar.closedDates),
    hasAnyWindow: windows.some((day) => day.length > 0),
  };
};

// Holidays.
//
// date-holidays types days as public/bank/optional/observance; its types do not mean "businesses close",
// so the filter below is deliberate:
// - `public` counts, EXCEPT election days: the library lists the election Sundays as public, but they are
//   not days off for businesses (and a reminder on election day is harmless).
// - Carnival Monday and Tuesday count although typed `bank`: banks and most businesses close, and a debt
//   reminder in the middle of Carnival is bad practice. The optional half-days around them (Saturday
//   before, Ash Wednesday until 14:00) do not count.
// - Everything else typed bank/optional/observance does not count (Corpus Christi is a municipal holiday
//   in many cities but not a national one: tenants add it to `closedDates` where it applies).
const ELECTION_RULES = new Set([
  '1st sunday in October in even years',
  '1st sunday before 11-01 in even years',
]);
const CARNIVAL_RULES = new Set(['easter -48', 'easter -47']);

const isDayOff = (h: { type: string; rule: string }): boolean =>
  (h.type === 'public' && !ELECTION_RULES.has(h.rule)) || CARNIVAL_RULES.has(h.rule);

// Caches keep repeated lookups (a 60-day search calls isHoliday per day) cheap; they hold only data
// derived from the library's static tables, so they are deterministic and need no invalidation.
const holidaysInstances = new Map<string, Holidays>();
const dayOffCache = new Map<string, Array<{ date: string; name: string; key: string }>>();
const holidaySetCache = new Map<string, Set<string>>();

const holidaysFor = (region: string): Holidays => {
  let instance = holidaysInstances.get(region);
  if (!instance) {
    instance = region === '' ? new Holidays('BR') : new Holidays('BR', region);
    holidaysInstances.set(region, instance);
  }
  return instance;
};

const dayOffsOf = (region: string, year: number): Array<{ date: string; name: string; key: string }> => {
  const cacheKey = `${region}|${year}`;
  let days = dayOffCache.get(cacheKey);
  if (!days) {
    days = holidaysFor(region)
      .getHolidays(year)
      .filter(isDayOff)
      .map((h) => {
        const date = h.date.slice(0, 10);
        return { date, name: h.name, key: `${date}|${h.type}|${h.name}` };
      });
    dayOffCache.set(cacheKey, days);
  }
  return days;
};

const libraryHolidays = (cal: BusinessCalendar, year: number): Holiday[] => {
  const national = cal.nationalHolidays ? dayOffsOf('', year) : [];
  const result: Holiday[] = national.map(({ date, name }) => ({ date, name, scope: 'national' }));
  if (cal.region) {
    // A state's table in date-holidays overrides national rules (SP's still limits Consciência Negra to
    // 2023, before it became national), so national days come from the country table and the state table
    // only adds what differs from it (its own days, or a national day it upgrades, as RJ's Carnival Tuesday).
    const nationalKeys = new Set(dayOffsOf('', year).map((h) => h.key));
    for (const h of dayOffsOf(cal.region, year)) {
      if (!nationalKeys.has(h.key)) result.push({ date: h.date, name: h.name, scope: 'regional' });
    }
  }
  return result;
};

const holidaysOfCompiled = (compiled: CompiledCalendar, year: number): Holiday[] => {
  const { calendar } = compiled;
  const all = [
    ...libraryHolidays(calendar, year),
    ...calendar.closedDates
      .filter((d) => d.startsWith(`${year}-`))
      .map((date): Holiday => ({ date, name: 'Fechado', scope: 'custom' })),
  ];
  const byDate = new Map<string, Holiday>();
  for (const h of all) if (!byDate.has(h.date)) byDate.set(h.date, h);
  return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
};

const isHolidayCompiled = (compiled: CompiledCalendar, localDate: string): boolean => {
  if (compiled.closed.has(localDate)) return true;
  const { calendar } = compiled;
  if (!calendar.nationalHolidays && !calendar.region) return false;
  const year = Number(localDate.slice(0, 4));
  const cacheKey = `${calendar.nationalHolidays}|${calendar.region ?? ''}|${year}`;
  let dates = holidaySetCache.get(cacheKey);
  if (!dates) {
    dates = new Set(libraryHolidays(calendar, year).map((h) => h.date));
    holidaySetCache.set(cacheKey, dates);
  }
  return dates.has(localDate);
};

/** The days a calendar is closed for holidays in `year` (national, state, custom), sorted, one per date. */
export function holidaysOf(cal: BusinessCalendar, year: number): Holiday[] {
  return holidaysOfCompiled(compile(cal), year);
}

/** Whether the local date `yyyy-mm-dd` (in the calendar's zone) is a holiday or closed date of the calendar. */
export function isHoliday(cal: BusinessCalendar, localDate: string): boolean {
  if (!isValidLocalDate(localDate)) throw new RangeError(`isHoliday: expected yyyy-mm-dd, got ${localDate}`);
  return isHolidayCompiled(compile(cal), localDate);
}

// Wall clock <-> instant.

const assertInstant = (at: Date): number => {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError('business hours: invalid Date');
  return t;
};

const localDayOf = (at: number, zone: string): { day: LocalDay; minute: number } => {
  const local = new TZDate(at, zone);
  const day: LocalDay = {
    year: local.getFullYear(),
    month: local.getMonth() + 1,
    day: local.getDate(),
    weekday: local.getDay() as Weekday,
    date: format(at, 'yyyy-MM-dd', { in: tz(zone) }),
  };
  // Seconds count: 17:59:59 is still inside a window ending at 18:00.
  const minute =
    local.getHours() * 60 + local.getMinutes() + local.getSeconds() / 60 + local.getMilliseconds() / 60_000;
  return { day, minute };
};

/** The local day `offset` days after `from`, by calendar arithmetic (independent of DST). */
const addLocalDays = (from: LocalDay, offset: number): LocalDay => {
  const d = new Date(Date.UTC(from.year, from.month - 1, from.day + offset));
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  return {
    year,
    month,
    day,
    weekday: d.getUTCDay() as Weekday,
    date: `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
  };
};

/**
 * The instant of a wall time on a local day. A time inside a spring-forward gap moves forward
 * (02:30 on the New York change day is 03:30 EDT); 24:00 is the next day's midnight.
 */
const instantOf = (day: LocalDay, minuteOfDay: number, zone: string): number =>
  new TZDate(
    day.year,
    day.month - 1,
    day.day,
    Math.floor(minuteOfDay / 60),
    minuteOfDay % 60,
    zone,
  ).getTime();

const openWindowAt = (
  compiled: CompiledCalendar,
  at: number,
): { day: LocalDay; window: MinuteWindow } | undefined => {
  const { day, minute } = localDayOf(at, compiled.calendar.timezone);
  const window = compiled.windows[day.weekday]?.find((w) => w.start <= minute && minute < w.end);
  if (!window || isHolidayCompiled(compiled, day.date)) return undefined;
  return { day, window };
};

/** Whether `at` falls inside a window (start inclusive, end exclusive) of a local day that is not a holiday. */
export function isOpen(cal: BusinessCalendar, at: Date): boolean {
  return openWindowAt(compile(cal), assertInstant(at)) !== undefined;
}

/**
 * `at` when open, else the start of the next window on a non-holiday day, looking up to
 * OPENING_SEARCH_DAYS ahead. Throws NO_BUSINESS_HOURS when the calendar has no window at all or nothing
 * opens in the horizon: a queue must never be scheduled on a made-up default.
 */
export function nextOpening(cal: BusinessCalendar, at: Date): Date {
  const compiled = compile(cal);
  const t = assertInstant(at);
  if (!compiled.hasAnyWindow) throw new DomainError('NO_BUSINESS_HOURS', {}, { reason: 'no windows' });
  if (openWindowAt(compiled, t)) return new Date(t);

  const zone = compiled.calendar.timezone;
  const today = localDayOf(t, zone).day;
  for (let offset = 0; offset <= OPENING_SEARCH_DAYS; offset++) {
    const day = addLocalDays(today, offset);
    const windows = compiled.windows[day.weekday] ?? [];
    if (windows.length === 0 || isHolidayCompiled(compiled, day.date)) continue;
    for (const w of windows) {
      const start = instantOf(day, w.start, zone);
      // Re-checking openness keeps `isOpen(nextOpening(x))` true even where the zone shifts a start: a
      // window wholly inside a spring-forward gap has no open instant and is skipped. (Known gap: a window
      // inside the repeated hour of a fall-back night is only found at its first occurrence.)
      if (start > t && openWindowAt(compiled, start)) return new Date(start);
    }
  }
  throw new DomainError(
    'NO_BUSINESS_HOURS',
    {},
    { reason: 'nothing opens', horizonDays: OPENING_SEARCH_DAYS },
  );
}

/**
 * When open, the instant the current window closes (a sender stops there and schedules the next opening);
 * undefined when closed. A window ending at 24:00 closes at midnight even if the next day opens at 00:00.
 */
export function currentWindowEnd(cal: BusinessCalendar, at: Date): Date | undefined {
  const compiled = compile(cal);
  const t = assertInstant(at);
  const open = openWindowAt(compiled, t);
  if (!open) return undefined;
  const end = instantOf(open.day, open.window.end, compiled.calendar.timezone);
  if (end > t) return new Date(end);
  // Only in the repeated hour of a fall-back day can the zone resolve the end to the earlier occurrence,
  // before `at`; the wall-clock distance is then the right answer.
  const { minute } = localDayOf(t, compiled.calendar.timezone);
  return new Date(t + Math.round((open.window.end - minute) * 60_000));
}

/**
 * When a queue waiting for business hours starts, as its operator reads it: `segunda-feira,
 * 02/03 às 09:00` in the tenant's timezone.
 */
export function describeOpening(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('pt-BR', {
    timeZone: timezone,
    weekday: 'long',
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')}, ${part('day')}/${part('month')} às ${part('hour')}:${part('minute')}`;
}
