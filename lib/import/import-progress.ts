import { SingleBar } from 'cli-progress';
import { type ImportTally, progressLine, rowsPerSecond } from './import-report.ts';

/**
 * Progress of an import on stderr: a live bar on a terminal (rows, rows per second, ETA), one plain
 * line per batch otherwise (a log file, CI, a pipe), where a redrawn bar would be noise.
 */
export interface ImportProgress {
  update(tally: ImportTally): void;
  stop(): void;
}

export interface ImportProgressOptions {
  /** Data rows the file holds. */
  total: number;
  stream?: NodeJS.WriteStream;
  /** Draw a bar (default: when the stream is a terminal). */
  interactive?: boolean;
  now?: () => number;
}

export const createImportProgress = (options: ImportProgressOptions): ImportProgress => {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const startedAt = now();
  if (!(options.interactive ?? stream.isTTY)) {
    return {
      update: (tally) => void stream.write(`${progressLine(tally, options.total, now() - startedAt)}\n`),
      stop: () => undefined,
    };
  }
  const bar = new SingleBar({
    stream,
    format:
      'import |{bar}| {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | ' +
      '{accepted} accepted, {rejected} rejected',
    hideCursor: true,
    etaBuffer: 50,
  });
  bar.start(options.total, 0, { rate: 0, accepted: 0, rejected: 0 });
  return {
    update: (tally) =>
      bar.update(tally.rowsDone, {
        rate: rowsPerSecond(tally.rowsDone, now() - startedAt),
        accepted: tally.accepted,
        rejected: tally.rejected,
      }),
    stop: () => bar.stop(),
  };
};
