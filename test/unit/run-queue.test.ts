import { describe, expect, it } from 'vitest';
import { createCampaign } from '../../lib/app/create-campaign.ts';
import { type PumpDeps, type PumpOptions, runQueue } from '../../lib/app/run-queue.ts';
import type { ContactInput } from '../../lib/domain/contact-intake.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type { SendOutcome, WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { apiKey, instance } from '../integration/store-contract/tenant-store-contract.ts';
import { inMemoryDeps, tenantWith } from '../support/use-case-deps.ts';

const OPTIONS: PumpOptions = { budgetMs: 600_000, leaseMs: 30_000, gatewayTimeoutMs: 1_500 };

const contacts = (count: number): ContactInput[] =>
  Array.from({ length: count }, (_, i) => ({
    nome_cliente: `Cliente ${i}`,
    telefone: `+55119876543${String(i).padStart(2, '0')}`,
    mensagem: 'Sua fatura está disponível',
  }));

/**
 * The pump's ports in memory, on virtual time (a sleep moves the clock), with a gateway that answers
 * each send with the next scripted outcome (accepted when the script runs out).
 */
const pumpWorld = async (script: SendOutcome['kind'][] = [], config = {}) => {
  const base = inMemoryDeps();
  const tenant = tenantWith({ messagesPerMinute: 60, minIntervalSeconds: 1, jitterSeconds: 0, ...config });
  await base.store.createTenant(tenant);
  await base.store.putTemplate({
    tenantId: 'acme',
    type: 'notification',
    name: 'Aviso',
    isActive: true,
    requiredVariables: ['nome_cliente'],
    rotationStrategy: 'sequential',
    variations: [{ id: 'v1', messageTemplate: 'Olá {{nome_cliente}}', isActive: true, timesUsed: 0 }],
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  await base.store.putInstance(instance());
  const sends: Array<{ number: string; text: string; at: number }> = [];
  const events: BillingEventInput[] = [];
  const gateway: WhatsAppGateway = {
    sendText: async (_target, number, text) => {
      sends.push({ number, text, at: base.clock.now().getTime() });
      const kind = script.shift() ?? 'sent';
      if (kind === 'sent')
        return { kind, messageId: `3EB0${sends.length}`, remoteJid: `${number}@s.whatsapp.net` };
      if (kind === 'transient') return { kind, reason: 'Connection Closed', rateLimited: false };
      return { kind, reason: kind === 'permanent' ? 'not on WhatsApp' : 'timeout' } as SendOutcome;
    },
    connectionState: async () => 'open',
  };
  const deps: PumpDeps = {
    ...base,
    logger: createLogger('SILENT'),
    gateway,
    events: { emit: async (event) => void events.push(event) },
    deliveryWatch: { arm: async () => undefined },
    scheduler: { schedule: async () => undefined, cancel: async () => undefined },
    secrets: { resolve: async () => 'evolution-key' },
    sleep: async (ms) => base.clock.set(new Date(base.clock.now().getTime() + ms).toISOString()),
  };
  const { campaign } = await createCampaign(base, {
    tenant,
    apiKey: apiKey({ allowedTemplateTypes: ['notification'] }),
    templateType: 'notification',
    externalId: 'fatura-1',
    contacts: contacts(5),
    callbackUrl: null,
    callbackEvents: [],
    metadata: {},
    canonicalBody: {},
  });
  const [item] = base.published;
  if (!item) throw new Error('createCampaign published no work item');
  return { deps, base, sends, events, queueId: campaign.queueId, item };
};

describe('runQueue', () => {
  it('sends every contact once, paced by the tenant, and completes the queue', async () => {
    // Prepare
    const w = await pumpWorld();

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(w.sends.map((s) => s.number)).toEqual(contacts(5).map((c) => c.telefone.slice(1)));
    expect(w.sends[0]?.text).toBe('Olá Cliente 0');
    const gaps = w.sends.slice(1).map((s, i) => s.at - (w.sends[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1000);
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({
      status: 'completed',
      contactsSent: 5,
    });
    expect(w.events.filter((e) => e.name === 'sent')).toHaveLength(5);
  });

  it('a redelivered work item sends nothing twice', async () => {
    // Prepare
    const w = await pumpWorld();
    await runQueue(w.deps, w.item, OPTIONS);

    // Act
    const again = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(again).toBe('skipped');
    expect(w.sends).toHaveLength(5);
  });

  it('fails a contact the gateway refuses for good and retries a transient failure later', async () => {
    // Prepare
    const w = await pumpWorld(['permanent', 'transient'], { retryBackoffSeconds: 5 });

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed.map((c) => c.status)).toEqual(['failed', 'sent', 'sent', 'sent', 'sent']);
    expect(listed[1]?.attempts).toBe(2);
    expect(w.sends).toHaveLength(6);
  });

  it('never resends a contact whose send may have reached the gateway (unknown outcome)', async () => {
    // Prepare
    const w = await pumpWorld(['unknown']);

    // Act
    await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(w.sends.filter((s) => s.number === listed[0]?.phone.slice(1))).toHaveLength(1);
    expect(listed[0]?.status).not.toBe('sent');
  });

  it('skips a contact whose phone opted out after the batch was accepted', async () => {
    // Prepare
    const w = await pumpWorld();
    const optedOut = contacts(5)[2]?.telefone as string;
    await w.base.store.putOptOut({
      tenantId: 'acme',
      phone: optedOut,
      source: 'api',
      reason: '',
      at: '2026-03-02T13:00:00.000Z',
    });

    // Act
    await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(w.sends.map((s) => `+${s.number}`)).not.toContain(optedOut);
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed[2]?.status).toBe('skipped_opt_out');
  });

  it('stops before its first send when the process is stopping, claiming nothing', async () => {
    // Prepare
    const w = await pumpWorld();
    const stopping = new AbortController();
    stopping.abort();

    // Act
    const result = await runQueue(w.deps, w.item, { ...OPTIONS, stopSignal: stopping.signal });

    // Assess
    expect(result).toBe('continued');
    expect(w.sends).toHaveLength(0);
    const listed = (await w.base.store.listContacts(w.queueId, { limit: 10 })).items;
    expect(listed.every((c) => c.status === 'pending')).toBe(true);
    expect(w.base.published.at(-1)?.queueId).toBe(w.queueId);
  });
});
