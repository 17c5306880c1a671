import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { ImportUsageError } from './column-mapping.ts';
import { type Delimiter, detectDelimiter } from './spreadsheet-row.ts';

/**
 * Reading a CSV export from disk, streaming: memory stays bounded whatever the file's size.
 * `fileFacts` reads the raw bytes once for the content hash (the import's identity) and the
 * encoding; `readSpreadsheet` decodes and parses (csv-parse) record by record, telling the line
 * each record starts on.
 */

export const ENCODINGS = ['utf8', 'windows1252'] as const;
export type SpreadsheetEncoding = (typeof ENCODINGS)[number];

export interface FileFacts {
  /** SHA-256 of the file's bytes (hex). */
  sha256: string;
  bytes: number;
  /** UTF-8 when every byte sequence of the file is valid UTF-8 (with or without BOM), else Windows-1252. */
  encoding: SpreadsheetEncoding;
  delimiter: Delimiter;
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Enough of the file to hold its header line. */
const SNIFF_BYTES = 64 * 1024;

/** The first line of the file as ASCII-compatible text (delimiters and quotes are ASCII in both encodings). */
const firstLineOf = (head: Buffer): string => {
  const text = (head.subarray(0, UTF8_BOM.length).equals(UTF8_BOM) ? head.subarray(3) : head).toString(
    'latin1',
  );
  return text.split(/\r\n|\r|\n/, 1)[0] ?? '';
};

/** Excel's own hint on the first line (`sep=;`): a file that has it says which delimiter it uses. */
const EXCEL_SEPARATOR_HINT = /^sep=(.)$/i;

/**
 * One pass over the raw bytes: the SHA-256 that names the import, and whether the file is
 * entirely valid UTF-8 (checked over the whole file, not a sample: an export can be plain ASCII for
 * thousands of rows before its first `ç`). `encoding`/`delimiter` override the detection.
 */
export const fileFacts = async (
  path: string,
  given: { encoding?: SpreadsheetEncoding; delimiter?: Delimiter } = {},
): Promise<FileFacts> => {
  const hash = createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let validUtf8 = true;
  let bytes = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
    if (validUtf8) {
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        validUtf8 = false;
      }
    }
  }
  if (validUtf8) {
    try {
      utf8.decode();
    } catch {
      validUtf8 = false; // cut in the middle of a character
    }
  }
  const firstLine = firstLineOf(head);
  const hint = EXCEL_SEPARATOR_HINT.exec(firstLine)?.[1];
  return {
    sha256: hash.digest('hex'),
    bytes,
    encoding: given.encoding ?? (validUtf8 ? 'utf8' : 'windows1252'),
    delimiter:
      given.delimiter ?? (hint === ';' || hint === ',' || hint === '\t' ? hint : detectDelimiter(firstLine)),
  };
};

/** A parsed record and the line of the file it starts on. */
export interface SpreadsheetRecord {
  line: number;
  cells: string[];
}

const lineBreaks = (text: string): number => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/**
 * The file's records in order, blank ones included (the caller skips them), decoded from
 * `encoding` (a UTF-8 BOM is dropped). Quoted fields may hold delimiters, quotes (`""`) and line
 * breaks. `onBytes` reports the raw bytes read so far. A malformed file (a quote never closed)
 * throws ImportUsageError naming the line.
 */
export async function* readSpreadsheet(
  path: string,
  options: { encoding: SpreadsheetEncoding; delimiter: Delimiter; onBytes?: (bytes: number) => void },
): AsyncGenerator<SpreadsheetRecord> {
  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytesRead += chunk.length;
      options.onBytes?.(bytesRead);
      done(null, chunk);
    },
  });
  const parser = parse({
    delimiter: options.delimiter,
    // Blank lines come through as records so that every line is counted (see `line`).
    skip_empty_lines: false,
    relax_column_count: true,
    // A stray quote inside an unquoted field (`Jo"ao`) is kept as text, as spreadsheets read it.
    relax_quotes: true,
    raw: true,
  });
  const source = pipeline(createReadStream(path), counter, iconv.decodeStream(options.encoding), parser);
  // The pipeline's own rejection is the parser's error, already thrown by the loop below.
  source.catch(() => undefined);
  // Lines consumed so far: each record's raw text ends with its line break (csv-parse keeps the
  // `\r` of a `\r\n`), and line breaks inside quoted fields count as lines of the file.
  let linesBefore = 0;
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = linesBefore + 1;
      linesBefore += lineBreaks(raw);
      if (line === 1 && record.length <= 2 && EXCEL_SEPARATOR_HINT.test(record.join(options.delimiter)))
        continue;
      yield { line, cells: record };
    }
  } catch (error) {
    if (error instanceof CsvError)
      throw new ImportUsageError(`${path} is not a CSV file this import can read: ${error.message}`);
    throw error;
  } finally {
    parser.destroy();
  }
}
