import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvolutionGateway } from '../../lib/adapters/gateway/evolution-gateway.ts';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { addInstance } from '../../lib/app/add-instance.ts';
import type { WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { fillFixture, loadEvolutionFixture } from '../support/evolution-fixtures.ts';
import { API } from '../support/local-stack.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';

/**
 * Tenant walls at the webhook: instance ids are unique only per tenant, and a provider message id is
 * whatever the gateway (or whoever holds an instance's webhook secret) says. Two tenants call their
 * instance by the same id and Evolution name, and the gateway gives their sends the same id; each
 * tenant's authenticated webhooks naming that id must reach only that tenant's records.
 */

/** The product's gateway, except that the next accepted send takes the id a test names. */
const idScriptingGateway = () => {
  const real = createEvolutionGateway({ timeoutMs: 1500 });
  let nextId: string | undefined;
  const gateway: WhatsAppGateway = {
    ...real,
    sendText: async (...args) => {
      const outcome = await real.sendText(...args);
      if (outcome.kind !== 'sent' || nextId === undefined) return outcome;
      const messageId = nextId;
      nextId = undefined;
      return { ...outcome, messageId };
    },
  };
  const nextSendGets = (id: string) => {
    nextId = id;
  };
  return { gateway, nextSendGets };
};

describe('webhooks of two tenants whose instances share an id (local stack)', () => {
  const ids = idScriptingGateway();
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', { gateway: ids.gateway });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  const secretOf = async (tenant: SendingTenant): Promise<string> =>
    (await s.test.container.store.getInstance(tenant.tenantId, tenant.instance))?.webhookSecret ?? '';

  /** Posts a receipt fixture about message `keyId` to the tenant's webhook, with its secret. */
  const postReceipt = async (tenant: SendingTenant, file: string, keyId: string, phone: string) => {
    const jid = `${phone}@s.whatsapp.net`;
    const filled = fillFixture(loadEvolutionFixture(file), {
      instance: tenant.instance,
      keyId,
      remoteJid: jid,
      phoneJid: jid,
      now: s.test.clock.now(),
    });
    const response = await fetch(
      `${s.test.url}${API}/webhooks/evolution/${tenant.tenantId}/${tenant.instance}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-webhook-secret': await secretOf(tenant),
          ...filled.headers,
        },
        body: JSON.stringify(filled.body),
      },
    );
    return response.status;
  };

  const contactOf = async (queueId: string) =>
    (await s.test.container.store.listContacts(queueId, { limit: 10 })).items[0];

  /**
   * Tenant A has sent one message; tenant B has an instance under A's instance id and Evolution
   * name, whose webhook (the shared simulator instance's, from the end of this) goes to B's URL with
   * B's secret. The simulator posts no receipts of the sends: the test posts them.
   */
  const twoTenantsOnOneInstanceId = async () => {
    const a = await s.tenant();
    const sendA = await s.sendBatch(a, 1);
    await s.waitForStatus(a, sendA.queueId, ['completed']);
    const created = await s.test.createTenant({ config: FAST_PACE });
    await addInstance(s.test.container, {
      tenantId: created.tenantId,
      id: a.instance,
      instanceName: a.instance,
      baseUrl: s.simulator.url,
      credentialRef: `plain:${s.simulator.apiKey}`,
    });
    const b: SendingTenant = { ...created, instance: a.instance };
    return {
      a,
      b,
      queueA: sendA.queueId,
      phoneA: sendA.numbers[0] as string,
      sharedId: s.sent(a)[0]?.id as string,
      /** Points the shared simulator instance's webhook at B (after B's sends, if any). */
      webhookToB: () =>
        configureInstanceWebhook(s.test.container, {
          tenantId: b.tenantId,
          instanceId: b.instance,
          publicUrl: s.test.url,
        }),
    };
  };

  it('leaves a tenant’s message and its receipts alone when another tenant’s instance of the same id posts a reply under its id', async () => {
    // Prepare
    const { a, b, queueA, phoneA, sharedId, webhookToB } = await twoTenantsOnOneInstanceId();
    await webhookToB();

    // Act: B's instance posts a reply under A's message id, then A's receipts of it arrive.
    const reply = await s.simulator.reply({ instance: b.instance, number: phoneA, text: 'Ok', id: sharedId });
    const statuses = [
      reply.status,
      await postReceipt(a, '2.4.0-messages-update-delivery-headers.json', sharedId, phoneA),
      await postReceipt(a, '2.3.6-messages-update-read-null-apikey.json', sharedId, phoneA),
    ];

    // Assess
    expect(statuses).toEqual([200, 200, 200]);
    expect(await s.status(a, queueA)).toMatchObject({
      contacts_delivered: 1,
      contacts_read: 1,
      contacts_replied: 0,
    });
    expect((await contactOf(queueA))?.status).toBe('read');
    const { store } = s.test.container;
    expect(await store.getMessage(a.tenantId, a.instance, sharedId)).toMatchObject({
      direction: 'outbound',
      queueId: queueA,
    });
    const replyRecord = await store.getMessage(b.tenantId, b.instance, sharedId);
    expect(replyRecord).toMatchObject({ tenantId: b.tenantId, direction: 'inbound' });
    // The phone's history is an index, which lags here as DynamoDB's does.
    await s.dynamo?.catchUp();
    const bHistory = await store.listMessages(b.tenantId, replyRecord?.phone ?? '', 10);
    expect(bHistory.filter((m) => m.id === sharedId)).toEqual([
      expect.objectContaining({ direction: 'inbound', text: 'Ok' }),
    ]);
  }, 60_000);

  it('keeps each tenant’s receipts on its own contact when both tenants’ sends got the same id', async () => {
    // Prepare: B's send is given the id of A's.
    const { a, b, queueA, phoneA, sharedId, webhookToB } = await twoTenantsOnOneInstanceId();
    ids.nextSendGets(sharedId);
    const sendB = await s.sendBatch(b, 1);
    await s.waitForStatus(b, sendB.queueId, ['completed']);
    const phoneB = sendB.numbers[0] as string;
    await webhookToB();

    // Act: B's instance posts a reply under the shared id, from A's debtor, asking to stop; then
    // B's receipts of the shared id; then A's delivery receipt of it.
    const reply = await s.simulator.reply({
      instance: b.instance,
      number: phoneA,
      text: 'SAIR',
      id: sharedId,
    });
    const statuses = [
      reply.status,
      await postReceipt(b, '2.4.0-messages-update-delivery-headers.json', sharedId, phoneB),
      await postReceipt(b, '2.3.6-messages-update-read-null-apikey.json', sharedId, phoneB),
      await postReceipt(a, '2.4.0-messages-update-delivery-headers.json', sharedId, phoneA),
    ];

    // Assess
    expect((await contactOf(sendB.queueId))?.providerMessageId).toBe(sharedId);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await s.status(a, queueA)).toMatchObject({
      contacts_sent: 1,
      contacts_delivered: 1,
      contacts_read: 0,
      contacts_replied: 0,
    });
    expect(await s.status(b, sendB.queueId)).toMatchObject({
      contacts_sent: 1,
      contacts_delivered: 1,
      contacts_read: 1,
    });
    expect((await contactOf(queueA))?.status).toBe('delivered');
    expect((await contactOf(sendB.queueId))?.status).toBe('read');
    const { store } = s.test.container;
    expect(await store.getMessage(a.tenantId, a.instance, sharedId)).toMatchObject({
      tenantId: a.tenantId,
      direction: 'outbound',
      queueId: queueA,
    });
    // The reply named an id B already had: its record stays B's own send.
    expect(await store.getMessage(b.tenantId, b.instance, sharedId)).toMatchObject({
      tenantId: b.tenantId,
      direction: 'outbound',
      queueId: sendB.queueId,
    });
    // The opt-out asked on B's instance is B's, never A's.
    expect(await store.getOptOut(a.tenantId, `+${phoneA}`)).toBeUndefined();
    expect(await store.getOptOut(b.tenantId, `+${phoneA}`)).toMatchObject({ source: 'reply' });
  }, 60_000);
});
