import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { stringify } from 'csv-stringify/sync';
import type { RefusedRow } from './import-batches.ts';
import { rejectsHeader, rejectsRecord } from './import-report.ts';

/**
 * `<file>.rejeitados.csv`: every refused row with its line, code and Portuguese message, then the
 * row as it was, so it can be fixed and imported on its own. UTF-8 with a BOM (what Excel needs to
 * show accents) and the input's delimiter. Written afresh by every run (a resumed run hears the
 * refusals of replayed batches again); a run with no refusal removes the one an earlier run left.
 */
export interface RejectsFile {
  write(rows: readonly RefusedRow[]): Promise<void>;
  /** The file's path when it holds refused rows, else null. */
  close(): Promise<string | null>;
}

export const openRejectsFile = (path: string, headers: readonly string[], delimiter: string): RejectsFile => {
  let out: WriteStream | undefined;
  const line = (record: string[]) => stringify([record], { delimiter, record_delimiter: 'windows' });
  return {
    write: async (rows) => {
      if (rows.length === 0) return;
      if (!out) {
        out = createWriteStream(path);
        out.write(`\uFEFF${line(rejectsHeader(headers))}`);
      }
      const text = rows.map((row) => line(rejectsRecord(row))).join('');
      if (!out.write(text)) await once(out, 'drain');
    },
    close: async () => {
      if (!out) {
        await rm(path, { force: true });
        return null;
      }
      const stream = out;
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      return path;
    },
  };
};
