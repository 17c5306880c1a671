import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { TEMPLATE_TYPES, type TemplateType } from '../domain/types.ts';
import { readDemoApiKey } from '../local/demo-key-file.ts';
import { BillingApiError, createBillingApiClient } from './billing-api-client.ts';
import { ImportUsageError, parseColumnMap } from './column-mapping.ts';
import { createImportProgress } from './import-progress.ts';
import { summaryLine } from './import-report.ts';
import { ImportStoppedError, runImport } from './run-import.ts';
import { ENCODINGS, type SpreadsheetEncoding } from './spreadsheet-file.ts';
import type { Delimiter } from './spreadsheet-row.ts';

const DEFAULT_API_URL = 'http://127.0.0.1:3000';
const DELIMITER_NAMES: Record<string, Delimiter> = { ';': ';', ',': ',', tab: '\t', '\\t': '\t' };

const help = (): string =>
  [
    'Usage: npm run import -- --type overdue|upcoming|notification --file devedores.csv [flags]',
    '       (or: billing-import --type ... --file ...)',
    '',
    '  --map "coluna=campo"   send a column as a guide field or template variable (repeatable; campo "-" leaves it out)',
    '  --dry-run              validate every row through ?dry_run=true: nothing is stored or sent',
    "  --batch-size N         rows per batch (default: the tenant's max_batch_size)",
    '  --encoding utf8|windows1252, --delimiter ";"|","|tab   override the detection',
    '',
    `API: BILLING_API_URL (default ${DEFAULT_API_URL}) and BILLING_API_KEY (default, with no BILLING_API_URL:`,
    'the demo key of the `npm start` in DATA_DIR, default .data).',
    'Refused rows go to <file>.rejeitados.csv. Interrupted? Run the same command again: it resumes.',
  ].join('\n');

export interface ImportCliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  signal?: AbortSignal;
  stderr?: NodeJS.WriteStream;
}

const option = <T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined => {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value))
    throw new ImportUsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
};

const batchSizeOption = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1)
    throw new ImportUsageError('--batch-size must be a positive whole number');
  return size;
};

const delimiterOption = (value: string | undefined): Delimiter | undefined => {
  if (value === undefined) return undefined;
  const delimiter = DELIMITER_NAMES[value];
  if (!delimiter) throw new ImportUsageError('--delimiter must be ";", "," or tab');
  return delimiter;
};

/** The API to talk to and its key: the environment's, else the local stack's demo key. */
const apiTarget = async (config: Config) => {
  const apiKey =
    config.BILLING_API_KEY ??
    (config.BILLING_API_URL ? undefined : await readDemoApiKey(resolve(config.DATA_DIR)));
  if (!apiKey) throw new ImportUsageError('set BILLING_API_KEY to the API key that sends the batches');
  return { baseUrl: config.BILLING_API_URL ?? DEFAULT_API_URL, apiKey };
};

/** Runs the import; returns the exit code (0 done, 1 stopped by the API, 2 usage, 130 interrupted). */
export const runImportCli = async (
  argv: string[],
  /** The settings' source (loadConfig's: the process environment when left out). */
  env: Record<string, string | undefined> | undefined = undefined,
  io: ImportCliIo = { out: console.log, err: console.error },
): Promise<number> => {
  let dryRun = false;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        type: { type: 'string' },
        file: { type: 'string' },
        map: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        'batch-size': { type: 'string' },
        encoding: { type: 'string' },
        delimiter: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help) {
      io.out(help());
      return 0;
    }
    const templateType = option<TemplateType>('type', values.type, TEMPLATE_TYPES);
    if (!templateType || !values.file) throw new ImportUsageError('--type and --file are required');
    dryRun = values['dry-run'] === true;
    const result = await runImport(
      {
        api: createBillingApiClient({
          ...(await apiTarget(loadConfig(env))),
          onRetry: (reason, delayMs) =>
            io.err(`import: ${reason}; trying again in ${Math.ceil(delayMs / 1000)}s`),
        }),
        progress: (total) => createImportProgress({ total, stream: io.stderr }),
        note: io.err,
        signal: io.signal,
      },
      {
        file: values.file,
        templateType,
        columnMap: parseColumnMap(values.map ?? []),
        dryRun,
        batchSize: batchSizeOption(values['batch-size']),
        encoding: option<SpreadsheetEncoding>('encoding', values.encoding, ENCODINGS),
        delimiter: delimiterOption(values.delimiter),
      },
    );
    if (result.rejectsPath) io.err(`import: refused rows in ${result.rejectsPath}`);
    io.out(summaryLine(result.tally, { dryRun, interrupted: result.interrupted }));
    return result.interrupted ? 130 : 0;
  } catch (error) {
    if (error instanceof ImportStoppedError) {
      io.err(`import stopped by the API: ${error.message}`);
      io.err('batches already accepted stay accepted; run the same command again to resume');
      io.out(summaryLine(error.tally, { dryRun, interrupted: true }));
      return 1;
    }
    if (
      error instanceof ImportUsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.err(`import: ${(error as Error).message}\n\n${help()}`);
      return 2;
    }
    if (error instanceof BillingApiError) {
      // Before the first batch (GET /me): nothing was sent.
      io.err(`import: the API refused: ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      io.err(`import: ${error.message}`);
      return 2;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`import: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  // Ctrl-C: the batch in flight finishes and the run stops with its counts (the next run resumes);
  // a second Ctrl-C leaves at once, which is safe too (batches are idempotent by external_id).
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('\nimport: stopping after the batch in flight (Ctrl-C again to leave now)\n');
    interrupt.abort();
  });
  runImportCli(process.argv.slice(2), undefined, {
    out: console.log,
    err: console.error,
    signal: interrupt.signal,
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
