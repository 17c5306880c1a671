import { randomBytes, randomUUID } from 'node:crypto';
import {
  addErasureCounts,
  type DebtorErasureCounts,
  ERASED_MARKER,
  erasedPhoneDigest,
  NO_ERASURE,
} from '../domain/debtor-erasure.ts';
import { DomainError } from '../domain/errors.ts';
import { normalizePhone } from '../domain/phone.ts';
import { retentionEnd } from '../domain/retention.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { BillingQueue } from '../domain/types.ts';
import type {
  CampaignStore,
  ContactIdentity,
  DebtorStore,
  ErasureProgress,
  FeedbackStore,
  MessageRef,
  QueuePosition,
  Rejection,
  SendingStore,
} from '../ports/store.ts';
import { API_TIMEOUT_SECONDS } from './api-timeout.ts';
import { forEachBounded } from './bounded.ts';
import { type CancelDeps, type CancelledContact, settleCancelledContacts } from './cancel-contacts.ts';
import { phoneSpellings } from './opt-outs.ts';
import { forEachQueueGroup, INDEX_LAG_ALLOWANCE_MS, QUEUE_TASKS_AT_ONCE } from './tenant-queues.ts';

export type EraseDebtorDeps = CancelDeps & {
  store: CampaignStore & SendingStore & DebtorStore & FeedbackStore;
  /** How long a request walks queues before it answers (`ERASURE_WALK_BUDGET_MS` unless set). */
  erasureWalkBudgetMs?: number;
};

/**
 * How long one request walks the tenant's queues before it answers and leaves the rest to the next
 * request. The API gives up at 29 s (`API_TIMEOUT_SECONDS`): the group of queues under way when the
 * budget ends, the queues created lately and the steps after the walk need the rest.
 */
export const ERASURE_WALK_BUDGET_MS = 15_000;
/** How long a request holds its erasure: past the API function's timeout, so none still running is taken over. */
const ERASURE_HOLD_MS = API_TIMEOUT_SECONDS * 1000 + 15_000;
/**
 * How long an unfinished erasure is resumed; a request after that starts again from the top. Well
 * within the day the new-queue markers are kept, which its last step reads from its start on.
 */
export const ERASURE_PROGRESS_TTL_MS = 12 * 60 * 60_000;
/** Queues listed at a time by the walk, oldest first: two groups of one-contact queues, walked at once. */
const WALK_PAGE = 200;

/** What a request of an erasure did, and where the erasure stands. */
export interface DebtorErasureAnswer {
  erasureId: string;
  /** Totals of the erasure so far, over its requests. */
  counts: DebtorErasureCounts;
  /**
   * Contacts a pump was sending at that moment: left as they were (their send may be under way and
   * would write the data back). Erasing again a few seconds later finishes them.
   */
  inFlight: number;
  /** Queues walked so far, over the erasure's requests. */
  queuesChecked: number;
  /**
   * `complete`: every queue walked, nothing left in flight. `in_progress`: the request's time ran
   * out first (or contacts were in flight): the next request goes on from there. `busy`: another
   * request is erasing this phone right now; this one did nothing.
   */
  state: 'complete' | 'in_progress' | 'busy';
}

/** A new salt for a tenant's erased-phone digests: 256 random bits. */
const newErasureSalt = (): string => randomBytes(32).toString('base64url');

/** The phone as typed, in E.164 (any valid number, as opt-outs take); INVALID_PHONE otherwise. */
const phoneOf = (telefone: string): string => {
  const phone = normalizePhone(telefone, { allowLandlines: true });
  if (!phone.ok) throw new DomainError(phone.error.code, { value: telefone });
  return phone.value.e164;
};

const later = (from: Date, ms: number): string => new Date(from.getTime() + ms).toISOString();

const positionOf = (queue: BillingQueue): QueuePosition => ({ createdAt: queue.createdAt, id: queue.id });

/**
 * LGPD: erases one person's personal data across the tenant (DELETE /debtors/{telefone}, `debtor
 * erase`). Every spelling of the phone counts (Brazil's 9th digit), every queue of the tenant is
 * walked whatever its status or type.
 * 1. the tenant's erasure salt (made at its first erasure; the first one written stays);
 * 2. an opt-out of the phone gets a copy under the salted digest, written first, so the
 *    suppression never lapses (accept and the sender look up both keys); the phone's own opt-out
 *    goes after step 3, once its unsent contacts are cancelled: a pump that has not learnt the
 *    tenant's new salt yet still finds the phone's until then;
 * 3. in every queue, the phone's contacts get the marker instead of name, phone, variables and text
 *    (counters, statuses and times stay); one not sent yet is cancelled (reason `erased`), one being
 *    sent is left to its pump and counted in `inFlight`; their callback events lose phone, name
 *    and texts; refused contacts in the campaign's stored answer lose their phone; a queue left with
 *    nothing to send completes;
 * 4. the conversation's messages (sent and received) are deleted;
 * 5. an audit record without personal data (who, when, counts, the digest) is kept.
 *
 * A tenant with a long history has more queues than one request has time for, so step 3 is a walk
 * that resumes (`ErasureProgress`, held by one request at a time): the queues oldest first up to ten
 * minutes before the erasure began (the index shows those), for `ERASURE_WALK_BUDGET_MS` a request;
 * then the queues created since, read as they are now; and again, at each request, the queues that
 * had a contact in flight. Until it completes, each request answers `in_progress` with the totals so
 * far, and the audit record holds them too.
 */
export const eraseDebtor = async (
  deps: EraseDebtorDeps,
  tenant: Tenant,
  telefone: string,
  requestedBy: string,
): Promise<DebtorErasureAnswer> => {
  const tenantId = tenant.id;
  const phone = phoneOf(telefone);
  const spellings = phoneSpellings(phone);
  const salt = await deps.store.ensureErasureSalt(tenantId, newErasureSalt());
  if (salt === undefined) throw new DomainError('TENANT_NOT_FOUND', { id: tenantId });
  const started = deps.clock.now();
  const at = started.toISOString();
  const phoneDigest = erasedPhoneDigest(salt, phone);
  const owner = randomUUID();
  const taken = await deps.store.takeErasureProgress(
    {
      tenantId,
      phoneDigest,
      erasureId: randomUUID(),
      startedAt: at,
      requestedBy,
      walkedTo: null,
      inFlightQueueIds: [],
      queuesChecked: 0,
      counts: { ...NO_ERASURE },
    },
    owner,
    at,
    later(started, ERASURE_HOLD_MS),
    later(started, ERASURE_PROGRESS_TTL_MS),
  );
  if (!taken.taken) {
    const { erasureId, counts, queuesChecked } = taken.progress;
    return { erasureId, counts, inFlight: 0, queuesChecked, state: 'busy' };
  }
  const progress = taken.progress;
  const tally = newTally(progress);
  const deadline = started.getTime() + (deps.erasureWalkBudgetMs ?? ERASURE_WALK_BUDGET_MS);
  try {
    const optedOutSpellings = await suppressUnderDigest(deps, tenantId, salt, spellings);
    const eraseIn = queueEraser(deps, tenant, new Set(spellings), at, tally);
    // The queues that had a contact in flight at the last request, wherever the walk is.
    const leftInFlight = await Promise.all(progress.inFlightQueueIds.map((id) => deps.store.getQueue(id)));
    await eraseIn(leftInFlight.filter((queue) => queue !== undefined));
    await walkOldestFirst(
      deps,
      tenantId,
      progress.startedAt,
      eraseIn,
      () => deps.clock.now().getTime() < deadline,
      tally,
    );
    if (tally.walked) {
      for (const spelling of optedOutSpellings)
        if (await deps.store.deleteOptOut(tenantId, spelling)) tally.found.optOuts += 1;
    }
    // The phone's history is an index: a reminder sent a moment ago may not be in it yet, so the
    // sent messages of the erased contacts go by their key too.
    tally.found.messages = await deps.store.deleteMessages(tenantId, spellings, tally.sentMessages);
  } catch (error) {
    // Let go of the erasure at once, with what this request did, so that a retry goes on from there
    // (the queues left in flight before are kept: this request may not have walked them again).
    const kept = {
      ...tally,
      inFlightQueueIds: new Set([...progress.inFlightQueueIds, ...tally.inFlightQueueIds]),
    };
    await deps.store
      .saveErasureProgress(progressAfter(progress, kept), owner, deps.clock.now().toISOString())
      .catch(() => undefined);
    throw error;
  }

  const next = progressAfter(progress, tally);
  const complete = tally.walked && tally.inFlightQueueIds.size === 0;
  await deps.store.recordDebtorErasure({
    id: progress.erasureId,
    tenantId,
    at: progress.startedAt,
    requestedBy: progress.requestedBy ?? requestedBy,
    phoneDigest,
    counts: next.counts,
    inFlight: tally.inFlight,
    complete,
  });
  if (complete) await deps.store.deleteErasureProgress(tenantId, phoneDigest, owner);
  else await deps.store.saveErasureProgress(next, owner, deps.clock.now().toISOString());
  const answer: DebtorErasureAnswer = {
    erasureId: progress.erasureId,
    counts: next.counts,
    inFlight: tally.inFlight,
    queuesChecked: next.queuesChecked,
    state: complete ? 'complete' : 'in_progress',
  };
  const { counts, ...rest } = answer;
  deps.logger.info('debtor erased', { tenantId, ...rest, ...counts });
  return answer;
};

/** What one request of an erasure did: what it found, where its walk got, what it left in flight. */
interface RequestTally {
  found: DebtorErasureCounts;
  inFlight: number;
  inFlightQueueIds: Set<string>;
  /** The reminders of the erased contacts that went out: the gateway's id, through the queue's instance. */
  sentMessages: MessageRef[];
  queuesChecked: number;
  walkedTo: QueuePosition | null;
  /** The walk ended, the queues created since it began included. */
  walked: boolean;
  /** Queues this request walked: one met again (the walk meets a queue read as recent) is skipped. */
  walkedNow: Set<string>;
}

const newTally = (progress: ErasureProgress): RequestTally => ({
  found: { ...NO_ERASURE },
  inFlight: 0,
  inFlightQueueIds: new Set(),
  sentMessages: [],
  queuesChecked: 0,
  walkedTo: progress.walkedTo,
  walked: false,
  walkedNow: new Set(),
});

/** Where the erasure stands after a request: its place, its totals, the queues it left in flight. */
const progressAfter = (progress: ErasureProgress, tally: RequestTally): ErasureProgress => ({
  ...progress,
  walkedTo: tally.walkedTo,
  inFlightQueueIds: [...tally.inFlightQueueIds],
  queuesChecked: progress.queuesChecked + tally.queuesChecked,
  counts: addErasureCounts(progress.counts, tally.found),
});

/** Step 2: a copy of each opt-out of the phone under its digest; the spellings that had one. */
const suppressUnderDigest = async (
  deps: EraseDebtorDeps,
  tenantId: string,
  salt: string,
  spellings: readonly string[],
): Promise<string[]> => {
  const optedOut: string[] = [];
  for (const spelling of spellings) {
    const optOut = await deps.store.getOptOut(tenantId, spelling);
    if (!optOut) continue;
    // The reason may quote the debtor's reply: only when and how it was asked is kept.
    await deps.store.putOptOut({
      ...optOut,
      phone: erasedPhoneDigest(salt, spelling),
      reason: ERASED_MARKER,
    });
    optedOut.push(spelling);
  }
  return optedOut;
};

/**
 * Step 3 over a list of queues, into `tally`: a group of queues at a time, the first whatever the
 * time, the others while `keepGoing` holds; a queue this request walked already is skipped. Resolves
 * with how many of the queues, from the first, were done (or skipped).
 */
const queueEraser =
  (deps: EraseDebtorDeps, tenant: Tenant, phones: ReadonlySet<string>, at: string, tally: RequestTally) =>
  async (queues: readonly BillingQueue[], keepGoing?: () => boolean): Promise<number> => {
    const fresh = queues.filter((queue) => !tally.walkedNow.has(queue.id));
    for (const queue of fresh) tally.walkedNow.add(queue.id);
    const done = await forEachQueueGroup(
      deps,
      fresh,
      async ({ queues: group, contactsOf }) => {
        const rejectionsOf = await deps.store.listCampaignRejections(
          tenant.id,
          group.map((queue) => queue.externalId),
        );
        await forEachBounded(group, QUEUE_TASKS_AT_ONCE, async (queue) => {
          const rejections = rejectionsOf.get(queue.externalId) ?? [];
          const erased = await eraseInQueue(deps, tenant, queue, contactsOf(queue), rejections, phones, at);
          tally.found.contacts += erased.contacts;
          tally.found.contactsCancelled += erased.cancelled;
          tally.found.callbackEvents += erased.callbackEvents;
          tally.found.campaignRejections += erased.campaignRejections;
          tally.inFlight += erased.inFlight;
          if (erased.inFlight > 0) tally.inFlightQueueIds.add(queue.id);
          tally.sentMessages.push(...erased.sentMessages);
        });
        tally.queuesChecked += group.length;
      },
      keepGoing ? { keepGoing } : {},
    );
    for (const queue of fresh.slice(done)) tally.walkedNow.delete(queue.id);
    // The queues skipped come before the first one not done, in `queues`' order.
    const firstNotDone = fresh[done];
    return firstNotDone === undefined ? queues.length : queues.indexOf(firstNotDone);
  };

/**
 * The walk, into `tally`: the queues the index shows oldest first from where the last request
 * stopped, up to those created ten minutes before the erasure began (`INDEX_LAG_ALLOWANCE_MS`; the
 * same bound at every request, so the walk ends), while `beforeDeadline` holds; once it has ended,
 * the queues created since, read as they are now (the index may not show them yet), all of them: a
 * tenant creates few in the minutes an erasure takes.
 */
const walkOldestFirst = async (
  deps: EraseDebtorDeps,
  tenantId: string,
  startedAt: string,
  eraseIn: ReturnType<typeof queueEraser>,
  beforeDeadline: () => boolean,
  tally: RequestTally,
): Promise<void> => {
  const createdBefore = later(new Date(startedAt), -INDEX_LAG_ALLOWANCE_MS);
  const pageAfter = (after: QueuePosition | null) => {
    const page = deps.store.listQueuesOldestFirst(tenantId, {
      ...(after ? { after } : {}),
      createdBefore,
      limit: WALK_PAGE,
    });
    // A page read ahead is dropped when the time runs out first: its failure is nobody's then.
    page.catch(() => undefined);
    return page;
  };
  let nextPage = pageAfter(tally.walkedTo);
  for (;;) {
    const page = await nextPage;
    const lastListed = page.at(-1);
    // The next page is read while this one is walked.
    if (page.length === WALK_PAGE && lastListed) nextPage = pageAfter(positionOf(lastListed));
    const done = await eraseIn(page, beforeDeadline);
    const last = page[done - 1];
    if (last) tally.walkedTo = positionOf(last);
    if (done < page.length) return;
    if (page.length < WALK_PAGE) break;
    if (!beforeDeadline()) return;
  }
  await eraseIn(await deps.store.listQueuesCreatedSince(tenantId, new Date(createdBefore)));
  tally.walked = true;
};

/** Step 3 for one queue, from its contacts and its campaign's refused contacts as read. */
const eraseInQueue = async (
  deps: EraseDebtorDeps,
  tenant: Tenant,
  queue: BillingQueue,
  identities: readonly ContactIdentity[],
  rejections: readonly Rejection[],
  phones: ReadonlySet<string>,
  at: string,
) => {
  const found = {
    contacts: 0,
    cancelled: 0,
    callbackEvents: 0,
    campaignRejections: 0,
    inFlight: 0,
    /** The reminders of these contacts that went out: the gateway's id, through the queue's instance. */
    sentMessages: [] as MessageRef[],
  };
  const contacts = identities.filter((c) => phones.has(c.phone));
  for (const { providerMessageId } of contacts)
    if (providerMessageId && queue.instanceId)
      found.sentMessages.push({ instanceId: queue.instanceId, messageId: providerMessageId });
  const cancelled: CancelledContact[] = [];
  // A contact the erasure cancels is settled: it expires with the tenant's retention.
  const expiresAt = retentionEnd(at, tenant.config.retentionDays);
  for (const contact of contacts) {
    const erased = await deps.store.eraseContact(queue.id, contact.position, at, expiresAt);
    if (erased.outcome === 'in_flight') found.inFlight += 1;
    if (erased.outcome !== 'erased') continue;
    found.contacts += 1;
    if (erased.cancelledFrom) cancelled.push({ position: contact.position, from: erased.cancelledFrom });
    found.callbackEvents += await deps.store.eraseContactEvents(queue.id, contact.position);
  }
  found.cancelled = cancelled.length;
  found.campaignRejections = await eraseRejections(deps, queue, rejections, phones);
  // The `cancelled` events are emitted after the erasure: they carry the marker, never the phone.
  await settleCancelledContacts(deps, tenant, queue, cancelled, 'erased', at);
  return found;
};

/** The refused contacts of the queue's campaign answer that named the phone (any spelling of it). */
const eraseRejections = async (
  deps: EraseDebtorDeps,
  queue: BillingQueue,
  rejections: readonly Rejection[],
  phones: ReadonlySet<string>,
): Promise<number> => {
  const indexes = rejections.flatMap((rejection, index) => {
    const typed = normalizePhone(rejection.telefone, { allowLandlines: true });
    return typed.ok && phones.has(typed.value.e164) ? [index] : [];
  });
  if (indexes.length === 0) return 0;
  return (await deps.store.eraseCampaignRejections(queue.tenantId, queue.externalId, indexes))
    ? indexes.length
    : 0;
};
