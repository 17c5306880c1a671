import type { RefusedRow } from './import-batches.ts';

/**
 * What an import tells the person running it: the refused rows' file (`<file>.rejeitados.csv`),
 * progress (rows, rows per second, time left) and the closing line
 * `import: N accepted, M rejected, K batches`.
 */

/** Counts of an import so far. */
export interface ImportTally {
  /** Data rows dealt with: sent in a batch the API answered, or refused before (blank rows are not rows). */
  rowsDone: number;
  accepted: number;
  rejected: number;
  /** Batches posted, replays included. */
  batches: number;
  /** Batches the API had already accepted in an earlier run (answered as replays, nothing new stored). */
  replayed: number;
}

export const emptyTally = (): ImportTally => ({
  rowsDone: 0,
  accepted: 0,
  rejected: 0,
  batches: 0,
  replayed: 0,
});

/** Where the refused rows of `file` go. */
export const rejectsPathFor = (file: string): string => `${file}.rejeitados.csv`;

/** Header of the refused rows' file: line, code and message, then the file's own columns. */
export const rejectsHeader = (headers: readonly string[]): string[] => [
  'linha',
  'codigo',
  'mensagem',
  ...headers,
];

/** One record of the refused rows' file: the row as it was, after its line, code and message. */
export const rejectsRecord = (row: RefusedRow): string[] => [
  String(row.line),
  row.code,
  row.message,
  ...row.cells,
];

/** The closing line (stdout), e.g. `import: 19987 accepted, 13 rejected, 20 batches (8 already imported)`. */
export const summaryLine = (
  tally: ImportTally,
  outcome: { dryRun: boolean; interrupted: boolean },
): string => {
  const notes = [
    tally.replayed > 0 ? `${tally.replayed} already imported` : '',
    outcome.dryRun ? 'dry run: nothing stored or sent' : '',
    outcome.interrupted ? 'interrupted: run the same command again to resume' : '',
  ].filter(Boolean);
  return (
    `import: ${tally.accepted} accepted, ${tally.rejected} rejected, ${tally.batches} batches` +
    (notes.length ? ` (${notes.join('; ')})` : '')
  );
};

/** Rows per second since `startedAt`; 0 before a second's worth of time has a meaning. */
export const rowsPerSecond = (rows: number, elapsedMs: number): number =>
  elapsedMs > 0 ? Math.round((rows * 1000) / elapsedMs) : 0;

/** `1h02m`, `3m05s`, `42s`; `?` when unknown. */
export const formatDuration = (seconds: number | null): string => {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
};

/** Seconds left at the pace so far; null before any row is done. */
export const secondsLeft = (done: number, total: number, elapsedMs: number): number | null =>
  done > 0 ? ((total - done) * elapsedMs) / done / 1000 : null;

/** A plain progress line (when stderr is not a terminal): one per batch. */
export const progressLine = (tally: ImportTally, total: number, elapsedMs: number): string => {
  const percent = total > 0 ? Math.floor((tally.rowsDone * 100) / total) : 100;
  return (
    `import: ${tally.rowsDone}/${total} rows (${percent}%), ${rowsPerSecond(tally.rowsDone, elapsedMs)} rows/s, ` +
    `ETA ${formatDuration(secondsLeft(tally.rowsDone, total, elapsedMs))}; ` +
    `${tally.accepted} accepted, ${tally.rejected} rejected, ${tally.batches} batches`
  );
};
