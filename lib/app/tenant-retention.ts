import { DEFAULT_BILLING_CONFIG } from '../domain/billing-config.ts';
import type { TenantStore } from '../ports/store.ts';

/**
 * How many days the tenant keeps settled data (its `retentionDays`; the default for a tenant that
 * is gone, so data of a removed tenant still expires).
 */
export const tenantRetentionDays = async (
  store: Pick<TenantStore, 'getTenant'>,
  tenantId: string,
): Promise<number> =>
  (await store.getTenant(tenantId))?.config.retentionDays ?? DEFAULT_BILLING_CONFIG.retentionDays;
