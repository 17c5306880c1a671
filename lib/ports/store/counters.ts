import type { Figures, HourFigures } from '../../domain/activity-figures.ts';

/**
 * Atomic counters with a time to live, named by what they count: a tenant's daily message quota,
 * a warming-up instance's daily sends and an API key's hourly requests (all with a limit), and a
 * tenant's sending figures per hour (GET /stats). How a counter is keyed is the adapter's business.
 */
export interface CounterStore {
  /**
   * Reserves `count` messages of the tenant's quota for its local `day` (YYYY-MM-DD) unless the day's
   * total would pass `limit` (null: no limit, only counted). Atomic under concurrency; the day's
   * count is forgotten after `expiresAt`.
   */
  reserveDailyQuota(
    tenantId: string,
    day: string,
    count: number,
    limit: number | null,
    expiresAt: Date,
  ): Promise<CounterResult>;
  /** Messages reserved for the tenant's local `day` (0 when none, or the count expired). */
  getDailyQuotaUsed(tenantId: string, day: string): Promise<number>;
  /**
   * Reserves one send of a warming-up instance on the tenant's local `day` (YYYY-MM-DD) unless the
   * day's total would pass `limit` (the ramp's cap). Atomic under concurrency; forgotten after
   * `expiresAt`.
   */
  reserveInstanceSend(
    tenantId: string,
    instanceId: string,
    day: string,
    limit: number,
    expiresAt: Date,
  ): Promise<CounterResult>;
  /** Sends reserved by the instance on the tenant's local `day` (0 when none, or the count expired). */
  getInstanceSends(tenantId: string, instanceId: string, day: string): Promise<number>;
  /**
   * Counts one request of the key against one of its hourly budgets (`writes`: sends and control;
   * `reads`: status polls and listings) in the UTC hour starting at `hourStart`, unless that would
   * pass `limit`. Atomic under concurrency; the hour's count is forgotten after `expiresAt`.
   */
  countKeyRequest(
    keyId: string,
    budget: RequestBudget,
    hourStart: Date,
    limit: number,
    expiresAt: Date,
  ): Promise<CounterResult>;
  /**
   * Adds `figures` to the tenant's figures of the UTC hour starting at `hourStart`, in one atomic
   * write (no limit: concurrent adds all count). The hour's figures are forgotten after `expiresAt`.
   */
  addTenantFigures(
    tenantId: string,
    hourStart: Date,
    figures: Partial<Figures>,
    expiresAt: Date,
  ): Promise<void>;
  /**
   * The tenant's figures of each UTC hour starting in [`from`, `to`), oldest first; hours with
   * nothing counted (or forgotten) are absent. At most a few hundred hours are asked at once.
   */
  listTenantFigures(tenantId: string, from: Date, to: Date): Promise<HourFigures[]>;
}

/** The key's hourly request budgets: reads have their own, so polling never locks out sending. */
export type RequestBudget = 'writes' | 'reads';

/** Outcome of an atomic counter increment that must never pass its limit. */
export type CounterResult =
  | { ok: true; value: number }
  /** Refused: adding would pass the limit; `value` is the current count, unchanged. */
  | { ok: false; value: number };
