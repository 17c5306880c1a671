import type { CallbackEvent, CancelReason, Page } from '../../domain/types.ts';

/** Callbacks to the ERP: events and the state of their delivery. */
export interface CallbackStore {
  /**
   * Stores an event unless one with its id exists (the dedup of `BillingEvents.emit`); it expires
   * at `expiresAt` (retention).
   */
  putCallbackEvent(event: StoredCallbackEvent, expiresAt: string): Promise<'created' | 'exists'>;
  getCallbackEvent(queueId: string, eventId: string): Promise<StoredCallbackEvent | undefined>;
  /**
   * Makes an event nobody has attempted yet due at `at` (its announcement on the callbacks queue
   * failed, so the poller must find it); no effect once an attempt has started. `expiresAt` as at
   * `putCallbackEvent`.
   */
  makeCallbackDue(queueId: string, eventId: string, at: string, expiresAt: string): Promise<void>;
  /** Pending events whose next attempt is at or before `now`, earliest first (candidates: the claim decides). */
  listDueCallbacks(now: string, limit: number): Promise<StoredCallbackEvent[]>;
  /**
   * Claims a due attempt: a `pending` event never attempted (`attempts` 0: announced, whatever its
   * `nextAttemptAt`) or whose `nextAttemptAt` is `<= now` gets `attempts + 1` and
   * `nextAttemptAt = leaseUntil` (so no other deliverer takes it meanwhile). undefined when not due.
   * `storeIfMissing`: the event as its announcement carries it; when the store does not have the
   * event (on a queue that keeps its messages the emitter leaves the storing to this claim; with a
   * safety net it died between announcing and storing it, or has not stored it yet) it is stored
   * first, as `putCallbackEvent` would, and claimed (an adapter may make the storing write the
   * claim). Never replaces a stored event.
   */
  claimCallback(
    queueId: string,
    eventId: string,
    now: string,
    leaseUntil: string,
    storeIfMissing?: { event: StoredCallbackEvent; expiresAt: string },
  ): Promise<StoredCallbackEvent | undefined>;
  /**
   * Records the result of claimed attempt number `attempt`; false when the claim was lost meanwhile.
   * `expiresAt`: the event's, as its announcement carried it (the claim that stored the event may
   * have left its delivery state to this first result).
   */
  finishCallbackAttempt(
    queueId: string,
    eventId: string,
    attempt: number,
    result: CallbackAttemptResult,
    expiresAt?: string,
  ): Promise<boolean>;
  /**
   * The ids of a queue's stored events, in id order, expired ones included: whether an event is
   * there, for what a crash may have lost (lib/app/missed-events.ts). Eventually consistent (an event
   * stored a moment ago may be missing) and without delivery states: half the reads of a listing.
   */
  listCallbackEventIds(queueId: string): Promise<string[]>;
  /** A tenant's events, oldest first: of one queue, or all of them; from `since` on; expired ones left out. */
  listCallbackEvents(tenantId: string, query: CallbackEventQuery): Promise<Page<StoredCallbackEvent>>;
}

/** Where an event stands with the ERP: `skipped` events are kept for the events API, never posted. */
export type CallbackDeliveryStatus = 'pending' | 'delivered' | 'dead' | 'skipped';

export interface CallbackDelivery {
  status: CallbackDeliveryStatus;
  /** Attempts started (a claim counts one). */
  attempts: number;
  /**
   * While `pending`: when the next attempt may start (or the current claim's lease ends); null
   * while an event is announced on the callbacks queue and not attempted yet (its first attempt is
   * whenever the queue's consumer takes it; it is in no due index).
   */
  nextAttemptAt: string | null;
  /** When the last finished attempt ended (set with its result, not at the claim). */
  lastAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
}

/** The JSON body posted to the ERP, with the wire's field names. */
export interface CallbackPayload {
  event_id: string;
  event: CallbackEvent;
  occurred_at: string;
  external_id: string;
  billing_campaign_id: string;
  queue_id: string;
  /** null for queue-level events. */
  contact: { telefone: string; nome_cliente: string; numero_fatura: string | null } | null;
  /** The gateway's message id. */
  message_id: string | null;
  error: { code: string; message: string } | null;
  reply: { text: string; intent: string } | null;
  /** Only on `cancelled`: why the contact was cancelled (its invoice was `paid`, or its debtor `erased`). */
  cancel_reason?: CancelReason;
}

/** One event for the ERP and the state of its delivery. */
export interface StoredCallbackEvent {
  /** `<queueId>:<position>:<event>` or `<queueId>:queue.completed`: deterministic, so emitting twice stores once. */
  eventId: string;
  tenantId: string;
  queueId: string;
  event: CallbackEvent;
  occurredAt: string;
  /** Where to post (null: the campaign asked for no callbacks). */
  callbackUrl: string | null;
  /** The campaign's API key: its signing secrets sign the callback. */
  apiKeyId: string;
  payload: CallbackPayload;
  delivery: CallbackDelivery;
  createdAt: string;
}

/** The result of one delivery attempt. */
export type CallbackAttemptResult =
  | { status: 'delivered'; at: string }
  | { status: 'pending'; at: string; error: string; nextAttemptAt: string }
  | { status: 'dead'; at: string; error: string };

export interface CallbackEventQuery {
  /** Only this queue's events (the caller checked the queue is the tenant's). */
  queueId?: string;
  /** Only events that occurred at or after this instant. */
  since?: string;
  /** Page size, 1..100. */
  limit: number;
  cursor?: string;
}
