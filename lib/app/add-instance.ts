import { randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import type { WhatsAppInstance } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

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

/** Registers (or replaces) a tenant's WhatsApp instance; its webhook secret is generated when not given. */
export const addInstance = async (
  deps: { store: Store; clock: Clock },
  input: AddInstanceInput,
): Promise<WhatsAppInstance> => {
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
  return instance;
};
