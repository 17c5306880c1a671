import { describe, expect, it } from 'vitest';
import type { CreateCampaignInput } from '../../lib/app/campaign-intake.ts';
import { CAMPAIGN_LEASE_MS, createCampaign } from '../../lib/app/create-campaign.ts';
import { defaultCalendar } from '../../lib/app/create-tenant.ts';
import type { ContactInput } from '../../lib/domain/contact-intake.ts';
import type { Tenant } from '../../lib/domain/tenant-types.ts';
import { apiKey, instance } from '../integration/store-contract/tenant-store-contract.ts';
import {
  type inMemoryDeps,
  refusalOf,
  seededDeps,
  simpleTemplate,
  tenantWith,
} from '../support/use-case-deps.ts';

const DAY = '2026-03-02';

const key = apiKey({ allowedTemplateTypes: ['notification'] });

const contacts = (count: number): ContactInput[] =>
  Array.from({ length: count }, (_, i) => ({
    nome_cliente: `Cliente ${i}`,
    telefone: `+55119876543${String(i).padStart(2, '0')}`,
    mensagem: 'Sua fatura está disponível',
  }));

const input = (tenant: Tenant, externalId: string, batch: ContactInput[]): CreateCampaignInput => {
  const body = { external_id: externalId, contacts: batch };
  return {
    tenant,
    apiKey: key,
    templateType: 'notification',
    externalId,
    contacts: batch,
    callbackUrl: null,
    callbackEvents: [],
    metadata: {},
    canonicalBody: body,
  };
};

const seeded = seededDeps;

const queuesOf = async (deps: ReturnType<typeof inMemoryDeps>) =>
  (await deps.store.listQueues('acme', { limit: 100 })).items;

describe('createCampaign', () => {
  it('sends through the instance the batch names, else the tenant default, and refuses an unknown one', async () => {
    // Prepare: inst-1 (oldest) and loja-2, with loja-2 as the default
    const { deps } = await seeded();
    await deps.store.putInstance(instance({ id: 'loja-2', createdAt: '2025-06-01T00:00:00.000Z' }));
    const tenant = tenantWith({ defaultInstanceId: 'loja-2' });

    // Act
    const named = await createCampaign(deps, {
      ...input(tenant, 'nomeada', contacts(1)),
      instanceId: 'inst-1',
    });
    const unnamed = await createCampaign(deps, input(tenant, 'sem-nome', contacts(1)));
    const unknown = await refusalOf(() =>
      createCampaign(deps, { ...input(tenant, 'desconhecida', contacts(1)), instanceId: 'nope' }),
    );

    // Assess
    expect((await deps.store.getQueue(named.campaign.queueId))?.instanceId).toBe('inst-1');
    expect((await deps.store.getQueue(unnamed.campaign.queueId))?.instanceId).toBe('loja-2');
    expect(unknown.code).toBe('UNKNOWN_INSTANCE');
    expect(unknown.message).toBe('Instância não encontrada ou inativa: nope');
    expect(await deps.store.getCampaign('acme', 'desconhecida')).toBeUndefined();
  });

  it('estimates the sending time from the scheduled start, not from a night of waiting', async () => {
    // Prepare: Monday 00:00 in São Paulo, opening at 09:00
    const { deps, tenant } = await seeded(
      tenantWith({ timezone: 'America/Sao_Paulo', messagesPerMinute: 20 }),
    );
    deps.clock.set('2026-03-02T03:00:00.000Z');
    await deps.store.putCalendar('acme', defaultCalendar('America/Sao_Paulo'));
    await deps.store.putTemplate(simpleTemplate('overdue'));
    const overdue = contacts(3).map((c) => ({ ...c, data_vencimento: '01/02/2026' }));

    // Act
    const { campaign } = await createCampaign(deps, {
      ...input(tenant, 'noite', overdue),
      templateType: 'overdue',
    });

    // Assess
    expect(campaign.scheduledStart).toBe('2026-03-02T12:00:00.000Z');
    expect(campaign.estimatedDurationMinutes).toBe(1);
  });

  it("estimates a debtor named twice as reminded again the next business day (the frequency cap's default)", async () => {
    // Prepare: Monday 10:00 in São Paulo; the first debtor has two invoices in the batch.
    const { deps, tenant } = await seeded(
      tenantWith({ timezone: 'America/Sao_Paulo', messagesPerMinute: 20 }),
    );
    deps.clock.set('2026-03-02T13:00:00.000Z');
    await deps.store.putCalendar('acme', defaultCalendar('America/Sao_Paulo'));
    await deps.store.putTemplate(simpleTemplate('overdue'));
    const [first, second] = contacts(2).map((c) => ({ ...c, data_vencimento: '01/02/2026' }));
    const batch = [first, second, { ...first, numero_fatura: 'NF-2' }] as ContactInput[];

    // Act
    const { campaign } = await createCampaign(deps, {
      ...input(tenant, 'repetido', batch),
      templateType: 'overdue',
    });

    // Assess: 20 h after 10:00 is Tuesday 06:00, before the opening: Tuesday 09:00, 23 h later.
    expect(campaign.scheduledStart).toBeNull();
    expect(campaign.estimatedDurationMinutes).toBe(23 * 60);
  });

  it('logs one line per accepted batch, with ids and counts and never a phone or a name', async () => {
    // Prepare
    const { deps, tenant } = await seeded();

    // Act
    const { campaign } = await createCampaign(deps, input(tenant, 'fatura-log', contacts(2)));

    // Assess
    expect(deps.infos).toEqual([
      {
        message: 'batch accepted',
        fields: {
          tenantId: 'acme',
          queueId: campaign.queueId,
          templateType: 'notification',
          accepted: 2,
          rejected: 0,
        },
      },
    ]);
    expect(JSON.stringify(deps.infos)).not.toMatch(/5511|Cliente/);
  });

  it('stores the campaign, its queue and contacts, publishes the work item and counts the variation uses', async () => {
    // Prepare
    const { deps, tenant } = await seeded();

    // Act
    const answer = await createCampaign(deps, input(tenant, 'fatura-1', contacts(3)));

    // Assess
    const { campaign } = answer;
    expect(answer.replayed).toBe(false);
    expect(campaign).toMatchObject({ state: 'created', quotaReserved: true, accepted: 3, rejected: [] });
    expect(await deps.store.getCampaign('acme', 'fatura-1')).toMatchObject({
      id: campaign.id,
      state: 'created',
    });
    expect(await deps.store.getQueue(campaign.queueId)).toMatchObject({
      status: 'pending',
      totalContacts: 3,
      instanceId: 'inst-1',
    });
    const stored = (await deps.store.listContacts(campaign.queueId, { limit: 10 })).items;
    expect(stored.map((c) => [c.phone, c.status, c.renderedMessage])).toEqual([
      ['+5511987654300', 'pending', 'Olá Cliente 0'],
      ['+5511987654301', 'pending', 'Olá Cliente 1'],
      ['+5511987654302', 'pending', 'Olá Cliente 2'],
    ]);
    expect(deps.published).toEqual([
      { queueId: campaign.queueId, tenantId: 'acme', instanceId: 'inst-1', generation: 0 },
    ]);
    expect((await deps.store.getTemplate('acme', 'notification'))?.variations[0]?.timesUsed).toBe(3);
  });

  it("renders the tenant's creditor name and CNPJ without the ERP sending them", async () => {
    // Prepare
    const tenant = tenantWith({ creditorName: 'ACME Ltda', creditorDocument: '11.222.333/0001-81' });
    const { deps } = await seeded(tenant);
    await deps.store.putTemplate({
      ...simpleTemplate(),
      variations: [
        {
          id: 'v1',
          messageTemplate: 'Olá {{nome_cliente}}. {{empresa}}, CNPJ {{cnpj}}',
          isActive: true,
          timesUsed: 0,
        },
      ],
    });

    // Act
    const { campaign } = await createCampaign(deps, input(tenant, 'credor', contacts(1)));

    // Assess
    const [stored] = (await deps.store.listContacts(campaign.queueId, { limit: 10 })).items;
    expect(stored?.renderedMessage).toBe('Olá Cliente 0. ACME Ltda, CNPJ 11.222.333/0001-81');
  });

  it('replays the stored answer for the same body, storing and publishing nothing more', async () => {
    // Prepare
    const { deps, tenant } = await seeded();
    const first = await createCampaign(deps, input(tenant, 'fatura-1', contacts(2)));

    // Act
    const again = await createCampaign(deps, input(tenant, 'fatura-1', contacts(2)));

    // Assess
    expect(again.replayed).toBe(true);
    expect(again.campaign.id).toBe(first.campaign.id);
    expect(await queuesOf(deps)).toHaveLength(1);
    expect(deps.published).toHaveLength(1);
  });

  it('answers 409 EXTERNAL_ID_CONFLICT for another body under the same external id', async () => {
    // Prepare
    const { deps, tenant } = await seeded();
    const first = await createCampaign(deps, input(tenant, 'fatura-1', contacts(2)));

    // Act
    const conflict = await refusalOf(() => createCampaign(deps, input(tenant, 'fatura-1', contacts(3))));

    // Assess
    expect([conflict.code, conflict.status]).toEqual(['EXTERNAL_ID_CONFLICT', 409]);
    expect((await deps.store.getCampaign('acme', 'fatura-1'))?.id).toBe(first.campaign.id);
    expect(await queuesOf(deps)).toHaveLength(1);
  });

  it('creates one campaign from concurrent identical requests and answers both', async () => {
    // Prepare
    const { deps, tenant } = await seeded();

    // Act
    const answers = await Promise.all([
      createCampaign(deps, input(tenant, 'fatura-1', contacts(2))),
      createCampaign(deps, input(tenant, 'fatura-1', contacts(2))),
    ]);

    // Assess
    expect(new Set(answers.map((a) => a.campaign.id)).size).toBe(1);
    expect(answers.map((a) => a.replayed).sort()).toEqual([false, true]);
    expect(await queuesOf(deps)).toHaveLength(1);
    expect(deps.published).toHaveLength(1);
  });

  it('refuses a batch past the daily limit with 429 and keeps neither it nor its quota', async () => {
    // Prepare
    const { deps, tenant } = await seeded(tenantWith({ dailyMessageLimit: 3 }));
    await createCampaign(deps, input(tenant, 'fatura-1', contacts(2)));

    // Act
    const refused = await refusalOf(() => createCampaign(deps, input(tenant, 'fatura-2', contacts(2))));
    const fits = await createCampaign(deps, input(tenant, 'fatura-3', contacts(1)));

    // Assess
    expect([refused.code, refused.status]).toEqual(['DAILY_LIMIT_EXCEEDED', 429]);
    expect(await deps.store.getCampaign('acme', 'fatura-2')).toBeUndefined();
    expect(fits.campaign.state).toBe('created');
    expect(await deps.store.getDailyQuotaUsed('acme', DAY)).toBe(3);
    expect((await queuesOf(deps)).map((q) => q.externalId).sort()).toEqual(['fatura-1', 'fatura-3']);
  });

  it('lets a retry finish a campaign whose request died once its lease has ended', async () => {
    // Prepare: the first request dies right before it creates the queue.
    const { deps, tenant } = await seeded(tenantWith({ dailyMessageLimit: 10 }));
    const { createQueue } = deps.store;
    deps.store.createQueue = async () => {
      throw new Error('the function timed out');
    };
    await expect(createCampaign(deps, input(tenant, 'fatura-1', contacts(2)))).rejects.toThrow(/timed out/);
    deps.store.createQueue = createQueue;
    deps.clock.set(new Date(deps.clock.now().getTime() + CAMPAIGN_LEASE_MS + 1_000).toISOString());

    // Act
    const retried = await createCampaign(deps, input(tenant, 'fatura-1', contacts(2)));

    // Assess
    expect(retried).toMatchObject({ replayed: true, campaign: { state: 'created' } });
    expect(await deps.store.getCampaign('acme', 'fatura-1')).toMatchObject({ state: 'created' });
    const queue = await deps.store.getQueue(retried.campaign.queueId);
    expect(queue).toMatchObject({ status: 'pending', totalContacts: 2 });
    expect((await deps.store.listContacts(retried.campaign.queueId, { limit: 10 })).items).toHaveLength(2);
    expect(deps.published).toHaveLength(1);
    // The quota was reserved once, by the request that died.
    expect(await deps.store.getDailyQuotaUsed('acme', DAY)).toBe(2);
  });

  it('writes the contacts once, after the whole batch is validated, and never the one it refused', async () => {
    // Prepare: a daily limit (so the quota is reserved and marked), and an invalid phone last of 100.
    const { deps, tenant } = await seeded(tenantWith({ dailyMessageLimit: 1000 }));
    const batch = contacts(100);
    batch[99] = { ...batch[99], nome_cliente: 'Cliente 99', telefone: '(20) 99999-9999' };
    const writes: number[][] = [];
    const putFreshContacts = deps.store.putFreshContacts.bind(deps.store);
    deps.store.putFreshContacts = async (list) => {
      writes.push(list.map((c) => c.position));
      return putFreshContacts(list);
    };

    // Act
    const { campaign } = await createCampaign(deps, input(tenant, 'fatura-1', batch));

    // Assess
    expect(writes).toEqual([Array.from({ length: 99 }, (_, i) => i)]);
    expect(campaign.rejected).toEqual([expect.objectContaining({ index: 99, code: 'INVALID_PHONE' })]);
    const stored = (await deps.store.listContacts(campaign.queueId, { limit: 100 })).items;
    expect(stored.map((c) => c.position)).toEqual(Array.from({ length: 99 }, (_, i) => i));
    expect(await deps.store.getCampaign('acme', 'fatura-1')).toMatchObject({
      state: 'created',
      quotaReserved: true,
    });
    expect(await deps.store.getQueue(campaign.queueId)).toMatchObject({ totalContacts: 99 });
  });

  it('answers 400 NO_VALID_CONTACTS with every refusal and stores nothing when no contact is valid', async () => {
    // Prepare
    const { deps, tenant } = await seeded();

    // Act
    const refused = await refusalOf(() =>
      createCampaign(
        deps,
        input(tenant, 'fatura-1', [{ nome_cliente: 'Ana', telefone: '123', mensagem: 'Oi' }]),
      ),
    );

    // Assess
    expect(refused.code).toBe('NO_VALID_CONTACTS');
    expect(await deps.store.getCampaign('acme', 'fatura-1')).toBeUndefined();
    expect(deps.published).toEqual([]);
  });
});
