import { createCampaign } from '../../lib/app/create-campaign.ts';
import type { PumpDeps, PumpOptions } from '../../lib/app/run-queue.ts';
import type { ContactInput } from '../../lib/domain/contact-intake.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type { SendOutcome, WhatsAppGateway } from '../../lib/ports/whatsapp-gateway.ts';
import { apiKey } from '../integration/store-contract/tenant-store-contract.ts';
import { seededDeps, tenantWith } from './use-case-deps.ts';

/** The pump's options for a run that is never cut short by its budget. */
export const OPTIONS: PumpOptions = { budgetMs: 600_000, leaseMs: 30_000, gatewayTimeoutMs: 1_500 };

export const contacts = (count: number): ContactInput[] =>
  Array.from({ length: count }, (_, i) => ({
    nome_cliente: `Cliente ${i}`,
    telefone: `+55119876543${String(i).padStart(2, '0')}`,
    mensagem: 'Sua fatura está disponível',
  }));

/**
 * The pump's ports in memory, on virtual time (a sleep moves the clock), with a gateway that answers
 * each send with the next scripted outcome (accepted when the script runs out).
 */
export const pumpWorld = async (script: SendOutcome['kind'][] = [], config = {}) => {
  const { deps: base, tenant } = await seededDeps(
    tenantWith({ messagesPerMinute: 60, minIntervalSeconds: 1, jitterSeconds: 0, ...config }),
  );
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
