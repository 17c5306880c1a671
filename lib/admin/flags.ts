import { readFile } from 'node:fs/promises';
import type { WarmupSettings } from '../app/add-instance.ts';
import { DEAD_LETTER_LIMIT } from '../app/dead-letters.ts';
import type { BusinessCalendar, TimeWindow, Weekday } from '../domain/tenant-types.ts';
import { QUEUE_STATUSES, type QueueStatus, TEMPLATE_TYPES, type TemplateType } from '../domain/types.ts';

/*
 * Reading the admin CLI's flags: each parser turns flag text into what a use case takes, or throws
 * a UsageError that says which flag and what it takes. The commands (commands.ts) only combine them.
 */

/** Parsed flags: `--messages-per-minute 600` arrives as `{ 'messages-per-minute': '600' }`. */
export type Flags = Record<string, string | boolean | undefined>;

/** A command line the CLI cannot act on: it prints the message and the command's usage. */
export class UsageError extends Error {}

export const required = (flags: Flags, name: string): string => {
  const v = flags[name];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`missing --${name}`);
  return v.trim();
};
export const optional = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === 'string' ? v.trim() : undefined;
};
export const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

/** `--limit`: how many dead letters one command looks at (default DEAD_LETTER_LIMIT). */
export const limitFlag = (flags: Flags): number => {
  const text = optional(flags, 'limit');
  if (text === undefined) return DEAD_LETTER_LIMIT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new UsageError(`--limit takes an integer from 1 to 10000, got "${text}"`);
  return n;
};

export const readJsonFile = async (path: string): Promise<unknown> => {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${e.code ?? e.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
};

/** CLI flag -> BillingConfig field, with how to read its text. */
export const CONFIG_FLAGS: Record<
  string,
  { field: string; kind: 'int' | 'number' | 'bool' | 'string' | 'nullable-string' | 'list' }
> = {
  'api-enabled': { field: 'apiEnabled', kind: 'bool' },
  'max-batch-size': { field: 'maxBatchSize', kind: 'int' },
  'daily-limit': { field: 'dailyMessageLimit', kind: 'int' },
  'rate-limit-per-hour': { field: 'apiRateLimitPerHour', kind: 'int' },
  'read-rate-limit-per-hour': { field: 'apiReadRateLimitPerHour', kind: 'int' },
  'messages-per-minute': { field: 'messagesPerMinute', kind: 'number' },
  'min-interval-seconds': { field: 'minIntervalSeconds', kind: 'number' },
  'jitter-seconds': { field: 'jitterSeconds', kind: 'number' },
  'max-retries': { field: 'maxRetries', kind: 'int' },
  'retry-backoff-seconds': { field: 'retryBackoffSeconds', kind: 'number' },
  timezone: { field: 'timezone', kind: 'string' },
  'allow-landlines': { field: 'allowLandlines', kind: 'bool' },
  'ambiguous-send-policy': { field: 'ambiguousSendPolicy', kind: 'string' },
  'retention-days': { field: 'retentionDays', kind: 'int' },
  'allow-insecure-callbacks': { field: 'allowInsecureCallbacks', kind: 'bool' },
  'delivery-timeout-minutes': { field: 'deliveryTimeoutMinutes', kind: 'int' },
  'creditor-name': { field: 'creditorName', kind: 'nullable-string' },
  'creditor-document': { field: 'creditorDocument', kind: 'nullable-string' },
  'strict-template-lint': { field: 'strictTemplateLint', kind: 'bool' },
  'max-reminders-per-debtor-per-day': { field: 'maxRemindersPerDebtorPerDay', kind: 'int' },
  'min-hours-between-reminders': { field: 'minHoursBetweenReminders', kind: 'number' },
  'frequency-cap-types': { field: 'frequencyCapTypes', kind: 'list' },
};
export const CONFIG_FLAG_NAMES = Object.keys(CONFIG_FLAGS);

export const configPatch = (flags: Flags): Record<string, unknown> => {
  const patch: Record<string, unknown> = {};
  for (const [flag, { field, kind }] of Object.entries(CONFIG_FLAGS)) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    const text = String(raw).trim();
    if (kind === 'bool') {
      if (raw === true || text === 'true') patch[field] = true;
      else if (text === 'false') patch[field] = false;
      else throw new UsageError(`--${flag} takes true or false`);
    } else if (kind === 'string') {
      patch[field] = text;
    } else if (kind === 'nullable-string') {
      // `--creditor-name ''` clears the setting.
      patch[field] = text === '' ? null : text;
    } else if (kind === 'list') {
      // `--frequency-cap-types ''` empties the list.
      patch[field] = list(text);
    } else {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) {
        throw new UsageError(`--${flag} takes ${kind === 'int' ? 'an integer' : 'a number'}, got "${text}"`);
      }
      patch[field] = n;
    }
  }
  return patch;
};

/** `--warmup-first-day` and `--warmup-growth`, as numbers (bounds are the use case's). */
export const warmupFlags = (flags: Flags): WarmupSettings => {
  const number = (flag: string): number | undefined => {
    const text = optional(flags, flag);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} takes a number, got "${text}"`);
    return n;
  };
  const firstDayLimit = number('warmup-first-day');
  const dailyGrowth = number('warmup-growth');
  return {
    ...(firstDayLimit === undefined ? {} : { firstDayLimit }),
    ...(dailyGrowth === undefined ? {} : { dailyGrowth }),
  };
};

export const WEEKDAY_FLAGS: Record<string, Weekday> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
};
export const HOURS_FLAG_NAMES = Object.keys(WEEKDAY_FLAGS);

/** `09:00-12:00,13:00-18:00` -> windows; `closed` -> none. */
export const parseWindows = (text: string): TimeWindow[] =>
  text === 'closed'
    ? []
    : text.split(',').map((part) => {
        const m = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/.exec(part);
        if (!m?.[1] || !m[2]) throw new UsageError(`bad window "${part}", expected HH:MM-HH:MM`);
        return { start: m[1].padStart(5, '0'), end: m[2].padStart(5, '0') };
      });

export const templateType = (flags: Flags): TemplateType => {
  const type = required(flags, 'type');
  if (!(TEMPLATE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`--type must be one of ${TEMPLATE_TYPES.join(', ')}`);
  }
  return type as TemplateType;
};

export const queueStatus = (flags: Flags): QueueStatus | undefined => {
  const status = optional(flags, 'status');
  if (status !== undefined && !(QUEUE_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status must be one of ${QUEUE_STATUSES.join(', ')}`);
  }
  return status as QueueStatus | undefined;
};

/**
 * The calendar `hours set` flags describe, starting from the current one: weekdays not given keep
 * their windows (all are replaced with `--replace`, the others closed), and the timezone, region,
 * holidays and closed dates stay as they were unless their flag is given.
 */
export const calendarFromFlags = (current: BusinessCalendar, f: Flags): BusinessCalendar => {
  const given: Partial<Record<Weekday, TimeWindow[]>> = {};
  for (const [flag, day] of Object.entries(WEEKDAY_FLAGS)) {
    const text = optional(f, flag);
    if (text !== undefined) given[day] = parseWindows(text);
  }
  if (Object.keys(given).length === 0 && f.replace === true)
    throw new UsageError('--replace needs the weekdays of the new week (--mon ... --sun)');
  const holidays =
    f['no-national-holidays'] === true
      ? false
      : f['national-holidays'] === true
        ? true
        : current.nationalHolidays;
  const region = optional(f, 'region') ?? current.region;
  const closed = list(optional(f, 'closed'));
  return {
    timezone: optional(f, 'timezone') ?? current.timezone,
    weekly: f.replace === true ? given : { ...current.weekly, ...given },
    nationalHolidays: holidays,
    ...(region ? { region } : {}),
    closedDates: closed ?? current.closedDates,
  };
};
