import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingContact } from '../../lib/domain/types.ts';
import { API, startTestStack, type TestStack, type TestTenant } from '../support/local-stack.ts';
import {
  type SendingStack,
  type SendingTenant,
  sentNumbers,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * `npm run import` end to end: the real CLI in a child process, talking HTTP to the whole local
 * stack, on files written as ERPs export them (Windows-1252 with `;`, UTF-8 with a BOM and `,`,
 * accented headers, quoted line breaks, decimal-comma money, bad rows). What the import promises
 * is acceptance, once: each valid row is a contact of exactly one queue, however often the import
 * is killed and started again, and the simulator receives each of them once.
 */

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the import CLI against `url` as `key`; `whileRunning` may kill it (it sees the output so far). */
const runImport = (
  url: string,
  key: string,
  args: string[],
  options: { bin?: boolean; whileRunning?: (child: ChildProcess, stderr: string) => void } = {},
): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const entry = options.bin ? 'bin/billing-import.js' : 'lib/import/main.ts';
    const child = spawn(process.execPath, [...(options.bin ? [] : ['--import', 'tsx']), entry, ...args], {
      env: { ...process.env, BILLING_API_URL: url, BILLING_API_KEY: key },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      options.whileRunning?.(child, stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });

/** The closing line of a run (`import: N accepted, ...`). */
const summaryOf = (run: CliRun): string => run.stdout.trim().split('\n').at(-1) ?? '';

/** Plain progress lines printed so far (one per batch: the child's stderr is not a terminal). */
const progressLines = (stderr: string): number => stderr.match(/^import: \d+\/\d+ rows/gm)?.length ?? 0;

/** The refused rows' file as records (UTF-8 with BOM, the input's delimiter). */
const readRejects = async (file: string, delimiter: string): Promise<string[][]> => {
  const text = await readFile(`${file}.rejeitados.csv`, 'utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  return parse(text, { delimiter, bom: true, relax_column_count: true });
};

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'billing-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spreadsheet import (accept)', () => {
  let s: TestStack;

  beforeAll(async () => {
    s = await startTestStack({ roles: { api: true, worker: false } });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Every contact of every queue of the tenant, read from the store page by page. */
  const contactsOf = async (tenantId: string): Promise<BillingContact[]> => {
    const all: BillingContact[] = [];
    for (const queue of await s.allQueues(tenantId)) {
      let cursor: string | undefined;
      do {
        const page = await s.container.store.listContacts(queue.id, { limit: 100, cursor });
        all.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    return all;
  };

  it('imports a Windows-1252 ";" export with accented headers, quoted line breaks and bad rows, and a second run only replays it', async () => {
    // Prepare
    const tenant = await s.createTenant();
    const file = join(dir, 'devedores-1252.csv');
    const lines = [
      'Nome do Cliente;Celular;Data de Vencimento;Valor;Nº Fatura;Código PIX;CPF',
      'João Conceição;(11) 98888-0001;01/12/2026;1.234,56;F-1;pix-1;123.456.789-00',
      '"Maria\r\nda Glória";11988880002;2026-12-01 00:00:00;"150,00";F-2;;',
      ';;;;;;',
      'Zé Ninguém;123;01/12/2026;10,00;F-3;;',
      ';11988880004;01/12/2026;10,00;F-4;;',
      'Ana Lúcia;11988880005;01/12/2026;abc;F-5;;',
      'Bia;11988880006;31/02/2026;10,00;F-6;;',
      'Caio;11988880007;25/12/2026;10,00;F-7;;',
      'Silva; Davi;11988880008;01/12/2026;10,00;F-8;;123',
      '"Élida ""Lili"" Araújo";11988880009;01/12/2026;R$ 99,90;F-9;;',
      'João Conceição;(11) 98888-0001;01/12/2026;1.234,56;F-1;pix-1;',
      'Fábio;1133334444;01/12/2026;10,00;F-11;;',
    ];
    await writeFile(file, iconv.encode(`${lines.join('\r\n')}\r\n`, 'windows1252'));

    // Act
    const first = await runImport(s.url, tenant.key, ['--type', 'overdue', '--file', file], { bin: true });
    const rejects = await readRejects(file, ';');
    const contacts = await contactsOf(tenant.tenantId);
    const again = await runImport(s.url, tenant.key, ['--type', 'overdue', '--file', file], { bin: true });

    // Assess
    expect(first.code).toBe(0);
    expect(summaryOf(first)).toBe('import: 3 accepted, 8 rejected, 1 batches');
    expect(first.stderr).toContain('11 rows, windows1252, delimiter ";"');
    expect(first.stderr).toContain('columns left out: "CPF"');
    expect(rejects[0]).toEqual([
      'linha',
      'codigo',
      'mensagem',
      'Nome do Cliente',
      'Celular',
      'Data de Vencimento',
      'Valor',
      'Nº Fatura',
      'Código PIX',
      'CPF',
    ]);
    expect(rejects.slice(1).map((r) => r.slice(0, 3))).toEqual([
      ['6', 'INVALID_PHONE', 'Telefone inválido: 123'],
      ['7', 'VALIDATION_FAILED', 'Dados inválidos: nome_cliente: Campo obrigatório'],
      ['8', 'INVALID_MONEY', 'Valor inválido: abc'],
      ['9', 'INVALID_DATE', 'Data de vencimento inválida: 31/02/2026. Use dd/mm/aaaa ou aaaa-mm-dd'],
      ['10', 'DUE_DATE_NOT_PAST', 'Cobrança atrasada com vencimento que ainda não passou'],
      [
        '11',
        'TOO_MANY_COLUMNS',
        'A linha tem 8 colunas preenchidas e o cabeçalho tem 7; um separador dentro de um campo sem aspas?',
      ],
      ['13', 'DUPLICATE_CONTACT', 'Contato duplicado no lote (mesmo telefone e fatura)'],
      ['14', 'PHONE_NOT_MOBILE', 'Telefone fixo não recebe WhatsApp; informe um celular'],
    ]);
    expect(rejects[1]?.slice(3)).toEqual(['Zé Ninguém', '123', '01/12/2026', '10,00', 'F-3', '', '']);
    expect(
      contacts.map((c) => [c.name, c.phone, c.variables.valor, c.variables.data_vencimento, c.invoiceNumber]),
    ).toEqual([
      ['João Conceição', '+5511988880001', 'R$ 1.234,56', '01/12/2026', 'F-1'],
      ['Maria\r\nda Glória', '+5511988880002', 'R$ 150,00', '01/12/2026', 'F-2'],
      ['Élida "Lili" Araújo', '+5511988880009', 'R$ 99,90', '01/12/2026', 'F-9'],
    ]);
    expect(contacts[0]?.variables.codigo_pix).toBe('pix-1');
    expect(contacts[0]?.variables).not.toHaveProperty('cpf');
    expect(again.code).toBe(0);
    expect(summaryOf(again)).toBe('import: 3 accepted, 8 rejected, 1 batches (1 already imported)');
    expect(await s.allQueues(tenant.tenantId)).toHaveLength(1);
  });

  it('reads a UTF-8 export with a BOM and ",", sends a --map column as a variable, and --dry-run stores nothing', async () => {
    // Prepare
    const tenant = await s.createTenant();
    const file = join(dir, 'clientes-utf8.csv');
    const text =
      '\uFEFFcliente,WhatsApp,Vencimento,Valor,Fatura,Pix,Link,Loja\n' +
      'Ana,11977770001,01/12/2026,"1.234,56",A-1,,https://pay.example.com/a1,Centro\n' +
      '"Bruno, o Filho",11977770002,2026-11-30,"10,5",A-2,"linha 1\nlinha 2",,Norte\n' +
      'Carla,11977770003,01/12/2026,10,A-3,,pagar aqui,Sul\n';
    await writeFile(file, text);
    const args = ['--type', 'overdue', '--file', file, '--map', 'Loja=loja'];

    // Act
    const dry = await runImport(s.url, tenant.key, [...args, '--dry-run']);
    const queuesAfterDryRun = await s.allQueues(tenant.tenantId);
    const dryRejects = await readRejects(file, ',');
    const real = await runImport(s.url, tenant.key, args);
    const contacts = await contactsOf(tenant.tenantId);

    // Assess
    expect(dry.code).toBe(0);
    expect(summaryOf(dry)).toBe(
      'import: 2 accepted, 1 rejected, 1 batches (dry run: nothing stored or sent)',
    );
    expect(dry.stderr).toContain('3 rows, utf8, delimiter ","');
    expect(queuesAfterDryRun).toEqual([]);
    expect(dryRejects.slice(1)).toEqual([
      [
        '5',
        'VALIDATION_FAILED',
        'Dados inválidos: link_pagamento: URL inválida (use http:// ou https://)',
        'Carla',
        '11977770003',
        '01/12/2026',
        '10',
        'A-3',
        '',
        'pagar aqui',
        'Sul',
      ],
    ]);
    expect(summaryOf(real)).toBe('import: 2 accepted, 1 rejected, 1 batches');
    expect(
      contacts.map((c) => [c.name, c.variables.valor, c.variables.codigo_pix ?? null, c.variables.loja]),
    ).toEqual([
      ['Ana', 'R$ 1.234,56', null, 'Centro'],
      ['Bruno, o Filho', 'R$ 10,50', 'linha 1\nlinha 2', 'Norte'],
    ]);
  });

  it('refuses a file without a phone column before sending anything, and removes a stale refusals file', async () => {
    // Prepare
    const tenant = await s.createTenant();
    const file = join(dir, 'sem-telefone.csv');
    await writeFile(file, 'Nome;Vencimento;Valor\nAna;01/12/2026;10\n');
    const good = join(dir, 'sem-recusas.csv');
    await writeFile(good, 'Nome;Celular;Vencimento;Valor\nAna;11966660001;01/12/2026;10\n');
    await writeFile(`${good}.rejeitados.csv`, 'de uma execução anterior\n');

    // Act
    const refused = await runImport(s.url, tenant.key, ['--type', 'overdue', '--file', file]);
    const clean = await runImport(s.url, tenant.key, ['--type', 'overdue', '--file', good]);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'no column for telefone: the file\'s columns are "Nome", "Vencimento", "Valor"',
    );
    expect(summaryOf(clean)).toBe('import: 1 accepted, 0 rejected, 1 batches');
    expect(await exists(`${good}.rejeitados.csv`)).toBe(false);
    expect(await s.allQueues(tenant.tenantId)).toHaveLength(1);
  });

  it('imports 20,000 Windows-1252 rows with bad ones exactly once across a SIGKILL, a Ctrl-C and a final run', async () => {
    // Prepare: rows as an ERP writes them; every refused row's line is recorded as it is written.
    const tenant: TestTenant = await s.createTenant();
    const file = join(dir, 'devedores-20000.csv');
    const ROWS = 20_000;
    const out = ['Nome do Cliente;Telefone Celular;Vencimento;Valor;Nº da Fatura;Observação'];
    const validPhones: string[] = [];
    const refusedLines: Array<[number, string]> = [];
    let line = 2;
    for (let i = 0; i < ROWS; i += 1) {
      const phone = `1198${String(i).padStart(7, '0')}`;
      const multiLine = i % 250 === 1;
      const name = multiLine ? `"Conceição ${i}\r\nFilial São João"` : `Conceição ${i}`;
      const cells = [name, phone, '01/12/2026', '1.234,56', `NF-${i}`, 'observação'];
      let code: string | null = null;
      if (i % 4000 === 17) [cells[5], code] = ['extra;coluna', 'TOO_MANY_COLUMNS'];
      else if (i % 500 === 7) [cells[1], code] = ['123', 'INVALID_PHONE'];
      else if (i % 700 === 3) [cells[3], code] = ['abc', 'INVALID_MONEY'];
      else if (i % 1000 === 11) [cells[0], code] = ['', 'VALIDATION_FAILED'];
      else if (i % 1500 === 13) [cells[2], code] = ['2026-13-01', 'INVALID_DATE'];
      if (code) refusedLines.push([line, code]);
      else validPhones.push(`+55${phone}`);
      out.push(cells.join(';'));
      line += multiLine ? 2 : 1;
    }
    await writeFile(file, iconv.encode(`${out.join('\r\n')}\r\n`, 'windows1252'));
    const args = ['--type', 'overdue', '--file', file];

    // Act: killed outright after 3 batches, stopped with Ctrl-C 3 batches into the second run, then run to the end.
    const killed = await runImport(s.url, tenant.key, args, {
      whileRunning: (child, stderr) => {
        if (progressLines(stderr) >= 3) child.kill('SIGKILL');
      },
    });
    const queuesAfterKill = (await s.allQueues(tenant.tenantId)).length;
    let ctrlC = false;
    const interrupted = await runImport(s.url, tenant.key, args, {
      whileRunning: (child, stderr) => {
        if (ctrlC || progressLines(stderr) < queuesAfterKill + 2) return;
        ctrlC = true;
        child.kill('SIGINT');
      },
    });
    const queuesAfterInterrupt = (await s.allQueues(tenant.tenantId)).length;
    const final = await runImport(s.url, tenant.key, args);
    const contacts = await contactsOf(tenant.tenantId);
    const queues = await s.allQueues(tenant.tenantId);
    const statuses = await Promise.all(
      queues.map((q) => s.get(`${API}/queue/${q.id}/status`, { key: tenant.key }).then((r) => r.body)),
    );
    const rejects = await readRejects(file, ';');

    // Assess: each run stopped where it was told to; the last one replayed what was there and finished.
    expect(killed.signal).toBe('SIGKILL');
    expect(queuesAfterKill).toBeGreaterThanOrEqual(3);
    expect(queuesAfterKill).toBeLessThan(20);
    expect(interrupted.code).toBe(130);
    expect(summaryOf(interrupted)).toMatch(
      /\(\d+ already imported; interrupted: run the same command again to resume\)$/,
    );
    expect(queuesAfterInterrupt).toBeGreaterThan(queuesAfterKill);
    expect(queuesAfterInterrupt).toBeLessThan(20);
    expect(final.code).toBe(0);
    expect(summaryOf(final)).toBe(
      `import: ${validPhones.length} accepted, ${refusedLines.length} rejected, 20 batches (${queuesAfterInterrupt} already imported)`,
    );
    // Accepted exactly once: 20 queues, one contact per valid row, no phone twice.
    expect(queues).toHaveLength(20);
    expect(statuses.reduce((sum, st) => sum + st.total_contacts, 0)).toBe(validPhones.length);
    expect(contacts).toHaveLength(validPhones.length);
    expect(new Set(contacts.map((c) => c.phone)).size).toBe(validPhones.length);
    expect(contacts.map((c) => c.phone).sort()).toEqual([...validPhones].sort());
    expect(contacts.find((c) => c.phone === '+5511980000001')?.name).toBe('Conceição 1\r\nFilial São João');
    expect(rejects.slice(1).map((r) => [Number(r[0]), r[1]])).toEqual(refusedLines);
  }, 240_000);
});

describe('spreadsheet import (sending)', () => {
  let s: SendingStack;
  let tenant: SendingTenant;

  beforeAll(async () => {
    s = await startSendingStack('sqs');
    tenant = await s.tenant();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('sends every valid row once through the simulator after an import killed halfway and run again', async () => {
    // Prepare: notifications go out at any hour; small batches so that the kill lands between two.
    const file = join(dir, 'avisos.csv');
    const rows = Array.from({ length: 30 }, (_, i) => {
      const phone = i === 12 ? '99999-9999' : `1196${String(i).padStart(7, '0')}`;
      return `Cliente ${i};${phone};Aviso nº ${i};Seu boleto está disponível.`;
    });
    await writeFile(
      file,
      iconv.encode(`Nome;Celular;Título;Mensagem\r\n${rows.join('\r\n')}\r\n`, 'windows1252'),
    );
    const args = ['--type', 'notification', '--file', file, '--batch-size', '5'];
    const expected = Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => i !== 12)
      .map((i) => `551196${String(i).padStart(7, '0')}`)
      .sort();

    // Act
    const killed = await runImport(s.test.url, tenant.key, args, {
      whileRunning: (child, stderr) => {
        if (progressLines(stderr) >= 2) child.kill('SIGKILL');
      },
    });
    const final = await runImport(s.test.url, tenant.key, args);
    // Listing queues reads an index, which lags behind writes here as on DynamoDB.
    const queues = await waitFor(async () => {
      const all = await s.test.allQueues(tenant.tenantId);
      return all.length >= 6 ? all : undefined;
    });
    for (const q of queues) await s.waitForStatus(tenant, q.id, ['completed'], 30_000);
    const sent = await waitFor(
      () => (sentNumbers(s, tenant).length >= expected.length ? sentNumbers(s, tenant) : undefined),
      {
        what: 'every valid row sent',
      },
    );

    // Assess
    expect(killed.code === 0 || killed.signal === 'SIGKILL').toBe(true);
    expect(final.code).toBe(0);
    expect(summaryOf(final)).toMatch(/^import: 29 accepted, 1 rejected, 6 batches \(\d+ already imported\)$/);
    expect(queues).toHaveLength(6);
    expect(sent).toEqual(expected);
    expect(s.sent(tenant).find((m) => m.number === '5511960000001')?.text).toContain('Aviso nº 1');
  }, 90_000);
});
