import { remainingContacts } from '../domain/billing-queue.ts';
import { type DailySendCap, planSending, type SendPlan, sharedSendCount } from '../domain/eta.ts';
import { baseIntervalMs } from '../domain/pacing.ts';
import { isFinalQueueStatus } from '../domain/queue-state.ts';
import type { BillingConfig, BusinessCalendar, Tenant } from '../domain/tenant-types.ts';
import type { BillingQueue, QueueStatus } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { CampaignStore, CounterStore, TenantStore } from '../ports/store.ts';
import { createExpiringMemo, type ExpiringMemo } from './expiring-memo.ts';
import { warmupSendCapOf } from './instance-warmup.ts';
import { indexedQueues } from './tenant-queues.ts';

/**
 * What the ETA of a tenant's queues depends on besides their counters and pace: the tenant's
 * calendar; for a queue on a new number, that number's warm-up (its daily caps and what it has
 * sent today), without which a 1000-contact batch on a new number reads as an hour when it takes a
 * week; and the other queues sending through the same number, which take turns with it (the
 * overdue, upcoming and notification batches of one morning share the tenant's one number).
 */
export interface EtaContext {
  calendar: BusinessCalendar | undefined;
  /** By instance id, the daily caps of the instances that warm up. */
  sendCaps: ReadonlyMap<string, DailySendCap>;
  /**
   * By instance id, the queues that send through it or will as soon as they may, each with when it
   * would send its remaining contacts if it had the instance to itself.
   */
  sharing: ReadonlyMap<string, readonly SharingQueue[]>;
}

export interface SharingQueue {
  id: string;
  remaining: number;
  alone: SendPlan;
}

export const NO_ETA_CONTEXT: EtaContext = { calendar: undefined, sendCaps: new Map(), sharing: new Map() };

/** The statuses of a queue that takes turns on its instance: it sends, or will as soon as it may. */
const TAKING_TURNS: readonly QueueStatus[] = ['pending', 'running', 'scheduled', 'instance_down'];

/**
 * How long a process reuses a tenant's listing of its queues taking turns. Each ETA of an open queue
 * needs the others on its instance, and listing them reads every open queue of the tenant: an ERP
 * that posts one batch per invoice and polls each one's status would pay the square of its open
 * queues in reads. Remembered, a warm process lists them once per period; the queue asked about is
 * always read afresh, and the others' counts are at most this old (a few sends at the default pace).
 */
export const TAKING_TURNS_TTL_MS = 30_000;
/** Tenants whose listing a process remembers at once. */
const TAKING_TURNS_TENANTS = 1_000;

/** A process's memory of each tenant's queues taking turns (one per container). */
export type TakingTurnsMemo = ExpiringMemo<BillingQueue[]>;

export const createTakingTurnsMemo = (clock: Clock): TakingTurnsMemo =>
  createExpiringMemo(clock, TAKING_TURNS_TTL_MS, TAKING_TURNS_TENANTS);

/** What an ETA reads with; without `takingTurns` the other queues are listed on every call. */
export interface EtaDeps {
  store: TenantStore & CounterStore & CampaignStore;
  clock: Clock;
  takingTurns?: TakingTurnsMemo;
}

/**
 * The ETA context of these queues: the calendar, one read of each instance an open queue uses (two
 * while it ramps), and the tenant's queues taking turns (one listing per such status, only when a
 * queue asked about is open; remembered for TAKING_TURNS_TTL_MS when `deps.takingTurns` is given).
 */
export const etaContextOf = async (
  deps: EtaDeps,
  tenant: Tenant,
  queues: readonly BillingQueue[],
  now: Date,
): Promise<EtaContext> => {
  const instanceIds = new Set(
    queues.flatMap((q) => (q.instanceId && !isFinalQueueStatus(q.status) ? [q.instanceId] : [])),
  );
  const [calendar, caps, open] = await Promise.all([
    deps.store.getCalendar(tenant.id),
    Promise.all(
      [...instanceIds].map(async (instanceId) => {
        const instance = await deps.store.getInstance(tenant.id, instanceId);
        const cap = instance ? await warmupSendCapOf(deps, tenant, instance, now) : undefined;
        return [instanceId, cap] as const;
      }),
    ),
    instanceIds.size > 0 ? takingTurnsOf(deps, tenant.id) : [],
  ]);
  const sendCaps = new Map<string, DailySendCap>();
  for (const [instanceId, cap] of caps) if (cap) sendCaps.set(instanceId, cap);
  const sharing = new Map<string, SharingQueue[]>();
  for (const queue of open) {
    const remaining = remainingContacts(queue);
    if (!queue.instanceId || !instanceIds.has(queue.instanceId) || remaining === 0) continue;
    const alone = planAlone(queue, tenant.config, now, { calendar, sendCaps }, remaining);
    sharing.set(queue.instanceId, [
      ...(sharing.get(queue.instanceId) ?? []),
      { id: queue.id, remaining, alone },
    ]);
  }
  return { calendar, sendCaps, sharing };
};

/** The tenant's queues taking turns, as the process remembers them when it does. */
const takingTurnsOf = (deps: EtaDeps, tenantId: string): Promise<BillingQueue[]> => {
  const list = () => indexedQueues(deps, { tenantId }, TAKING_TURNS);
  return deps.takingTurns ? deps.takingTurns(tenantId, list) : list();
};

/** When a queue may send next: its scheduled start or wake-up while that is ahead, else now. */
const sendsFrom = (q: BillingQueue, now: Date): Date =>
  q.nextRunAt && new Date(q.nextRunAt) > now ? new Date(q.nextRunAt) : now;

/** When `count` of a queue's contacts would go out if it had its instance to itself. */
const planAlone = (
  q: BillingQueue,
  config: BillingConfig,
  now: Date,
  context: Pick<EtaContext, 'calendar' | 'sendCaps'>,
  count: number,
): SendPlan =>
  planSending(
    q.templateType === 'notification' ? undefined : context.calendar,
    sendsFrom(q, now),
    count,
    baseIntervalMs(config),
    q.instanceId ? context.sendCaps.get(q.instanceId) : undefined,
  );

/**
 * When a queue's last contact is expected to go (ISO), or null when it is finished, paused or has
 * none left: the tenant's calendar (overdue and upcoming; notifications go 24/7) walked at the
 * tenant's pace from now or its scheduled start, whichever is later, within the warm-up caps of its
 * instance while it ramps. The other queues on the instance whose sending, each alone, would
 * overlap this one's take turns with it, so their contacts count too, as many as this one has at
 * most (`sharedSendCount`): a queue that would be done before this one starts, or that starts after
 * this one would be done, does not.
 */
export const queueEtaOf = (
  q: BillingQueue,
  config: BillingConfig,
  now: Date,
  context: EtaContext,
): string | null => {
  const remaining = remainingContacts(q);
  if (isFinalQueueStatus(q.status) || q.status === 'paused' || remaining === 0) return null;
  const alone = planAlone(q, config, now, context, remaining);
  const overlapping = (q.instanceId ? (context.sharing.get(q.instanceId) ?? []) : []).filter(
    (other) => other.id !== q.id && other.alone.start < alone.end && other.alone.end > alone.start,
  );
  if (overlapping.length === 0) return alone.end.toISOString();
  const count = sharedSendCount(
    remaining,
    overlapping.map((other) => other.remaining),
  );
  return planAlone(q, config, now, context, count).end.toISOString();
};
