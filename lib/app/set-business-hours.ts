import { validateCalendar } from '../domain/business-hours.ts';
import { DomainError } from '../domain/errors.ts';
import type { BusinessCalendar } from '../domain/types.ts';
import type { TenantStore } from '../ports/store.ts';

/**
 * Replaces the tenant's business calendar after validating it (overnight windows, bad times,
 * unknown zone or region are refused with a Portuguese reason). The calendar's timezone is the
 * tenant's timezone, so both are kept equal.
 */
export const setBusinessHours = async (
  deps: { store: TenantStore; clock: { now(): Date } },
  tenantId: string,
  calendar: BusinessCalendar,
): Promise<BusinessCalendar> => {
  const tenant = await deps.store.getTenant(tenantId);
  if (!tenant) throw new DomainError('TENANT_NOT_FOUND', { id: tenantId });
  const result = validateCalendar(calendar);
  if (!result.ok) throw result.error;
  await deps.store.putCalendar(tenantId, result.value);
  if (tenant.config.timezone !== result.value.timezone) {
    await deps.store.updateTenantConfig(
      tenantId,
      { timezone: result.value.timezone },
      deps.clock.now().toISOString(),
    );
  }
  return result.value;
};
