import type { CallbackEvent, CancelReason, EventContact } from '../domain/types.ts';

/** Something that happened to a contact or a queue, which the ERP may want by callback. */
export interface BillingEventInput {
  name: CallbackEvent;
  queueId: string;
  /** The contact's position in its queue; null for queue-level events (`queue.completed`). */
  contactPosition: number | null;
  occurredAt: string;
  /** The gateway's message id (`key.id`) when there is one. */
  providerMessageId?: string | null;
  /** Stable code and text of a failure (`failed`). */
  error?: { code: string; message: string } | null;
  /** `replied`: the reply's text and its classified intent. */
  reply?: { text: string; intent: string } | null;
  /** `cancelled`: why (the invoice was paid, the debtor erased). */
  cancelReason?: CancelReason;
  /**
   * The contact as the emitter holds it (the pump's claimed contact, a receipt's write), which
   * spares a read of it; absent, the contact is read from the store.
   */
  contact?: EventContact;
}

/**
 * Records events and hands them to callback delivery. Idempotent: the same event (same queue,
 * contact and name) emitted twice is stored and delivered once, so redelivered work items and
 * duplicated webhooks never notify the ERP twice.
 */
export interface BillingEvents {
  emit(event: BillingEventInput): Promise<void>;
}
