/**
 * The queue and contact state machines (design section 4). Every status change in the store is a
 * conditional write from a list of `from` states; the use cases take that list for a queue from
 * this table (`queueStatusesThatCanMoveTo`, or a subset of it where only some may move), so they
 * make no move the table does not list.
 */
import { DomainError } from './errors.ts';
import { type ContactStatus, QUEUE_STATUSES, type QueueStatus } from './types.ts';

/**
 * For each queue status, the statuses it may move to. completed, cancelled and failed are final.
 * A status listing itself is entered again with new fields: a continuation pump takes over a
 * `running` queue, a queue is deferred to a later opening while `scheduled`, or parked with a later
 * re-check while `instance_down`.
 */
export const QUEUE_TRANSITIONS: Readonly<Record<QueueStatus, readonly QueueStatus[]>> = {
  // `completed` from a waiting queue (pending, scheduled, paused, instance_down) once nothing is left
  // to send: its remaining contacts were cancelled one by one (invoice paid, debtor erased), so no
  // pump needs to run, or be resumed, only to find that out (lib/app/cancel-contacts.ts).
  pending: ['scheduled', 'running', 'paused', 'cancelled', 'instance_down', 'completed'],
  // Waiting for business hours.
  scheduled: ['scheduled', 'running', 'paused', 'cancelled', 'instance_down', 'completed'],
  // Back to scheduled when the window closes mid-run. `failed` is the guide's status for a queue
  // given up for good; no path gives one up yet (the sweeper republishes a stuck queue instead).
  running: ['running', 'scheduled', 'paused', 'instance_down', 'completed', 'cancelled', 'failed'],
  // Resume always goes to pending: the pump then decides (business hours, instance state).
  paused: ['pending', 'cancelled', 'completed'],
  // Resumes by itself when the instance is back, or by a resume (to pending). Pause is refused
  // (README, Control: pause works from pending, scheduled or running).
  instance_down: ['instance_down', 'running', 'scheduled', 'cancelled', 'pending', 'completed'],
  completed: [],
  cancelled: [],
  failed: [],
};

/** The statuses a queue may move to `to` from: the `from` condition of that status change. */
export function queueStatusesThatCanMoveTo(to: QueueStatus): readonly QueueStatus[] {
  return QUEUE_STATUSES.filter((from) => QUEUE_TRANSITIONS[from].includes(to));
}

/**
 * For each contact status, the statuses it may move to. A contact is claimed (pending|retry -> sending)
 * before the gateway is called, so a redelivered work item never sends it twice.
 */
export const CONTACT_TRANSITIONS: Readonly<Record<ContactStatus, readonly ContactStatus[]>> = {
  // -> retry without an attempt: deferred by the per-debtor frequency cap (frequency-cap.ts).
  pending: ['sending', 'cancelled', 'skipped_opt_out', 'retry'],
  retry: ['sending', 'cancelled', 'skipped_opt_out', 'failed', 'retry'],
  // Back to pending only when a claim is released without calling the gateway (time budget, lease lost).
  sending: ['sent', 'failed', 'retry', 'unknown', 'pending'],
  // Receipts only move forward; a delivery failure reported after acceptance is still possible.
  sent: ['delivered', 'read', 'failed'],
  delivered: ['read'],
  // Resent (-> sending) only when the tenant's ambiguous-send policy is `retry`; the caller checks that.
  // A receipt for its message (stored before a crash cut off the contact's record, or by a pump whose
  // claim another settled) shows it went out: delivered, read, or failed after all.
  unknown: ['sending', 'failed', 'delivered', 'read'],
  read: [],
  failed: [],
  cancelled: [],
  skipped_opt_out: [],
};

/** Whether a queue may move from `from` to `to`. */
export function canTransitionQueue(from: QueueStatus, to: QueueStatus): boolean {
  return QUEUE_TRANSITIONS[from]?.includes(to) ?? false;
}

/** Throws INVALID_TRANSITION (with from and to) unless the queue may move from `from` to `to`. */
export function assertQueueTransition(from: QueueStatus, to: QueueStatus): void {
  if (!canTransitionQueue(from, to)) throw new DomainError('INVALID_TRANSITION', { from, to });
}

/** Whether a contact may move from `from` to `to`. */
export function canTransitionContact(from: ContactStatus, to: ContactStatus): boolean {
  return CONTACT_TRANSITIONS[from]?.includes(to) ?? false;
}

/** Throws INVALID_TRANSITION (with from and to) unless the contact may move from `from` to `to`. */
export function assertContactTransition(from: ContactStatus, to: ContactStatus): void {
  if (!canTransitionContact(from, to)) throw new DomainError('INVALID_TRANSITION', { from, to });
}

/** Whether a queue status is final (nothing moves it again). */
export function isFinalQueueStatus(status: QueueStatus): boolean {
  return QUEUE_TRANSITIONS[status].length === 0;
}

/** The control actions (POST .../control) a queue in `status` accepts, as the state machine allows them. */
export function allowedQueueActions(status: QueueStatus): ('pause' | 'resume' | 'cancel')[] {
  const actions: ('pause' | 'resume' | 'cancel')[] = [];
  if (canTransitionQueue(status, 'paused')) actions.push('pause');
  // Resume moves to pending (the pump then decides); pending itself has nothing to resume.
  if (status !== 'pending' && canTransitionQueue(status, 'pending')) actions.push('resume');
  if (canTransitionQueue(status, 'cancelled')) actions.push('cancel');
  return actions;
}

/** Whether a contact status is final (nothing moves it again). */
export function isFinalContactStatus(status: ContactStatus): boolean {
  return CONTACT_TRANSITIONS[status].length === 0;
}

/** Queue statuses as the guide shows them to people. */
export const QUEUE_STATUS_DISPLAY: Readonly<Record<QueueStatus, string>> = {
  pending: 'Pendente',
  scheduled: 'Agendada',
  running: 'Em execução',
  paused: 'Pausada',
  instance_down: 'Instância desconectada',
  // The guide's exact word (masculine, as "envio concluído"), kept for clients that match on it.
  completed: 'Concluído',
  cancelled: 'Cancelada',
  failed: 'Falhou',
};

/** Contact (message) statuses in Portuguese; feminine as they describe "a mensagem". */
export const CONTACT_STATUS_DISPLAY: Readonly<Record<ContactStatus, string>> = {
  pending: 'Pendente',
  sending: 'Enviando',
  sent: 'Enviada',
  delivered: 'Entregue',
  read: 'Lida',
  failed: 'Falhou',
  retry: 'Aguardando nova tentativa',
  cancelled: 'Cancelada',
  skipped_opt_out: 'Ignorada (opt-out)',
  unknown: 'Envio incerto',
};

const CONTACT_RANK: Readonly<Record<ContactStatus, number>> = {
  pending: 0,
  retry: 0,
  sending: 1,
  unknown: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  // Final outcomes outrank every progress step.
  failed: 5,
  cancelled: 5,
  skipped_opt_out: 5,
};

/**
 * How far a contact has progressed: pending/retry < sending/unknown < sent < delivered < read < final
 * outcomes. Receipts arrive out of order (a `delivered` after `read`); compare ranks to never go backwards.
 */
export function contactStatusRank(status: ContactStatus): number {
  return CONTACT_RANK[status];
}

/**
 * Whether a delivery receipt saying `incoming` should be applied to a contact in `current`: only when it
 * is an allowed transition and moves forward (a late `delivered` after `read` is dropped).
 */
export function shouldApplyReceipt(current: ContactStatus, incoming: ContactStatus): boolean {
  return canTransitionContact(current, incoming) && contactStatusRank(incoming) > contactStatusRank(current);
}
