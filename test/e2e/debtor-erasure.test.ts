import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import { ERASED_MARKER } from '../../lib/domain/debtor-erasure.ts';
import { startCallbackReceiver } from '../support/callback-receiver.ts';
import { calendarClosedNow } from '../support/closed-calendar.ts';
import { type AnyJson, API } from '../support/local-stack.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * DELETE /debtors/{telefone} end to end: the local stack over HTTP with the real sender, the
 * Evolution simulator posting its webhooks (receipts, a reply) to the stack, and an ERP endpoint for
 * the callbacks; then every item of the table is read to find what still holds the debtor.
 */
describe('LGPD erasure of a debtor (local stack over HTTP)', () => {
  let s: SendingStack;
  let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;
  beforeAll(async () => {
    s = await startSendingStack('sqs');
    receiver = await startCallbackReceiver();
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await receiver?.close();
  }, 30_000);

  /** DELETE /debtors/{telefone} over HTTP. */
  const erase = async (key: string, telefone: string): Promise<{ status: number; body: AnyJson }> => {
    const response = await fetch(`${s.test.url}${API}/debtors/${encodeURIComponent(telefone)}`, {
      method: 'DELETE',
      headers: { 'X-Billing-API-Key': key },
    });
    return { status: response.status, body: await response.json() };
  };

  /** Every item of the table, read from the base table (consistent). */
  const tableItems = async (): Promise<Record<string, unknown>[]> => {
    const { container } = s.test;
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await container.dynamo.send(
        new ScanCommand({
          TableName: container.config.TABLE_NAME,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  };

  it('leaves no item holding the phone, the name or a text of the debtor, keeps counters, and keeps refusing the phone', async () => {
    // Prepare: a tenant whose instance posts its webhooks here, and a window that does not open in the test.
    const tenant = await s.tenant({ ...FAST_PACE, allowInsecureCallbacks: true });
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
    });
    await setBusinessHours(s.test.container, tenant.tenantId, calendarClosedNow());
    const digits = `55119${String(Date.now()).slice(-8)}`;
    const phone = `+${digits}`;
    const name = 'Rosalinda Quixabeira';
    const reply = 'Já paguei ontem, Rosalinda aqui';
    const other = '+5511987650202';
    // 1. A notification goes out to her (and to someone else) and she replies.
    const sent = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `lgpd-1-${randomUUID()}`,
        callback_url: receiver.url,
        contacts: [
          { nome_cliente: name, telefone: phone, mensagem: 'Seu boleto chegou', numero_fatura: 'NF-77' },
          { nome_cliente: 'Outra Pessoa', telefone: other, mensagem: 'Seu boleto chegou' },
        ],
      },
      { key: tenant.key },
    );
    const sentQueue = sent.body.queue_id as string;
    await s.waitForStatus(tenant, sentQueue, ['completed']);
    await s.dynamo?.catchUp();
    await s.simulator.reply({ instance: tenant.instance, number: digits, text: reply, quote: true });
    await waitFor(async () => (await s.status(tenant, sentQueue)).contacts_replied === 1, {
      what: 'her reply',
    });
    // 2. A reminder for her waits for business hours.
    const waiting = await s.test.post(
      `${API}/send/overdue`,
      {
        external_id: `lgpd-2-${randomUUID()}`,
        callback_url: receiver.url,
        contacts: [
          {
            nome_cliente: name,
            telefone: phone,
            valor: 'R$ 50,00',
            data_vencimento: '01/12/2025',
            numero_fatura: 'NF-78',
          },
          { nome_cliente: 'Outra Pessoa', telefone: other, valor: 'R$ 9,00', data_vencimento: '01/12/2025' },
        ],
      },
      { key: tenant.key },
    );
    const waitingQueue = waiting.body.queue_id as string;
    await s.waitForStatus(tenant, waitingQueue, ['scheduled']);
    // 3. She opts out, and a later batch is refused for her (the refusal is stored with the campaign).
    await s.test.post(
      `${API}/optouts`,
      { telefone: phone, motivo: `Pedido por telefone de ${name}` },
      { key: tenant.key },
    );
    const refused = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `lgpd-3-${randomUUID()}`,
        contacts: [
          { nome_cliente: 'Outra Pessoa', telefone: other, mensagem: 'Aviso' },
          { nome_cliente: name, telefone: phone, mensagem: 'Aviso' },
        ],
      },
      { key: tenant.key },
    );
    expect(refused.body.rejected).toMatchObject([{ index: 1, code: 'OPTED_OUT' }]);
    await waitFor(() => receiver.received.some((r) => r.body.event === 'replied'), {
      what: 'the replied callback',
    });
    await s.dynamo?.catchUp();
    const holdsHer = (item: Record<string, unknown>) => {
      const text = JSON.stringify(item);
      return text.includes(digits.slice(2)) || text.includes('Rosalinda');
    };
    const before = (await tableItems()).filter(holdsHer);

    // Act
    const erased = await erase(tenant.key, phone);

    // Assess: the answer.
    expect(erased.status, JSON.stringify(erased.body)).toBe(200);
    const answer = erased.body;
    expect(answer).toMatchObject({
      success: true,
      complete: true,
      in_flight: 0,
      erased: {
        contacts: 2,
        contacts_cancelled: 1,
        messages: 2,
        opt_outs: 1,
        campaign_rejections: 1,
      },
    });
    expect(answer.erased.callback_events).toBeGreaterThanOrEqual(2);
    // It walked every queue of the tenant, in one request here.
    const listed = await s.test.get(`${API}/queues?limit=100`, { key: tenant.key });
    expect(listed.body.queues.length).toBeGreaterThanOrEqual(2);
    expect(answer.queues_checked).toBe(listed.body.queues.length);
    // Every kind of item that held her before the erasure was there, and none holds her after it.
    const kinds = (items: Record<string, unknown>[]) =>
      [...new Set(items.map((i) => String(i.sk).replace(/[#:].*$/, '')))].sort();
    expect(kinds(before)).toEqual(['CALLBACK', 'CAMPAIGN', 'CONTACT', 'MSG', 'OPTOUT']);
    const after = await tableItems();
    expect(after.filter(holdsHer)).toEqual([]);
    expect(after.some((i) => JSON.stringify(i).includes(reply))).toBe(false);
    // Counters stay; the waiting queue had nothing else for her and keeps the other reminder.
    expect(await s.status(tenant, sentQueue)).toMatchObject({ contacts_sent: 2, contacts_replied: 1 });
    expect(await s.status(tenant, waitingQueue)).toMatchObject({
      status: 'scheduled',
      contacts_cancelled: 1,
    });
    const contacts = await s.test.get(`${API}/queue/${waitingQueue}/contacts`, { key: tenant.key });
    expect(contacts.body.contacts[0]).toMatchObject({
      telefone: ERASED_MARKER,
      nome_cliente: ERASED_MARKER,
      rendered_message: ERASED_MARKER,
      status: 'cancelled',
      cancel_reason: 'erased',
      numero_fatura: 'NF-78',
    });
    // The dashboard's contact page has nothing of her either.
    const detail = await s.test.get(`${API}/queue/${sentQueue}/contacts/0`, { key: tenant.key });
    expect(detail.body.conversation).toEqual([]);
    expect(JSON.stringify(detail.body)).not.toContain('Rosalinda');
    // The suppression outlives her number: a new batch is still refused.
    const again = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `lgpd-4-${randomUUID()}`,
        contacts: [{ nome_cliente: 'X', telefone: phone, mensagem: 'Aviso' }],
      },
      { key: tenant.key },
    );
    expect([again.status, again.body.code, again.body.errors?.[0]?.code]).toEqual([
      400,
      'NO_VALID_CONTACTS',
      'OPTED_OUT',
    ]);
    // The audit record: kept, with counts and a digest, without her.
    const [record] = (await s.test.container.store.listDebtorErasures(tenant.tenantId, { limit: 10 })).items;
    expect(record).toMatchObject({ id: answer.erasure_id, requestedBy: `api_key:${tenant.apiKey.id}` });
    expect(holdsHer(record as unknown as Record<string, unknown>)).toBe(false);
    // The ERP heard that her waiting reminder will not go out, without her data.
    const cancelled = await waitFor(
      () => receiver.received.find((r) => r.body.event === 'cancelled' && r.body.queue_id === waitingQueue),
      { what: 'the cancelled callback' },
    );
    expect(cancelled.body).toMatchObject({
      cancel_reason: 'erased',
      contact: { telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER },
    });
  }, 60_000);

  it('tells the ERP of a reminder an erasure cancelled when the queue completes, if the request died before it did', async () => {
    // Prepare: two reminders 10 s apart; the first goes out, the second waits for its slot.
    const tenant = await s.tenant({
      messagesPerMinute: 6,
      minIntervalSeconds: 10,
      jitterSeconds: 0,
      allowInsecureCallbacks: true,
    });
    const phone = `+55119${String(Date.now()).slice(-8)}`;
    const accepted = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `lgpd-died-${randomUUID()}`,
        callback_url: receiver.url,
        callback_events: ['cancelled', 'queue.completed'],
        contacts: [
          { nome_cliente: 'Primeira Pessoa', telefone: '+5511987650303', mensagem: 'Seu boleto chegou' },
          { nome_cliente: 'Quitéria Lins', telefone: phone, mensagem: 'Seu boleto chegou' },
        ],
      },
      { key: tenant.key },
    );
    expect(accepted.status).toBe(200);
    const queueId = accepted.body.queue_id as string;
    await waitFor(() => s.sent(tenant).length === 1, { what: 'the first reminder sent' });
    // No wait for the index: the erasure finds the queue and the first reminder's message without it.
    // The erasure's request dies between its writes and its cancelled event.
    const events = s.test.container.events;
    const emit = events.emit;
    events.emit = async (input) => {
      if (input.name === 'cancelled' && input.queueId === queueId) throw new Error('the request died here');
      return emit.call(events, input);
    };
    let died: number;
    try {
      died = (await erase(tenant.key, phone)).status;
    } finally {
      events.emit = emit;
    }

    // Act: the pump finds the second reminder cancelled (no send) and completes the queue.
    await s.waitForStatus(tenant, queueId, ['completed']);
    const cancelled = await waitFor(
      () => receiver.received.find((r) => r.body.event === 'cancelled' && r.body.queue_id === queueId),
      { what: 'the cancelled callback the completion emitted' },
    );

    // Assess
    expect(died).toBe(500);
    expect(s.sent(tenant)).toHaveLength(1);
    expect(cancelled.body).toMatchObject({
      cancel_reason: 'erased',
      contact: { telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER },
    });
    const completed = await waitFor(
      () => receiver.received.find((r) => r.body.event === 'queue.completed' && r.body.queue_id === queueId),
      { what: 'the queue.completed callback' },
    );
    expect(completed.body.event).toBe('queue.completed');
    expect(
      receiver.received.filter((r) => r.body.queue_id === queueId && r.body.event === 'cancelled'),
    ).toHaveLength(1);
  }, 60_000);

  it('answers 400 in Portuguese for what is not a phone', async () => {
    // Prepare
    const tenant = await s.tenant();

    // Act
    const bad = await erase(tenant.key, 'abc');
    const noAreaCode = await erase(tenant.key, '99999-9999');

    // Assess
    expect([bad.status, bad.body]).toEqual([
      400,
      { success: false, code: 'INVALID_PHONE', message: 'Telefone inválido: abc' },
    ]);
    expect([noAreaCode.status, noAreaCode.body.code]).toEqual([400, 'PHONE_MISSING_AREA_CODE']);
  });
});
