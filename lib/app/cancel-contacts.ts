import { isFinalQueueStatus } from '../domain/queue-state.ts';
import type { Tenant } from '../domain/tenant-types.ts';
import type { BillingQueue, CancelReason } from '../domain/types.ts';
import type { ContactIdentity, WaitingStatus } from '../ports/store.ts';
import { completeQueue, type FinishDeps } from './finish-or-wait.ts';

/** What settling a queue's cancelled contacts needs (the completion's ports). */
export type CancelDeps = Pick<
  FinishDeps,
  'store' | 'events' | 'deliveryWatch' | 'metrics' | 'logger' | 'clock'
>;

/** A contact that one conditional write cancelled, and how it waited before. */
export interface CancelledContact {
  position: number;
  from: WaitingStatus;
}

/** How far a matched contact got, as the answers of payments and erasures count it. */
export type ContactProgress = 'unsent' | 'being_sent' | 'already_sent' | 'settled';

/**
 * `unsent` may still be cancelled; a claimed send (`sending`) is never undone; `sent`, `delivered`,
 * `read` went out, and `unknown` may have (it is never resent blindly); the rest will never go out.
 */
export const contactProgress = (status: ContactIdentity['status']): ContactProgress => {
  switch (status) {
    case 'pending':
    case 'retry':
      return 'unsent';
    case 'sending':
      return 'being_sent';
    case 'sent':
    case 'delivered':
    case 'read':
    case 'unknown':
      return 'already_sent';
    default:
      return 'settled';
  }
};

/**
 * After some contacts of one queue were cancelled on their own (each by its own conditional write):
 * 1. the queue's counters in one write (cancelled up; the pending-retry count down for those that
 *    were waiting for a retry, deferred ones included, and the deferred count down for those), as
 *    control-queue.ts does for a whole queue;
 * 2. a `cancelled` event per contact, with the reason, for the ERP;
 * 3. if nothing is left to send (a strongly consistent read of every contact: none pending, retrying
 *    or being sent), the queue completes now: a scheduled, paused or instance_down queue would
 *    otherwise wait for an opening, a resume or its instance only to find nothing to do.
 * The queue as it stands afterwards.
 */
export const settleCancelledContacts = async (
  deps: CancelDeps,
  tenant: Tenant,
  queue: BillingQueue,
  cancelled: readonly CancelledContact[],
  reason: CancelReason,
  at: string,
): Promise<BillingQueue> => {
  if (cancelled.length === 0) return queue;
  // A deferred reminder is a retry the frequency cap set: it counts in both.
  const fromRetry = cancelled.filter((c) => c.from !== 'pending').length;
  const fromDeferred = cancelled.filter((c) => c.from === 'deferred').length;
  const counted =
    (await deps.store.updateQueueProgress(queue.id, {
      contactsCancelled: cancelled.length,
      contactsPendingRetry: -fromRetry,
      contactsDeferred: -fromDeferred,
    })) ?? queue;
  for (const { position } of cancelled) {
    await deps.events.emit({
      name: 'cancelled',
      queueId: queue.id,
      contactPosition: position,
      occurredAt: at,
      cancelReason: reason,
    });
  }
  if (isFinalQueueStatus(counted.status)) return counted;
  const summary = await deps.store.summarizeContacts(queue.id);
  const left = ['pending', 'retry', 'sending'] as const;
  if (left.some((status) => (summary.byStatus[status] ?? 0) > 0)) return counted;
  // The events just emitted are not looked for again.
  await completeQueue(deps, counted, tenant, summary, new Set(cancelled.map((c) => c.position)));
  return (await deps.store.getQueue(queue.id)) ?? counted;
};
