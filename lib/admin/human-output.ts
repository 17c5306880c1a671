import { type CollectionFinding, describeFinding } from '../domain/collection-lint.ts';
import type { BusinessCalendar, Weekday } from '../domain/tenant-types.ts';

/**
 * What the admin CLI prints for a person (`--json` prints the raw result instead): a list of records
 * as a table, a record as `field: value` lines, nested values as compact JSON.
 */

/** A table cell stays on one line and narrow enough for a terminal; the record view shows it whole. */
const MAX_CELL = 48;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const inline = (value: unknown): string => {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
};

const cell = (value: unknown): string => {
  const text = inline(value).replace(/\s+/g, ' ');
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
};

const table = (rows: readonly Record<string, unknown>[]): string => {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
};

const fields = (record: Record<string, unknown>): string => {
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  return Object.entries(record)
    .map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${inline(value)}`)
    .join('\n');
};

/** A command's result as a person reads it. */
export const formatHuman = (result: unknown): string => {
  if (Array.isArray(result)) {
    if (result.length === 0) return '(none)';
    return result.every(isRecord) ? table(result) : result.map(inline).join('\n');
  }
  if (isRecord(result)) return Object.keys(result).length === 0 ? '(empty)' : fields(result);
  return inline(result);
};

const WEEKDAY_NAMES: Record<Weekday, string> = {
  0: 'sun',
  1: 'mon',
  2: 'tue',
  3: 'wed',
  4: 'thu',
  5: 'fri',
  6: 'sat',
};
/** Monday first, as a work week is read. */
const WEEK_ORDER: readonly Weekday[] = [1, 2, 3, 4, 5, 6, 0];

/** The week a calendar opens, day by day, and what else closes it. */
export const formatCalendar = (calendar: BusinessCalendar): string =>
  [
    `timezone: ${calendar.timezone}`,
    ...WEEK_ORDER.map((day) => {
      const windows = calendar.weekly[day] ?? [];
      const hours = windows.length === 0 ? 'closed' : windows.map((w) => `${w.start}-${w.end}`).join(', ');
      return `  ${WEEKDAY_NAMES[day]}  ${hours}`;
    }),
    `national holidays: ${calendar.nationalHolidays ? 'closed' : 'open'}`,
    `state holidays: ${calendar.region ? `closed (${calendar.region})` : 'none'}`,
    `closed dates: ${calendar.closedDates.length > 0 ? calendar.closedDates.join(', ') : 'none'}`,
  ].join('\n');

/** The collection-rule warnings of a change, one per line, or that there are none. */
export const formatWarnings = (warnings: readonly CollectionFinding[]): string =>
  warnings.length === 0
    ? 'warnings: none'
    : [`warnings (${warnings.length}):`, ...warnings.map((w) => `  ${describeFinding(w)}`)].join('\n');
