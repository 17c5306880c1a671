import type { MessageRecord } from '../domain/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { BillingEvents } from '../ports/billing-events.ts';
import type { Clock } from '../ports/clock.ts';
import type { MessageEvent, Metrics, WebhookIgnoredReason } from '../ports/metrics.ts';
import type { Scheduler } from '../ports/scheduler.ts';
import type {
  CampaignStore,
  ConversationStore,
  CounterStore,
  DeliveryWatchStore,
  FeedbackStore,
  ReceiptRecountStore,
  SendingStore,
  TenantStore,
} from '../ports/store.ts';
import type { WorkQueue } from '../ports/work-queue.ts';

/*
 * What the handlers of the gateway's events share (apply-gateway-events.ts dispatches to them): the
 * ports they use, the outcome each answers, and which recorded messages are billing messages.
 */

/** The ports the webhook intake uses. */
export interface ApplyGatewayEventsDeps {
  /** Messages (conversations), receipts, replies and opt-outs (feedback), a duplicate's recount flag
   *  (receipt recount), server acks (delivery watch), queue moves and counters (sending), queues of an
   *  instance (campaigns), its state (tenants), the tenant's figures (counters). */
  store: ConversationStore &
    FeedbackStore &
    ReceiptRecountStore &
    DeliveryWatchStore &
    SendingStore &
    CampaignStore &
    TenantStore &
    CounterStore;
  events: BillingEvents;
  clock: Clock;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  logger: Logger;
  metrics: Metrics;
}

/** What happened to one webhook: applied, ignored (not ours, echo, duplicate...), or to be retried by the gateway. */
export interface IngestOutcome {
  result: 'applied' | 'ignored' | 'retry_later';
  detail: string;
  /** Why it was ignored (the metric's dimension); only on `ignored`. */
  reason?: WebhookIgnoredReason;
}

export const isBillingMessage = (m: MessageRecord | undefined, tenantId: string): m is MessageRecord =>
  m !== undefined &&
  m.tenantId === tenantId &&
  m.direction === 'outbound' &&
  m.queueId !== null &&
  m.contactPosition !== null;

/** What a receipt or reply metric says about a billing message; none without a template type to label it. */
export const metricEvent = (m: MessageRecord): MessageEvent | undefined =>
  m.templateType
    ? { tenantId: m.tenantId, queueId: m.queueId ?? undefined, templateType: m.templateType }
    : undefined;

export const ignored = (reason: WebhookIgnoredReason, detail: string): IngestOutcome => ({
  result: 'ignored',
  reason,
  detail,
});
/** At most this much of an id the gateway sent goes into an outcome's detail (and so a log line). */
export const clip = (id: string): string => id.slice(0, 60);
export const applied = (detail: string): IngestOutcome => ({ result: 'applied', detail });
export const retryLater = (detail: string): IngestOutcome => ({ result: 'retry_later', detail });
