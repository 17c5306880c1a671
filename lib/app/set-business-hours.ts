import { isOpen } from '../domain/business-hours.ts';
import { validateCalendar } from '../domain/calendar-validation.ts';
import { type CollectionFinding, lintCollectionHours } from '../domain/collection-lint.ts';
import { DomainError } from '../domain/errors.ts';
import type { BusinessCalendar } from '../domain/tenant-types.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { CampaignStore, SendingStore, TenantStore } from '../ports/store.ts';
import { type DeferralDeps, deferToOpening } from './queue-deferral.ts';
import { publishContinuation } from './queue-work.ts';

export type SetBusinessHoursDeps = DeferralDeps & {
  store: TenantStore & CampaignStore & SendingStore;
  workQueue: Parameters<typeof publishContinuation>[0]['workQueue'];
};

export interface SetBusinessHoursResult {
  calendar: BusinessCalendar;
  /** Windows where state laws close collection contacts (overdue and upcoming keep these hours). */
  warnings: CollectionFinding[];
}

/**
 * Replaces the tenant's business calendar after validating it (overnight windows, bad times,
 * unknown zone or region are refused with a Portuguese reason). The calendar's timezone is the
 * tenant's timezone, so both are kept equal. Queues waiting for the old opening are re-planned:
 * released now if the new hours are open, else scheduled at the new opening, earlier or later.
 * Hours outside what state laws allow for collection contacts are saved, with warnings: the
 * calendar is the tenant's decision (its state, its reminder types).
 */
export const setBusinessHours = async (
  deps: SetBusinessHoursDeps,
  tenantId: string,
  calendar: BusinessCalendar,
): Promise<SetBusinessHoursResult> => {
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
  await replanScheduledQueues(deps, tenantId, result.value);
  return { calendar: result.value, warnings: lintCollectionHours(result.value) };
};

const PAGE = 100;

/** The tenant's queues waiting for an opening, under the calendar that now applies. */
const replanScheduledQueues = async (
  deps: SetBusinessHoursDeps,
  tenantId: string,
  calendar: BusinessCalendar,
): Promise<void> => {
  const now = deps.clock.now();
  const open = isOpen(calendar, now);
  for (const queue of await scheduledQueues(deps, tenantId)) {
    // Released now: the pump starts it (the old schedule, when it fires, finds nothing to do).
    if (open) await publishContinuation(deps, queue);
    else await deferToOpening(deps, queue, calendar, now);
  }
};

const scheduledQueues = async (deps: SetBusinessHoursDeps, tenantId: string): Promise<BillingQueue[]> => {
  const queues: BillingQueue[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listQueues(tenantId, { status: 'scheduled', limit: PAGE, cursor });
    queues.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return queues;
};
