import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureInstanceWebhook } from '../../lib/admin/instance-webhook.ts';
import { PHONE_HISTORY_SETTLE_MS } from '../../lib/app/apply-reply.ts';
import { API } from '../support/local-stack.ts';
import { type SendingStack, type SendingTenant, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/** Every index write shows this late: a reply 80 ms after a send always meets a history without it. */
const INDEX_LAG_MS = 800;

/**
 * A debtor that is a business: its WhatsApp Business account answers every message at once with a
 * greeting or away message. The answer comes before the phone's history (an index that lags, as
 * DynamoDB's does) shows the reminder it answers; it must still count as that reminder's reply,
 * never as an answer to the phone's previous reminder, or as nobody's.
 */
describe('automatic replies within the index lag (local stack)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', { indexLag: { maxLagMs: INDEX_LAG_MS, random: () => 1 } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  /** A batch of one notification to `phone` (digits without 55); its queue id. */
  const notify = async (tenant: SendingTenant, phone: string): Promise<string> => {
    const response = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `auto-${randomUUID()}`,
        contacts: [{ nome_cliente: 'Padaria Central', telefone: phone, mensagem: 'Sua fatura vence hoje' }],
      },
      { key: tenant.key },
    );
    expect([200, 201]).toContain(response.status);
    return response.body.queue_id as string;
  };

  const repliedOnce = (tenant: SendingTenant, queueId: string) =>
    waitFor(
      async () => {
        const status = await s.status(tenant, queueId);
        return status.status === 'completed' && status.contacts_replied === 1 ? status : undefined;
      },
      { timeoutMs: 20_000, what: `queue ${queueId} completed with its reply counted` },
    );

  it("counts a greeting that comes 80 ms after each reminder as that reminder's reply", async () => {
    // Prepare: a tenant whose instance posts its webhooks here; the debtor's phone answers by itself
    const tenant = await s.tenant();
    await configureInstanceWebhook(s.test.container, {
      tenantId: tenant.tenantId,
      instanceId: tenant.instance,
      publicUrl: s.test.url,
    });
    const phone = `119${String(Date.now() % 100_000_000).padStart(8, '0')}`;
    s.simulator.setAutoReply(`55${phone}`, { text: 'Olá! Recebemos sua mensagem.', afterMs: 80 });

    // Act: a reminder, then another to the same phone once the first is past the settle time
    const first = await notify(tenant, phone);
    const firstStatus = await repliedOnce(tenant, first);
    await new Promise((resolve) => setTimeout(resolve, PHONE_HISTORY_SETTLE_MS + 500));
    const second = await notify(tenant, phone);
    const secondStatus = await repliedOnce(tenant, second);
    await s.dynamo?.catchUp();
    const history = await s.test.get(`${API}/conversations/%2B55${phone}`, { key: tenant.key });

    // Assess: each greeting went to the reminder it answers; the gateway was asked to retry them
    expect(firstStatus.contacts_replied).toBe(1);
    expect(secondStatus.contacts_replied).toBe(1);
    expect((await s.status(tenant, first)).contacts_replied).toBe(1);
    const messages = history.body.conversations.flatMap(
      (c: { messages: { direction: string; queue_id: string | null }[] }) => c.messages,
    );
    const inbound = messages.filter((m: { direction: string }) => m.direction === 'inbound');
    expect(inbound.map((m: { queue_id: string | null }) => m.queue_id).sort()).toEqual(
      [first, second].sort(),
    );
    const replyPosts = s.simulator
      .webhookDeliveries()
      .filter((d) => d.instance === tenant.instance && d.event === 'messages.upsert');
    expect(replyPosts.some((d) => d.status === 503)).toBe(true);
    expect(replyPosts.filter((d) => d.status === 200)).toHaveLength(2);
  }, 60_000);
});
