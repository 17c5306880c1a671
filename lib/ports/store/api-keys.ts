import type { ApiKey } from '../../domain/tenant-types.ts';

/** API keys: looked up by the hash of the presented secret, never stored in clear. */
export interface ApiKeyStore {
  /** Stores a new key; `exists` if a key with the same hash (or id) is already stored. */
  createApiKey(key: ApiKey): Promise<'created' | 'exists'>;
  /** Looks a key up by the SHA-256 hash of the presented secret. */
  getApiKeyByHash(keyHash: string): Promise<ApiKey | undefined>;
  /** The tenant's keys, newest first. */
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  /** Deactivates a key; false if the tenant has no such key. */
  revokeApiKey(tenantId: string, keyId: string): Promise<boolean>;
  /** Adds one use and records when and from where (best effort, may be called without awaiting). */
  recordApiKeyUse(keyHash: string, at: string, ip: string): Promise<void>;
  /** Replaces the callback signing secrets of a key; false if not found. */
  setApiKeySigningSecrets(tenantId: string, keyId: string, secrets: string[]): Promise<boolean>;
  /** A tenant's API key by id (its signing secrets sign the campaign's callbacks). */
  getApiKeyById(tenantId: string, keyId: string): Promise<ApiKey | undefined>;
}
