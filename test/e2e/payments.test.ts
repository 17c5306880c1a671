import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBusinessHours } from '../../lib/app/set-business-hours.ts';
import { startCallbackReceiver } from '../support/callback-receiver.ts';
import { calendarClosedNow } from '../support/closed-calendar.ts';
import { API } from '../support/local-stack.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * POST /payments end to end: the local stack over HTTP (the real sender, the Evolution simulator, a
 * DynamoDB whose indexes lag), two queues holding reminders of one invoice, and an ERP endpoint that
 * receives the callbacks.
 */
describe('paid invoices stop their reminders (local stack over HTTP)', () => {
  let s: SendingStack;
  let receiver: Awaited<ReturnType<typeof startCallbackReceiver>>;
  beforeAll(async () => {
    // A gateway call may take 3 s here (simulator latency) without being an unknown outcome, and a
    // sender run lasts long enough to check the instance and send after it.
    s = await startSendingStack('sqs', {
      env: { GATEWAY_TIMEOUT_MS: '8000', SENDER_LEASE_SECONDS: '15', SENDER_BUDGET_SECONDS: '15' },
    });
    receiver = await startCallbackReceiver();
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await receiver?.close();
  }, 30_000);

  it('cancels the unsent reminders in a scheduled and a running queue, counts the one being sent, and tells the ERP', async () => {
    // Prepare: reminders wait for a window that does not open during the test.
    const tenant = await s.tenant({ ...FAST_PACE, allowInsecureCallbacks: true });
    await setBusinessHours(s.test.container, tenant.tenantId, calendarClosedNow());
    const invoice = `NF-${randomUUID().slice(0, 8)}`;
    const ana = '5511982000101';
    const bia = '5511982000102';
    const scheduled = await s.test.post(
      `${API}/send/overdue`,
      {
        external_id: `pay-s-${randomUUID()}`,
        callback_url: receiver.url,
        contacts: [
          {
            nome_cliente: 'Ana',
            telefone: ana,
            valor: 'R$ 10,00',
            data_vencimento: '01/12/2025',
            numero_fatura: invoice,
          },
        ],
      },
      { key: tenant.key },
    );
    await s.waitForStatus(tenant, scheduled.body.queue_id, ['scheduled']);
    // Each send of the notification queue takes 3 s: Bia's is under way when the payment arrives.
    s.simulator.setLatency(3000, tenant.instance);
    const running = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `pay-n-${randomUUID()}`,
        callback_url: receiver.url,
        contacts: [
          { nome_cliente: 'Bia', telefone: bia, mensagem: 'Aviso', numero_fatura: invoice },
          { nome_cliente: 'Ana', telefone: ana, mensagem: 'Aviso', numero_fatura: invoice },
        ],
      },
      { key: tenant.key },
    );
    const runningId = running.body.queue_id as string;
    await waitFor(async () => (await s.test.container.store.getContact(runningId, 0))?.status === 'sending', {
      what: "Bia's reminder to be claimed",
      timeoutMs: 20_000,
    });
    // No wait for the index: the queues created in the last minutes are read without it.

    // Act
    const paid = await s.test.post(`${API}/payments`, { numero_fatura: invoice }, { key: tenant.key });

    // Assess: the answer.
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ success: true, cancelled: 2, already_sent: 0, being_sent: 1 });
    expect(paid.body.payments[0].queue_ids.sort()).toEqual([scheduled.body.queue_id, runningId].sort());
    // The scheduled queue had nothing else: completed at once, without waiting for its window.
    const scheduledStatus = await s.status(tenant, scheduled.body.queue_id);
    expect(scheduledStatus).toMatchObject({ status: 'completed', contacts_cancelled: 1, contacts_sent: 0 });
    // The running queue finishes Bia's send (never undone) and completes without Ana's.
    const runningStatus = await s.waitForStatus(tenant, runningId, ['completed']);
    expect(runningStatus).toMatchObject({ contacts_sent: 1, contacts_cancelled: 1 });
    const contacts = await s.test.get(`${API}/queue/${runningId}/contacts`, { key: tenant.key });
    expect(
      contacts.body.contacts.map((c: { status: string; cancel_reason: string | null }) => [
        c.status,
        c.cancel_reason,
      ]),
    ).toEqual([
      ['sent', null],
      ['cancelled', 'paid'],
    ]);
    expect(s.sent(tenant).map((m) => m.number)).toEqual([bia]);
    // The ERP hears of both cancellations.
    const cancelled = await waitFor(
      () => {
        const got = receiver.received.filter(
          (r) => r.body.event === 'cancelled' && r.body.contact.numero_fatura === invoice,
        );
        return got.length === 2 && got;
      },
      { timeoutMs: 15_000, what: 'two cancelled callbacks' },
    );
    expect(
      cancelled.map((r) => [r.body.queue_id, r.body.contact.telefone, r.body.cancel_reason]).sort(),
    ).toEqual(
      [
        [scheduled.body.queue_id, `+${ana}`, 'paid'],
        [runningId, `+${ana}`, 'paid'],
      ].sort(),
    );

    // Act again: the same notice is harmless; Bia's queue is finished, so no longer looked at (read
    // as it is now, whatever the index still shows).
    const again = await s.test.post(`${API}/payments`, [{ numero_fatura: invoice, telefone: bia }], {
      key: tenant.key,
    });
    expect(again.body).toMatchObject({ cancelled: 0, already_sent: 0, being_sent: 0 });
    expect(again.body.payments).toEqual([
      {
        numero_fatura: invoice,
        telefone: `+${bia}`,
        cancelled: 0,
        already_sent: 0,
        being_sent: 0,
        queue_ids: [],
      },
    ]);
  }, 60_000);

  it('finds the invoice in a large batch among others, through the filter of invoices the accept wrote', async () => {
    // Prepare: two batches of 30 debtors (past a small batch's 10: each gets its invoice filter),
    // each debtor with an invoice of its own, waiting for a window that does not open
    const tenant = await s.tenant({ ...FAST_PACE });
    await setBusinessHours(s.test.container, tenant.tenantId, calendarClosedNow());
    const run = randomUUID().slice(0, 8);
    const batch = async (name: string) => {
      const accepted = await s.test.post(
        `${API}/send/overdue`,
        {
          external_id: `pay-${name}-${run}`,
          contacts: Array.from({ length: 30 }, (_, i) => ({
            nome_cliente: `Cliente ${i}`,
            telefone: `55119830${name === 'a' ? '1' : '2'}${String(i).padStart(4, '0')}`,
            valor: 'R$ 10,00',
            data_vencimento: '01/12/2025',
            numero_fatura: `${run}/${name}-${i}`,
          })),
        },
        { key: tenant.key },
      );
      expect([accepted.status, accepted.body.total_contacts ?? accepted.body]).toEqual([200, 30]);
      await s.waitForStatus(tenant, accepted.body.queue_id, ['scheduled']);
      return accepted.body.queue_id as string;
    };
    const first = await batch('a');
    const second = await batch('b');

    // Act
    const paid = await s.test.post(`${API}/payments`, [{ numero_fatura: `${run}/b-17` }], {
      key: tenant.key,
    });

    // Assess: that debtor's reminder alone is cancelled, in the batch that holds it
    expect(paid.status).toBe(200);
    expect(paid.body.payments).toEqual([
      {
        numero_fatura: `${run}/b-17`,
        telefone: null,
        cancelled: 1,
        already_sent: 0,
        being_sent: 0,
        queue_ids: [second],
      },
    ]);
    const contacts = await s.test.get(`${API}/queue/${second}/contacts?limit=100`, { key: tenant.key });
    const cancelled = contacts.body.contacts.filter((c: { status: string }) => c.status === 'cancelled');
    expect(cancelled.map((c: { numero_fatura: string }) => c.numero_fatura)).toEqual([`${run}/b-17`]);
    const untouched = await s.test.get(`${API}/queue/${first}/contacts?status=cancelled&limit=100`, {
      key: tenant.key,
    });
    expect(untouched.body.contacts).toEqual([]);
  }, 60_000);

  it('answers 400 in Portuguese for a notice without an invoice or with a bad phone, and changes nothing', async () => {
    // Prepare
    const tenant = await s.tenant();

    // Act
    const missing = await s.test.post(`${API}/payments`, { telefone: '+5511982000101' }, { key: tenant.key });
    const badPhone = await s.test.post(
      `${API}/payments`,
      [{ numero_fatura: 'NF-1' }, { numero_fatura: 'NF-1', telefone: 'abc' }],
      { key: tenant.key },
    );
    const tooMany = await s.test.post(
      `${API}/payments`,
      Array.from({ length: 1001 }, () => ({ numero_fatura: 'NF-1' })),
      { key: tenant.key },
    );

    // Assess
    expect([missing.status, missing.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(missing.body.errors).toEqual([{ field: 'numero_fatura', message: 'Campo obrigatório' }]);
    expect([badPhone.status, badPhone.body.code]).toEqual([400, 'INVALID_PHONE']);
    expect(badPhone.body.errors).toEqual([{ field: '1.telefone', message: 'Telefone inválido: abc' }]);
    expect([tooMany.status, tooMany.body.errors]).toEqual([
      400,
      [{ field: 'body', message: 'Máximo de 1000 itens' }],
    ]);
  });
});
