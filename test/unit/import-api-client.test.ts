import { describe, expect, it } from 'vitest';
import { BillingApiError, createBillingApiClient } from '../../lib/import/billing-api-client.ts';

/** A fetch that answers from a script, one answer per call, and records what was asked. */
const scriptedFetch = (
  answers: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | Error>,
) => {
  const calls: Array<{ url: string; method: string; body: string | undefined; key: string | null }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: String(init.method),
      body: init.body as string | undefined,
      key: new Headers(init.headers).get('X-Billing-API-Key'),
    });
    const next = answers.shift();
    if (!next) throw new Error('no more scripted answers');
    if (next instanceof Error) throw next;
    return new Response(next.body === undefined ? '' : JSON.stringify(next.body), {
      status: next.status,
      headers: next.headers,
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
};

const ACCEPTED = {
  success: true,
  accepted: 2,
  rejected: [{ index: 1, telefone: '1', code: 'INVALID_PHONE', message: 'x' }],
};

const clientWith = (answers: Parameters<typeof scriptedFetch>[0], maxWaitMs = 60_000) => {
  const { fetch, calls } = scriptedFetch(answers);
  const slept: number[] = [];
  const client = createBillingApiClient({
    baseUrl: 'http://api.test/',
    apiKey: 'billing_k',
    fetch,
    maxWaitMs,
    sleep: async (ms) => void slept.push(ms),
  });
  return { client, calls, slept };
};

describe('billing API client (import)', () => {
  it('posts a batch with the key and tells a replay from a first acceptance', async () => {
    // Prepare
    const { client, calls } = clientWith([
      { status: 200, body: ACCEPTED },
      { status: 200, body: ACCEPTED, headers: { 'Idempotent-Replayed': 'true' } },
    ]);

    // Act
    const first = await client.sendBatch('overdue', { external_id: 'x-1' }, { dryRun: false });
    const again = await client.sendBatch('overdue', { external_id: 'x-1' }, { dryRun: true });

    // Assess
    expect(first).toEqual({ kind: 'accepted', accepted: 2, rejected: ACCEPTED.rejected, replayed: false });
    expect(again).toMatchObject({ kind: 'accepted', replayed: true });
    expect(calls.map((c) => [c.method, c.url, c.key, c.body])).toEqual([
      ['POST', 'http://api.test/api/v1/billing/send/overdue', 'billing_k', '{"external_id":"x-1"}'],
      [
        'POST',
        'http://api.test/api/v1/billing/send/overdue?dry_run=true',
        'billing_k',
        '{"external_id":"x-1"}',
      ],
    ]);
  });

  it('posts the same batch again after a 409 REQUEST_IN_PROGRESS, a 503 and a network failure, backing off', async () => {
    // Prepare
    const { client, calls, slept } = clientWith([
      { status: 409, body: { success: false, code: 'REQUEST_IN_PROGRESS', message: 'aguarde' } },
      { status: 503, body: { success: false, code: 'STORE_UNAVAILABLE', message: 'fora' } },
      new TypeError('fetch failed'),
      { status: 200, body: ACCEPTED, headers: { 'Idempotent-Replayed': 'true' } },
    ]);

    // Act
    const outcome = await client.sendBatch('upcoming', { external_id: 'x-2' }, { dryRun: false });

    // Assess
    expect(outcome).toMatchObject({ kind: 'accepted', replayed: true });
    expect(new Set(calls.map((c) => c.body))).toEqual(new Set(['{"external_id":"x-2"}']));
    expect(slept).toEqual([500, 1000, 2000]);
  });

  it('waits out a short RATE_LIMITED and stops on a long one or on the daily limit', async () => {
    // Prepare
    const limited = (seconds: number) => ({
      status: 429,
      body: { success: false, code: 'RATE_LIMITED', message: 'Limite de requisições por hora excedido' },
      headers: { 'Retry-After': String(seconds) },
    });
    const short = clientWith([limited(2), { status: 200, body: ACCEPTED }]);
    const long = clientWith([limited(1800)]);
    const daily = clientWith([
      {
        status: 429,
        body: {
          success: false,
          code: 'DAILY_LIMIT_EXCEEDED',
          message: 'Limite diário de mensagens atingido',
        },
      },
    ]);

    // Act
    const waited = await short.client.sendBatch('overdue', {}, { dryRun: false });
    const stopped = long.client.sendBatch('overdue', {}, { dryRun: false });
    const refused = daily.client.sendBatch('overdue', {}, { dryRun: false });

    // Assess
    expect(waited.kind).toBe('accepted');
    expect(short.slept).toEqual([2000]);
    await expect(stopped).rejects.toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    await expect(refused).rejects.toEqual(
      new BillingApiError(429, 'DAILY_LIMIT_EXCEEDED', 'Limite diário de mensagens atingido'),
    );
    expect(daily.slept).toEqual([]);
  });

  it('gives up on a batch that keeps failing once its time is up', async () => {
    // Prepare
    const { client } = clientWith([new TypeError('fetch failed')], 0);

    // Act
    const sent = client.sendBatch('overdue', {}, { dryRun: false });

    // Assess
    await expect(sent).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('returns the per-contact list of NO_VALID_CONTACTS and the field issues of VALIDATION_FAILED', async () => {
    // Prepare
    const rejected = [{ index: 0, telefone: '1', code: 'INVALID_PHONE', message: 'Telefone inválido: 1' }];
    const issues = [{ field: 'contacts.0.valor', message: 'Máximo de 50 caracteres' }];
    const { client } = clientWith([
      { status: 400, body: { success: false, code: 'NO_VALID_CONTACTS', message: 'x', errors: rejected } },
      {
        status: 400,
        body: { success: false, code: 'VALIDATION_FAILED', message: 'Dados inválidos', errors: issues },
      },
      {
        status: 409,
        body: { success: false, code: 'EXTERNAL_ID_CONFLICT', message: "external_id 'a' já existe" },
      },
    ]);

    // Act
    const none = await client.sendBatch('overdue', {}, { dryRun: false });
    const invalid = await client.sendBatch('overdue', {}, { dryRun: false });
    const conflict = client.sendBatch('overdue', {}, { dryRun: false });

    // Assess
    expect(none).toEqual({ kind: 'none_valid', rejected });
    expect(invalid).toEqual({ kind: 'invalid_fields', issues });
    await expect(conflict).rejects.toMatchObject({ status: 409, code: 'EXTERNAL_ID_CONFLICT' });
  });

  it("reads the tenant's max_batch_size from /me, and null when the key may not read", async () => {
    // Prepare
    const { client } = clientWith([
      { status: 200, body: { success: true, limits: { max_batch_size: 250, daily_message_limit: 0 } } },
      { status: 403, body: { success: false, code: 'KEY_SCOPE_NOT_ALLOWED', message: 'x' } },
      { status: 401, body: { success: false, code: 'API_KEY_INVALID', message: 'API Key inválida' } },
    ]);

    // Act / Assess
    expect(await client.maxBatchSize()).toBe(250);
    expect(await client.maxBatchSize()).toBeNull();
    await expect(client.maxBatchSize()).rejects.toMatchObject({
      code: 'API_KEY_INVALID',
      message: 'API Key inválida',
    });
  });
});
