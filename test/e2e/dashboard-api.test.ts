import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { API } from '../support/local-stack.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The API the operator dashboard reads (issue 13), over HTTP on the local stack: who is calling,
 * figures per hour, instances, one contact in full, and the queue list's type filter.
 */
describe('dashboard API (local stack)', () => {
  let s: SendingStack;
  let tenant: SendingTenant;
  let queueId: string;
  let numbers: string[];

  beforeAll(async () => {
    s = await startSendingStack('sqs', { indexLag: false });
    tenant = await s.tenant(FAST_PACE);
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
      jwt: false,
    });
    ({ queueId, numbers } = await s.sendBatch(tenant, 3));
    await s.waitForStatus(tenant, queueId, ['completed']);
    await s.simulator.reply({
      instance: tenant.instance,
      number: numbers[0] as string,
      text: 'Já paguei, segue o comprovante',
      quote: true,
    });
  }, 40_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const get = (path: string) => s.test.get(`${API}${path}`, { key: tenant.key });

  it('GET /me names the tenant, its timezone, its batch limits and the key', async () => {
    const res = await get('/me');

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      tenant: { id: tenant.tenantId, name: `Tenant ${tenant.tenantId}`, timezone: 'America/Sao_Paulo' },
      limits: { max_batch_size: 1000, daily_message_limit: 0 },
      api_key: { name: 'e2e', expires_at: null },
    });
    expect(typeof res.body.business_hours.open_now).toBe('boolean');
  });

  it('GET /me answers a wrong key with the Portuguese message', async () => {
    const res = await s.test.get(`${API}/me`, { key: 'billing_wrong' });

    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'API_KEY_INVALID', message: 'API Key inválida' });
  });

  it('GET /stats counts the sends, their receipts and the reply per hour, from the hourly counters', async () => {
    const body = await waitFor(
      async () => {
        const res = await get('/stats');
        const { replied, read } = res.body.totals ?? {};
        return replied === 1 && read === 3 ? res.body : undefined;
      },
      { what: 'the receipts and the reply to be counted' },
    );

    expect(body.bucket).toBe('hour');
    // The last 24 h usually start inside an hour: that hour and the current one make 25 buckets.
    expect([24, 25]).toContain(body.buckets.length);
    expect(body.totals).toEqual({
      sent: 3,
      delivered: 3,
      read: 3,
      replied: 1,
      failed: 0,
      stalled: 0,
      opted_out: 0,
      failure_rate: 0,
    });
    const hourly = body.buckets.reduce((sum: number, b: { sent: number }) => sum + b.sent, 0);
    expect(hourly).toBe(3);
  });

  it("GET /stats by day sums the hours into the tenant's local days", async () => {
    const res = await get('/stats?bucket=day');

    expect(res.status).toBe(200);
    expect(res.body.buckets.length).toBeGreaterThanOrEqual(2);
    expect(res.body.totals).toMatchObject({ sent: 3, delivered: 3, read: 3, replied: 1 });
    // Local midnight in São Paulo is 03:00 UTC.
    expect(res.body.buckets[0].start).toMatch(/T03:00:00\.000Z$/);
  });

  it('GET /stats refuses a reversed period with a 400 and a stable code', async () => {
    const res = await get('/stats?from=2026-12-16T10:00:00Z&to=2026-12-16T09:00:00Z');

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'INVALID_PERIOD',
      message: expect.stringMatching(/^Período inválido/),
    });
  });

  it('GET /instances shows state, pace and messages today, never the credential', async () => {
    const res = await get('/instances');

    expect(res.status).toBe(200);
    expect(res.body.instances).toEqual([
      {
        id: tenant.instance,
        instance_name: tenant.instance,
        is_active: true,
        connection_state: expect.any(String),
        messages_per_minute: 600,
        messages_today: 3,
        last_error: null,
        // The stack's instances stand for old numbers (no warm-up ramp).
        warmup: null,
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain(s.simulator.apiKey);
  });

  it("GET a contact shows its rendered message, timeline and conversation with the reply's intent", async () => {
    const body = await waitFor(
      async () => {
        const res = await get(`/queue/${queueId}/contacts/0`);
        return res.body.conversation?.length === 2 ? res.body : undefined;
      },
      { what: 'the reply in the conversation' },
    );

    expect(body.contact).toMatchObject({ index: 0, telefone: `+${numbers[0]}`, status: expect.any(String) });
    expect(body.contact.rendered_message).toContain('Aviso de teste');
    expect(body.timeline.map((t: { step: string }) => t.step)).toEqual(
      expect.arrayContaining(['claimed', 'sent', 'replied']),
    );
    expect(
      body.conversation.map((m: { direction: string; intent: string | null }) => [m.direction, m.intent]),
    ).toEqual([
      ['outbound', null],
      ['inbound', 'paid_claim'],
    ]);
  });

  it('answers an unknown or malformed contact with 404 CONTACT_NOT_FOUND', async () => {
    const unknown = await get(`/queue/${queueId}/contacts/99`);
    const malformed = await get(`/queue/${queueId}/contacts/abc`);

    expect([unknown.status, unknown.body.code]).toEqual([404, 'CONTACT_NOT_FOUND']);
    expect([malformed.status, malformed.body.code]).toEqual([404, 'CONTACT_NOT_FOUND']);
    expect(unknown.body.message).toBe('Contato não encontrado nesta fila');
  });

  it('lists queues by template type and says which actions each accepts', async () => {
    const notifications = await get('/queues?template_type=notification');
    const overdue = await get('/queues?template_type=overdue');

    expect(notifications.body.queues.map((q: { id: string }) => q.id)).toEqual([queueId]);
    expect(notifications.body.queues[0].allowed_actions).toEqual([]);
    expect(overdue.body.queues).toEqual([]);
  });

  it('searches opt-outs by the digits of the phone', async () => {
    await s.test.post(`${API}/optouts`, { telefone: '11 98888-1234' }, { key: tenant.key });
    await s.test.post(`${API}/optouts`, { telefone: '11 97777-5678' }, { key: tenant.key });

    const found = await get('/optouts?telefone=8888');
    const bad = await get('/optouts?telefone=abc');

    expect(found.body.opt_outs.map((o: { telefone: string }) => o.telefone)).toEqual(['+5511988881234']);
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await get('/stats')).body.totals.opted_out).toBe(2);
  });
});
