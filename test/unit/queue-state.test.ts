import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors.ts';
import {
  allowedQueueActions,
  assertContactTransition,
  assertQueueTransition,
  CONTACT_STATUS_DISPLAY,
  CONTACT_TRANSITIONS,
  canTransitionContact,
  canTransitionQueue,
  contactStatusRank,
  isFinalContactStatus,
  isFinalQueueStatus,
  QUEUE_STATUS_DISPLAY,
  QUEUE_TRANSITIONS,
  queueStatusesThatCanMoveTo,
  shouldApplyReceipt,
} from '../../lib/domain/queue-state.ts';
import {
  CONTACT_STATUSES,
  type ContactStatus,
  QUEUE_STATUSES,
  type QueueStatus,
} from '../../lib/domain/types.ts';

// The expected machines, written out again from the design so a change to the module's tables fails here.
const EXPECTED_QUEUE: Record<QueueStatus, QueueStatus[]> = {
  // Every waiting queue completes once its last contacts were cancelled one by one (paid, erased).
  pending: ['scheduled', 'running', 'paused', 'cancelled', 'instance_down', 'completed'],
  // Self-moves: re-entered with new fields (continuation, later opening, later re-check).
  scheduled: ['scheduled', 'running', 'paused', 'cancelled', 'instance_down', 'completed'],
  running: ['running', 'scheduled', 'paused', 'instance_down', 'completed', 'cancelled', 'failed'],
  // Resume goes to pending only (README, Control); the pump decides from there.
  paused: ['pending', 'cancelled', 'completed'],
  // Not pausable (README, Control: pause works from pending, scheduled or running).
  instance_down: ['instance_down', 'running', 'scheduled', 'cancelled', 'pending', 'completed'],
  completed: [],
  cancelled: [],
  failed: [],
};

const EXPECTED_CONTACT: Record<ContactStatus, ContactStatus[]> = {
  // -> retry: deferred by the per-debtor frequency cap.
  pending: ['sending', 'cancelled', 'skipped_opt_out', 'retry'],
  retry: ['sending', 'cancelled', 'skipped_opt_out', 'failed', 'retry'],
  sending: ['sent', 'failed', 'retry', 'unknown', 'pending'],
  sent: ['delivered', 'read', 'failed'],
  delivered: ['read'],
  unknown: ['sending', 'failed', 'delivered', 'read'],
  read: [],
  failed: [],
  cancelled: [],
  skipped_opt_out: [],
};

const queuePairs = QUEUE_STATUSES.flatMap((from) =>
  QUEUE_STATUSES.map((to) => [from, to, EXPECTED_QUEUE[from].includes(to)] as const),
);
const contactPairs = CONTACT_STATUSES.flatMap((from) =>
  CONTACT_STATUSES.map((to) => [from, to, EXPECTED_CONTACT[from].includes(to)] as const),
);

const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('queue state machine', () => {
  it('has exactly the expected transitions for every status', () => {
    // Act
    const table = Object.fromEntries(QUEUE_STATUSES.map((s) => [s, [...QUEUE_TRANSITIONS[s]].sort()]));

    // Assess
    expect(table).toEqual(Object.fromEntries(QUEUE_STATUSES.map((s) => [s, [...EXPECTED_QUEUE[s]].sort()])));
  });

  it.each(queuePairs)('answers %s -> %s allowed = %s', (from, to, allowed) => {
    // Act
    const can = canTransitionQueue(from, to);
    const error = thrownBy(() => assertQueueTransition(from, to));

    // Assess
    expect(can).toBe(allowed);
    if (allowed) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'INVALID_TRANSITION', status: 400, params: { from, to } });
    }
  });

  it('says the refused transition in Portuguese', () => {
    // Act
    const error = thrownBy(() => assertQueueTransition('completed', 'running')) as DomainError;

    // Assess
    expect(error.message).toBe('Transição de status inválida: completed -> running');
  });

  it.each(QUEUE_STATUSES)('derives the statuses that can move to %s from the table', (to) => {
    // Act
    const from = queueStatusesThatCanMoveTo(to);

    // Assess
    expect([...from].sort()).toEqual(QUEUE_STATUSES.filter((s) => EXPECTED_QUEUE[s].includes(to)).sort());
  });

  it('gives the from-conditions the use cases write with', () => {
    // Act and Assess
    expect(queueStatusesThatCanMoveTo('running')).toEqual([
      'pending',
      'scheduled',
      'running',
      'instance_down',
    ]);
    expect(queueStatusesThatCanMoveTo('paused')).toEqual(['pending', 'scheduled', 'running']);
    expect(queueStatusesThatCanMoveTo('pending')).toEqual(['paused', 'instance_down']);
    expect(queueStatusesThatCanMoveTo('completed')).toEqual([
      'pending',
      'scheduled',
      'running',
      'paused',
      'instance_down',
    ]);
    expect(queueStatusesThatCanMoveTo('cancelled')).toEqual([
      'pending',
      'scheduled',
      'running',
      'paused',
      'instance_down',
    ]);
  });

  it('treats completed, cancelled and failed as final and nothing else', () => {
    // Act
    const finals = QUEUE_STATUSES.filter(isFinalQueueStatus);

    // Assess
    expect(finals).toEqual(['completed', 'cancelled', 'failed']);
  });

  it('labels every queue status with the guide pt-BR words', () => {
    // Assess
    expect(QUEUE_STATUS_DISPLAY).toEqual({
      pending: 'Pendente',
      scheduled: 'Agendada',
      running: 'Em execução',
      paused: 'Pausada',
      instance_down: 'Instância desconectada',
      completed: 'Concluído',
      cancelled: 'Cancelada',
      failed: 'Falhou',
    });
  });
});

describe('contact state machine', () => {
  it('has exactly the expected transitions for every status', () => {
    // Act
    const table = Object.fromEntries(CONTACT_STATUSES.map((s) => [s, [...CONTACT_TRANSITIONS[s]].sort()]));

    // Assess
    expect(table).toEqual(
      Object.fromEntries(CONTACT_STATUSES.map((s) => [s, [...EXPECTED_CONTACT[s]].sort()])),
    );
  });

  it.each(contactPairs)('answers %s -> %s allowed = %s', (from, to, allowed) => {
    // Act
    const can = canTransitionContact(from, to);
    const error = thrownBy(() => assertContactTransition(from, to));

    // Assess
    expect(can).toBe(allowed);
    if (allowed) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'INVALID_TRANSITION', params: { from, to } });
    }
  });

  it('treats read, failed, cancelled and skipped_opt_out as final and nothing else', () => {
    // Act
    const finals = CONTACT_STATUSES.filter(isFinalContactStatus);

    // Assess
    expect(finals).toEqual(['read', 'failed', 'cancelled', 'skipped_opt_out']);
  });

  it('labels every contact status with a Portuguese word', () => {
    // Assess
    expect(Object.keys(CONTACT_STATUS_DISPLAY).sort()).toEqual([...CONTACT_STATUSES].sort());
    expect(CONTACT_STATUS_DISPLAY.sent).toBe('Enviada');
    expect(CONTACT_STATUS_DISPLAY.delivered).toBe('Entregue');
    expect(CONTACT_STATUS_DISPLAY.read).toBe('Lida');
    expect(Object.values(CONTACT_STATUS_DISPLAY).every((label) => label.trim().length > 0)).toBe(true);
  });
});

describe('contactStatusRank', () => {
  it('orders receipts sent < delivered < read, after the claim steps', () => {
    // Act
    const ranks = (['pending', 'sending', 'sent', 'delivered', 'read'] as const).map(contactStatusRank);

    // Assess
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks).size).toBe(ranks.length);
    expect(contactStatusRank('retry')).toBe(contactStatusRank('pending'));
    expect(contactStatusRank('unknown')).toBe(contactStatusRank('sending'));
  });

  it('applies forward receipts and drops a late one that would move the status back', () => {
    // Act and Assess
    expect(shouldApplyReceipt('sent', 'delivered')).toBe(true);
    expect(shouldApplyReceipt('sent', 'read')).toBe(true);
    expect(shouldApplyReceipt('delivered', 'read')).toBe(true);
    expect(shouldApplyReceipt('read', 'delivered')).toBe(false);
    expect(shouldApplyReceipt('delivered', 'sent')).toBe(false);
    expect(shouldApplyReceipt('read', 'read')).toBe(false);
    expect(shouldApplyReceipt('cancelled', 'delivered')).toBe(false);
  });
});

describe('allowedQueueActions', () => {
  it('offers exactly the control actions the state machine lets through, per status', () => {
    const offered = Object.fromEntries(QUEUE_STATUSES.map((status) => [status, allowedQueueActions(status)]));

    expect(offered).toEqual({
      pending: ['pause', 'cancel'],
      scheduled: ['pause', 'cancel'],
      running: ['pause', 'cancel'],
      paused: ['resume', 'cancel'],
      instance_down: ['resume', 'cancel'],
      completed: [],
      cancelled: [],
      failed: [],
    });
  });
});
