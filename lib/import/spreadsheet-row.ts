import { type Contact, contactSchema } from '../http/schemas/billing.ts';
import { formatZodIssues } from '../http/schemas/portuguese-issues.ts';
import type { ColumnPlan } from './column-mapping.ts';

/**
 * One spreadsheet row becoming one contact of a batch. Values go to the API as the spreadsheet
 * has them (`1.234,56`, `10/12/2025`): the server parses money and dates and refuses what it cannot
 * read, row by row. Here a row is only checked against the same zod schema the API validates a
 * batch with, because one bad field there refuses the whole batch (400 VALIDATION_FAILED), not
 * just its row.
 */

const DELIMITERS = [';', ',', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

/**
 * The delimiter of a CSV file, from its first line: the most frequent of `;` `,` and tab outside
 * double quotes. A tie goes to `;`, what Excel writes in Brazil (where `,` is the decimal mark).
 */
export const detectDelimiter = (firstLine: string): Delimiter => {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of firstLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: Delimiter = ';';
  for (const delimiter of DELIMITERS)
    if ((counts.get(delimiter) ?? 0) > (counts.get(best) ?? 0)) best = delimiter;
  return best;
};

/** A row with nothing in it (`;;;;`, spaces): spreadsheets export them; they are skipped, not refused. */
export const isBlankRow = (cells: readonly string[]): boolean => cells.every((cell) => cell.trim() === '');

/** Why a row is not sent: a stable code and a Portuguese message, as the API's per-contact refusals. */
export interface RowRejection {
  code: string;
  message: string;
}

export type RowResult = { ok: true; contact: Contact } | { ok: false; rejection: RowRejection };

/** Spreadsheets write a date cell as a timestamp at midnight (`2025-12-10 00:00:00`): the date is what counts. */
const dateOnly = (value: string): string => value.replace(/^(\S+)[ T]00:00(?::00(?:\.0+)?)?$/, '$1');

/**
 * The contact a row describes (only its non-empty cells, trimmed), or why it cannot be sent: more
 * filled cells than the header has columns (a `;` inside an unquoted name shifts every value after
 * it), or a field the API's schema refuses (`VALIDATION_FAILED`, naming each field).
 */
export const rowToContact = (cells: readonly string[], plan: ColumnPlan): RowResult => {
  const filled = cells.reduce((last, cell, i) => (cell.trim() === '' ? last : i + 1), 0);
  if (filled > plan.targets.length) {
    return {
      ok: false,
      rejection: {
        code: 'TOO_MANY_COLUMNS',
        message:
          `A linha tem ${filled} colunas preenchidas e o cabeçalho tem ${plan.targets.length}; ` +
          'um separador dentro de um campo sem aspas?',
      },
    };
  }
  const fields: Record<string, string> = {};
  plan.targets.forEach((target, i) => {
    const value = cells[i]?.trim();
    if (target && value) fields[target] = target === 'data_vencimento' ? dateOnly(value) : value;
  });
  const parsed = contactSchema.safeParse(fields);
  if (parsed.success) return { ok: true, contact: parsed.data };
  const problems = formatZodIssues(parsed.error).map((issue) => `${issue.field}: ${issue.message}`);
  return {
    ok: false,
    rejection: { code: 'VALIDATION_FAILED', message: `Dados inválidos: ${problems.join('; ')}` },
  };
};
