import { TZDate } from '@date-fns/tz';
import { addDays, startOfDay } from 'date-fns';
import type { Period } from '../domain/activity-figures.ts';
import type { BillingContact, BillingQueue } from '../domain/types.ts';
import type { CampaignStore } from '../ports/store.ts';

/**
 * Each WhatsApp instance's activity today, for the dashboard and ERPs (GET /instances): messages
 * sent and the latest send error.
 *
 * Computed from the records the sender already keeps (each contact's `sentAt` and the error of a
 * failed one), so sending costs no extra write. The price is paid on read: every contact of the
 * queues active in the period is read, so the queues looked at are bounded (MAX_QUEUES, newest
 * first). Queues created more than LOOKBACK_DAYS before the period cannot have sent in it unless
 * they waited that long; they are not looked at. (The tenant's figures per hour are counters:
 * tenant-figures.ts.)
 */

const HOUR_MS = 3_600_000;
const LOOKBACK_DAYS = 7;
const MAX_QUEUES = 200;
const PAGE = 100;

type ActivityStore = Pick<CampaignStore, 'listQueues' | 'listContacts'>;

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
