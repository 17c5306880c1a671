/**
 * Checking a tenant's business hours before they are stored (the admin CLI, the API): every window,
 * the timezone, the region for holidays and the closed dates, with the reason in Portuguese; and the
 * windows normalised (sorted, merged) so that "when does this window close" has one answer.
 * business-hours.ts answers questions about a calendar this accepted.
 */
import Holidays from 'date-holidays';
import { DomainError, fail, ok, type Result } from './errors.ts';
import type { BusinessCalendar, TimeWindow, Weekday } from './tenant-types.ts';

const START_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const END_TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A window in minutes of the local day, `start` < `end` (24:00 is 1440). */
export interface MinuteWindow {
  start: number;
  end: number;
}

/** Minutes of the day of an `HH:mm` time (24:00 is 1440). */
export const toMinutes = (time: string): number => {
  const [h, m] = time.split(':');
  return Number(h) * 60 + Number(m);
};

const fromMinutes = (minutes: number): string => {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
};

const isValidTimezone = (zone: unknown): zone is string => {
  if (typeof zone !== 'string' || zone.trim() === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** Whether `value` is a real calendar date written `yyyy-mm-dd`. */
export const isValidLocalDate = (value: unknown): value is string => {
  if (typeof value !== 'string') return false;
  const m = LOCAL_DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === mo - 1 && probe.getUTCDate() === d;
};

let brStates: Set<string> | undefined;
const knownBrStates = (): Set<string> => {
  brStates ??= new Set(Object.keys(new Holidays().getStates('BR')));
  return brStates;
};

/**
 * Splits a window that crosses midnight (22:00-02:00) into the two windows a calendar stores
 * (22:00-24:00 and 00:00-02:00); an end of 00:00 yields only the first. A same-day window comes back as is.
 */
export function splitOvernightWindow(start: string, end: string): TimeWindow[] {
  if (!START_TIME.test(start) || !END_TIME.test(end)) {
    throw new DomainError('INVALID_BUSINESS_HOURS', {
      reason: `janela ${start}-${end} fora do formato HH:mm`,
    });
  }
  if (toMinutes(end) > toMinutes(start)) return [{ start, end }];
  const windows: TimeWindow[] = [{ start, end: '24:00' }];
  if (end !== '00:00') windows.push({ start: '00:00', end });
  return windows;
}

/**
 * Checks a calendar and returns it normalised: windows sorted, overlapping or touching windows merged
 * (09:00-12:00 + 11:00-13:00 = 09:00-13:00, so "when does this window close" has one answer),
 * the region upper-cased, closed dates sorted and deduplicated. A calendar with no window at all is valid
 * here (a tenant may close everything); `nextOpening` is what refuses it.
 */
export function validateCalendar(cal: BusinessCalendar): Result<BusinessCalendar> {
  if (!isValidTimezone(cal.timezone)) return fail('INVALID_TIMEZONE', { value: String(cal.timezone) });
  if (typeof cal.nationalHolidays !== 'boolean') {
    return fail('INVALID_BUSINESS_HOURS', { reason: 'feriados nacionais deve ser verdadeiro ou falso' });
  }
  if (cal.weekly === null || typeof cal.weekly !== 'object' || Array.isArray(cal.weekly)) {
    return fail('INVALID_BUSINESS_HOURS', { reason: 'horários semanais ausentes' });
  }

  const weekly: Partial<Record<Weekday, TimeWindow[]>> = {};
  for (const [key, windows] of Object.entries(cal.weekly)) {
    if (!/^[0-6]$/.test(key)) {
      return fail('INVALID_BUSINESS_HOURS', {
        reason: `dia da semana inválido: ${key} (use 0 = domingo .. 6 = sábado)`,
      });
    }
    if (windows === undefined) continue;
    if (!Array.isArray(windows)) {
      return fail('INVALID_BUSINESS_HOURS', { reason: `janelas do dia ${key} devem ser uma lista` });
    }
    const parsed: MinuteWindow[] = [];
    for (const w of windows as unknown[]) {
      const { start, end } = (w ?? {}) as Partial<TimeWindow>;
      if (typeof start !== 'string' || !START_TIME.test(start)) {
        return fail('INVALID_BUSINESS_HOURS', {
          reason: `horário de início inválido: ${String(start)} (use HH:mm)`,
        });
      }
      if (typeof end !== 'string' || !END_TIME.test(end)) {
        return fail('INVALID_BUSINESS_HOURS', {
          reason: `horário de fim inválido: ${String(end)} (use HH:mm, até 24:00)`,
        });
      }
      const s = toMinutes(start);
      const e = toMinutes(end);
      if (e < s) return fail('OVERNIGHT_WINDOW', { start, end });
      if (e === s) {
        return fail('INVALID_BUSINESS_HOURS', {
          reason: `janela ${start}-${end} vazia: o início deve ser antes do fim`,
        });
      }
      parsed.push({ start: s, end: e });
    }
    weekly[Number(key) as Weekday] = mergeWindows(parsed).map((w) => ({
      start: fromMinutes(w.start),
      end: fromMinutes(w.end),
    }));
  }

  let region: string | undefined;
  if (cal.region !== undefined && cal.region !== null) {
    region = typeof cal.region === 'string' ? cal.region.trim().toUpperCase() : '';
    if (!knownBrStates().has(region)) {
      return fail('INVALID_BUSINESS_HOURS', {
        reason: `estado desconhecido para feriados: ${String(cal.region)}`,
      });
    }
  }

  if (!Array.isArray(cal.closedDates)) {
    return fail('INVALID_BUSINESS_HOURS', { reason: 'datas fechadas devem ser uma lista' });
  }
  for (const d of cal.closedDates) {
    if (!isValidLocalDate(d)) {
      return fail('INVALID_BUSINESS_HOURS', {
        reason: `data fechada inválida: ${String(d)} (use aaaa-mm-dd)`,
      });
    }
  }
  const closedDates = [...new Set(cal.closedDates)].sort();

  const normalised: BusinessCalendar = {
    timezone: cal.timezone,
    weekly,
    nationalHolidays: cal.nationalHolidays,
    closedDates,
  };
  if (region !== undefined) normalised.region = region;
  return ok(normalised);
}

const mergeWindows = (windows: MinuteWindow[]): MinuteWindow[] => {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const merged: MinuteWindow[] = [];
  for (const w of sorted) {
    const last = merged.at(-1);
    if (last && w.start <= last.end) last.end = Math.max(last.end, w.end);
    else merged.push({ ...w });
  }
  return merged;
};
