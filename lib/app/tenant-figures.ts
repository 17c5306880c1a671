import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import {
  addFigures,
  FIGURES,
  type Figures,
  hasFigures,
  hourStartOf,
  type Period,
  zeroFigures,
} from '../domain/activity-figures.ts';
import { DomainError } from '../domain/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { CounterStore } from '../ports/store.ts';

/**
 * A tenant's sending figures over time (GET /stats, the dashboard's overview), from counters kept
 * per tenant and UTC hour (CounterStore.addTenantFigures), so a read costs one Query of at most
 * MAX_PERIOD_DAYS * 24 small items, whatever the number of queues and contacts.
 *
 * Writers count an event where its queue counter is counted, from the same change
 * (figuresOfCounterDeltas), only after the conditional write that moved the contact succeeded:
 * - the pump: sends and failures go into its progress buffer (queue-progress.ts) and out with its
 *   counter flushes, at most one write per hour every FIGURES_FLUSH_INTERVAL_MS, not one per message;
 * - receipts and replies (apply-receipt.ts, apply-reply.ts), abandoned claims settled (send-claims.ts): one
 *   write per counted event, next to the queue counter write they already make;
 * - stalls (delivery-watch.ts): one write per checked queue; opt-outs (opt-outs.ts, replies): one
 *   per phone put on the list.
 * A recount of a queue's counters after a crash (recountCounters) corrects the queue, never these
 * figures: an event is counted at most once. What a crash or a failed write loses between the
 * contact's write and the figures' write is not counted (the figures may come short, never over).
 */

/** How long an hour's figures are kept: over a year, so last year's same month is still there. */
export const FIGURES_RETENTION_DAYS = 400;

export type Bucket = 'hour' | 'day';

export interface StatsBucket extends Figures {
  start: Date;
  end: Date;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MAX_PERIOD_DAYS = 31;

/**
 * Adds `figures` to the tenant's counters of the UTC hour `at` falls in: one write, none when
 * nothing counts or the hour is already past its retention (a very late receipt). An event dated
 * after now (a gateway whose clock runs ahead) counts now.
 */
export const countTenantFigures = async (
  deps: { store: Pick<CounterStore, 'addTenantFigures'>; clock: Clock },
  tenantId: string,
  at: Date,
  figures: Partial<Figures>,
): Promise<void> => {
  if (!hasFigures(figures)) return;
  const now = deps.clock.now();
  const hourStart = hourStartOf(at > now ? now : at);
  const expiresAt = new Date(hourStart.getTime() + FIGURES_RETENTION_DAYS * DAY_MS);
  if (expiresAt <= now) return;
  await deps.store.addTenantFigures(tenantId, hourStart, figures, expiresAt);
};

/**
 * The period's bucket boundaries, the last one at or after `to`: whole UTC hours (every Brazilian
 * zone is a whole number of hours from UTC), or the tenant's local midnights.
 */
export const bucketBounds = (period: Period, bucket: Bucket, timeZone: string): Date[] => {
  const next =
    bucket === 'hour'
      ? (at: Date) => new Date(at.getTime() + HOUR_MS)
      : (at: Date) => new Date(addDays(new TZDate(at, timeZone), 1).getTime());
  let bound =
    bucket === 'hour'
      ? hourStartOf(period.from)
      : new Date(startOfDay(new TZDate(period.from, timeZone)).getTime());
  const bounds = [bound];
  while (bound < period.to) {
    bound = next(bound);
    bounds.push(bound);
  }
  return bounds;
};

/** Refuses a period the dashboard could not mean: reversed, or longer than MAX_PERIOD_DAYS. */
export const checkPeriod = (period: Period): void => {
  if (period.from >= period.to)
    throw new DomainError('INVALID_PERIOD', { reason: '`from` deve ser antes de `to`' });
  if (period.to.getTime() - period.from.getTime() > MAX_PERIOD_DAYS * DAY_MS)
    throw new DomainError('INVALID_PERIOD', { reason: `no máximo ${MAX_PERIOD_DAYS} dias` });
};

/**
 * 1. bucket boundaries of the period; 2. the tenant's hours from the one `from` falls in up to
 * `to` (whole hours: the first and the current one count whole); 3. each hour adds to the bucket
 * its start falls in (a local day is the sum of its hours).
 */
export const tenantStats = async (
  deps: { store: Pick<CounterStore, 'listTenantFigures'> },
  tenantId: string,
  query: Period & { bucket: Bucket; timeZone: string },
): Promise<StatsBucket[]> => {
  checkPeriod(query);
  const bounds = bucketBounds(query, query.bucket, query.timeZone);
  const buckets: StatsBucket[] = bounds
    .slice(0, -1)
    .map((start, i) => ({ start, end: bounds[i + 1] as Date, ...zeroFigures() }));
  const hours = await deps.store.listTenantFigures(tenantId, hourStartOf(query.from), query.to);
  for (const { hourStart, ...figures } of hours) {
    const t = hourStart.getTime();
    const bucket = buckets.find((b) => b.start.getTime() <= t && t < b.end.getTime());
    if (bucket) addFigures(bucket, figures);
  }
  return buckets;
};

/** Sums of every figure over the buckets. */
export const totalsOf = (buckets: readonly Figures[]): Figures => {
  const totals = zeroFigures();
  for (const bucket of buckets) for (const figure of FIGURES) totals[figure] += bucket[figure];
  return totals;
};
