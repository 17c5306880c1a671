import { parseBillingConfigPatch } from '../domain/billing-config.ts';
import { DomainError } from '../domain/errors.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { Clock } from '../ports/clock.ts';
import type { TenantStore } from '../ports/store.ts';

/**
 * Changes some of a tenant's billing settings. Running queues read the config on every pump,
 * so a new pace applies without pausing them.
 */
export const configureTenant = async (
  deps: { store: TenantStore; clock: Clock },
  tenantId: string,
  patch: unknown,
): Promise<Tenant> => {
  const valid = parseBillingConfigPatch(patch);
  const updated = await deps.store.updateTenantConfig(tenantId, valid, deps.clock.now().toISOString());
  if (!updated) throw new DomainError('TENANT_NOT_FOUND', { id: tenantId });
  return updated;
};
