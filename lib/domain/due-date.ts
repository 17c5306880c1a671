/**
 * Due dates (`data_vencimento`): parsing what ERPs send and deriving the variables templates use.
 * Everything here works on calendar dates (`yyyy-mm-dd`), never on instants, so time of day and DST
 * cannot shift a day count.
 */
import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import { fail, ok, type Result } from './errors.ts';
import type { TemplateType } from './types.ts';

export type DueStatus = 'vencido' | 'vence_hoje' | 'a_vencer';

/** The calculated template variables, named as the templates spell them. */
export interface DueDateVariables {
  dias_atraso: number;
  dias_para_vencer: number;
  status_vencimento: DueStatus;
}

const BR_FORMAT = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const ISO_FORMAT = /^(\d{4})-(\d{2})-(\d{2})$/;
// A four-digit year outside this range is a typo (0226, 3026), not a bill.
const MIN_YEAR = 1900;
const MAX_YEAR = 2999;
const DAY_MS = 86_400_000;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const toIso = (year: number, month: number, day: number): string | undefined => {
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
};

/** Parses `dd/mm/yyyy` (also `d/m/yyyy`) or `yyyy-mm-dd` into ISO `yyyy-mm-dd`, refusing impossible dates. */
export function parseDueDate(input: string): Result<string> {
  const value = input.trim();
  const br = BR_FORMAT.exec(value);
  const iso = br ? undefined : ISO_FORMAT.exec(value);
  const parts = br ? [br[3], br[2], br[1]] : iso ? [iso[1], iso[2], iso[3]] : undefined;
  const date = parts ? toIso(Number(parts[0]), Number(parts[1]), Number(parts[2])) : undefined;
  return date ? ok(date) : fail('INVALID_DATE', { value });
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar date (`yyyy-mm-dd`) that `at` falls on in the IANA `timezone`.
 * Throws a RangeError for an unknown zone: zones are validated when a tenant is configured.
 */
export function localDateIn(timezone: string, at: Date): string {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  const parts = formatter.formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  return `${pad(part('year'), 4)}-${pad(part('month'))}-${pad(part('day'))}`;
}

const utcDay = (iso: string): number => {
  const match = ISO_FORMAT.exec(iso);
  if (!match) throw new Error(`Expected a yyyy-mm-dd date, got ${iso}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) / DAY_MS;
};

/** Whole calendar days from `from` to `to` (both `yyyy-mm-dd`); negative when `to` is earlier. */
export function daysBetween(from: string, to: string): number {
  return utcDay(to) - utcDay(from);
}

/** The first instant of the local day `at` falls on, in the IANA `timezone`. */
export function startOfLocalDay(timezone: string, at: Date): Date {
  return new Date(startOfDay(new TZDate(at.getTime(), timezone)).getTime());
}

/** The first instant of the local day after the one `at` falls on, in the IANA `timezone`. */
export function nextLocalMidnight(timezone: string, at: Date): Date {
  return new Date(startOfDay(addDays(new TZDate(at.getTime(), timezone), 1)).getTime());
}

/** An ISO `yyyy-mm-dd` date the Brazilian way, as a debtor reads it: `05/12/2026`. */
export function formatBrDate(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${day}/${month}/${year}`;
}

/** Whole calendar days between `today` and the due date, as the template variables. Both are `yyyy-mm-dd`. */
export function enrichDueDate(dueIso: string, today: string): DueDateVariables {
  const daysUntilDue = utcDay(dueIso) - utcDay(today);
  if (daysUntilDue < 0) {
    return { dias_atraso: -daysUntilDue, dias_para_vencer: 0, status_vencimento: 'vencido' };
  }
  if (daysUntilDue === 0) return { dias_atraso: 0, dias_para_vencer: 0, status_vencimento: 'vence_hoje' };
  return { dias_atraso: 0, dias_para_vencer: daysUntilDue, status_vencimento: 'a_vencer' };
}

/**
 * Checks that a due date fits the template type: an overdue bill must be past due,
 * an upcoming one must not be (due today is still upcoming), a notification takes any date.
 */
export function checkDueDateForType(type: TemplateType, status: DueStatus): Result<void> {
  if (type === 'overdue' && status !== 'vencido') return fail('DUE_DATE_NOT_PAST');
  if (type === 'upcoming' && status === 'vencido') return fail('DUE_DATE_PAST');
  return ok(undefined);
}
