/**
 * What the product counts, in domain words: sends and their outcomes, receipts, replies, queues
 * changing status, the pace of a queue. In AWS the adapter writes CloudWatch EMF to stdout; locally
 * it keeps Prometheus series for `GET /metrics`. Recording never throws and never does I/O of its
 * own: a metric must not be able to fail a send.
 */
import type { QueueStatus, TemplateType } from '../domain/types.ts';

/** How a send attempt ended (the contact's status after it; `retry` = transient, tried again later). */
export type SendStatus = 'sent' | 'failed' | 'unknown' | 'retry';

/** One send attempt that reached the gateway. */
export interface MessageSentEvent {
  tenantId: string;
  queueId?: string;
  templateType: TemplateType;
  status: SendStatus;
  /** Wall time of the gateway call, in milliseconds. */
  durationMs: number;
}

/** A receipt or a reply about a billing message. */
export interface MessageEvent {
  tenantId: string;
  queueId?: string;
  templateType: TemplateType;
}

export interface QueueStatusChange {
  tenantId: string;
  queueId: string;
  /** Absent when the queue was just created. */
  from?: QueueStatus;
  to: QueueStatus;
}

export interface SendRateSample {
  tenantId: string;
  queueId: string;
  /** Messages per minute measured over the recent sends of the queue. */
  perMinute: number;
}

/**
 * Why an authenticated gateway webhook changed nothing (a small fixed set: it is a metric dimension).
 * `unreadable_body`, `unknown_event`, `missing_data`, `unknown_status`, `unknown_message` and
 * `unknown_connection_state` are webhooks the service could not use (logged at WARN); the others are
 * routine (our own send echoed, a duplicate, a receipt of an incoming message...).
 */
export type WebhookIgnoredReason =
  | 'unreadable_body'
  | 'unknown_event'
  | 'missing_data'
  | 'unknown_status'
  | 'unknown_message'
  | 'unknown_connection_state'
  | 'own_send'
  | 'status_not_tracked'
  | 'incoming_message_receipt'
  | 'sent_from_linked_phone'
  | 'group_or_broadcast'
  | 'duplicate'
  | 'stale_receipt'
  | 'unmatched_reply';

/** A service the product depends on, when it fails (an outage must be visible: issue 17). */
export type Dependency = 'store' | 'work_queue' | 'scheduler';

export interface DependencyFailureEvent {
  dependency: Dependency;
  /** What was being done (a small fixed set per dependency, e.g. `publish`, `schedule`). */
  operation: string;
}

export interface WebhookIgnoredEvent {
  tenantId: string;
  reason: WebhookIgnoredReason;
}

export interface Metrics {
  /** Records one finished send attempt: its outcome and how long the gateway took. */
  messageSent(event: MessageSentEvent): void;
  /** Records a delivery receipt (the message reached the phone). */
  messageDelivered(event: MessageEvent): void;
  /** Records a read receipt. */
  messageRead(event: MessageEvent): void;
  /** Records a reply from the contact to a billing message. */
  replyReceived(event: MessageEvent): void;
  /** Records a sent message found stalled: no acknowledgement within the tenant's delivery timeout. */
  deliveryStalled(event: MessageEvent): void;
  /** Records a queue moving between statuses (feeds the count of open queues per status). */
  queueStatusChanged(change: QueueStatusChange): void;
  /** Records an authenticated gateway webhook answered 2xx `ignored`, by reason. */
  webhookIgnored(event: WebhookIgnoredEvent): void;
  /** Records a call to a dependency that failed (the caller fell back; nothing is lost). */
  dependencyFailed(event: DependencyFailureEvent): void;
  /** Records the measured sending pace of a running queue. */
  sendRate(sample: SendRateSample): void;
  /** Publishes what was recorded and not yet published; call before a Lambda invocation returns. */
  flush(): Promise<void>;
}
