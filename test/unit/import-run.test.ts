import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BillingApiClient,
  BillingApiError,
  type SendOutcome,
} from '../../lib/import/billing-api-client.ts';
import { ImportUsageError } from '../../lib/import/column-mapping.ts';
import { type ImportDeps, ImportStoppedError, runImport } from '../../lib/import/run-import.ts';

/** The import's flow with the API replaced by a script (the real API: test/e2e/spreadsheet-import.test.ts). */

const CSV = 'Nome;Celular\nAna;11988880001\nBia;11988880002\nCaio;11988880003\n';

interface Posted {
  externalId: string;
  names: string[];
}

const fakeApi = (maxBatchSize: number | null, answers: Array<SendOutcome | Error>) => {
  const posted: Posted[] = [];
  const api: BillingApiClient = {
    maxBatchSize: async () => maxBatchSize,
    sendBatch: async (_type, body) => {
      const b = body as { external_id: string; contacts: Array<{ nome_cliente: string }> };
      posted.push({ externalId: b.external_id, names: b.contacts.map((c) => c.nome_cliente) });
      const next = answers.shift() ?? {
        kind: 'accepted',
        accepted: b.contacts.length,
        rejected: [],
        replayed: false,
      };
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { api, posted };
};

const deps = (api: BillingApiClient, signal?: AbortSignal): ImportDeps => ({
  api,
  progress: () => ({ update: () => undefined, stop: () => undefined }),
  note: () => undefined,
  signal,
});

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-run-'));
  file = join(dir, 'devedores.csv');
  await writeFile(file, CSV);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = { templateType: 'notification' as const, columnMap: new Map(), dryRun: false };

describe('runImport', () => {
  it('refuses the rows a VALIDATION_FAILED names and posts the rest of the batch again under the same id', async () => {
    // Prepare
    const { api, posted } = fakeApi(1000, [
      {
        kind: 'invalid_fields',
        issues: [{ field: 'contacts.1.telefone', message: 'Máximo de 20 caracteres' }],
      },
    ]);

    // Act
    const result = await runImport(deps(api), { ...options, file });
    const rejects = await readFile(`${file}.rejeitados.csv`, 'utf8');

    // Assess
    expect(posted).toEqual([
      { externalId: `${result.name}-1`, names: ['Ana', 'Bia', 'Caio'] },
      { externalId: `${result.name}-1`, names: ['Ana', 'Caio'] },
    ]);
    expect(result.tally).toEqual({ rowsDone: 3, accepted: 2, rejected: 1, batches: 1, replayed: 0 });
    expect(rejects).toBe(
      '\uFEFFlinha;codigo;mensagem;Nome;Celular\r\n' +
        '3;VALIDATION_FAILED;Dados inválidos: telefone: Máximo de 20 caracteres;Bia;11988880002\r\n',
    );
  });

  it('numbers batches of the given size and counts replays', async () => {
    // Prepare
    const { api, posted } = fakeApi(2, [
      { kind: 'accepted', accepted: 2, rejected: [], replayed: true },
      { kind: 'accepted', accepted: 1, rejected: [], replayed: false },
    ]);

    // Act
    const result = await runImport(deps(api), { ...options, file });

    // Assess
    expect(posted.map((p) => p.externalId)).toEqual([`${result.name}-1`, `${result.name}-2`]);
    expect(result.tally).toEqual({ rowsDone: 3, accepted: 3, rejected: 0, batches: 2, replayed: 1 });
    expect(result.rejectsPath).toBeNull();
  });

  it('stops at an API refusal with the counts so far', async () => {
    // Prepare
    const { api } = fakeApi(1, [
      { kind: 'accepted', accepted: 1, rejected: [], replayed: false },
      new BillingApiError(429, 'DAILY_LIMIT_EXCEEDED', 'Limite diário de mensagens atingido'),
    ]);

    // Act
    const run = runImport(deps(api), { ...options, file });

    // Assess
    await expect(run).rejects.toBeInstanceOf(ImportStoppedError);
    await expect(run).rejects.toMatchObject({
      message: 'DAILY_LIMIT_EXCEEDED: Limite diário de mensagens atingido',
      tally: { accepted: 1, batches: 1 },
    });
  });

  it('posts no new batch once interrupted', async () => {
    // Prepare
    const interrupt = new AbortController();
    const { api, posted } = fakeApi(1, []);
    const send = api.sendBatch;
    api.sendBatch = async (...args) => {
      interrupt.abort();
      return send(...args);
    };

    // Act
    const result = await runImport(deps(api, interrupt.signal), { ...options, file });

    // Assess
    expect(result.interrupted).toBe(true);
    expect(posted).toHaveLength(1);
    expect(result.tally.batches).toBe(1);
  });

  it("refuses a --batch-size over the tenant's max_batch_size before sending anything", async () => {
    // Prepare
    const { api, posted } = fakeApi(2, []);

    // Act
    const run = runImport(deps(api), { ...options, file, batchSize: 5 });

    // Assess
    await expect(run).rejects.toThrow(ImportUsageError);
    await expect(run).rejects.toThrow("--batch-size 5 is over the tenant's max_batch_size (2)");
    expect(posted).toEqual([]);
  });
});
