import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { createDeliveryWatchArmer } from '../../lib/app/delivery-watch.ts';
import { newBillingContact, newBillingQueue } from '../../lib/domain/billing-queue.ts';
import type {
  BillingContact,
  BillingQueue,
  Campaign,
  ContactStatus,
  QueueStatus,
  TemplateType,
} from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { inMemoryDeps, tenantWith } from './use-case-deps.ts';

/**
 * In-memory ports for the debtor use cases (payments, erasure): the use-case deps plus real billing
 * events (stored callback items) and delivery watches, and builders for campaigns, queues and
 * contacts of tenant acme that ask for every callback.
 */

export const CREATED_AT = '2026-03-02T12:00:00.000Z';

export interface SeededContact {
  status: ContactStatus;
  phone: string;
  invoice?: string | null;
  name?: string;
  extra?: Partial<BillingContact>;
}

/** `store` replaces the in-memory store (a DynamoDB store on a lagging endpoint, say), on the deps' clock. */
export const debtorDeps = async (options: { store?: (clock: Clock) => Store } = {}) => {
  const inMemory = inMemoryDeps();
  const base = options.store ? { ...inMemory, store: options.store(inMemory.clock) } : inMemory;
  await base.store.createTenant(tenantWith());
  const events = createBillingEvents({ store: base.store, clock: base.clock });
  const deliveryWatch = createDeliveryWatchArmer({ store: base.store, clock: base.clock });
  return { ...base, events, deliveryWatch };
};

export type DebtorDeps = Awaited<ReturnType<typeof debtorDeps>>;

/** Stores a campaign (asking for every callback), its queue in `status`, and its contacts. */
export const seedQueue = async (
  deps: Pick<DebtorDeps, 'store'>,
  id: string,
  status: QueueStatus,
  contacts: readonly SeededContact[],
  options: { tenantId?: string; templateType?: TemplateType; rejected?: Campaign['rejected'] } = {},
): Promise<{ queue: BillingQueue; contacts: BillingContact[] }> => {
  const tenantId = options.tenantId ?? 'acme';
  const templateType = options.templateType ?? 'overdue';
  const campaign: Campaign = {
    id: `camp-${id}`,
    tenantId,
    externalId: `ext-${id}`,
    templateType,
    queueId: id,
    requestHash: 'h',
    apiKeyId: 'key-1',
    callbackUrl: 'https://erp.example.com/hook',
    callbackEvents: ['sent', 'cancelled', 'queue.completed', 'replied'],
    metadata: {},
    state: 'created',
    leaseUntil: CREATED_AT,
    owner: 'request-1',
    plan: { seed: 1, uses: {} },
    quotaReserved: true,
    accepted: contacts.length,
    rejected: options.rejected ?? [],
    estimatedDurationMinutes: 1,
    scheduledStart: null,
    createdAt: CREATED_AT,
  };
  const n = (s: ContactStatus) => contacts.filter((c) => c.status === s).length;
  const queue = newBillingQueue({
    id,
    tenantId,
    campaignId: campaign.id,
    externalId: campaign.externalId,
    templateType,
    instanceId: 'inst-1',
    status,
    totalContacts: contacts.length,
    contactsSent: n('sent'),
    contactsPendingRetry: n('retry'),
    createdAt: CREATED_AT,
  });
  const stored = contacts.map((c, position) =>
    newBillingContact({
      queueId: id,
      tenantId,
      position,
      phone: c.phone,
      name: c.name ?? `Cliente ${position}`,
      invoiceNumber: c.invoice === undefined ? 'NF-1' : c.invoice,
      variables: { nome_cliente: c.name ?? `Cliente ${position}`, numero_fatura: c.invoice ?? 'NF-1' },
      variationId: 'v1',
      renderedMessage: `Olá ${c.name ?? `Cliente ${position}`}, a fatura ${c.invoice ?? 'NF-1'} venceu`,
      createdAt: CREATED_AT,
      status: c.status,
      attempts: c.status === 'pending' ? 0 : 1,
      ...(c.status === 'retry' ? { retryAt: '2026-03-02T14:00:00.000Z' } : {}),
      ...(c.status === 'sent' ? { sentAt: CREATED_AT, providerMessageId: `3EB0-${id}-${position}` } : {}),
      ...c.extra,
    }),
  );
  await deps.store.createCampaign(campaign);
  await deps.store.createQueue(queue);
  await deps.store.putContacts(stored);
  return { queue, contacts: stored };
};
