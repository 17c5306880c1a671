import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, TTL_ATTRIBUTE, ttlSeconds } from '../../lib/adapters/store/table-schema.ts';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { API } from '../support/local-stack.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;

/**
 * Retention end to end on the local stack (issue 12): a queue that completes leaves every item of
 * it with the table's TTL (the tenant's `retention_days` after it settled), and once the clock
 * passes that, the local worker's sweep (dynalite has no TTL) deletes them; opt-outs and the
 * tenant stay.
 */
describe('retention (local stack)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', { indexLag: false, env: { RETENTION_SWEEP_SECONDS: '0.2' } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  /** The stored item under `key` with its table attributes (consistent read, no entity mapping). */
  const item = async (key: Record<string, unknown>) =>
    (
      await s.test.container.dynamo.send(
        new GetCommand({ TableName: s.test.container.config.TABLE_NAME, Key: key, ConsistentRead: true }),
      )
    ).Item;
  const ttlFor = (at: string) => ttlSeconds(new Date(Date.parse(at) + RETENTION_DAYS * DAY));

  it("expires a completed queue's items after the tenant's retention and the local sweep deletes them", async () => {
    // Prepare: a tenant keeping 30 days, whose instance posts its webhooks here
    const tenant = await s.tenant({ ...FAST_PACE, retentionDays: RETENTION_DAYS });
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
      jwt: false,
    });
    const { queueId, numbers } = await s.sendBatch(tenant, 3);
    await s.waitForStatus(tenant, queueId, ['completed']);
    const optingOut = numbers[0] as string;
    const reply = await s.simulator.reply({
      instance: tenant.instance,
      number: optingOut,
      text: 'SAIR',
      quote: true,
    });
    const { store } = s.test.container;
    const queue = await store.getQueue(queueId);
    const contacts = (await store.listContacts(queueId, { limit: 10 })).items;
    const optOutPhone = `+${optingOut}`;
    await waitFor(async () => (await store.getOptOut(tenant.tenantId, optOutPhone)) !== undefined, {
      what: 'the opt-out of the SAIR reply',
    });
    const replyMessage = await store.getMessage(tenant.tenantId, tenant.instance, reply.id);
    const keysOf = {
      queue: keys.queue(queueId),
      campaign: keys.campaign(tenant.tenantId, queue?.externalId ?? ''),
      contacts: contacts.map((c) => keys.contact(queueId, c.position)),
      messages: contacts.map((c) =>
        keys.message(tenant.tenantId, tenant.instance, c.providerMessageId ?? ''),
      ),
      reply: keys.message(tenant.tenantId, tenant.instance, reply.id),
    };

    // Act: read what was stored, then let the retention pass
    const queueTtl = (await item(keysOf.queue))?.[TTL_ATTRIBUTE];
    const campaignTtl = (await item(keysOf.campaign))?.[TTL_ATTRIBUTE];
    const contactTtls = await Promise.all(keysOf.contacts.map(async (k) => (await item(k))?.[TTL_ATTRIBUTE]));
    const messageTtls = await Promise.all(keysOf.messages.map(async (k) => (await item(k))?.[TTL_ATTRIBUTE]));
    const replyTtl = (await item(keysOf.reply))?.[TTL_ATTRIBUTE];
    s.test.clock.advance(RETENTION_DAYS * DAY + 60_000);
    await waitFor(async () => (await item(keysOf.queue)) === undefined, {
      timeoutMs: 10_000,
      what: 'the local sweep to delete the expired queue',
    });
    await waitFor(async () => (await item(keysOf.reply)) === undefined, {
      timeoutMs: 10_000,
      what: 'the local sweep to delete the expired reply',
    });

    // Assess: the TTL is the retention counted from when each item settled
    expect(queue?.completedAt).toEqual(expect.any(String));
    expect(queueTtl).toBe(ttlFor(queue?.completedAt as string));
    expect(campaignTtl).toBe(queueTtl);
    expect(contacts.map((c) => c.sentAt)).toEqual(contacts.map(() => expect.any(String)));
    expect(contactTtls).toEqual(contacts.map((c) => ttlFor(c.sentAt as string)));
    expect(messageTtls).toEqual(contactTtls);
    expect(replyTtl).toBe(ttlFor(replyMessage?.at as string));
    expect(await item(keysOf.campaign)).toBeUndefined();
    for (const key of [...keysOf.contacts, ...keysOf.messages]) expect(await item(key)).toBeUndefined();
    const status = await s.test.get(`${API}/queue/${queueId}/status`, { key: tenant.key });
    expect(status.status).toBe(404);
    expect(await store.getOptOut(tenant.tenantId, optOutPhone)).toBeDefined();
    expect(await store.getTenant(tenant.tenantId)).toBeDefined();
  }, 40_000);
});
