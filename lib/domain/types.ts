/**
 * The entities of the billing domain (design section 4), as plain data.
 * Field names are camelCase here; the HTTP layer maps them to the guide's snake_case names.
 * Instants are ISO-8601 UTC strings; calendar dates are `yyyy-mm-dd`; times of day are `HH:mm`.
 */

export const TEMPLATE_TYPES = ['overdue', 'upcoming', 'notification'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

export const QUEUE_STATUSES = [
  'pending',
  'scheduled',
  'running',
  'paused',
  'instance_down',
  'completed',
  'cancelled',
  'failed',
] as const;
export type QueueStatus = (typeof QUEUE_STATUSES)[number];

/** `unknown`: the gateway may or may not have sent it (timeout after the request left); never resent blindly. */
export const CONTACT_STATUSES = [
  'pending',
  'sending',
  'sent',
  'delivered',
  'read',
  'failed',
  'retry',
  'cancelled',
  'skipped_opt_out',
  'unknown',
] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const CALLBACK_EVENTS = [
  'sent',
  'delivered',
  'read',
  'failed',
  // Opt-in only (not in the default set): a send whose outcome is unknown (it may have reached the
  // phone; under `mark_unknown` it is never sent again).
  'unknown',
  'replied',
  'queue.completed',
  // Opt-in only (not in the default set): a sent message WhatsApp never acknowledged in time.
  'delivery_stalled',
  // A reminder that will not go out: its invoice was paid, or its debtor erased (`cancel_reason`).
  'cancelled',
] as const;
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/**
 * Why one contact was cancelled on its own (a whole queue cancelled by control leaves none):
 * `paid` (POST /payments: its invoice was paid), `erased` (its debtor's data was erased, LGPD).
 */
export const CANCEL_REASONS = ['paid', 'erased'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** A contact the Accept path refused, reported back one by one (never silently dropped). */
export interface ContactRejection {
  /** Position in the request's `contacts` array. */
  index: number;
  telefone: string;
  code: string;
  message: string;
}

/**
 * One accepted request (the guide's BillingCampaign). `externalId` is unique per tenant and is the
 * idempotency key: the same external_id with the same body replays the first answer.
 */
export interface Campaign {
  id: string;
  tenantId: string;
  externalId: string;
  templateType: TemplateType;
  queueId: string;
  /** SHA-256 of the canonical request body; a different body under the same external_id is a conflict. */
  requestHash: string;
  apiKeyId: string;
  callbackUrl: string | null;
  callbackEvents: CallbackEvent[];
  metadata: Record<string, unknown>;
  /** `creating` until the queue and every contact are stored; only then is the answer replayable. */
  state: 'creating' | 'created';
  /** While `creating`: the request finishing it holds it until then; a retry takes over after. */
  leaseUntil: string;
  /**
   * A random token of the request that holds the campaign (set at create and at each take-over).
   * Only the holder may create the queue or complete the campaign: a slow request whose lease a
   * retry took over finds it changed and stops writing.
   */
  owner: string;
  /** What a retry needs to render exactly the same messages: the rotation seed and the use counts seen. */
  plan: { seed: number; uses: Record<string, number> };
  /** The daily quota was reserved for `accepted` messages (so a retry does not reserve twice). */
  quotaReserved: boolean;
  accepted: number;
  rejected: ContactRejection[];
  estimatedDurationMinutes: number;
  scheduledStart: string | null;
  createdAt: string;
}

/** The sending state of one campaign (the guide's BillingQueue), with its progress counters. */
export interface BillingQueue {
  id: string;
  tenantId: string;
  campaignId: string;
  externalId: string;
  templateType: TemplateType;
  /** The WhatsApp instance that sends it (null when the tenant had none at accept time). */
  instanceId: string | null;
  status: QueueStatus;
  totalContacts: number;
  contactsSent: number;
  contactsDelivered: number;
  contactsRead: number;
  contactsReplied: number;
  contactsFailed: number;
  contactsPendingRetry: number;
  contactsCancelled: number;
  contactsUnknown: number;
  contactsSkipped: number;
  /**
   * Sent contacts currently stalled: no acknowledgement within the tenant's delivery timeout. A late
   * receipt (or SERVER_ACK) takes the contact out again, so this is a current count, not a total.
   */
  contactsStalled: number;
  /**
   * Contacts waiting because their phone was reminded too recently (the per-debtor frequency cap):
   * they wait in `retry` until the next allowed time, so they are also in `contactsPendingRetry`.
   * A current count; absent on queues stored before the field existed.
   */
  contactsDeferred?: number;
  /** Messages per minute measured over the recent sends. */
  currentRate: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  pausedAt: string | null;
  pauseReason: string;
  nextRunAt: string | null;
  /** Bumped on every publish of the queue's work item (part of the FIFO deduplication id). */
  publishGeneration: number;
  /** Last write to the queue (the sweeper's grace period counts from it). */
  updatedAt?: string;
}

/** One debtor of a queue, with the message rendered at accept time (the guide's BillingContact). */
export interface BillingContact {
  /** `<queueId>:<position>`: stable, so a retry that writes the batch again finds the same contacts. */
  id: string;
  queueId: string;
  tenantId: string;
  /** Index in the request's `contacts` array. */
  position: number;
  phone: string;
  name: string;
  invoiceNumber: string | null;
  /** Given and calculated template variables. */
  variables: Record<string, string | number>;
  variationId: string;
  renderedMessage: string;
  status: ContactStatus;
  attempts: number;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Why an attempt ended it `failed` (or `unknown`): the code of its `failed` (or `unknown`) event; absent otherwise. */
  lastErrorCode?: SendFailureCode | null;
  /**
   * Gateway's `key.id` once sent. (Its `key.remoteJid` is not kept: nothing reads it, and it
   * spells the phone; receipts find the contact by the id, replies by the phone's spellings.)
   */
  providerMessageId: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** When a contact in `retry` may be tried again. */
  retryAt?: string | null;
  /**
   * Waiting in `retry` because its phone was reminded too recently (the per-debtor frequency cap),
   * not after a failed attempt; `retryAt` is the next allowed time. Cleared by the attempt's result.
   */
  deferred?: boolean;
  /** When the last claim (`-> sending`) happened. */
  claimedAt?: string | null;
  /** When WhatsApp's server took the message (SERVER_ACK): not delivered, but not stalled either. */
  serverAckAt?: string | null;
  /** When the message was found stalled (sent, no acknowledgement within the delivery timeout); set once. */
  stalledAt?: string | null;
  /** When the debtor first replied to this message (set once by the gateway events). */
  repliedAt?: string | null;
  /** Why this contact alone was cancelled (null or absent: not cancelled, or with its whole queue). */
  cancelReason?: CancelReason | null;
  /** When its debtor's personal data was erased (name, phone, variables, text replaced by a marker). */
  erasedAt?: string | null;
}

/** What a contact event (a callback) tells the ERP of its contact, and the message id it has. */
export type EventContact = Pick<BillingContact, 'phone' | 'name' | 'invoiceNumber' | 'providerMessageId'>;

/** A page of a listing; `nextCursor` is opaque and null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One message of the conversation history of (tenant, phone): billing messages we sent and the
 * debtor's replies. Conversations (open/closed, reopened within 24 h) are derived from this log,
 * so recording a send is one write.
 */
export interface ConversationMessage {
  /** The gateway's message id (`key.id`); a contact id when the gateway gave none (unknown outcome). */
  id: string;
  tenantId: string;
  /** E.164. */
  phone: string;
  instanceId: string;
  direction: 'outbound' | 'inbound';
  text: string;
  at: string;
  /** Set on billing messages: where the message came from. */
  queueId: string | null;
  contactPosition: number | null;
  campaignId: string | null;
  externalId: string | null;
  templateType: TemplateType | null;
}

/**
 * A message as the store keeps it to find its contact (webhook receipts and replies): all but its
 * text. A billing message's text is its contact's rendered message, stored once, on the contact.
 */
export type MessageRecord = Omit<ConversationMessage, 'text'>;

/**
 * Why an attempt ended a contact `failed` (or `unknown`), as its callback says it (`error.code`):
 * not a WhatsApp number, refused by the gateway for good, transient failures past `max_retries`,
 * or an unknown outcome (kept as it is under `mark_unknown`, retried past `max_retries` under
 * `retry`).
 */
export type SendFailureCode =
  | 'NOT_ON_WHATSAPP'
  | 'GATEWAY_REJECTED'
  | 'RETRIES_EXHAUSTED'
  | 'UNKNOWN_OUTCOME';

/** The result of one send attempt on a claimed contact. */
export type ContactSendResult =
  | { status: 'sent'; providerMessageId: string; at: string }
  | { status: 'retry'; error: string; at: string; retryAt: string }
  | { status: 'failed'; error: string; code: SendFailureCode; at: string }
  | { status: 'unknown'; error: string; code: 'UNKNOWN_OUTCOME'; at: string }
  /** Released without an attempt (the pump stopped between claim and send). */
  | { status: 'pending'; at: string }
  /** Released without an attempt: the phone opted out after the contact was queued. */
  | { status: 'skipped_opt_out'; at: string };

/** A delivery receipt from the gateway, as the contact status it moves to. */
export type ReceiptStatus = 'delivered' | 'read' | 'failed';

/** A phone that asked a tenant not to be contacted (by a reply such as SAIR, or through the API). */
export interface OptOut {
  tenantId: string;
  /** E.164. */
  phone: string;
  source: 'reply' | 'api';
  /** Free text: the reply that asked for it, or the API caller's `motivo`. */
  reason: string;
  at: string;
}

/** The queue's counters, as names of BillingQueue fields. */
export type QueueCounter =
  | 'contactsSent'
  | 'contactsDelivered'
  | 'contactsRead'
  | 'contactsReplied'
  | 'contactsFailed'
  | 'contactsPendingRetry'
  | 'contactsCancelled'
  | 'contactsUnknown'
  | 'contactsSkipped'
  | 'contactsStalled'
  | 'contactsDeferred';

/** Fields of a queue that change while it runs (besides status and counters). */
export type QueueRunFields = Partial<
  Pick<
    BillingQueue,
    'currentRate' | 'startedAt' | 'completedAt' | 'pausedAt' | 'pauseReason' | 'nextRunAt' | 'instanceId'
  >
>;

/**
 * What a status transition may set with the status: not the measured rate, which lives on the
 * queue's counters item and goes only with progress writes (on the queue item it would be hidden).
 */
export type QueueTransitionFields = Omit<QueueRunFields, 'currentRate'>;
