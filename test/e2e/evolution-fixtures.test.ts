import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { SimSentMessage } from '../../lib/local/evolution-simulator/index.ts';
import {
  type EvolutionFixture,
  evolutionFixtureFiles,
  fillFixture,
  loadEvolutionFixture,
} from '../support/evolution-fixtures.ts';
import { API } from '../support/local-stack.ts';
import { type SendingStack, type SendingTenant, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Real Evolution 2.2 / 2.3 / 2.4 webhook payloads (test/fixtures/evolution) posted over HTTP to the
 * webhook route of the local stack, with their own headers plus the instance's secret: each one is
 * applied, or answered 2xx `ignored` and counted by reason; never a 4xx.
 */
describe('evolution webhook fixtures (local stack)', () => {
  let s: SendingStack;
  let tenant: SendingTenant;
  let secret: string;
  let queueId: string;
  /** One sent message per contact, in batch order. */
  let messages: SimSentMessage[];
  let warn: MockInstance;

  beforeAll(async () => {
    s = await startSendingStack('sqs');
    // No webhook configured on the simulator: only the fixtures reach the route.
    tenant = await s.tenant();
    const batch = await s.sendBatch(tenant, 6);
    queueId = batch.queueId;
    await s.waitForStatus(tenant, queueId, ['completed']);
    const sent = s.sent(tenant);
    messages = batch.numbers.map((n) => {
      const m = sent.find((x) => x.number === n);
      if (!m) throw new Error(`no send to ${n}`);
      return m;
    });
    const instance = await s.test.container.store.getInstance(tenant.tenantId, tenant.instance);
    secret = instance?.webhookSecret ?? '';
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);
  afterEach(() => {
    warn?.mockRestore();
  });

  const url = (suffix: string | null = null) =>
    `${s.test.url}${API}/webhooks/evolution/${tenant.tenantId}/${tenant.instance}${suffix ? `/${suffix}` : ''}`;

  /** Posts a fixture about the contact at `position`, as Evolution would, with our secret header. */
  const post = async (file: string, position: number) => {
    const message = messages[position] as SimSentMessage;
    const filled: EvolutionFixture = fillFixture(loadEvolutionFixture(file), {
      instance: tenant.instance,
      keyId: message.id,
      remoteJid: message.remoteJid,
      phoneJid: message.remoteJid,
      now: s.test.clock.now(),
    });
    return postRaw(url(filled.path), JSON.stringify(filled.body), filled.headers);
  };

  const postRaw = async (target: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-secret': secret, ...headers },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  const contact = async (position: number) =>
    (await s.test.container.store.listContacts(queueId, { limit: 100 })).items.find(
      (c) => c.position === position,
    );

  /** `billing_webhooks_ignored_total` of this tenant by reason, from GET /metrics. */
  const ignoredCounts = async (): Promise<Record<string, number>> => {
    const response = await s.test.get('/metrics', { key: null });
    const counts: Record<string, number> = {};
    const pattern = new RegExp(
      `^billing_webhooks_ignored_total\\{tenant_id="${tenant.tenantId}",reason="(\\w+)"\\} (\\d+)$`,
      'gm',
    );
    for (const m of String(response.body).matchAll(pattern)) counts[m[1] as string] = Number(m[2]);
    return counts;
  };

  const applied = { status: 200, body: { success: true, result: 'applied' } };
  const ignored = { status: 200, body: { success: true, result: 'ignored' } };

  it('has a fixture for every case it posts', () => {
    expect(evolutionFixtureFiles()).toEqual([
      '2.2.3-messages-update-delivery-no-sender.json',
      '2.3.6-connection-update-close-401.json',
      '2.3.6-messages-update-deleted.json',
      '2.3.6-messages-update-incoming.json',
      '2.3.6-messages-update-read-null-apikey.json',
      '2.3.6-messages-upsert-from-me.json',
      '2.3.6-messages-upsert-lid-reply.json',
      '2.3.6-send-message.json',
      '2.3.7-messages-set-extra-keys.json',
      '2.4.0-messages-update-delivery-headers.json',
      '2.4.0-messages-update-unknown-message.json',
      '2.4.0-messages-upsert-sair.json',
    ]);
  });

  it('counts a 2.3 read receipt whose envelope has apikey null and a local-time date_time', async () => {
    // Act
    const answer = await post('2.3.6-messages-update-read-null-apikey.json', 0);
    const status = await s.status(tenant, queueId);
    const updated = await contact(0);

    // Assess
    expect(answer).toEqual(applied);
    expect(status).toMatchObject({ contacts_delivered: 1, contacts_read: 1 });
    expect(updated?.status).toBe('read');
    // date_time is Sao Paulo wall-clock time: the read is dated now, not three hours ago.
    expect(Date.now() - new Date(updated?.readAt ?? 0).getTime()).toBeLessThan(60_000);
  });

  it('counts a 2.2 delivery without sender posted to the by-events path, and a 2.4 one with X-Instance headers', async () => {
    // Act
    const old = await post('2.2.3-messages-update-delivery-no-sender.json', 1);
    const newer = await post('2.4.0-messages-update-delivery-headers.json', 2);
    const status = await s.status(tenant, queueId);

    // Assess
    expect([old, newer]).toEqual([applied, applied]);
    expect(status).toMatchObject({ contacts_delivered: 3, contacts_read: 1 });
    expect([(await contact(1))?.status, (await contact(2))?.status]).toEqual(['delivered', 'delivered']);
  });

  it('records a reply from an @lid sender by its remoteJidAlt', async () => {
    // Act
    const answer = await post('2.3.6-messages-upsert-lid-reply.json', 3);
    const status = await s.status(tenant, queueId);

    // Assess
    expect(answer).toEqual(applied);
    expect(status.contacts_replied).toBe(1);
  });

  it('opts out a phone that answered SAIR in a 2.4 upsert (phone JID first, LID in remoteJidAlt)', async () => {
    // Act
    const answer = await post('2.4.0-messages-upsert-sair.json', 4);
    // The opt-out is read back by its own key (consistent); the listing is an index and may lag.
    const phone = (await contact(4))?.phone ?? '';
    const stored = await s.test.container.store.getOptOut(tenant.tenantId, phone);

    // Assess
    expect(answer).toEqual(applied);
    expect(stored).toMatchObject({ source: 'reply', reason: 'SAIR' });
    expect((await s.status(tenant, queueId)).contacts_replied).toBe(2);
  });

  it('answers 2xx ignored, warns and counts by reason what it cannot use, changing nothing', async () => {
    // Prepare
    warn = vi.spyOn(s.test.container.logger, 'warn');
    const before = await s.status(tenant, queueId);
    const counted = await ignoredCounts();

    // Act
    const answers = {
      deleted: await post('2.3.6-messages-update-deleted.json', 5),
      incoming: await post('2.3.6-messages-update-incoming.json', 5),
      fromMe: await post('2.3.6-messages-upsert-from-me.json', 5),
      sendMessage: await post('2.3.6-send-message.json', 5),
      unknownMessage: await post('2.4.0-messages-update-unknown-message.json', 5),
      messagesSet: await post('2.3.7-messages-set-extra-keys.json', 5),
      malformed: await postRaw(url(), '{"event":"messages.update","data":{'),
      notAnObject: await postRaw(url(), '"messages.update"'),
      empty: await postRaw(url(), ''),
      textPlain: await postRaw(url(), 'event=messages.update', { 'content-type': 'text/plain' }),
    };
    const after = await s.status(tenant, queueId);
    const counts = await ignoredCounts();

    // Assess
    for (const answer of Object.values(answers)) expect(answer).toEqual(ignored);
    const delta = (reason: string) => (counts[reason] ?? 0) - (counted[reason] ?? 0);
    expect({
      unknown_status: delta('unknown_status'),
      incoming_message_receipt: delta('incoming_message_receipt'),
      sent_from_linked_phone: delta('sent_from_linked_phone'),
      own_send: delta('own_send'),
      unknown_message: delta('unknown_message'),
      unknown_event: delta('unknown_event'),
      unreadable_body: delta('unreadable_body'),
    }).toEqual({
      unknown_status: 1,
      incoming_message_receipt: 1,
      sent_from_linked_phone: 1,
      own_send: 1,
      unknown_message: 1,
      unknown_event: 1,
      unreadable_body: 4,
    });
    const webhookWarnings = warn.mock.calls.filter((call) => call[0] === 'gateway webhook ignored');
    const warned = webhookWarnings.map((call) => (call[1] as { reason?: string } | undefined)?.reason);
    expect(warned.sort()).toEqual(
      ['unknown_status', 'unknown_message', 'unknown_event', ...Array(4).fill('unreadable_body')].sort(),
    );
    expect(JSON.stringify(webhookWarnings)).not.toContain(messages[5]?.number);
    expect(after).toMatchObject({
      contacts_delivered: before.contacts_delivered,
      contacts_read: before.contacts_read,
      contacts_replied: before.contacts_replied,
    });
    expect((await contact(5))?.status).toBe('sent');
  });

  it('still refuses an unauthenticated webhook with 401, even with an unreadable body, and other routes keep their 400', async () => {
    // Act
    const noSecret = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"event":',
    });
    const otherRoute = await s.test.post(`${API}/send/notification`, undefined, {
      key: tenant.key,
      raw: '{"contacts":',
    });

    // Assess
    expect(noSecret.status).toBe(401);
    expect(otherRoute.status).toBe(400);
    expect(otherRoute.body).toMatchObject({ code: 'MALFORMED_JSON' });
  });

  it('marks the instance closed on connection.update close with statusReason 401', async () => {
    // Act
    const answer = await post('2.3.6-connection-update-close-401.json', 0);
    const instance = await waitFor(
      async () => {
        const found = await s.test.container.store.getInstance(tenant.tenantId, tenant.instance);
        return found?.connectionState === 'close' ? found : undefined;
      },
      { what: 'the instance to be marked closed' },
    );

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true, result: 'applied' });
    expect(instance.connectionState).toBe('close');
  });
});
