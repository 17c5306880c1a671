import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureTenant } from '../../lib/app/configure-tenant.ts';
import { createApiKey } from '../../lib/app/create-api-key.ts';
import { createTenant } from '../../lib/app/create-tenant.ts';
import { DEMO_TEMPLATES } from '../../lib/app/seed-demo-tenant.ts';
import { setTemplate } from '../../lib/app/set-template.ts';
import { type ErrorCode, messageFor } from '../../lib/domain/errors.ts';
import { API, startTestStack, TEST_NOW, type TestResponse, type TestStack } from '../support/local-stack.ts';

/**
 * The Accept API's "Done when", end to end: HTTP requests against the whole local stack
 * (API Gateway stand-in, real handlers, embedded DynamoDB), with a clock the test drives.
 * TEST_NOW is a Wednesday at 12:20 in São Paulo, inside the default business hours.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR_MS = 3_600_000;

/** The guide's `Exemplo 1` body, verbatim. */
const GUIDE_EXAMPLE_1 = `{
    "external_id": "fatura-67890",
    "callback_url": "https://meu-erp.com/webhooks/billing",
    "contacts": [
      {
        "nome_cliente": "João Silva",
        "telefone": "+5511999999999",
        "valor": "R$ 150,00",
        "data_vencimento": "10/12/2025",
        "valor_total": "R$ 165,00",
        "codigo_pix": "00020126580014br.gov.bcb.pix...",
        "link_pagamento": "https://pay.meu-erp.com/invoice/67890",
        "numero_fatura": "2025-67890"
      }
    ],
    "metadata": {
      "cliente_id": "12345",
      "empresa": "Empresa XYZ"
    }
  }`;

/** Codes whose message takes no parameter: their text is compared exactly. */
const FIXED_MESSAGE_CODES: ErrorCode[] = [
  'API_KEY_MISSING',
  'API_KEY_INVALID',
  'API_KEY_INACTIVE',
  'API_KEY_EXPIRED',
  'IP_NOT_ALLOWED',
  'TEMPLATE_TYPE_NOT_ALLOWED',
  'RATE_LIMITED',
  'API_DISABLED',
  'DAILY_LIMIT_EXCEEDED',
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'PAYLOAD_TOO_LARGE',
  'NO_VALID_CONTACTS',
  'QUEUE_NOT_FOUND',
  'CAMPAIGN_NOT_FOUND',
];

/** Every error body: `success: false`, the stable code, a Portuguese message. */
const expectError = (res: TestResponse, status: number, code: ErrorCode): void => {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.body.success).toBe(false);
  expect(typeof res.body.message).toBe('string');
  expect(res.body.message.length).toBeGreaterThan(0);
  if (FIXED_MESSAGE_CODES.includes(code)) expect(res.body.message).toBe(messageFor(code));
};

const overdueContact = (overrides: Record<string, unknown> = {}) => ({
  nome_cliente: 'Maria Souza',
  telefone: '+5511988887777',
  valor: 'R$ 99,90',
  data_vencimento: '01/12/2026',
  numero_fatura: `NF-${randomUUID().slice(0, 8)}`,
  ...overrides,
});

const overdueBody = (contacts: unknown[] = [overdueContact()], externalId = `ext-${randomUUID()}`) => ({
  external_id: externalId,
  contacts,
});

let s: TestStack;

beforeAll(async () => {
  // No worker: accepted queues stay `pending`, as the Accept contract leaves them.
  s = await startTestStack({ roles: { api: true, worker: false } });
});

afterAll(async () => {
  await s?.close();
});

describe('Accept API: the guide examples', () => {
  it('answers Exemplo 1 verbatim with the guide fields and Exemplo 2 with the status shape', async () => {
    // Act
    const sent = await s.post(`${API}/send/overdue`, undefined, {
      raw: GUIDE_EXAMPLE_1,
      headers: { 'Content-Type': 'application/json' },
    });
    const status = await s.get(`${API}/queue/${sent.body.queue_id}/status`);

    // Assess: Exemplo 1
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({
      success: true,
      message: 'Campanha criada com sucesso',
      total_contacts: 1,
      accepted: 1,
      rejected: [],
    });
    expect(sent.body.billing_campaign_id).toMatch(UUID);
    expect(sent.body.queue_id).toMatch(UUID);
    expect(Number.isInteger(sent.body.estimated_duration_minutes)).toBe(true);
    expect(sent.body.estimated_duration_minutes).toBeGreaterThanOrEqual(1);
    // Inside business hours: sending may start at once.
    expect(sent.body).toHaveProperty('scheduled_start', null);

    // Assess: Exemplo 2, every field of the guide's example with its type
    expect(status.status).toBe(200);
    const b = status.body;
    expect(b).toMatchObject({
      id: sent.body.queue_id,
      status: 'pending',
      status_display: 'Pendente',
      total_contacts: 1,
      contacts_sent: 0,
      contacts_delivered: 0,
      contacts_failed: 0,
      contacts_pending_retry: 0,
      progress_percent: 0,
      started_at: null,
      completed_at: null,
      pause_reason: '',
    });
    expect(typeof b.current_rate).toBe('number');
    expect(b.eta === null || typeof b.eta === 'string').toBe(true);
    expect(Object.keys(b)).toEqual(
      expect.arrayContaining([
        'id',
        'status',
        'status_display',
        'total_contacts',
        'contacts_sent',
        'contacts_delivered',
        'contacts_failed',
        'contacts_pending_retry',
        'progress_percent',
        'current_rate',
        'eta',
        'started_at',
        'completed_at',
        'pause_reason',
      ]),
    );
  });

  it('serves the trailing-slash spelling of the send, status and list paths', async () => {
    // Act
    const sent = await s.post(`${API}/send/overdue/`, overdueBody());
    const status = await s.get(`${API}/queue/${sent.body.queue_id}/status/`);
    const contacts = await s.get(`${API}/queue/${sent.body.queue_id}/contacts/`);
    const list = await s.get(`${API}/queues/`);

    // Assess
    expect(sent.status).toBe(200);
    expect(status.status).toBe(200);
    expect(status.body.id).toBe(sent.body.queue_id);
    expect(contacts.status).toBe(200);
    expect(contacts.body.contacts).toHaveLength(1);
    expect(list.status).toBe(200);
    expect(list.body.queues.map((q: { id: string }) => q.id)).toContain(sent.body.queue_id);
  });
});

describe('Accept API: authentication', () => {
  it('refuses a request without a key with 401 API_KEY_MISSING', async () => {
    const res = await s.post(`${API}/send/overdue`, overdueBody(), { key: null });
    expectError(res, 401, 'API_KEY_MISSING');
  });

  it('refuses an unknown key with 401 API_KEY_INVALID', async () => {
    const res = await s.post(`${API}/send/overdue`, overdueBody(), {
      key: 'billing_not-a-real-key-0000000000000000000',
    });
    expectError(res, 401, 'API_KEY_INVALID');
  });

  it('refuses a revoked key with 401 API_KEY_INACTIVE', async () => {
    // Prepare
    const t = await s.createTenant();
    const before = await s.get(`${API}/queues`, { key: t.key });

    // Act
    const revoked = await s.container.store.revokeApiKey(t.tenantId, t.apiKey.id);
    const after = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });

    // Assess
    expect(before.status).toBe(200);
    expect(revoked).toBe(true);
    expectError(after, 401, 'API_KEY_INACTIVE');
  });

  it('refuses a key once the clock passes its expiry with 401 API_KEY_EXPIRED', async () => {
    // Prepare
    const expiresAt = new Date(new Date(TEST_NOW).getTime() + HOUR_MS).toISOString();
    const t = await s.createTenant({ key: { expiresAt } });
    const before = await s.get(`${API}/queues`, { key: t.key });

    // Act
    s.clock.advance(2 * HOUR_MS);
    const after = await s.get(`${API}/queues`, { key: t.key }).finally(() => s.clock.set(TEST_NOW));

    // Assess
    expect(before.status).toBe(200);
    expectError(after, 401, 'API_KEY_EXPIRED');
  });

  it('refuses a caller outside the allowed IPs with 403, even with a forged X-Forwarded-For', async () => {
    // Prepare
    const t = await s.createTenant({ key: { allowedIps: ['200.1.2.0/24'] } });

    // Act
    const plain = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });
    const forged = await s.post(`${API}/send/overdue`, overdueBody(), {
      key: t.key,
      headers: { 'X-Forwarded-For': '200.1.2.3', 'X-Real-IP': '200.1.2.3' },
    });
    // Control: the same handler admits the key when the TCP peer really is in the range.
    const fromRange = await s.invoke('GET', `${API}/queues`, {}, { key: t.key, sourceIp: '200.1.2.3' });

    // Assess
    expectError(plain, 403, 'IP_NOT_ALLOWED');
    expectError(forged, 403, 'IP_NOT_ALLOWED');
    expect(fromRange.statusCode).toBe(200);
    expect(await s.allQueues(t.tenantId)).toHaveLength(0);
  });

  it('refuses a template type the key may not use with 403 TEMPLATE_TYPE_NOT_ALLOWED', async () => {
    // Prepare
    const t = await s.createTenant({ key: { allowedTemplateTypes: ['upcoming'] } });

    // Act
    const overdue = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });
    const upcoming = await s.post(
      `${API}/send/upcoming`,
      overdueBody([overdueContact({ data_vencimento: '20/12/2026' })]),
      { key: t.key },
    );

    // Assess
    expectError(overdue, 403, 'TEMPLATE_TYPE_NOT_ALLOWED');
    expect(upcoming.status).toBe(200);
  });
});

describe('Accept API: tenant isolation', () => {
  it("answers 404 QUEUE_NOT_FOUND for another tenant's queue and never lists it", async () => {
    // Prepare: a queue in the demo tenant (A) and one in a new tenant (B)
    const b = await s.createTenant();
    const inA = await s.post(`${API}/send/overdue`, overdueBody());
    const inB = await s.post(`${API}/send/overdue`, overdueBody(), { key: b.key });

    // Act
    const status = await s.get(`${API}/queue/${inA.body.queue_id}/status`, { key: b.key });
    const contacts = await s.get(`${API}/queue/${inA.body.queue_id}/contacts`, { key: b.key });
    const unknown = await s.get(`${API}/queue/${randomUUID()}/status`, { key: b.key });
    const malformed = await s.get(`${API}/queue/not-a-uuid/status`, { key: b.key });
    const listB = await s.get(`${API}/queues?limit=100`, { key: b.key });

    // Assess
    expect([inA.status, inB.status]).toEqual([200, 200]);
    expectError(status, 404, 'QUEUE_NOT_FOUND');
    expectError(contacts, 404, 'QUEUE_NOT_FOUND');
    expectError(unknown, 404, 'QUEUE_NOT_FOUND');
    expectError(malformed, 404, 'QUEUE_NOT_FOUND');
    expect(listB.body.queues.map((q: { id: string }) => q.id)).toEqual([inB.body.queue_id]);
  });

  it('keeps external_id per tenant: the same id in two tenants makes two campaigns', async () => {
    // Prepare
    const b = await s.createTenant();
    const externalId = `shared-${randomUUID()}`;
    const body = overdueBody([overdueContact({ numero_fatura: 'NF-1' })], externalId);

    // Act
    const inA = await s.post(`${API}/send/overdue`, body);
    const inB = await s.post(`${API}/send/overdue`, body, { key: b.key });
    const lookupA = await s.get(`${API}/campaigns/${externalId}`);
    const lookupB = await s.get(`${API}/campaigns/${externalId}`, { key: b.key });

    // Assess
    expect([inA.status, inB.status]).toEqual([200, 200]);
    expect(inB.headers.get('idempotent-replayed')).toBeNull();
    expect(inB.body.billing_campaign_id).not.toBe(inA.body.billing_campaign_id);
    expect(inB.body.queue_id).not.toBe(inA.body.queue_id);
    expect(lookupA.body.queue_id).toBe(inA.body.queue_id);
    expect(lookupB.body.queue_id).toBe(inB.body.queue_id);
  });
});

describe('Accept API: idempotency', () => {
  it('replays the first answer for the same external_id and body, with Idempotent-Replayed', async () => {
    // Prepare
    const body = overdueBody();
    const reordered = { contacts: body.contacts, external_id: body.external_id };

    // Act
    const first = await s.post(`${API}/send/overdue`, body);
    const again = await s.post(`${API}/send/overdue`, body);
    const sameButReordered = await s.post(`${API}/send/overdue`, reordered);

    // Assess
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    for (const replay of [again, sameButReordered]) {
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first.body);
    }
  });

  it('answers 409 EXTERNAL_ID_CONFLICT for the same external_id with another body', async () => {
    // Prepare
    const body = overdueBody();
    const first = await s.post(`${API}/send/overdue`, body);

    // Act
    const other = await s.post(`${API}/send/overdue`, {
      ...body,
      contacts: [overdueContact({ valor: 'R$ 1,00' })],
    });
    const otherType = await s.post(`${API}/send/notification`, {
      ...body,
      contacts: [{ nome_cliente: 'Ana', telefone: '+5511977776666', mensagem: 'Oi' }],
    });

    // Assess
    expect(first.status).toBe(200);
    expectError(other, 409, 'EXTERNAL_ID_CONFLICT');
    expectError(otherType, 409, 'EXTERNAL_ID_CONFLICT');
  });

  it('creates exactly one campaign from 20 concurrent identical posts, all answered 200', async () => {
    // Prepare
    const t = await s.createTenant();
    const body = overdueBody([overdueContact(), overdueContact({ telefone: '+5521988887777' })]);

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => s.post(`${API}/send/overdue`, body, { key: t.key })),
    );
    const queues = await s.allQueues(t.tenantId);

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.body.billing_campaign_id)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.queue_id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect(queues.filter((q) => q.externalId === body.external_id)).toHaveLength(1);
    expect(queues[0]).toMatchObject({ id: answers[0]?.body.queue_id, totalContacts: 2 });
  });
});

describe('Accept API: limits', () => {
  it('accepts exactly the daily limit out of 20 concurrent posts and refuses the rest with 429', async () => {
    // Prepare
    const t = await s.createTenant();
    await configureTenant(s.container, t.tenantId, { dailyMessageLimit: 10 });

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => s.post(`${API}/send/overdue`, overdueBody(), { key: t.key })),
    );
    const queues = await s.allQueues(t.tenantId);

    // Assess
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(10);
    for (const r of refused) expectError(r, 429, 'DAILY_LIMIT_EXCEEDED');
    expect(queues).toHaveLength(10);
    expect(new Set(queues.map((q) => q.id))).toEqual(new Set(accepted.map((a) => a.body.queue_id)));
  });

  it('lets exactly the hourly read limit through out of 20 concurrent GETs, with Retry-After on the 429s, and still lets the key send', async () => {
    // Prepare: TEST_NOW is 15:20 UTC, so the hour window ends in 40 minutes
    const t = await s.createTenant();
    await configureTenant(s.container, t.tenantId, { apiReadRateLimitPerHour: 5 });

    // Act
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => s.get(`${API}/queues`, { key: t.key })),
    );
    const sendAfterPolling = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });
    s.clock.advance(HOUR_MS);
    const nextHour = await s.get(`${API}/queues`, { key: t.key }).finally(() => s.clock.set(TEST_NOW));

    // Assess
    const passed = answers.filter((a) => a.status !== 429);
    const limited = answers.filter((a) => a.status === 429);
    expect(passed.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(limited).toHaveLength(15);
    for (const r of limited) {
      expectError(r, 429, 'RATE_LIMITED');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(retryAfter).toBe(2400);
      expect(r.headers.get('ratelimit-limit')).toBe('5');
      expect(r.headers.get('ratelimit-remaining')).toBe('0');
      expect(r.headers.get('ratelimit-reset')).toBe('2400');
    }
    expect(passed.map((a) => a.headers.get('ratelimit-remaining')).sort()).toEqual(['0', '1', '2', '3', '4']);
    expect(nextHour.status).toBe(200);
    expect(sendAfterPolling.status).toBe(200);
  });
});

describe('Accept API: contacts', () => {
  it('reports rejected contacts one by one and stores exactly the accepted ones, rendered as text', async () => {
    // Prepare
    const t = await s.createTenant();
    const good = overdueContact({
      nome_cliente: 'Silva & Filhos <Ltda>',
      telefone: '(11) 98765-4321',
      valor: 1234.56,
      data_vencimento: '05/12/2026',
      numero_fatura: 'NF-100',
    });
    const contacts = [
      good,
      overdueContact({ telefone: '12345' }),
      overdueContact({ telefone: '(11) 3333-4444' }),
      { ...good, telefone: '+5511987654321' }, // same phone and invoice as the first
      overdueContact({ nome_cliente: 'Bia "Aspas"', telefone: '+5521999998888', numero_fatura: 'NF-200' }),
      overdueContact({ data_vencimento: '31/02/2026' }),
      overdueContact({ data_vencimento: undefined }),
    ];

    // Act
    const sent = await s.post(`${API}/send/overdue`, overdueBody(contacts), { key: t.key });
    const listed = await s.get(`${API}/queue/${sent.body.queue_id}/contacts`, { key: t.key });

    // Assess: the answer
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ accepted: 2, total_contacts: 2 });
    expect(sent.body.rejected).toEqual([
      {
        index: 1,
        telefone: '12345',
        code: 'INVALID_PHONE',
        message: messageFor('INVALID_PHONE', { value: '12345' }),
      },
      {
        index: 2,
        telefone: '(11) 3333-4444',
        code: 'PHONE_NOT_MOBILE',
        message: messageFor('PHONE_NOT_MOBILE'),
      },
      {
        index: 3,
        telefone: '+5511987654321',
        code: 'DUPLICATE_CONTACT',
        message: messageFor('DUPLICATE_CONTACT'),
      },
      {
        index: 5,
        telefone: '+5511988887777',
        code: 'INVALID_DATE',
        message: messageFor('INVALID_DATE', { value: '31/02/2026' }),
      },
      {
        index: 6,
        telefone: '+5511988887777',
        code: 'DUE_DATE_REQUIRED',
        message: messageFor('DUE_DATE_REQUIRED'),
      },
    ]);

    // Assess: what was stored
    expect(listed.status).toBe(200);
    const stored = listed.body.contacts as Array<Record<string, unknown>>;
    expect(stored.map((c) => [c.index, c.telefone, c.status])).toEqual([
      [0, '+5511987654321', 'pending'],
      [4, '+5521999998888', 'pending'],
    ]);
    const first = String(stored[0]?.rendered_message);
    expect(first).toContain('Silva & Filhos <Ltda>');
    expect(first).toContain('R$ 1.234,56');
    expect(first).toContain('05/12/2026');
    expect(first).not.toMatch(/&amp;|&lt;|&#/);
    expect(String(stored[1]?.rendered_message)).toContain('Bia "Aspas"');
  });

  it('reads money the Brazilian way and writes it, and every date, in one format; text that is no amount is refused', async () => {
    // Prepare
    const t = await s.createTenant();
    const contacts = [
      overdueContact({ telefone: '+5511911110001', valor: '10', data_vencimento: '2026-11-01' }),
      overdueContact({ telefone: '+5511911110002', valor: '1234,5', data_vencimento: '1/11/2026' }),
      overdueContact({ telefone: '+5511911110003', valor: 'abc' }),
      overdueContact({ telefone: '+5511911110004', valor: '1,234' }),
    ];

    // Act
    const sent = await s.post(`${API}/send/overdue`, overdueBody(contacts), { key: t.key });
    const listed = await s.get(`${API}/queue/${sent.body.queue_id}/contacts`, { key: t.key });

    // Assess
    expect(sent.status).toBe(200);
    expect(sent.body.rejected).toEqual([
      { index: 2, telefone: '+5511911110003', code: 'INVALID_MONEY', message: 'Valor inválido: abc' },
      { index: 3, telefone: '+5511911110004', code: 'INVALID_MONEY', message: 'Valor inválido: 1,234' },
    ]);
    const rendered = (listed.body.contacts as Array<Record<string, unknown>>).map((c) =>
      String(c.rendered_message),
    );
    expect(rendered[0]).toContain('R$ 10,00');
    expect(rendered[1]).toContain('R$ 1.234,50');
    for (const message of rendered) {
      expect(message).toContain('01/11/2026');
      expect(message).not.toContain('2026-11-01');
    }
  });

  it('answers 400 NO_VALID_CONTACTS with the list when none is accepted, storing nothing', async () => {
    // Prepare
    const t = await s.createTenant();
    const body = overdueBody([
      overdueContact({ telefone: 'abc' }),
      overdueContact({ data_vencimento: '20/12/2026' }),
    ]);

    // Act
    const res = await s.post(`${API}/send/overdue`, body, { key: t.key });
    const queues = await s.allQueues(t.tenantId);
    const campaign = await s.get(`${API}/campaigns/${body.external_id}`, { key: t.key });
    const fixed = await s.post(`${API}/send/overdue`, overdueBody([overdueContact()], body.external_id), {
      key: t.key,
    });

    // Assess
    expectError(res, 400, 'NO_VALID_CONTACTS');
    expect(res.body.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [0, 'INVALID_PHONE'],
      [1, 'DUE_DATE_NOT_PAST'],
    ]);
    expect(queues).toHaveLength(0);
    expectError(campaign, 404, 'CAMPAIGN_NOT_FOUND');
    // Nothing was kept under that external_id, so a corrected batch is a new campaign.
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
  });

  it('refuses an overdue contact not yet due and an upcoming contact already due', async () => {
    // Prepare
    const t = await s.createTenant();

    // Act
    const overdue = await s.post(
      `${API}/send/overdue`,
      overdueBody([overdueContact({ data_vencimento: '2026-12-20' }), overdueContact()]),
      { key: t.key },
    );
    const upcoming = await s.post(
      `${API}/send/upcoming`,
      overdueBody([
        overdueContact({ data_vencimento: '15/12/2026' }),
        overdueContact({ data_vencimento: '16/12/2026' }),
      ]),
      { key: t.key },
    );

    // Assess
    expect(overdue.status).toBe(200);
    expect(overdue.body.rejected).toMatchObject([{ index: 0, code: 'DUE_DATE_NOT_PAST' }]);
    expect(upcoming.status).toBe(200);
    // Due today is still upcoming; yesterday is not.
    expect(upcoming.body.rejected).toMatchObject([{ index: 0, code: 'DUE_DATE_PAST' }]);
    expect(upcoming.body.accepted).toBe(1);
  });
});

describe('Accept API: request errors', () => {
  it('answers 400 MALFORMED_JSON for a body that is not JSON', async () => {
    const res = await s.post(`${API}/send/overdue`, undefined, { raw: '{"external_id": "x", "contacts": [' });
    expectError(res, 400, 'MALFORMED_JSON');
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over MAX_BODY_BYTES', async () => {
    // Prepare
    const size = s.container.config.MAX_BODY_BYTES + 1;
    const raw = JSON.stringify({ external_id: 'big', contacts: [], pad: 'x'.repeat(size) });

    // Act
    const res = await s.post(`${API}/send/overdue`, undefined, { raw });

    // Assess
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 400 VALIDATION_FAILED for 1001 contacts, naming the field', async () => {
    // Prepare
    const contacts = Array.from({ length: 1001 }, (_, i) => overdueContact({ numero_fatura: `NF-${i}` }));

    // Act
    const res = await s.post(`${API}/send/overdue`, overdueBody(contacts));

    // Assess
    expectError(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors).toContainEqual({ field: 'contacts', message: 'Máximo de 1000 itens' });
  });

  it("answers 400 BATCH_TOO_LARGE for a batch over the tenant's max_batch_size", async () => {
    // Prepare
    const t = await s.createTenant({ config: { maxBatchSize: 2 } });
    const contacts = [0, 1, 2].map((i) => overdueContact({ numero_fatura: `NF-${i}` }));

    // Act
    const res = await s.post(`${API}/send/overdue`, overdueBody(contacts), { key: t.key });

    // Assess
    expectError(res, 400, 'BATCH_TOO_LARGE');
    expect(res.body.message).toBe(messageFor('BATCH_TOO_LARGE', { max: 2, count: 3 }));
    expect(await s.allQueues(t.tenantId)).toHaveLength(0);
  });

  it('answers 403 API_DISABLED when the tenant has the API turned off', async () => {
    // Prepare
    const t = await s.createTenant();
    await configureTenant(s.container, t.tenantId, { apiEnabled: false });

    // Act
    const res = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });

    // Assess
    expectError(res, 403, 'API_DISABLED');
  });

  it('answers 400 TEMPLATE_NOT_FOUND when the type has no template or an inactive one', async () => {
    // Prepare: overdue only; upcoming exists but inactive; notification absent
    const t = await s.createTenant({ templates: ['overdue'] });
    await setTemplate(s.container, t.tenantId, 'upcoming', { ...DEMO_TEMPLATES.upcoming, is_active: false });

    // Act
    const upcoming = await s.post(
      `${API}/send/upcoming`,
      overdueBody([overdueContact({ data_vencimento: '20/12/2026' })]),
      { key: t.key },
    );
    const notification = await s.post(
      `${API}/send/notification`,
      overdueBody([{ nome_cliente: 'Ana', telefone: '+5511977776666', mensagem: 'Oi' }]),
      { key: t.key },
    );

    // Assess
    expectError(upcoming, 400, 'TEMPLATE_NOT_FOUND');
    expectError(notification, 400, 'TEMPLATE_NOT_FOUND');
    expect(await s.allQueues(t.tenantId)).toHaveLength(0);
  });

  it('renders and reports on ?dry_run=true without storing anything', async () => {
    // Prepare
    const t = await s.createTenant();
    const body = overdueBody([
      overdueContact({ nome_cliente: 'Ana & Cia', valor: 10, data_vencimento: '05/12/2026' }),
      overdueContact({ telefone: '000' }),
    ]);

    // Act
    const dry = await s.post(`${API}/send/overdue?dry_run=true`, body, { key: t.key });
    const queues = await s.allQueues(t.tenantId);
    const campaign = await s.get(`${API}/campaigns/${body.external_id}`, { key: t.key });
    const real = await s.post(`${API}/send/overdue`, body, { key: t.key });

    // Assess
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ success: true, dry_run: true, accepted: 1 });
    expect(dry.body.rejected).toMatchObject([{ index: 1, telefone: '000', code: 'INVALID_PHONE' }]);
    expect(dry.body.messages).toHaveLength(1);
    expect(dry.body.messages[0]).toMatchObject({ index: 0, telefone: '+5511988887777' });
    expect(dry.body.messages[0].message).toContain('Ana & Cia');
    expect(dry.body.messages[0].message).toContain('R$ 10,00');
    expect(dry.body.messages[0].message).toContain('05/12/2026');
    expect(queues).toHaveLength(0);
    expectError(campaign, 404, 'CAMPAIGN_NOT_FOUND');
    expect(real.status).toBe(200);
    expect(real.headers.get('idempotent-replayed')).toBeNull();
    expect(real.body.queue_id).toMatch(UUID);
  });
});

describe('Accept API: the creditor (CDC art. 42-A)', () => {
  it("signs every reminder with the tenant's creditor name and CNPJ, whatever the ERP sends", async () => {
    // Prepare: the demo templates sign with {{empresa}} and {{cnpj}}
    const t = await s.createTenant({
      config: { creditorName: 'Credora Ltda', creditorDocument: '11222333000181' },
    });
    const body = overdueBody([overdueContact({ empresa: 'Outra SA' })]);

    // Act
    const dry = await s.post(`${API}/send/overdue?dry_run=true`, body, { key: t.key });

    // Assess
    expect(dry.status).toBe(200);
    expect(dry.body.messages[0].message).toMatch(/\n— Credora Ltda, CNPJ 11\.222\.333\/0001-81$/);
  });
});

describe('Accept API: scheduling and stored data', () => {
  it('accepts overdue batches from a tenant made by createTenant without an explicit hours step', async () => {
    // Prepare: createTenant documents "3. default business hours", so no `hours set` should be needed
    const tenantId = `nohours-${randomUUID().slice(0, 8)}`;
    await createTenant(s.container, { id: tenantId });
    await setTemplate(s.container, tenantId, 'overdue', DEMO_TEMPLATES.overdue);
    const { key } = await createApiKey(s.container, { tenantId, name: 'no hours' });

    // Act
    const res = await s.post(`${API}/send/overdue`, overdueBody(), { key });

    // Assess
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 200, code: undefined });
  });

  it('schedules overdue batches for the next opening outside hours, skipping a holiday, but not notifications', async () => {
    // Prepare: Thursday 2026-12-24 19:00 in São Paulo; Friday is Christmas, then a weekend
    s.clock.set('2026-12-24T22:00:00.000Z');
    try {
      // Act
      const overdue = await s.post(`${API}/send/overdue`, overdueBody());
      const notification = await s.post(
        `${API}/send/notification`,
        overdueBody([{ nome_cliente: 'Ana', telefone: '+5511977776666', mensagem: 'Aviso' }]),
      );
      const status = await s.get(`${API}/queue/${overdue.body.queue_id}/status`);

      // Assess: Monday 2026-12-28 09:00 in São Paulo
      expect(overdue.status).toBe(200);
      expect(overdue.body.scheduled_start).toBe('2026-12-28T12:00:00.000Z');
      expect(status.body).toMatchObject({ status: 'pending', next_run_at: '2026-12-28T12:00:00.000Z' });
      expect(notification.status).toBe(200);
      expect(notification.body.scheduled_start).toBeNull();
    } finally {
      s.clock.set(TEST_NOW);
    }
  });

  it('answers 4xx, not 500, to valid JSON metadata DynamoDB cannot hold as a map, storing nothing', async () => {
    // Prepare: numbers outside DynamoDB's range (38 digits, 1e-130 .. 1e126) or the SDK's safe
    // integers, and a nested `__proto__` key (JSON.parse makes it an own key; the marshaller
    // turns it into an empty AttributeValue)
    const t = await s.createTenant();
    const metadatas = [
      '{"big":1e20}',
      '{"unsafe":1152921504606846977}',
      '{"tiny":1e-200}',
      '{"max":1.7976931348623157e308}',
      '{"a":{"__proto__":{"x":1}}}',
      '{"constructor":"x"}',
    ];
    const bodies = metadatas.map((metadata) => {
      const externalId = `meta-${randomUUID()}`;
      const raw = JSON.stringify(overdueBody([overdueContact()], externalId)).replace(
        /}$/,
        `,"metadata":${metadata}}`,
      );
      return { externalId, raw, metadata: JSON.parse(metadata) as unknown };
    });

    // Act
    const answers = await Promise.all(
      bodies.map((body) => s.post(`${API}/send/overdue`, undefined, { key: t.key, raw: body.raw })),
    );

    // Assess: each one either accepted and kept as sent, or refused as the client's mistake
    for (const [i, answer] of answers.entries()) {
      const body = bodies[i] as (typeof bodies)[number];
      if (answer.status !== 200) {
        expect({ metadata: metadatas[i], code: answer.body.code }).toEqual({
          metadata: metadatas[i],
          code: 'VALIDATION_FAILED',
        });
        expectError(answer, 400, 'VALIDATION_FAILED');
        continue;
      }
      const stored = await s.get(`${API}/campaigns/${body.externalId}`, { key: t.key });
      expect(stored.body.metadata).toEqual(body.metadata);
    }
    expect(await s.allQueues(t.tenantId)).toHaveLength(answers.filter((a) => a.status === 200).length);
  });

  it('answers 2xx or 4xx, not 500, to a contact extra field named constructor', async () => {
    // Prepare: `constructor` passes the extra-variable name rule; the DynamoDB marshaller then takes
    // the variables map for a class instance ("Unsupported type passed: [object Object]")
    const t = await s.createTenant();
    const body = overdueBody([overdueContact({ constructor: 'Construtora X' })]);

    // Act
    const res = await s.post(`${API}/send/overdue`, body, { key: t.key });

    // Assess
    expect([200, 400]).toContain(res.status);
    expect(await s.allQueues(t.tenantId)).toHaveLength(res.status === 200 ? 1 : 0);
  });

  it('answers 4xx, not 500, to a path parameter with broken percent-encoding', async () => {
    // Act
    const status = await s.get(`${API}/queue/%E0%A4%A/status`);
    const campaign = await s.get(`${API}/campaigns/%ZZ`);

    // Assess
    expect(status.status).toBe(404);
    expect(status.body).toMatchObject({ success: false, code: 'QUEUE_NOT_FOUND' });
    expect(campaign.status).toBe(404);
    expect(campaign.body).toMatchObject({ success: false, code: 'CAMPAIGN_NOT_FOUND' });
  });

  it('refuses a loopback http callback_url for a tenant without allowInsecureCallbacks', async () => {
    // Prepare: the OpenAPI document lists INVALID_CALLBACK_URL among the send route's 400s
    const t = await s.createTenant();

    // Act
    const res = await s.post(
      `${API}/send/overdue`,
      { ...overdueBody(), callback_url: 'http://127.0.0.1:9/hook' },
      { key: t.key },
    );

    // Assess
    expect({ status: res.status, code: res.body.code }).toEqual({
      status: 400,
      code: 'INVALID_CALLBACK_URL',
    });
    expect(await s.allQueues(t.tenantId)).toHaveLength(0);
  });
});

describe('Accept API: listings', () => {
  it('pages /queues newest first with next_cursor, and filters by status', async () => {
    // Prepare: five queues, one second apart
    const t = await s.createTenant();
    const created: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const res = await s.post(`${API}/send/overdue`, overdueBody(), { key: t.key });
        created.push(res.body.queue_id);
        s.clock.advance(1000);
      }
    } finally {
      s.clock.set(TEST_NOW);
    }

    // Act
    const pages: Array<{ ids: string[]; next: string | null }> = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await s.get(`${API}/queues?limit=2${query}`, { key: t.key });
      expect(res.status).toBe(200);
      pages.push({ ids: res.body.queues.map((q: { id: string }) => q.id), next: res.body.next_cursor });
      cursor = res.body.next_cursor;
    } while (cursor && pages.length < 10);
    const pending = await s.get(`${API}/queues?status=pending&limit=100`, { key: t.key });
    const completed = await s.get(`${API}/queues?status=completed`, { key: t.key });

    // Assess
    expect(pages.map((p) => p.ids.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.ids)).toEqual([...created].reverse());
    expect(pages.at(-1)?.next).toBeNull();
    expect(pending.body.queues).toHaveLength(5);
    expect(completed.status).toBe(200);
    expect(completed.body).toMatchObject({ queues: [], next_cursor: null });
  });

  it("pages a queue's contacts in batch order and filters them by status", async () => {
    // Prepare
    const phones = ['+5511911110001', '+5511911110002', '+5511911110003', '+5511911110004', '+5511911110005'];
    const sent = await s.post(
      `${API}/send/overdue`,
      overdueBody(phones.map((telefone) => overdueContact({ telefone }))),
    );
    const base = `${API}/queue/${sent.body.queue_id}/contacts`;

    // Act
    const seen: string[] = [];
    let cursor: string | null = null;
    let pagesRead = 0;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await s.get(`${base}?limit=2${query}`);
      expect(res.status).toBe(200);
      expect(res.body.contacts.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.contacts.map((c: { telefone: string }) => c.telefone));
      cursor = res.body.next_cursor;
      pagesRead++;
    } while (cursor && pagesRead < 10);
    const pending = await s.get(`${base}?status=pending`);
    const sentOnes = await s.get(`${base}?status=sent`);

    // Assess
    expect(pagesRead).toBe(3);
    expect(seen).toEqual(phones);
    expect(pending.body.contacts).toHaveLength(5);
    expect(sentOnes.body).toMatchObject({ contacts: [], next_cursor: null });
  });

  it('answers 400, not 500, to a garbage cursor, a bad limit or an unknown status', async () => {
    // Prepare
    const sent = await s.post(`${API}/send/overdue`, overdueBody());
    const contacts = `${API}/queue/${sent.body.queue_id}/contacts`;
    const forged = Buffer.from(JSON.stringify({ a: { $ne: 1 } })).toString('base64url');

    // Act
    const answers = await Promise.all([
      s.get(`${API}/queues?cursor=%%%garbage`),
      s.get(`${API}/queues?cursor=${forged}`),
      s.get(`${API}/queues?cursor=bm90LWpzb24`),
      s.get(`${API}/queues?limit=0`),
      s.get(`${API}/queues?limit=abc`),
      s.get(`${API}/queues?status=nope`),
      s.get(`${contacts}?cursor=garbage!`),
      s.get(`${contacts}?cursor=${forged}`),
      s.get(`${contacts}?limit=101`),
    ]);

    // Assess
    for (const res of answers) expectError(res, 400, 'VALIDATION_FAILED');
  });
});
