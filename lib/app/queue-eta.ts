import type { DailySendCap } from '../domain/eta.ts';
import { isFinalQueueStatus } from '../domain/queue-state.ts';
import type { BusinessCalendar, Tenant } from '../domain/tenant-types.ts';
import type { BillingQueue } from '../domain/types.ts';
import type { CounterStore, TenantStore } from '../ports/store.ts';
import { warmupSendCapOf } from './instance-warmup.ts';

/**
 * What the ETA of a tenant's queues depends on besides their counters and pace: the tenant's
 * calendar, and for a queue on a new number, that number's warm-up (its daily caps and what it has
 * sent today), without which a 1000-contact batch on a new number reads as an hour when it takes a
 * week. Each queue is taken to have its instance to itself (queues sharing one take turns).
 */
export interface EtaContext {
  calendar: BusinessCalendar | undefined;
  /** By instance id, the daily caps of the instances that warm up. */
  sendCaps: ReadonlyMap<string, DailySendCap>;
}

/** The ETA context of these queues: the calendar, and one read of each instance an open queue uses (two while it ramps). */
export const etaContextOf = async (
  deps: { store: TenantStore & CounterStore },
  tenant: Tenant,
  queues: readonly BillingQueue[],
  now: Date,
): Promise<EtaContext> => {
  const instanceIds = new Set(
    queues.flatMap((q) => (q.instanceId && !isFinalQueueStatus(q.status) ? [q.instanceId] : [])),
  );
  const [calendar, caps] = await Promise.all([
    deps.store.getCalendar(tenant.id),
    Promise.all(
      [...instanceIds].map(async (instanceId) => {
        const instance = await deps.store.getInstance(tenant.id, instanceId);
        const cap = instance ? await warmupSendCapOf(deps, tenant, instance, now) : undefined;
        return [instanceId, cap] as const;
      }),
    ),
  ]);
  const sendCaps = new Map<string, DailySendCap>();
  for (const [instanceId, cap] of caps) if (cap) sendCaps.set(instanceId, cap);
  return { calendar, sendCaps };
};
