import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import { contactTimeline } from '../domain/contact-timeline.ts';
import { DomainError } from '../domain/errors.ts';
import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { CampaignStore, FeedbackStore } from '../ports/store.ts';

/**
 * What happened in a tenant's sending over a period, for the dashboard and ERPs: figures per hour or
 * per day, and each WhatsApp instance's activity today.
 *
 * Computed from the records the sender already keeps (each contact's `sentAt`, `deliveredAt`,
 * `readAt`, `repliedAt`, `stalledAt`, the error of a failed one, and the opt-out list), so sending
 * costs no extra write. The price is paid on read: every contact of the queues active in the
 * period is read, so the period is bounded (MAX_PERIOD_DAYS) and so are the queues looked at
 * (MAX_QUEUES, newest first). Queues created more than LOOKBACK_DAYS before the period cannot have
 * sent in it unless they waited that long; they are not looked at.
 */

export const FIGURES = ['sent', 'delivered', 'read', 'replied', 'failed', 'stalled', 'opted_out'] as const;
export type Figure = (typeof FIGURES)[number];
export type Figures = Record<Figure, number>;

export type Bucket = 'hour' | 'day';

export interface StatsBucket extends Figures {
  start: Date;
  end: Date;
}

export interface Period {
  from: Date;
  to: Date;
}

const HOUR_MS = 3_600_000;
const MAX_PERIOD_DAYS = 31;
const LOOKBACK_DAYS = 7;
const MAX_QUEUES = 200;
const PAGE = 100;

type ActivityStore = Pick<CampaignStore, 'listQueues' | 'listContacts'> & Pick<FeedbackStore, 'listOptOuts'>;

const isFigure = (step: string): step is Figure => (FIGURES as readonly string[]).includes(step);

const zeroFigures = (): Figures => ({
  sent: 0,
  delivered: 0,
  read: 0,
  replied: 0,
  failed: 0,
  stalled: 0,
  opted_out: 0,
});

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
      ? new Date(Math.floor(period.from.getTime() / HOUR_MS) * HOUR_MS)
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
  if (period.to.getTime() - period.from.getTime() > MAX_PERIOD_DAYS * 24 * HOUR_MS)
    throw new DomainError('INVALID_PERIOD', { reason: `no máximo ${MAX_PERIOD_DAYS} dias` });
};

/** Every page of a paginated read, in order. */
async function* allPages<T>(read: (cursor?: string) => Promise<{ items: T[]; nextCursor: string | null }>) {
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

/** The tenant's queues that may have sent in the period, each with all its contacts. */
export async function* queuesActiveIn(
  store: ActivityStore,
  tenantId: string,
  period: Period,
): AsyncGenerator<{ queue: BillingQueue; contacts: BillingContact[] }> {
  const oldest = period.from.getTime() - LOOKBACK_DAYS * 24 * HOUR_MS;
  let looked = 0;
  for await (const queue of allPages((cursor) => store.listQueues(tenantId, { limit: PAGE, cursor }))) {
    const created = new Date(queue.createdAt).getTime();
    if (created < oldest || looked++ >= MAX_QUEUES) return;
    const finishedBefore = queue.completedAt !== null && new Date(queue.completedAt) < period.from;
    if (created >= period.to.getTime() || finishedBefore) continue;
    const contacts: BillingContact[] = [];
    for await (const contact of allPages((cursor) => store.listContacts(queue.id, { limit: PAGE, cursor })))
      contacts.push(contact);
    yield { queue, contacts };
  }
}

/**
 * 1. bucket boundaries of the period; 2. each contact of the queues active in the period adds each
 * moment that falls in it to its bucket; 3. opt-outs of the period (newest first, so the walk stops
 * at the first older one) add to theirs.
 */
export const tenantStats = async (
  deps: { store: ActivityStore },
  tenantId: string,
  query: Period & { bucket: Bucket; timeZone: string },
): Promise<StatsBucket[]> => {
  checkPeriod(query);
  const bounds = bucketBounds(query, query.bucket, query.timeZone);
  const buckets: StatsBucket[] = bounds
    .slice(0, -1)
    .map((start, i) => ({ start, end: bounds[i + 1] as Date, ...zeroFigures() }));
  const add = (figure: Figure, at: string | null | undefined) => {
    if (!at) return;
    const t = new Date(at).getTime();
    if (t < query.from.getTime() || t >= query.to.getTime()) return;
    const bucket = buckets.find((b) => b.start.getTime() <= t && t < b.end.getTime());
    if (bucket) bucket[figure] += 1;
  };

  for await (const { contacts } of queuesActiveIn(deps.store, tenantId, query))
    for (const contact of contacts)
      for (const { step, at } of contactTimeline(contact)) if (isFigure(step)) add(step, at);
  for await (const optOut of allPages((cursor) =>
    deps.store.listOptOuts(tenantId, { limit: PAGE, cursor }),
  )) {
    if (new Date(optOut.at) < query.from) break;
    add('opted_out', optOut.at);
  }
  return buckets;
};

/** One instance's activity in a period: messages sent and the latest send error. */
export interface InstanceActivity {
  sent: number;
  lastError: { message: string; at: string } | null;
}

/** Activity per instance id in the period (instances that did nothing are absent). */
export const instanceActivity = async (
  deps: { store: ActivityStore },
  tenantId: string,
  period: Period,
): Promise<Map<string, InstanceActivity>> => {
  const byInstance = new Map<string, InstanceActivity>();
  const within = (at: string | null | undefined): at is string =>
    !!at && new Date(at) >= period.from && new Date(at) < period.to;
  for await (const { queue, contacts } of queuesActiveIn(deps.store, tenantId, period)) {
    if (!queue.instanceId) continue;
    const activity = byInstance.get(queue.instanceId) ?? { sent: 0, lastError: null };
    for (const c of contacts) {
      if (within(c.sentAt)) activity.sent += 1;
      if (
        c.lastError &&
        within(c.lastErrorAt) &&
        (!activity.lastError || c.lastErrorAt > activity.lastError.at)
      )
        activity.lastError = { message: c.lastError, at: c.lastErrorAt };
    }
    byInstance.set(queue.instanceId, activity);
  }
  return byInstance;
};

/** The tenant's local day around `now`: from its midnight to the next. */
export const localDay = (now: Date, timeZone: string): Period => {
  const from = startOfDay(new TZDate(now, timeZone));
  return { from: new Date(from.getTime()), to: new Date(addDays(from, 1).getTime()) };
};
