import { maskPhone } from '../domain/phone.ts';
import { contactExpiry, retentionEnd } from '../domain/retention.ts';
import type { AttemptDecision } from '../domain/send-outcome.ts';
import type { BillingContact, BillingQueue, ContactSendResult, EventContact } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEventInput, BillingEvents } from '../ports/billing-events.ts';
import type { Metrics } from '../ports/metrics.ts';
import type { SendingStore } from '../ports/store.ts';
import type { SendOutcome } from '../ports/whatsapp-gateway.ts';
import type { DeliveryWatchArmer } from './delivery-watch.ts';
import type { ProgressBuffer } from './queue-progress.ts';

/** One gateway call for a claimed contact, as the pump records it. */
export interface SendAttempt {
  queue: BillingQueue;
  instanceId: string;
  claimed: BillingContact;
  outcome: SendOutcome;
  /** What the outcome means for the contact and the queue's counters (send-outcome.ts). */
  decision: AttemptDecision;
  /** The tenant's retention: a settled contact and its message expire this many days after the attempt. */
  retentionDays: number;
  /** When the gateway call started and when it answered (ms). */
  startedAt: number;
  doneAt: Date;
}

/**
 * Records an attempt: the send metric, the contact's result (conditional on this very claim, so
 * a claim another pump settled meanwhile is left as that pump decided; only a result the contact
 * took adds its counter deltas, and so the tenant's figures, to `progress`), the queue's delivery
 * watch after a send, and the callback event of a final result. Whether it emitted that event.
 */
export const recordAttempt = async (
  deps: { store: SendingStore; metrics: Metrics; events: BillingEvents; deliveryWatch: DeliveryWatchArmer },
  log: Logger,
  progress: Pick<ProgressBuffer, 'add'>,
  attempt: SendAttempt,
): Promise<boolean> => {
  const { queue, decision, doneAt } = attempt;
  if (decision.result.status !== 'pending' && decision.result.status !== 'skipped_opt_out') {
    deps.metrics.messageSent({
      tenantId: queue.tenantId,
      queueId: queue.id,
      templateType: queue.templateType,
      status: decision.result.status,
      durationMs: doneAt.getTime() - attempt.startedAt,
    });
  }
  if (await recordResult(deps, log, attempt)) progress.add(decision.deltas, doneAt);
  // Watching for a stalled delivery starts with the send, before the ERP hears of it.
  if (decision.result.status === 'sent') await deps.deliveryWatch.arm(queue.id, doneAt.toISOString());
  // The claimed contact: what the event says of it, without reading it again.
  const event = attemptEvent(queue.id, attempt.claimed.position, decision.result, attempt.claimed);
  if (event) await deps.events.emit(event);
  return event !== undefined;
};

/** A sent contact is recorded with its conversation message; any other result just finishes it. */
const recordResult = async (
  deps: { store: SendingStore },
  log: Logger,
  { queue, instanceId, claimed, outcome, decision, doneAt, retentionDays }: SendAttempt,
): Promise<boolean> => {
  if (outcome.kind === 'sent') {
    if (decision.result.status !== 'sent') throw new Error('a sent outcome must record a sent contact');
    const recorded = await deps.store.recordSent(
      claimed,
      decision.result,
      {
        id: outcome.messageId,
        tenantId: queue.tenantId,
        phone: claimed.phone,
        instanceId,
        direction: 'outbound',
        // No text: it is the contact's rendered message, kept there once.
        at: doneAt.toISOString(),
        queueId: queue.id,
        contactPosition: claimed.position,
        campaignId: queue.campaignId,
        externalId: queue.externalId,
        templateType: queue.templateType,
      },
      retentionEnd(decision.result.at, retentionDays),
    );
    if (!recorded) {
      log.warn('a send was recorded after its claim had been settled by another pump', {
        position: claimed.position,
      });
    }
    return recorded;
  }
  log.warn('send attempt did not succeed', {
    phone: maskPhone(claimed.phone),
    outcome: outcome.kind,
    reason: outcome.reason,
    attempts: claimed.attempts,
  });
  return deps.store.finishContact(
    queue.id,
    claimed.position,
    decision.result,
    contactExpiry(decision.result, retentionDays),
    claimed.claimedAt ?? undefined,
  );
};

/**
 * The callback event of an attempt's result at `position`: only final results (sent, failed,
 * unknown) are news for the ERP, dated by the result; a `failed` or `unknown` one carries the
 * decision's code and the gateway's reason. `contact`: the contact as the caller holds it.
 */
export const attemptEvent = (
  queueId: string,
  position: number,
  result: ContactSendResult,
  contact?: EventContact,
): BillingEventInput | undefined => {
  if (result.status !== 'sent' && result.status !== 'failed' && result.status !== 'unknown') return undefined;
  return {
    name: result.status,
    queueId,
    contactPosition: position,
    occurredAt: result.at,
    providerMessageId: result.status === 'sent' ? result.providerMessageId : null,
    error: result.status === 'sent' ? null : { code: result.code, message: result.error },
    contact,
  };
};
