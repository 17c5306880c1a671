import { randomBytes, randomUUID } from 'node:crypto';
import {
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
  FeedbackStore,
  MessageRef,
  Rejection,
  SendingStore,
} from '../ports/store.ts';
import { forEachBounded } from './bounded.ts';
import { type CancelDeps, type CancelledContact, settleCancelledContacts } from './cancel-contacts.ts';
import { phoneSpellings } from './opt-outs.ts';
import { forEachQueueGroup, ownedQueues, QUEUE_TASKS_AT_ONCE } from './tenant-queues.ts';

export type EraseDebtorDeps = CancelDeps & {
  store: CampaignStore & SendingStore & DebtorStore & FeedbackStore;
};

/** What an erasure did: counts per kind of item, and the audit record's id. */
export interface DebtorErasureAnswer {
  erasureId: string;
  counts: DebtorErasureCounts;
  /**
   * Contacts a pump was sending at that moment: left as they were (their send may be under way and
   * would write the data back). Erasing again a few seconds later finishes them.
   */
  inFlight: number;
}

/** A new salt for a tenant's erased-phone digests: 256 random bits. */
const newErasureSalt = (): string => randomBytes(32).toString('base64url');

/** The phone as typed, in E.164 (any valid number, as opt-outs take); INVALID_PHONE otherwise. */
const phoneOf = (telefone: string): string => {
  const phone = normalizePhone(telefone, { allowLandlines: true });
  if (!phone.ok) throw new DomainError(phone.error.code, { value: telefone });
  return phone.value.e164;
};

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
  const at = deps.clock.now().toISOString();
  const counts: DebtorErasureCounts = { ...NO_ERASURE };

  const optedOutSpellings: string[] = [];
  for (const spelling of spellings) {
    const optOut = await deps.store.getOptOut(tenantId, spelling);
    if (!optOut) continue;
    // The reason may quote the debtor's reply: only when and how it was asked is kept.
    await deps.store.putOptOut({
      ...optOut,
      phone: erasedPhoneDigest(salt, spelling),
      reason: ERASED_MARKER,
    });
    optedOutSpellings.push(spelling);
  }

  let inFlight = 0;
  const sentMessages: MessageRef[] = [];
  const queues = await ownedQueues(deps, { tenantId });
  const phones = new Set(spellings);
  await forEachQueueGroup(deps, queues, async ({ queues: group, contactsOf }) => {
    const rejectionsOf = await deps.store.listCampaignRejections(
      tenantId,
      group.map((queue) => queue.externalId),
    );
    await forEachBounded(group, QUEUE_TASKS_AT_ONCE, async (queue) => {
      const rejections = rejectionsOf.get(queue.externalId) ?? [];
      const found = await eraseInQueue(deps, tenant, queue, contactsOf(queue), rejections, phones, at);
      counts.contacts += found.contacts;
      counts.contactsCancelled += found.cancelled;
      counts.callbackEvents += found.callbackEvents;
      counts.campaignRejections += found.campaignRejections;
      inFlight += found.inFlight;
      sentMessages.push(...found.sentMessages);
    });
  });

  for (const spelling of optedOutSpellings)
    if (await deps.store.deleteOptOut(tenantId, spelling)) counts.optOuts += 1;

  // The phone's history is an index: a reminder sent a moment ago may not be in it yet, so the sent
  // messages of the erased contacts go by their key too.
  counts.messages = await deps.store.deleteMessages(tenantId, spellings, sentMessages);

  const erasureId = randomUUID();
  await deps.store.recordDebtorErasure({
    id: erasureId,
    tenantId,
    at,
    requestedBy,
    phoneDigest: erasedPhoneDigest(salt, phone),
    counts,
    inFlight,
  });
  deps.logger.info('debtor erased', { tenantId, erasureId, ...counts, inFlight });
  return { erasureId, counts, inFlight };
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
