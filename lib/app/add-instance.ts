import { randomBytes } from 'node:crypto';
import { localDateIn } from '../domain/due-date.ts';
import { DomainError } from '../domain/errors.ts';
import type { InstanceWarmup, WhatsAppInstance } from '../domain/tenant-types.ts';
import { checkedWarmup, newWarmup } from '../domain/warmup.ts';
import type { Logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { CampaignStore, SendingStore, TenantStore } from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import { wakeParkedQueues } from './wake-parked-queues.ts';

export interface AddInstanceInput {
  tenantId: string;
  /** Our id for it; defaults to the Evolution instance name. */
  id?: string;
  instanceName: string;
  baseUrl: string;
  credentialRef: string;
  webhookSecret?: string;
  /**
   * The warm-up ramp (warmup.ts): on by default for a new number, starting today; `enabled: false`
   * for an old number. Replacing an instance keeps its ramp unless this is given.
   */
  warmup?: WarmupSettings;
}

/** What an operator sets of an instance's warm-up (the start day is always the tenant's today). */
export type WarmupSettings = Partial<Pick<InstanceWarmup, 'enabled' | 'firstDayLimit' | 'dailyGrowth'>>;

/** What an Evolution instance name may be, and so our id for an instance (no `#`, no spaces). */
const INSTANCE_ID = /^[\w.-]{1,100}$/;
const CREDENTIAL_REF = /^(env:[A-Z_][A-Z0-9_]*|ssm:\/.+|plain:.+)$/;

type Deps = {
  store: TenantStore & CampaignStore & SendingStore;
  clock: Clock;
  workQueue: WorkQueue;
  logger: Logger;
  metrics: Metrics;
};

/**
 * Registers (or replaces) a tenant's WhatsApp instance; its webhook secret is generated when not
 * given. Queues parked because the tenant had no active instance start at once.
 */
export const addInstance = async (deps: Deps, input: AddInstanceInput): Promise<WhatsAppInstance> => {
  const tenant = await deps.store.getTenant(input.tenantId);
  if (!tenant) throw new DomainError('TENANT_NOT_FOUND', { id: input.tenantId });
  const fields = checkedConnection(input);
  const id = input.id ?? fields.instanceName;
  // The id goes inside table keys (`MSG#<tenant>#<instance>#<message id>`), which `#` would blur.
  if (!INSTANCE_ID.test(id))
    throw new DomainError('INVALID_CONFIG', { reason: `id de instância inválido: ${id}` });
  const replaced = await deps.store.getInstance(input.tenantId, id);
  const today = localDateIn(tenant.config.timezone, deps.clock.now());
  // A replaced instance is the same number: its ramp (or its lack of one) goes on.
  const warmup = input.warmup || !replaced ? newWarmup(today, input.warmup) : replaced.warmup;
  const instance: WhatsAppInstance = {
    id,
    tenantId: input.tenantId,
    ...fields,
    webhookSecret: input.webhookSecret ?? randomBytes(24).toString('base64url'),
    isActive: true,
    connectionState: 'unknown',
    createdAt: deps.clock.now().toISOString(),
    ...(warmup ? { warmup } : {}),
  };
  await deps.store.putInstance(instance);
  await wakeParkedQueues(deps, instance.tenantId);
  return instance;
};

/** How we reach an instance: its Evolution base URL, instance name and credential reference. */
type InstanceConnection = Pick<WhatsAppInstance, 'baseUrl' | 'instanceName' | 'credentialRef'>;

/** The connection fields, checked (INVALID_CONFIG with a Portuguese reason), the URL normalized. */
const checkedConnection = (input: InstanceConnection): InstanceConnection => {
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    throw new DomainError('INVALID_CONFIG', { reason: `URL da Evolution API inválida: ${input.baseUrl}` });
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new DomainError('INVALID_CONFIG', { reason: 'a URL da Evolution API deve ser http ou https' });
  }
  if (!INSTANCE_ID.test(input.instanceName)) {
    throw new DomainError('INVALID_CONFIG', { reason: `nome de instância inválido: ${input.instanceName}` });
  }
  if (!CREDENTIAL_REF.test(input.credentialRef)) {
    throw new DomainError('INVALID_CONFIG', {
      reason: 'credencial deve ser env:NOME_DA_VARIAVEL, ssm:/caminho ou plain:valor',
    });
  }
  return {
    baseUrl: url.toString().replace(/\/$/, ''),
    instanceName: input.instanceName,
    credentialRef: input.credentialRef,
  };
};

const existingInstance = async (deps: Deps, tenantId: string, instanceId: string) => {
  const instance = await deps.store.getInstance(tenantId, instanceId);
  if (!instance) throw new DomainError('INSTANCE_NOT_FOUND');
  return instance;
};

/**
 * Points an instance elsewhere (a new Evolution server, a new credential, a renamed instance);
 * what is not given stays. Its queues use the change from their next send.
 */
export const updateInstance = async (
  deps: Deps,
  tenantId: string,
  instanceId: string,
  changes: Partial<InstanceConnection>,
): Promise<WhatsAppInstance> => {
  const instance = await existingInstance(deps, tenantId, instanceId);
  const updated = {
    ...instance,
    ...checkedConnection({ ...instance, ...changes }),
    connectionState: 'unknown' as const,
  };
  await deps.store.putInstance(updated);
  await wakeParkedQueues(deps, tenantId);
  return updated;
};

/**
 * The instance a batch that names none is sent through. Queues already accepted keep theirs while
 * it is active.
 */
export const setDefaultInstance = async (deps: Deps, tenantId: string, instanceId: string) => {
  const instance = await existingInstance(deps, tenantId, instanceId);
  await deps.store.updateTenantConfig(
    tenantId,
    { defaultInstanceId: instance.id },
    deps.clock.now().toISOString(),
  );
  return { tenant: tenantId, default_instance: instance.id };
};

/**
 * Forgets an instance: its queues move to the tenant's default (or oldest active) instance when
 * they next run, and its webhooks are refused from now on. A default that is removed is cleared.
 */
export const removeInstance = async (deps: Deps, tenantId: string, instanceId: string) => {
  if (!(await deps.store.deleteInstance(tenantId, instanceId))) throw new DomainError('INSTANCE_NOT_FOUND');
  const tenant = await deps.store.getTenant(tenantId);
  if (tenant?.config.defaultInstanceId === instanceId)
    await deps.store.updateTenantConfig(
      tenantId,
      { defaultInstanceId: null },
      deps.clock.now().toISOString(),
    );
  return { removed: instanceId };
};

/**
 * Changes an instance's warm-up: on or off (an old number needs none), its first day's limit and
 * daily growth, or `restart` (day 1 is today again). Turning it on for an instance that never had
 * one starts the ramp today. Running queues follow from their next run; a queue already waiting
 * for the next day keeps its schedule (pause and resume it to start it now).
 */
export const setInstanceWarmup = async (
  deps: Deps,
  tenantId: string,
  instanceId: string,
  changes: WarmupSettings & { restart?: boolean },
): Promise<WhatsAppInstance> => {
  const instance = await existingInstance(deps, tenantId, instanceId);
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new DomainError('TENANT_NOT_FOUND', { id: tenantId });
  const { restart, ...settings } = changes;
  const today = localDateIn(tenant.config.timezone, deps.clock.now());
  const current = instance.warmup ?? newWarmup(today, { enabled: false });
  const warmup = checkedWarmup({
    enabled: settings.enabled ?? current.enabled,
    firstDayLimit: settings.firstDayLimit ?? current.firstDayLimit,
    dailyGrowth: settings.dailyGrowth ?? current.dailyGrowth,
    // Switched on from nothing (an old number's first ramp) or restarted: day 1 is today.
    startDate: restart || (!instance.warmup && settings.enabled) ? today : current.startDate,
  });
  const updated = { ...instance, warmup };
  await deps.store.putInstance(updated);
  return updated;
};

/**
 * Turns an instance on or off. Off: its queues move to the tenant's next active instance when they
 * next run (or park in `instance_down` until there is one). On: parked queues start at once.
 */
export const setInstanceActive = async (
  deps: Deps,
  tenantId: string,
  instanceId: string,
  active: boolean,
): Promise<WhatsAppInstance> => {
  const instance = await existingInstance(deps, tenantId, instanceId);
  const updated = { ...instance, isActive: active };
  await deps.store.putInstance(updated);
  if (active) await wakeParkedQueues(deps, tenantId);
  return updated;
};
