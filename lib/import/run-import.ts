import type { TemplateType } from '../domain/types.ts';
import { MAX_CONTACTS } from '../http/schemas/billing.ts';
import { type BillingApiClient, BillingApiError } from './billing-api-client.ts';
import {
  type ColumnPlan,
  type ColumnTarget,
  ImportUsageError,
  planColumns,
  plansField,
} from './column-mapping.ts';
import {
  batchBody,
  batchExternalId,
  type ImportRow,
  importName,
  type RefusedRow,
  refusedByApi,
  splitByFieldIssues,
} from './import-batches.ts';
import type { ImportProgress } from './import-progress.ts';
import { emptyTally, type ImportTally, rejectsPathFor } from './import-report.ts';
import { openRejectsFile, type RejectsFile } from './rejects-file.ts';
import { fileFacts, readSpreadsheet, type SpreadsheetEncoding } from './spreadsheet-file.ts';
import { type Delimiter, isBlankRow, rowToContact } from './spreadsheet-row.ts';

/**
 * The spreadsheet import (`npm run import`), start to end:
 * 1. read the raw bytes once: the SHA-256 that names the import (so its batch ids) and the encoding;
 * 2. parse the whole file once without sending anything: a malformed file, a header with no phone
 *    column or a bad `--map` stops here, before the first batch, and the row count feeds the ETA;
 * 3. parse it again, batch the rows the API's schema accepts (up to the tenant's max_batch_size)
 *    and post each batch; refused rows go to `<file>.rejeitados.csv` in file order.
 * Hashing in a pass of its own costs one read of the file, at disk speed, and keeps memory bounded:
 * the ids must be known before the first batch goes out, so the hash cannot be taken while posting.
 */

export interface ImportOptions {
  file: string;
  templateType: TemplateType;
  /** `--map` entries: folded column name -> field, variable or `-`. */
  columnMap: ReadonlyMap<string, ColumnTarget>;
  dryRun: boolean;
  /** Rows per batch; at most the tenant's max_batch_size (the default). */
  batchSize?: number;
  encoding?: SpreadsheetEncoding;
  delimiter?: Delimiter;
}

export interface ImportDeps {
  api: BillingApiClient;
  progress: (total: number) => ImportProgress;
  /** A line for the person running the import (stderr). */
  note: (line: string) => void;
  /** Aborted (Ctrl-C): no new batch is posted; the one in flight finishes. */
  signal?: AbortSignal;
}

export interface ImportResult {
  name: string;
  tally: ImportTally;
  interrupted: boolean;
  /** `<file>.rejeitados.csv` when some row was refused. */
  rejectsPath: string | null;
}

/** Stops the import with the counts so far (the caller prints them): the API refused to go on. */
export class ImportStoppedError extends Error {
  override readonly name = 'ImportStoppedError';
  constructor(
    readonly apiError: BillingApiError,
    readonly tally: ImportTally,
  ) {
    super(`${apiError.code}: ${apiError.message}`);
  }
}

interface Header {
  line: number;
  cells: string[];
  plan: ColumnPlan;
  /** Data rows after the header (blank rows left out). */
  rows: number;
}

/** Step 2: the header, the column plan and the number of data rows, parsing the whole file. */
const checkFile = async (
  options: ImportOptions,
  format: { encoding: SpreadsheetEncoding; delimiter: Delimiter },
): Promise<Header> => {
  let header: Omit<Header, 'rows'> | undefined;
  let rows = 0;
  for await (const record of readSpreadsheet(options.file, format)) {
    if (isBlankRow(record.cells)) continue;
    if (header) rows += 1;
    else header = { ...record, plan: planColumns(record.cells, options.columnMap) };
  }
  if (!header) throw new ImportUsageError(`${options.file} is empty: no header row`);
  if (options.templateType !== 'notification' && !plansField(header.plan, 'data_vencimento'))
    throw new ImportUsageError(
      `${options.templateType} reminders need a due date: the file has no column for data_vencimento ` +
        '(vencimento, data de vencimento...); name it with --map "coluna=data_vencimento"',
    );
  return { ...header, rows };
};

const batchSizeFor = async (deps: ImportDeps, options: ImportOptions): Promise<number> => {
  const limit = await deps.api.maxBatchSize();
  if (options.batchSize !== undefined) {
    if (limit !== null && options.batchSize > limit)
      throw new ImportUsageError(
        `--batch-size ${options.batchSize} is over the tenant's max_batch_size (${limit})`,
      );
    return options.batchSize;
  }
  if (limit === null)
    deps.note(
      `import: the API does not tell this key its max_batch_size; batches of ${MAX_CONTACTS} (see --batch-size)`,
    );
  return limit ?? MAX_CONTACTS;
};

export const runImport = async (deps: ImportDeps, options: ImportOptions): Promise<ImportResult> => {
  const facts = await fileFacts(options.file, { encoding: options.encoding, delimiter: options.delimiter });
  const format = { encoding: facts.encoding, delimiter: facts.delimiter };
  const header = await checkFile(options, format);
  const name = importName(facts.sha256, options.templateType);
  const batchSize = await batchSizeFor(deps, options);
  deps.note(
    `import: ${options.file}: ${header.rows} rows, ${facts.encoding}, delimiter ${JSON.stringify(facts.delimiter)}, ` +
      `batches of ${batchSize} as ${name}-<n>${options.dryRun ? ' (dry run)' : ''}`,
  );
  if (header.plan.ignored.length > 0)
    deps.note(
      `import: columns left out: ${header.plan.ignored.map((h) => `"${h}"`).join(', ')} ` +
        '(send one as a template variable with --map "coluna=variavel")',
    );

  const tally = emptyTally();
  const rejects = openRejectsFile(rejectsPathFor(options.file), header.cells, facts.delimiter);
  const progress = deps.progress(header.rows);
  let interrupted = false;
  try {
    const post = postBatch(deps, options, name, tally, rejects, progress);
    let pending: PendingBatch = { rows: [], refused: [] };
    for await (const record of readSpreadsheet(options.file, format)) {
      if (record.line <= header.line || isBlankRow(record.cells)) continue;
      const row = rowToContact(record.cells, header.plan);
      if (row.ok) pending.rows.push({ line: record.line, cells: record.cells, contact: row.contact });
      else pending.refused.push({ line: record.line, cells: record.cells, ...row.rejection });
      if (pending.rows.length < batchSize) continue;
      if (deps.signal?.aborted) break;
      await post(pending);
      pending = { rows: [], refused: [] };
    }
    interrupted = deps.signal?.aborted ?? false;
    if (!interrupted) await post(pending);
  } catch (error) {
    if (error instanceof BillingApiError) throw new ImportStoppedError(error, tally);
    throw error;
  } finally {
    progress.stop();
    // An interrupted or stopped run leaves what it found so far; the next run writes it all again.
    await rejects.close();
  }
  return { name, tally, interrupted, rejectsPath: tally.rejected > 0 ? rejectsPathFor(options.file) : null };
};

/** Rows read since the last batch went out: the ones to send and the ones refused on the way. */
interface PendingBatch {
  rows: ImportRow[];
  refused: RefusedRow[];
}

/** Posts one batch (when it has rows) under the next id, then records its refusals and counts. */
const postBatch = (
  deps: ImportDeps,
  options: ImportOptions,
  name: string,
  tally: ImportTally,
  rejects: RejectsFile,
  progress: ImportProgress,
) => {
  let number = 0;
  return async (batch: PendingBatch): Promise<void> => {
    const refused = [...batch.refused];
    let rows = batch.rows;
    if (rows.length > 0) {
      number += 1;
      const externalId = batchExternalId(name, number);
      while (rows.length > 0) {
        const outcome = await deps.api.sendBatch(options.templateType, batchBody(externalId, rows), {
          dryRun: options.dryRun,
        });
        if (outcome.kind === 'invalid_fields') {
          const split = splitByFieldIssues(rows, outcome.issues);
          if (!split) {
            const detail = outcome.issues.map((i) => `${i.field}: ${i.message}`).join('; ');
            throw new BillingApiError(400, 'VALIDATION_FAILED', `batch ${externalId}: ${detail}`);
          }
          refused.push(...split.refused);
          rows = split.kept;
          continue;
        }
        refused.push(...refusedByApi(rows, outcome.rejected));
        if (outcome.kind === 'accepted') {
          tally.accepted += outcome.accepted;
          if (outcome.replayed) tally.replayed += 1;
        }
        break;
      }
      tally.batches += 1;
    }
    refused.sort((a, b) => a.line - b.line);
    await rejects.write(refused);
    tally.rejected += refused.length;
    tally.rowsDone += batch.rows.length + batch.refused.length;
    progress.update(tally);
  };
};
