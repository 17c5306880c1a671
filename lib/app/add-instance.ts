import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { WhatsAppInstance } from '../domain/types.ts';
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
}

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
  if (!(await deps.store.getTenant(input.tenantId)))
    throw new DomainError('TENANT_NOT_FOUND', { id: input.tenantId });
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    throw new DomainError('INVALID_CONFIG', { reason: `URL da Evolution API inválida: ${input.baseUrl}` });
  }
  if (!['http:', 'https:'].includes(url.protocol)) {
    throw new DomainError('INVALID_CONFIG', { reason: 'a URL da Evolution API deve ser http ou https' });
  }
  if (!/^[\w.-]{1,100}$/.test(input.instanceName)) {
    throw new DomainError('INVALID_CONFIG', { reason: `nome de instância inválido: ${input.instanceName}` });
  }
  if (!CREDENTIAL_REF.test(input.credentialRef)) {
    throw new DomainError('INVALID_CONFIG', {
      reason: 'credencial deve ser env:NOME_DA_VARIAVEL, ssm:/caminho ou plain:valor',
    });
  }
  const instance: WhatsAppInstance = {
    id: input.id ?? input.instanceName,
    tenantId: input.tenantId,
    instanceName: input.instanceName,
    baseUrl: url.toString().replace(/\/$/, ''),
    credentialRef: input.credentialRef,
    webhookSecret: input.webhookSecret ?? randomBytes(24).toString('base64url'),
    isActive: true,
    connectionState: 'unknown',
    createdAt: deps.clock.now().toISOString(),
  };
  await deps.store.putInstance(instance);
  await wakeParkedQueues(deps, instance.tenantId);
  return instance;
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
  const instance = await deps.store.getInstance(tenantId, instanceId);
  if (!instance) throw new DomainError('INSTANCE_NOT_FOUND');
  const updated = { ...instance, isActive: active };
  await deps.store.putInstance(updated);
  if (active) await wakeParkedQueues(deps, tenantId);
  return updated;
};
