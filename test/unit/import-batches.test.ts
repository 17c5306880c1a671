import { describe, expect, it } from 'vitest';
import {
  batchBody,
  batchExternalId,
  type ImportRow,
  importName,
  lineSpan,
  refusedByApi,
  splitByFieldIssues,
} from '../../lib/import/import-batches.ts';
import {
  emptyTally,
  formatDuration,
  progressLine,
  rejectsHeader,
  rejectsPathFor,
  rejectsRecord,
  rowsPerSecond,
  secondsLeft,
  summaryLine,
} from '../../lib/import/import-report.ts';

const SHA = 'a'.repeat(64);

const row = (line: number, name: string): ImportRow => ({
  line,
  cells: [name, `1198888${String(line).padStart(4, '0')}`],
  contact: { nome_cliente: name, telefone: `1198888${String(line).padStart(4, '0')}` },
});

describe('batch ids', () => {
  it('names an import after its content and type, the same on every run', () => {
    // Act
    const name = importName(SHA, 'overdue');

    // Assess
    expect(name).toMatch(/^import-[0-9a-f]{16}$/);
    expect(importName(SHA, 'overdue')).toBe(name);
    expect(importName('b'.repeat(64), 'overdue')).not.toBe(name);
    expect(importName(SHA, 'upcoming')).not.toBe(name);
  });

  it('numbers the batches of an import from 1', () => {
    expect(batchExternalId('import-0123456789abcdef', 1)).toBe('import-0123456789abcdef-1');
    expect(batchExternalId('import-0123456789abcdef', 20)).toBe('import-0123456789abcdef-20');
  });

  it('builds the same body for the same rows, with the lines it covers in its metadata', () => {
    // Prepare
    const rows = [row(2, 'Ana'), row(5, 'Bia')];

    // Act
    const body = batchBody('import-x-1', rows);

    // Assess
    expect(body).toEqual({
      external_id: 'import-x-1',
      contacts: [rows[0]?.contact, rows[1]?.contact],
      metadata: { origem: 'billing-import', linhas: '2-5' },
    });
    expect(JSON.stringify(batchBody('import-x-1', rows))).toBe(JSON.stringify(body));
    expect(lineSpan([row(7, 'Caio')])).toBe('7');
  });
});

describe('refusals', () => {
  const rows = [row(2, 'Ana'), row(3, 'Bia'), row(6, 'Caio')];

  it("maps the API's per-contact refusals (indexes in the batch) back to lines of the file", () => {
    // Act
    const refused = refusedByApi(rows, [
      { index: 2, telefone: 'x', code: 'INVALID_PHONE', message: 'Telefone inválido: x' },
    ]);

    // Assess
    expect(refused).toEqual([
      { line: 6, cells: rows[2]?.cells, code: 'INVALID_PHONE', message: 'Telefone inválido: x' },
    ]);
  });

  it('splits a batch the schema refused: the rows it names are refused, the others kept', () => {
    // Act
    const split = splitByFieldIssues(rows, [
      { field: 'contacts.1.link_pagamento', message: 'URL inválida' },
      { field: 'contacts.1.valor', message: 'Máximo de 50 caracteres' },
    ]);

    // Assess
    expect(split).toEqual({
      refused: [
        {
          line: 3,
          cells: rows[1]?.cells,
          code: 'VALIDATION_FAILED',
          message: 'Dados inválidos: link_pagamento: URL inválida; valor: Máximo de 50 caracteres',
        },
      ],
      kept: [rows[0], rows[2]],
    });
  });

  it('gives up on issues that name no contact of the batch', () => {
    expect(splitByFieldIssues(rows, [{ field: 'external_id', message: 'x' }])).toBeNull();
    expect(splitByFieldIssues(rows, [{ field: 'contacts.9.valor', message: 'x' }])).toBeNull();
    expect(splitByFieldIssues(rows, [])).toBeNull();
  });

  it('writes a refused row as its line, code, message and the row as it was', () => {
    // Act
    const header = rejectsHeader(['Nome', 'Celular']);
    const record = rejectsRecord({
      line: 7,
      cells: ['Zé', '123'],
      code: 'INVALID_PHONE',
      message: 'Telefone inválido: 123',
    });

    // Assess
    expect(header).toEqual(['linha', 'codigo', 'mensagem', 'Nome', 'Celular']);
    expect(record).toEqual(['7', 'INVALID_PHONE', 'Telefone inválido: 123', 'Zé', '123']);
    expect(rejectsPathFor('/tmp/devedores.csv')).toBe('/tmp/devedores.csv.rejeitados.csv');
  });
});

describe('report', () => {
  it('closes with the counts, saying what was replayed, dry or interrupted', () => {
    // Prepare
    const tally = { ...emptyTally(), rowsDone: 100, accepted: 97, rejected: 3, batches: 2 };

    // Act / Assess
    expect(summaryLine(tally, { dryRun: false, interrupted: false })).toBe(
      'import: 97 accepted, 3 rejected, 2 batches',
    );
    expect(summaryLine({ ...tally, replayed: 1 }, { dryRun: false, interrupted: false })).toBe(
      'import: 97 accepted, 3 rejected, 2 batches (1 already imported)',
    );
    expect(summaryLine(tally, { dryRun: true, interrupted: false })).toBe(
      'import: 97 accepted, 3 rejected, 2 batches (dry run: nothing stored or sent)',
    );
    expect(summaryLine(tally, { dryRun: false, interrupted: true })).toBe(
      'import: 97 accepted, 3 rejected, 2 batches (interrupted: run the same command again to resume)',
    );
  });

  it('tells rows per second and the time left at the pace so far', () => {
    expect(rowsPerSecond(3000, 2000)).toBe(1500);
    expect(rowsPerSecond(10, 0)).toBe(0);
    expect(secondsLeft(1000, 4000, 2000)).toBe(6);
    expect(secondsLeft(0, 4000, 2000)).toBeNull();
    expect(formatDuration(6)).toBe('6s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(null)).toBe('?');
  });

  it('prints a plain progress line per batch', () => {
    // Prepare
    const tally = { ...emptyTally(), rowsDone: 5000, accepted: 4990, rejected: 10, batches: 5 };

    // Act
    const line = progressLine(tally, 20_000, 5000);

    // Assess
    expect(line).toBe(
      'import: 5000/20000 rows (25%), 1000 rows/s, ETA 15s; 4990 accepted, 10 rejected, 5 batches',
    );
  });
});
