import { DomainError } from '../domain/errors.ts';
import { normalizePhone } from '../domain/phone.ts';
import { isFinalQueueStatus } from '../domain/queue-state.ts';
import { retentionEnd, retentionStart } from '../domain/retention.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import { type BillingQueue, QUEUE_STATUSES, type TemplateType } from '../domain/types.ts';
import type { CampaignStore, ContactIdentity, DebtorStore, SendingStore } from '../ports/store.ts';
import { forEachBounded } from './bounded.ts';
import {
  type CancelDeps,
  type CancelledContact,
  type ContactProgress,
  contactProgress,
  settleCancelledContacts,
} from './cancel-contacts.ts';
import { cancelledEventOf, emitMissedEvents } from './missed-events.ts';
import { phoneSpellings } from './opt-outs.ts';
import { forEachQueueGroup, ownedQueues, QUEUE_TASKS_AT_ONCE } from './tenant-queues.ts';

/** The ERP's notice that an invoice was paid (of one debtor when `telefone` is given). */
export interface PaymentNotice {
  numero_fatura: string;
  telefone?: string;
}

/** What one notice found in the open queues. */
export interface PaymentOutcome {
  numero_fatura: string;
  /** E.164, or null when the notice named no phone. */
  telefone: string | null;
  /** Reminders not sent yet, now `cancelled` (reason `paid`). */
  cancelled: number;
  /** Reminders already sent (sent, delivered, read; or `unknown`: may have gone out). */
  already_sent: number;
  /** Reminders claimed by a pump at that moment: their send goes on (a claimed send is never undone). */
  being_sent: number;
  /** The open queues that held reminders of the invoice. */
  queue_ids: string[];
}

export type RecordPaymentsDeps = CancelDeps & { store: CampaignStore & SendingStore & DebtorStore };

/** The statuses of a queue that may still send: its reminders of a paid invoice can be stopped. */
const OPEN_QUEUE_STATUSES = QUEUE_STATUSES.filter((status) => !isFinalQueueStatus(status));

interface Matcher {
  invoice: string;
  /** Every spelling of the notice's phone (Brazil's 9th digit), or null for any phone. */
  phones: Set<string> | null;
  outcome: PaymentOutcome;
}

/** The notices with their phones normalized; a bad phone refuses the whole request, naming it. */
const matchersOf = (notices: readonly PaymentNotice[]): Matcher[] =>
  notices.map((notice, index) => {
    let phone: string | null = null;
    if (notice.telefone !== undefined) {
      const normalized = normalizePhone(notice.telefone, { allowLandlines: true });
      if (!normalized.ok)
        throw new DomainError('INVALID_PHONE', { value: notice.telefone }, [
          { field: `${index}.telefone`, message: normalized.error.message },
        ]);
      phone = normalized.value.e164;
    }
    return {
      invoice: notice.numero_fatura,
      phones: phone === null ? null : new Set(phoneSpellings(phone)),
      outcome: {
        numero_fatura: notice.numero_fatura,
        telefone: phone,
        cancelled: 0,
        already_sent: 0,
        being_sent: 0,
        queue_ids: [],
      },
    };
  });

/**
 * The ERP says invoices were paid (POST /payments): every reminder of them not sent yet stops.
 * 1. normalize the notices' phones (a bad one refuses the request before anything changes);
 * 2. the owner's open queues (pending, scheduled, running, paused, instance_down: one listing per
 *    status); in each that may hold one of the invoices (the store may skip a queue it knows holds
 *    none), every contact from a strongly consistent read, matched by invoice (and phone);
 * 3. each matched contact not sent yet is cancelled with reason `paid` by a conditional write (a
 *    contact a pump claimed meanwhile is left to it and counted as being sent); the others are
 *    counted as already sent or being sent;
 * 4. per queue: counters, a `cancelled` event per contact, and completion when nothing is left.
 * No index finds an invoice (one would cost every accepted contact a write): a batch's small
 * filter of its invoices, written at accept, lets the reads follow the queues that hold them.
 */
export const recordPayments = async (
  deps: RecordPaymentsDeps,
  tenant: Tenant,
  notices: readonly PaymentNotice[],
  templateTypes?: readonly TemplateType[],
): Promise<PaymentOutcome[]> => {
  const matchers = matchersOf(notices);
  const byInvoice = new Map<string, Matcher[]>();
  for (const matcher of matchers)
    byInvoice.set(matcher.invoice, [...(byInvoice.get(matcher.invoice) ?? []), matcher]);
  const queues = await ownedQueues(deps, { tenantId: tenant.id, templateTypes }, OPEN_QUEUE_STATUSES);
  const at = deps.clock.now().toISOString();
  await forEachQueueGroup(
    deps,
    queues,
    async ({ queues: group, contactsOf }) => {
      await forEachBounded(group, QUEUE_TASKS_AT_ONCE, async (queue) => {
        const matched = contactsOf(queue).flatMap((contact) => {
          // A contact that two notices name counts once, for the first of them.
          const matcher = byInvoice
            .get(contact.invoiceNumber ?? '')
            ?.find((m) => m.phones === null || m.phones.has(contact.phone));
          return matcher ? [{ contact, matcher }] : [];
        });
        if (matched.length > 0) await stopReminders(deps, tenant, queue, matched, at);
      });
    },
    { invoices: new Set(byInvoice.keys()) },
  );
  return matchers.map((m) => m.outcome);
};

/**
 * The `cancelled` events of contacts an earlier notice of the same payment cancelled, when the
 * store does not have them: that request died between its writes and its events, and the ERP
 * posting the payment again is what can bring them back (missed-events.ts). No read when none.
 */
const announceEarlierCancellations = async (
  deps: RecordPaymentsDeps,
  queue: BillingQueue,
  matched: readonly { contact: ContactIdentity }[],
  keptSince: string,
): Promise<void> => {
  const earlier = matched.filter(
    ({ contact }) => contact.status === 'cancelled' && contact.cancelReason === 'paid',
  );
  const missed = await emitMissedEvents(
    deps,
    queue,
    earlier.map(({ contact }) =>
      cancelledEventOf(queue.id, {
        position: contact.position,
        reason: 'paid',
        cancelledAt: contact.updatedAt,
      }),
    ),
    keptSince,
  );
  if (missed > 0)
    deps.logger.warn('cancelled events a crash had lost were emitted', { queueId: queue.id, missed });
};

/** Tries to cancel a matched contact; what it turned out to be. */
const cancelIfUnsent = async (
  deps: RecordPaymentsDeps,
  queueId: string,
  contact: ContactIdentity,
  at: string,
  expiresAt: string,
): Promise<{ progress: ContactProgress; cancelledFrom?: CancelledContact['from'] }> => {
  let progress = contactProgress(contact.status);
  // Twice at most: a contact claimed and released between the read and the write is tried again.
  for (let tries = 0; progress === 'unsent' && tries < 2; tries++) {
    const from = await deps.store.cancelUnsentContact(queueId, contact.position, at, expiresAt, 'paid');
    if (from) return { progress, cancelledFrom: from };
    // It moved since the read (a pump claimed it, most likely): count it as it stands now.
    const current = await deps.store.getContact(queueId, contact.position);
    progress = current ? contactProgress(current.status) : 'settled';
  }
  // Still unsent after two lost writes: a pump keeps claiming it, so it is about to be sent.
  return { progress: progress === 'unsent' ? 'being_sent' : progress };
};

/** Steps 3 and 4 for one queue. */
const stopReminders = async (
  deps: RecordPaymentsDeps,
  tenant: Tenant,
  queue: BillingQueue,
  matched: readonly { contact: ContactIdentity; matcher: Matcher }[],
  at: string,
): Promise<void> => {
  const cancelled: CancelledContact[] = [];
  // A cancelled contact is settled: it expires with the tenant's retention, as any other.
  const expiresAt = retentionEnd(at, tenant.config.retentionDays);
  for (const { contact, matcher } of matched) {
    const { progress, cancelledFrom } = await cancelIfUnsent(deps, queue.id, contact, at, expiresAt);
    const { outcome } = matcher;
    if (!outcome.queue_ids.includes(queue.id)) outcome.queue_ids.push(queue.id);
    if (cancelledFrom) {
      cancelled.push({ position: contact.position, from: cancelledFrom });
      outcome.cancelled += 1;
    } else if (progress === 'being_sent') outcome.being_sent += 1;
    else if (progress === 'already_sent') outcome.already_sent += 1;
  }
  await announceEarlierCancellations(deps, queue, matched, retentionStart(at, tenant.config.retentionDays));
  const settled = await settleCancelledContacts(deps, tenant, queue, cancelled, 'paid', at);
  if (cancelled.length > 0)
    deps.logger.info('reminders of paid invoices cancelled', {
      tenantId: queue.tenantId,
      queueId: queue.id,
      cancelled: cancelled.length,
      status: settled.status,
    });
};
