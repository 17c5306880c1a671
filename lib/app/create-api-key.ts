import { randomUUID } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import { parseIpAllowList } from '../domain/ip-allow-list.ts';
import { type ApiKey, KEY_SCOPES, type KeyScope } from '../domain/tenant-types.ts';
import { TEMPLATE_TYPES, type TemplateType } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiKeyStore, TenantStore } from '../ports/store.ts';
import { displayPrefix, generateApiKey, generateSigningSecret, hashApiKey } from './api-key-secret.ts';

export interface CreateApiKeyInput {
  tenantId: string;
  name: string;
  description?: string;
  allowedTemplateTypes?: readonly string[];
  /** `send`, `read`, `control`; empty or absent = all three. */
  scopes?: readonly string[];
  allowedIps?: readonly string[];
  /** ISO date or instant; a bare date means the end of that day, UTC. */
  expiresAt?: string | null;
  /** Use this secret instead of a random one (the local demo key); must look like a generated key. */
  key?: string;
}

export interface CreatedApiKey {
  /** The secret key, shown this once and never stored. */
  key: string;
  /** Secret for verifying callback signatures, shown this once too. */
  signingSecret: string;
  apiKey: ApiKey;
}

const parseExpiry = (value: string | null | undefined, now: Date): string | null => {
  if (!value) return null;
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T23:59:59.999Z`) : new Date(value);
  if (Number.isNaN(instant.getTime())) {
    throw new DomainError('INVALID_CONFIG', { reason: `data de expiração inválida: ${value}` });
  }
  if (instant <= now) throw new DomainError('INVALID_CONFIG', { reason: 'data de expiração já passou' });
  return instant.toISOString();
};

/**
 * Issues an API key for a tenant.
 * 1. validate types, scopes, IPs and expiry; 2. generate key and signing secret; 3. store only the hash
 * (conditional: the same key twice is a conflict).
 */
export const createApiKey = async (
  deps: { store: TenantStore & ApiKeyStore; clock: Clock },
  input: CreateApiKeyInput,
): Promise<CreatedApiKey> => {
  const now = deps.clock.now();
  if (!(await deps.store.getTenant(input.tenantId)))
    throw new DomainError('TENANT_NOT_FOUND', { id: input.tenantId });
  const types = input.allowedTemplateTypes?.length ? input.allowedTemplateTypes : TEMPLATE_TYPES;
  const unknown = types.filter((t) => !(TEMPLATE_TYPES as readonly string[]).includes(t));
  if (unknown.length) {
    throw new DomainError('INVALID_CONFIG', {
      reason: `tipos desconhecidos: ${unknown.join(', ')} (use ${TEMPLATE_TYPES.join(', ')})`,
    });
  }
  const scopes = input.scopes?.length ? input.scopes : KEY_SCOPES;
  const unknownScopes = scopes.filter((s) => !(KEY_SCOPES as readonly string[]).includes(s));
  if (unknownScopes.length) {
    throw new DomainError('INVALID_CONFIG', {
      reason: `escopos desconhecidos: ${unknownScopes.join(', ')} (use ${KEY_SCOPES.join(', ')})`,
    });
  }
  const allowedIps = parseIpAllowList(input.allowedIps ?? []);
  const key = input.key ?? generateApiKey();
  const signingSecret = generateSigningSecret();
  const apiKey: ApiKey = {
    id: randomUUID(),
    tenantId: input.tenantId,
    name: input.name,
    description: input.description ?? '',
    keyHash: hashApiKey(key),
    keyPrefix: displayPrefix(key),
    allowedTemplateTypes: [...new Set(types)] as TemplateType[],
    scopes: KEY_SCOPES.filter((s) => scopes.includes(s)) as KeyScope[],
    allowedIps,
    expiresAt: parseExpiry(input.expiresAt, now),
    isActive: true,
    usageCount: 0,
    lastUsedAt: null,
    lastUsedIp: null,
    signingSecrets: [signingSecret],
    createdAt: now.toISOString(),
  };
  if ((await deps.store.createApiKey(apiKey)) === 'exists') throw new DomainError('API_KEY_EXISTS');
  return { key, signingSecret, apiKey };
};
