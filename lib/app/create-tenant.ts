import { DEFAULT_BILLING_CONFIG, parseBillingConfigPatch } from '../domain/billing-config.ts';
import { DomainError } from '../domain/errors.ts';
import type { BusinessCalendar, Tenant } from '../domain/tenant-types.ts';
import type { Clock } from '../ports/clock.ts';
import type { TenantStore } from '../ports/store.ts';

const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** Monday to Friday, 09:00 to 18:00 in the tenant's zone, closed on national holidays. */
export const defaultCalendar = (timezone: string): BusinessCalendar => ({
  timezone,
  weekly: Object.fromEntries([1, 2, 3, 4, 5].map((d) => [d, [{ start: '09:00', end: '18:00' }]])),
  nationalHolidays: true,
  closedDates: [],
});

/**
 * Creates a tenant with the default billing config, adjusted by `config`.
 * 1. validate id and config; 2. conditional create (an existing id is a conflict, never overwritten);
 * 3. default business hours (changed with `hours set`).
 */
export const createTenant = async (
  deps: { store: TenantStore; clock: Clock },
  input: { id: string; name?: string; config?: unknown },
): Promise<Tenant> => {
  if (!TENANT_ID.test(input.id)) {
    throw new DomainError('INVALID_CONFIG', {
      reason: `id do tenant "${input.id}" deve ter 2 a 63 letras minúsculas, dígitos ou hífens`,
    });
  }
  const patch = parseBillingConfigPatch(input.config ?? {});
  const at = deps.clock.now().toISOString();
  const tenant: Tenant = {
    id: input.id,
    name: input.name?.trim() || input.id,
    config: { ...DEFAULT_BILLING_CONFIG, ...patch },
    createdAt: at,
    updatedAt: at,
  };
  if ((await deps.store.createTenant(tenant)) === 'exists') {
    throw new DomainError('TENANT_EXISTS', { id: input.id });
  }
  // Reminders about money never go out at night: every tenant starts with business hours.
  await deps.store.putCalendar(tenant.id, defaultCalendar(tenant.config.timezone));
  return tenant;
};
