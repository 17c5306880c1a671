import { localDateIn } from '../domain/due-date.ts';
import type { DailySendCap } from '../domain/eta.ts';
import type { Tenant, WhatsAppInstance } from '../domain/tenant-types.ts';
import { type WarmupToday, warmupOn, warmupSendCap } from '../domain/warmup.ts';
import type { CounterStore } from '../ports/store.ts';

/**
 * A warming-up instance's daily cap (domain: warmup.ts) against its per-day counter in the store:
 * the pump reserves one send of the day before each claim, and the counter is what `GET /instances`
 * shows as sent today. The day is the tenant's local day, so the cap resets at its midnight.
 */

/** A day's counter lives two days, so a late read on that day still finds it. */
const COUNTER_TTL_MS = 2 * 86_400_000;

type Ramping = Extract<WarmupToday, { kind: 'ramping' }>;

/** Where the instance is on its ramp at `now`, and what it has sent of today's cap. */
export const warmupStatus = async (
  deps: { store: CounterStore },
  tenant: Tenant,
  instance: WhatsAppInstance,
  now: Date,
): Promise<{ today: WarmupToday; sentToday: number }> => {
  const day = localDateIn(tenant.config.timezone, now);
  const today = warmupOn(instance.warmup, day, tenant.config);
  const sentToday =
    today.kind === 'ramping' ? await deps.store.getInstanceSends(tenant.id, instance.id, day) : 0;
  return { today, sentToday };
};

/**
 * The instance's ramp as the daily cap of an ETA (eta.ts), with what it has sent today: how long a
 * queue takes on a new number. Undefined when it does not ramp (then the pace alone decides).
 */
export const warmupSendCapOf = async (
  deps: { store: CounterStore },
  tenant: Tenant,
  instance: WhatsAppInstance,
  now: Date,
): Promise<DailySendCap | undefined> => {
  // warmupStatus reads the day's count only while the ramp runs; warmupSendCap is undefined otherwise.
  const { sentToday } = await warmupStatus(deps, tenant, instance, now);
  const { timezone } = tenant.config;
  return warmupSendCap(instance.warmup, tenant.config, timezone, localDateIn(timezone, now), sentToday);
};

/** Today's ramp when the instance has already sent all it may today; undefined otherwise. */
export const warmupCapReached = async (
  deps: { store: CounterStore },
  tenant: Tenant,
  instance: WhatsAppInstance,
  now: Date,
): Promise<Ramping | undefined> => {
  const { today, sentToday } = await warmupStatus(deps, tenant, instance, now);
  return today.kind === 'ramping' && sentToday >= today.cap ? today : undefined;
};

/**
 * Takes one send of the instance's day, atomically (concurrent pumps of one instance cannot pass
 * the cap together). Undefined when the send may go (no ramp, or within today's cap); today's ramp
 * when the cap is reached. A reservation whose claim then fails is not given back: the day's
 * count may run one over what was sent, never under.
 */
export const reserveWarmupSend = async (
  deps: { store: CounterStore },
  tenant: Tenant,
  instance: WhatsAppInstance,
  now: Date,
): Promise<Ramping | undefined> => {
  const day = localDateIn(tenant.config.timezone, now);
  const today = warmupOn(instance.warmup, day, tenant.config);
  if (today.kind !== 'ramping') return undefined;
  const reserved = await deps.store.reserveInstanceSend(
    tenant.id,
    instance.id,
    day,
    today.cap,
    new Date(now.getTime() + COUNTER_TTL_MS),
  );
  return reserved.ok ? undefined : today;
};
