import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import type { BillingTemplate, Tenant } from '../../lib/domain/tenant-types.ts';
import type { TemplateType } from '../../lib/domain/types.ts';
import type { Logger } from '../../lib/observability/logger.ts';
import type { CallbackUrlGuard } from '../../lib/ports/callback-url-guard.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Metrics, QueueStatusChange } from '../../lib/ports/metrics.ts';
import type { Scheduler } from '../../lib/ports/scheduler.ts';
import type { Store } from '../../lib/ports/store.ts';
import type { WorkItem, WorkQueue } from '../../lib/ports/work-queue.ts';
import { instance } from '../integration/store-contract/tenant-store-contract.ts';
import { createInMemoryStore } from './in-memory-store.ts';

/** A clock the test moves by hand. */
export const handClock = (start: string): Clock & { set(iso: string): void } => {
  let current = new Date(start);
  return { now: () => current, set: (iso) => (current = new Date(iso)) };
};

/**
 * The ports a use case needs, all in memory, recording what it did: the in-memory store, the items
 * published to the work queue, the queue status changes counted, the warnings logged.
 */
export const inMemoryDeps = (start = '2026-03-02T13:00:00.000Z') => {
  const clock = handClock(start);
  const store: Store = createInMemoryStore({ clock });
  const published: WorkItem[] = [];
  const statusChanges: QueueStatusChange[] = [];
  const warnings: string[] = [];
  const infos: Array<{ message: string; fields: unknown }> = [];
  const scheduled: Array<{ name: string; at: string; queueId: string; item: WorkItem }> = [];
  const scheduler: Scheduler = {
    schedule: async (name, at, item) =>
      void scheduled.push({ name, at: at.toISOString(), queueId: item.queueId, item }),
    cancel: async () => undefined,
  };
  const ignore = () => undefined;
  const metrics: Metrics = {
    messageSent: ignore,
    messageDelivered: ignore,
    messageRead: ignore,
    replyReceived: ignore,
    deliveryStalled: ignore,
    queueStatusChanged: (change) => void statusChanges.push(change),
    webhookIgnored: ignore,
    dependencyFailed: ignore,
    sendRate: ignore,
    flush: async () => undefined,
  };
  const workQueue = {
    publish: async (item: WorkItem) => void published.push(structuredClone(item)),
  } as unknown as WorkQueue;
  const logger = {
    debug: ignore,
    info: (message: string, fields?: unknown) => void infos.push({ message, fields }),
    error: ignore,
    warn: (message: string) => void warnings.push(message),
    // A child logs into the same lists (its persistent keys are not kept).
    createChild: () => logger,
  } as unknown as Logger;
  const callbackUrlGuard: CallbackUrlGuard = {
    check: async (url) => ({ ok: true, value: new URL(url) }),
  };
  return {
    store,
    clock,
    metrics,
    workQueue,
    logger,
    callbackUrlGuard,
    random: () => 0.5,
    published,
    statusChanges,
    warnings,
    infos,
    scheduler,
    scheduled,
  };
};

/** A tenant with the product's defaults and the given config changes. */
export const tenantWith = (config: Partial<Tenant['config']> = {}): Tenant => ({
  id: 'acme',
  name: 'Acme',
  config: { ...DEFAULT_BILLING_CONFIG, ...config },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** The DomainError `action` refuses with (anything else fails the test). */
export const refusalOf = async (action: () => Promise<unknown>): Promise<DomainError> => {
  try {
    await action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
};

/** A one-variation template of `type` for tenant acme (`Olá {{nome_cliente}}`). */
export const simpleTemplate = (type: TemplateType = 'notification'): BillingTemplate => ({
  tenantId: 'acme',
  type,
  name: type === 'notification' ? 'Aviso' : 'Cobrança',
  isActive: true,
  requiredVariables: ['nome_cliente'],
  rotationStrategy: 'sequential',
  variations: [{ id: 'v1', messageTemplate: 'Olá {{nome_cliente}}', isActive: true, timesUsed: 0 }],
  updatedAt: '2026-01-01T00:00:00.000Z',
});

/** The in-memory ports with `tenant` (acme), its notification template and one open instance. */
export const seededDeps = async (tenant = tenantWith()) => {
  const deps = inMemoryDeps();
  await deps.store.createTenant(tenant);
  await deps.store.putTemplate(simpleTemplate());
  await deps.store.putInstance(instance());
  return { deps, tenant };
};
