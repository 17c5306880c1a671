import { maskPhone } from '../domain/phone.ts';
import { contactExpiry, retentionEnd } from '../domain/retention.ts';
import type { AttemptDecision } from '../domain/send-outcome.ts';
import type { BillingContact, BillingQueue, ContactSendResult, SendFailureCode } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
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
  const event = attemptEventOf(decision.result);
  if (event) {
    const { outcome } = attempt;
    await deps.events.emit({
      name: event,
      queueId: queue.id,
      contactPosition: attempt.claimed.position,
      occurredAt: doneAt.toISOString(),
      providerMessageId: outcome.kind === 'sent' ? outcome.messageId : null,
      error: attemptError(decision.result),
      // The claimed contact: what the event says of it, without reading it again.
      contact: attempt.claimed,
    });
  }
  return Boolean(event);
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
        text: claimed.renderedMessage,
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

/** The callback event of an attempt's result: only final results are news for the ERP. */
export const attemptEventOf = (result: ContactSendResult): 'sent' | 'failed' | 'unknown' | undefined =>
  result.status === 'sent' || result.status === 'failed' || result.status === 'unknown'
    ? result.status
    : undefined;

/** The `error` of a `failed` or `unknown` event: the decision's code and the gateway's reason. */
export const attemptError = (result: ContactSendResult): { code: SendFailureCode; message: string } | null =>
  result.status === 'failed' || result.status === 'unknown'
    ? { code: result.code, message: result.error }
    : null;
