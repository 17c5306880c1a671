import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signHs256Jwt } from '../../lib/adapters/gateway/evolution-webhook-auth.ts';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { contactStatusRank } from '../../lib/domain/queue-state.ts';
import type { ContactStatus } from '../../lib/domain/types.ts';
import type { BillingEventInput, BillingEvents } from '../../lib/ports/billing-events.ts';
import { API } from '../support/local-stack.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Evolution's webhooks end to end: the local stack over HTTP, the simulator sending the webhooks an
 * instance was configured for (through `instance webhook`, i.e. Evolution's webhook/set), with its
 * knobs for duplicates, reordering, replies and connection changes.
 */
describe('evolution webhooks (local stack)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs');
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  /** A tenant whose simulator instance posts its webhooks to this stack. */
  const webhookTenant = async (config = FAST_PACE, jwt = false): Promise<SendingTenant> => {
    const tenant = await s.tenant(config);
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
      jwt,
    });
    return tenant;
  };

  /** Successful webhook posts of an instance so far. */
  const delivered = (tenant: SendingTenant): number =>
    s.simulator.webhookDeliveries().filter((d) => d.instance === tenant.instance && d.status === 200).length;

  const contactsOf = async (queueId: string) =>
    (await s.test.container.store.listContacts(queueId, { limit: 100 })).items;

  const webhookUrl = (tenant: SendingTenant) =>
    `${s.test.url}${API}/webhooks/evolution/${tenant.tenantId}/${tenant.instance}`;

  const postWebhook = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  it('keeps exact delivered/read counters and forward-only statuses under duplicated, reordered webhooks', async () => {
    // Prepare
    const tenant = await webhookTenant();
    s.simulator.setWebhookBehaviour(tenant.instance, { duplicate: true, reorder: true, echoFromMe: true });
    const seen = new Map<number, ContactStatus[]>();
    let sampling = true;

    // Act
    const { queueId } = await s.sendBatch(tenant, 8);
    const sampler = (async () => {
      while (sampling) {
        for (const c of await contactsOf(queueId)) {
          const history = seen.get(c.position) ?? [];
          if (history[history.length - 1] !== c.status) history.push(c.status);
          seen.set(c.position, history);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await s.waitForStatus(tenant, queueId, ['completed'], 20_000);
    // 8 messages x (echo + 3 receipts) x 2 copies, all answered 200 in the end (send.message is not subscribed).
    await waitFor(() => s.simulator.pendingWebhooks() === 0 && delivered(tenant) >= 64, {
      timeoutMs: 15_000,
      what: 'every webhook of the batch to be delivered',
    });
    sampling = false;
    await sampler;
    const status = await s.status(tenant, queueId);
    const contacts = await contactsOf(queueId);

    // Assess
    expect(status).toMatchObject({
      status: 'completed',
      contacts_sent: 8,
      contacts_delivered: 8,
      contacts_read: 8,
      contacts_failed: 0,
    });
    expect(contacts.map((c) => c.status)).toEqual(Array(8).fill('read'));
    expect(contacts.every((c) => c.readAt !== null)).toBe(true);
    for (const history of seen.values()) {
      const ranks = history.map(contactStatusRank);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    }
  }, 45_000);

  it('subscribes the instance to receipts, replies and connection changes, not to the echo of its own sends', async () => {
    // Prepare
    const tenant = await webhookTenant();

    // Act
    const { queueId } = await s.sendBatch(tenant, 2);
    await s.waitForStatus(tenant, queueId, ['completed']);
    await waitFor(() => s.simulator.pendingWebhooks() === 0, {
      timeoutMs: 15_000,
      what: 'every webhook of the batch to be delivered',
    });

    // Assess: `send.message` would be one paid request and invocation per message, ignored (issue 12).
    const view = s.simulator.instances().find((i) => i.name === tenant.instance);
    expect(view?.webhookEvents).toEqual(['MESSAGES_UPDATE', 'MESSAGES_UPSERT', 'CONNECTION_UPDATE']);
    const events = s.simulator
      .webhookDeliveries()
      .filter((d) => d.instance === tenant.instance)
      .map((d) => d.event);
    expect(new Set(events)).toEqual(new Set(['messages.update']));
  }, 30_000);

  it('matches a reply that quotes the message, and an @lid reply by its remoteJidAlt, once per contact', async () => {
    // Prepare
    const tenant = await webhookTenant();
    const emitted: BillingEventInput[] = [];
    const original = s.test.container.events;
    const recorder: BillingEvents = { emit: async (event) => void emitted.push(event) };
    s.test.container.events = recorder;
    try {
      const { queueId, numbers } = await s.sendBatch(tenant, 2);
      await s.waitForStatus(tenant, queueId, ['completed']);
      const [quoting, lid] = numbers as [string, string];
      // Debtors answer seconds later, not within the index's lag: a reply without a quote is matched
      // through the phone's history, an index.
      await s.dynamo?.catchUp();

      // Act
      const first = await s.simulator.reply({
        instance: tenant.instance,
        number: quoting,
        text: 'Já paguei, segue o comprovante',
        quote: true,
      });
      const replay = await s.simulator.reply({
        instance: tenant.instance,
        number: quoting,
        text: 'Já paguei, segue o comprovante',
        quote: true,
        id: first.id,
      });
      const viaLid = await s.simulator.reply({
        instance: tenant.instance,
        number: lid,
        text: 'vou pagar amanhã',
        lid: true,
      });
      const status = await waitFor(
        async () => {
          const body = await s.status(tenant, queueId);
          return body.contacts_replied === 2 ? body : undefined;
        },
        { what: 'both replies to be counted' },
      );
      await s.dynamo?.catchUp();
      const history = await s.test.get(`${API}/conversations/%2B${quoting}`, { key: tenant.key });

      // Assess
      expect([first.status, replay.status, viaLid.status]).toEqual([200, 200, 200]);
      expect(status.contacts_replied).toBe(2);
      const replies = emitted.filter((e) => e.name === 'replied');
      expect(replies).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            queueId,
            contactPosition: 0,
            reply: expect.objectContaining({ intent: 'paid_claim' }),
          }),
          expect.objectContaining({
            queueId,
            contactPosition: 1,
            reply: expect.objectContaining({ intent: 'promise_to_pay' }),
          }),
        ]),
      );
      const latest = history.body.conversations[0];
      expect(latest.status).toBe('open');
      const inbound = latest.messages.filter((m: { id: string }) => m.id === first.id);
      expect(inbound).toEqual([expect.objectContaining({ direction: 'inbound', queue_id: queueId })]);
      // The reminder shows the text the gateway sent, read from its contact (stored there once).
      const sentText = s.sent(tenant).find((m) => m.number === quoting)?.text;
      expect(sentText).toBeTruthy();
      const outbound = latest.messages.filter((m: { direction: string }) => m.direction === 'outbound');
      expect(outbound).toEqual([expect.objectContaining({ text: sentText, queue_id: queueId })]);
    } finally {
      s.test.container.events = original;
    }
  }, 30_000);

  it('suppresses a phone that replied SAIR: the next batch refuses it and a queued contact is skipped', async () => {
    // Prepare
    const tenant = await webhookTenant();
    const { queueId, numbers } = await s.sendBatch(tenant, 1);
    await s.waitForStatus(tenant, queueId, ['completed']);
    const phone = numbers[0] as string;
    // A slow pace for the queue that skips: the opt-out must land between its two sends.
    const slow = await webhookTenant({ ...FAST_PACE, messagesPerMinute: 20 });

    // Act
    const optOut = await s.simulator.reply({
      instance: tenant.instance,
      number: phone,
      text: 'SAIR',
      quote: true,
    });
    const refused = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `optout-${queueId}`,
        contacts: [
          { nome_cliente: 'Saiu', telefone: phone, mensagem: 'Aviso' },
          { nome_cliente: 'Fica', telefone: '5511987650001', mensagem: 'Aviso' },
        ],
      },
      { key: tenant.key },
    );
    // The listing is an index read: eventually consistent, so it is awaited (the refusal above is not).
    const listed = await waitFor(
      async () => {
        const answer = await s.test.get(`${API}/optouts`, { key: tenant.key });
        return answer.body.opt_outs?.length > 0 ? answer : undefined;
      },
      { what: 'the opt-out to be listed' },
    );
    const queued = await s.sendBatch(slow, 2);
    await waitFor(() => s.sent(slow).length >= 1, { what: 'the first contact of the slow queue to be sent' });
    const added = await s.test.post(
      `${API}/optouts`,
      { telefone: queued.numbers[1], motivo: 'pediu por e-mail' },
      { key: slow.key },
    );
    const done = await s.waitForStatus(slow, queued.queueId, ['completed'], 20_000);
    const contacts = await contactsOf(queued.queueId);

    // Assess
    expect(optOut.status).toBe(200);
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({
      accepted: 1,
      rejected: [expect.objectContaining({ index: 0, code: 'OPTED_OUT' })],
    });
    expect(listed.body.opt_outs).toEqual([
      expect.objectContaining({ telefone: `+${phone}`, origem: 'reply', motivo: 'SAIR' }),
    ]);
    expect(added.status).toBe(201);
    expect(['sent', 'delivered', 'read']).toContain(contacts[0]?.status);
    expect(contacts[1]?.status).toBe('skipped_opt_out');
    expect(done).toMatchObject({ contacts_sent: 1, contacts_pending: 0, progress_percent: 100 });
    expect(s.sent(slow).map((m) => m.number)).toEqual([queued.numbers[0]]);
  }, 45_000);

  it('refuses webhooks without or with a wrong secret with 401 and no change, and accepts a signed JWT', async () => {
    // Prepare
    const tenant = await s.tenant();
    const { queueId } = await s.sendBatch(tenant, 1);
    await s.waitForStatus(tenant, queueId, ['completed']);
    const [message] = s.sent(tenant);
    const instance = await s.test.container.store.getInstance(tenant.tenantId, tenant.instance);
    const secret = instance?.webhookSecret ?? '';
    const now = Math.floor(Date.now() / 1000);
    const read = {
      event: 'messages.update',
      instance: tenant.instance,
      data: { keyId: message?.id, remoteJid: message?.remoteJid, fromMe: true, status: 'READ' },
      date_time: new Date().toISOString(),
    };

    // Act
    const refused = [
      await postWebhook(webhookUrl(tenant), read),
      await postWebhook(webhookUrl(tenant), read, { 'x-webhook-secret': `${secret}x` }),
      await postWebhook(webhookUrl(tenant), read, {
        authorization: `Bearer ${signHs256Jwt({ exp: now + 600 }, 'wrong')}`,
      }),
      await postWebhook(webhookUrl(tenant), read, {
        authorization: `Bearer ${signHs256Jwt({ exp: now - 600 }, secret)}`,
      }),
      // Signed with the secret, but never expiring, or valid for a day: a leaked token must not last.
      await postWebhook(webhookUrl(tenant), read, {
        authorization: `Bearer ${signHs256Jwt({ iat: now }, secret)}`,
      }),
      await postWebhook(webhookUrl(tenant), read, {
        authorization: `Bearer ${signHs256Jwt({ iat: now, exp: now + 86_400 }, secret)}`,
      }),
      await postWebhook(`${s.test.url}${API}/webhooks/evolution/${tenant.tenantId}/nope`, read, {
        'x-webhook-secret': secret,
      }),
    ];
    const untouched = await s.status(tenant, queueId);
    const accepted = await postWebhook(webhookUrl(tenant), read, {
      authorization: `Bearer ${signHs256Jwt({ iat: now, exp: now + 600 }, secret)}`,
    });
    const after = await s.status(tenant, queueId);
    const jwtTenant = await webhookTenant(FAST_PACE, true);
    const viaSimulator = await s.sendBatch(jwtTenant, 2);
    const counted = await waitFor(
      async () => {
        const body = await s.status(jwtTenant, viaSimulator.queueId);
        return body.contacts_read === 2 ? body : undefined;
      },
      { what: 'receipts posted with a jwt_key JWT to be counted' },
    );

    // Assess
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 401]);
    expect(refused[0]?.body).toMatchObject({ success: false, code: 'WEBHOOK_UNAUTHORIZED' });
    expect(untouched).toMatchObject({ contacts_delivered: 0, contacts_read: 0 });
    expect(accepted).toEqual({ status: 200, body: { success: true, result: 'applied' } });
    expect(after).toMatchObject({ contacts_delivered: 1, contacts_read: 1 });
    expect(counted).toMatchObject({ contacts_delivered: 2, contacts_read: 2 });
  }, 30_000);

  it('stops running queues on connection.update close and resumes them to completion on open', async () => {
    // Prepare
    const tenant = await webhookTenant({ ...FAST_PACE, messagesPerMinute: 120 });
    const { queueId, numbers } = await s.sendBatch(tenant, 6);
    await waitFor(() => s.sent(tenant).length >= 1, { what: 'the first send' });
    // The webhook finds the instance's running queues through an index, which may lag a queue that
    // started a moment ago (the pump then notices the closed instance by itself, with its own reason).
    await s.dynamo?.catchUp();

    // Act
    s.simulator.setState(tenant.instance, 'close');
    const down = await s.waitForStatus(tenant, queueId, ['instance_down'], 10_000);
    const stateWhileDown = (await s.test.container.store.getInstance(tenant.tenantId, tenant.instance))
      ?.connectionState;
    // `open` finds the instance's parked queues through the index too (else their re-check, a
    // minute later, would resume them).
    await s.dynamo?.catchUp();
    s.simulator.setState(tenant.instance, 'open');
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 20_000);
    const stateAfter = (await s.test.container.store.getInstance(tenant.tenantId, tenant.instance))
      ?.connectionState;

    // Assess
    expect(down.pause_reason).toContain('connection.update');
    expect(stateWhileDown).toBe('close');
    expect(stateAfter).toBe('open');
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 6, contacts_failed: 0 });
    const log = s.sent(tenant).map((m) => m.number);
    expect(new Set(log)).toEqual(new Set(numbers));
    expect(log).toHaveLength(6);
  }, 45_000);
});
