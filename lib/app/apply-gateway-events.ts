import type { WhatsAppInstance } from '../domain/tenant-types.ts';
import type { GatewayEvent, GatewayWebhook } from '../ports/gateway-events.ts';
import type { WebhookIgnoredReason } from '../ports/metrics.ts';
import { applyConnection } from './apply-connection.ts';
import { applyReceipt } from './apply-receipt.ts';
import { applyReply } from './apply-reply.ts';
import { type ApplyGatewayEventsDeps, type IngestOutcome, ignored } from './gateway-event-intake.ts';

export type { ApplyGatewayEventsDeps, IngestOutcome } from './gateway-event-intake.ts';

/** Ignored webhooks the service could not use: logged at WARN (the rest are routine, logged at DEBUG). */
const UNUSABLE: ReadonlySet<WebhookIgnoredReason> = new Set<WebhookIgnoredReason>([
  'unreadable_body',
  'unknown_event',
  'missing_data',
  'unknown_status',
  'unknown_message',
  'unknown_connection_state',
]);

/**
 * Applies what one webhook of an (already authenticated) instance reports, design section 5:
 * 1. receipts of our sends: the message item (tenant, instance, message id) names the contact; one
 *    forward-only conditional write on the contact, then at once the counters (the queue's and the
 *    tenant's figures) from the status it replaced and the events for the ERP; `server_ack` is
 *    recorded on the contact (not stalled; the status stays `sent`).
 *    A receipt that finds the contact still `sending` (the sender records the message before it
 *    marks the contact sent), or no message yet, asks the gateway to retry (`retry_later` -> 503);
 * 2. replies: matched to the billing message they quote, else to the phone's latest billing
 *    message within 7 days (retried later while the phone's history may not show a send of the
 *    last seconds); stored as an inbound message (once per id), counted once per contact,
 *    classified, opt-out requests suppress the phone, `replied` for the ERP;
 * 3. connection changes: the state is remembered; `close` stops the instance's open queues
 *    (`instance_down`, re-checked by the pump in a minute), `open` resumes them at once;
 * 4. whatever is ignored is counted by reason and logged (WARN when the service could not use it).
 * Every step is idempotent, so the gateway's retries and duplicates change nothing twice. The
 * webhook's outcome: `retry_later` if any event asks for it (applying again is harmless), else
 * `applied` if any event was, else the first event's `ignored`.
 */
export const applyGatewayEvents = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  webhook: GatewayWebhook,
): Promise<IngestOutcome> => {
  const outcomes: IngestOutcome[] = [];
  for (const event of webhook.events) {
    const outcome = await applyEvent(deps, instance, event);
    if (outcome.result === 'ignored' && outcome.reason)
      noteIgnored(deps, instance, webhook, outcome.reason, outcome.detail);
    outcomes.push(outcome);
  }
  return (
    outcomes.find((o) => o.result === 'retry_later') ??
    outcomes.find((o) => o.result === 'applied') ??
    // A webhook has at least one event.
    (outcomes[0] as IngestOutcome)
  );
};

const applyEvent = async (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  event: GatewayEvent,
): Promise<IngestOutcome> => {
  switch (event.kind) {
    case 'receipt':
      return applyReceipt(deps, instance, event);
    case 'reply':
      return applyReply(deps, instance, event);
    case 'connection':
      return applyConnection(deps, instance, event);
    case 'ignored':
      return ignored(event.reason, event.detail);
  }
};

/** Counts an ignored event by reason, and logs it with what the gateway called the webhook. */
const noteIgnored = (
  deps: ApplyGatewayEventsDeps,
  instance: WhatsAppInstance,
  webhook: GatewayWebhook,
  reason: WebhookIgnoredReason,
  detail: string,
): void => {
  deps.metrics.webhookIgnored({ tenantId: instance.tenantId, reason });
  const fields = {
    tenantId: instance.tenantId,
    instanceId: instance.id,
    event: webhook.label.event,
    // The gateway's own instance name, only to tell misrouted webhooks apart in the logs.
    envelopeInstance: webhook.label.instance,
    reason,
    detail,
  };
  if (UNUSABLE.has(reason)) deps.logger.warn('gateway webhook ignored', fields);
  else deps.logger.debug('gateway webhook ignored', fields);
};
