import { createCampaign } from '../../lib/app/create-campaign.ts';
import type { PumpDeps, PumpOptions } from '../../lib/app/run-queue.ts';
import type { ContactInput } from '../../lib/domain/contact-intake.ts';
import type { BusinessCalendar, Tenant, WhatsAppInstance } from '../../lib/domain/tenant-types.ts';
import type { CallbackEvent, TemplateType } from '../../lib/domain/types.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type { SendOutcome, WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
import { apiKey, instance } from '../integration/store-contract/tenant-store-contract.ts';
import { inMemoryDeps, seededDeps, simpleTemplate, tenantWith } from './use-case-deps.ts';

/** The pump's options for a run that is never cut short by its budget. */
export const OPTIONS: PumpOptions = { budgetMs: 600_000, leaseMs: 30_000, gatewayTimeoutMs: 1_500 };

export const contacts = (count: number): ContactInput[] =>
  Array.from({ length: count }, (_, i) => ({
    nome_cliente: `Cliente ${i}`,
    telefone: `+55119876543${String(i).padStart(2, '0')}`,
    mensagem: 'Sua fatura está disponível',
  }));

/**
 * The pump's ports over `base` (in memory, on virtual time: a sleep moves the clock), with a gateway
 * that answers each send with the next scripted outcome (accepted when the script runs out).
 */
const pumpPorts = (base: Awaited<ReturnType<typeof seededDeps>>['deps'], script: SendOutcome['kind'][]) => {
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
    secrets: { resolve: async () => 'evolution-key' },
    sleep: async (ms) => base.clock.set(new Date(base.clock.now().getTime() + ms).toISOString()),
  };
  return { deps, sends, events };
};

/**
 * The pump's ports in memory, on virtual time (a sleep moves the clock), with a gateway that answers
 * each send with the next scripted outcome (accepted when the script runs out), and a notification
 * batch of 5 contacts accepted.
 */
export const pumpWorld = async (
  script: SendOutcome['kind'][] = [],
  config = {},
  callbacks: CampaignCallbacks = NO_CALLBACKS,
) => {
  const { deps: base, tenant } = await seededDeps(
    tenantWith({ messagesPerMinute: 60, minIntervalSeconds: 1, jitterSeconds: 0, ...config }),
  );
  const { deps, sends, events } = pumpPorts(base, script);
  // This world's runs never defer: a schedule would go nowhere.
  deps.scheduler = { schedule: async () => undefined, cancel: async () => undefined };
  const { campaign, item } = await acceptNotificationBatch(base, tenant, 5, callbacks);
  return { deps, base, sends, events, queueId: campaign.queueId, item };
};

/** Where a batch's callbacks go and which events it asks for. */
export interface CampaignCallbacks {
  callbackUrl: string | null;
  callbackEvents: CallbackEvent[];
}

const NO_CALLBACKS: CampaignCallbacks = { callbackUrl: null, callbackEvents: [] };

/**
 * A `notification` batch of `count` contacts accepted for `tenant` (external id `fatura-1`), and the
 * work item it published (the first one `deps` saw).
 */
export const acceptNotificationBatch = async (
  deps: Parameters<typeof createCampaign>[0] & { published: readonly WorkItem[] },
  tenant: Tenant,
  count: number,
  callbacks: CampaignCallbacks = NO_CALLBACKS,
) => {
  const { campaign } = await createCampaign(deps, {
    tenant,
    apiKey: apiKey({ allowedTemplateTypes: ['notification'] }),
    templateType: 'notification',
    externalId: 'fatura-1',
    contacts: contacts(count),
    ...callbacks,
    metadata: {},
    canonicalBody: {},
  });
  const [item] = deps.published;
  if (!item) throw new Error('createCampaign published no work item');
  return { campaign, item };
};

/** Weekdays 09:00-18:00 in São Paulo, national holidays closed. */
export const WEEKDAY_HOURS: BusinessCalendar = {
  timezone: 'America/Sao_Paulo',
  weekly: Object.fromEntries([1, 2, 3, 4, 5].map((d) => [d, [{ start: '09:00', end: '18:00' }]])),
  nationalHolidays: true,
  closedDates: [],
};

/** An overdue reminder of invoice `invoice` for `phone` (a past due date, so the Accept path takes it). */
export const overdueContact = (phone: string, name = 'Maria', invoice = 'NF-1'): ContactInput => ({
  nome_cliente: name,
  telefone: phone,
  valor: 'R$ 99,90',
  data_vencimento: '01/12/2026',
  numero_fatura: invoice,
});

/**
 * The pump's ports in memory on virtual time starting at `start`, for reminders: tenant acme with
 * `config`, weekday business hours (WEEKDAY_HOURS), overdue and notification templates, and
 * `instance` as its one open instance. `post` accepts a batch and returns its work item; the
 * scheduler records what it is asked (`base.scheduled`).
 */
export const reminderWorld = async (
  start: string,
  config: Partial<Tenant['config']> = {},
  instanceFields: Partial<WhatsAppInstance> = {},
) => {
  const base = inMemoryDeps(start);
  const tenant = tenantWith({ messagesPerMinute: 60, minIntervalSeconds: 1, jitterSeconds: 0, ...config });
  await base.store.createTenant(tenant);
  await base.store.putTemplate(simpleTemplate('notification'));
  await base.store.putTemplate(simpleTemplate('overdue'));
  await base.store.putCalendar(tenant.id, WEEKDAY_HOURS);
  await base.store.putInstance(instance(instanceFields));
  const { deps, sends, events } = pumpPorts(base, []);
  const post = async (type: TemplateType, batch: ContactInput[], externalId: string): Promise<WorkItem> => {
    const current = (await base.store.getTenant(tenant.id)) ?? tenant;
    const published = base.published.length;
    await createCampaign(base, {
      tenant: current,
      apiKey: apiKey({ allowedTemplateTypes: [type] }),
      templateType: type,
      externalId,
      contacts: batch,
      callbackUrl: null,
      callbackEvents: [],
      metadata: {},
      canonicalBody: { externalId },
    });
    const item = base.published[published];
    if (!item) throw new Error('createCampaign published no work item');
    return item;
  };
  return { deps, base, sends, events, post };
};
