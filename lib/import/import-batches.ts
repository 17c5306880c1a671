import { createHash } from 'node:crypto';
import type { TemplateType } from '../domain/types.ts';
import type { Contact } from '../http/schemas/billing.ts';
import type { FieldIssue, RejectedContact } from '../http/schemas/common.ts';
import type { RowRejection } from './spreadsheet-row.ts';

/**
 * How an import turns rows into batches the API accepts exactly once. Each batch's `external_id`
 * is `<name>-<n>`, where the name comes from the file's content (and the template type) and `n`
 * counts batches from 1: the same file gives the same ids on every run, so a run started again
 * after Ctrl-C or a crash posts the batches already accepted as replays (the API answers them
 * with their first answer and stores nothing new) and carries on with the rest.
 */

/** A row of the file on its way to the API: where it is in the file and what it says. */
export interface ImportRow {
  /** Line of the file where the row starts (1-based; a quoted field may span several lines). */
  line: number;
  cells: string[];
  contact: Contact;
}

/** A row that is not imported, with the reason to write next to it. */
export interface RefusedRow extends RowRejection {
  line: number;
  cells: string[];
}

/**
 * The name of an import: `import-` and 16 hex digits (64 bits) of SHA-256 over the template type
 * and the file's own SHA-256. The file's name is left out on purpose: a renamed copy of the same
 * export must resume, not send everything again.
 */
export const importName = (fileSha256: string, templateType: TemplateType): string =>
  `import-${createHash('sha256').update(`${templateType}\n${fileSha256}`).digest('hex').slice(0, 16)}`;

/** The `external_id` of batch `n` (from 1) of an import. */
export const batchExternalId = (name: string, n: number): string => `${name}-${n}`;

/** The lines a batch covers, for its metadata (`2-1001`): the ERP can trace a queue back to the file. */
export const lineSpan = (rows: readonly ImportRow[]): string => {
  const first = rows[0]?.line;
  const last = rows[rows.length - 1]?.line;
  return first === last ? String(first ?? '') : `${first}-${last}`;
};

/** The body of a batch as the API takes it: identical on every run for the same rows, so replays match. */
export const batchBody = (externalId: string, rows: readonly ImportRow[]) => ({
  external_id: externalId,
  contacts: rows.map((row) => row.contact),
  metadata: { origem: 'billing-import', linhas: lineSpan(rows) },
});

/** The API's per-contact refusals (`rejected`, indexes into the batch) as refused rows of the file. */
export const refusedByApi = (
  rows: readonly ImportRow[],
  rejected: readonly RejectedContact[],
): RefusedRow[] =>
  rejected.map((r) => {
    const row = rows[r.index];
    if (!row) throw new Error(`the API refused contact ${r.index} of a batch of ${rows.length}`);
    return { line: row.line, cells: row.cells, code: r.code, message: r.message };
  });

/**
 * A 400 VALIDATION_FAILED names fields (`contacts.3.link_pagamento`). The rows it names are
 * refused with those messages and the rest of the batch is posted again (under the same id:
 * a refused request stored nothing). Rows are checked against the API's schema before they are
 * sent, so this only happens against a server whose rules differ from this client's. An issue
 * that names no contact is a fault of the whole request: null.
 */
export const splitByFieldIssues = (
  rows: readonly ImportRow[],
  issues: readonly FieldIssue[],
): { refused: RefusedRow[]; kept: ImportRow[] } | null => {
  const messages = new Map<number, string[]>();
  for (const issue of issues) {
    const match = /^contacts\.(\d+)(?:\.(.+))?$/.exec(issue.field);
    const index = match ? Number(match[1]) : Number.NaN;
    if (!match || !rows[index]) return null;
    const text = match[2] ? `${match[2]}: ${issue.message}` : issue.message;
    messages.set(index, [...(messages.get(index) ?? []), text]);
  }
  if (messages.size === 0) return null;
  return {
    refused: [...messages].map(([index, texts]) => {
      // biome-ignore lint/style/noNonNullAssertion: every index was checked above
      const row = rows[index]!;
      return {
        line: row.line,
        cells: row.cells,
        code: 'VALIDATION_FAILED',
        message: `Dados inválidos: ${texts.join('; ')}`,
      };
    }),
    kept: rows.filter((_, i) => !messages.has(i)),
  };
};
