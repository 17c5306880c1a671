import { isStalled } from './delivery-stall.ts';
import type { BillingQueue, ContactStatus } from './types.ts';

/** The counters receipts (and server acks, and stalls) change, as a queue's recount counts them. */
export interface ReceiptCounts {
  /** Contacts delivered (or read). */
  delivered: number;
  /** Contacts read. */
  read: number;
  /** Contacts stalled now: sent, `stalledAt` set, no server ack (delivery-stall.ts). */
  stalled: number;
  /** Contacts the gateway took and nothing reported failed: sent, delivered or read. */
  sent: number;
  /** Contacts failed (a failure receipt moves a sent or unknown one here). */
  failed: number;
  /** Contacts whose send's outcome is unknown (a receipt moves one on). */
  unknown: number;
}

/** The counts as the queue's counters hold them (a counter absent on an older queue: 0). */
export const receiptCountsOfQueue = (queue: BillingQueue): ReceiptCounts => ({
  delivered: queue.contactsDelivered ?? 0,
  read: queue.contactsRead ?? 0,
  stalled: queue.contactsStalled ?? 0,
  sent: queue.contactsSent ?? 0,
  failed: queue.contactsFailed ?? 0,
  unknown: queue.contactsUnknown ?? 0,
});

/** The counts as the queue's contacts say them. */
export const receiptCountsOfContacts = (
  contacts: Iterable<{ status: ContactStatus; stalledAt?: string | null; serverAckAt?: string | null }>,
): ReceiptCounts => {
  const counts: ReceiptCounts = { delivered: 0, read: 0, stalled: 0, sent: 0, failed: 0, unknown: 0 };
  for (const contact of contacts) {
    const { status } = contact;
    if (status === 'read') counts.read += 1;
    if (status === 'delivered' || status === 'read') counts.delivered += 1;
    if (status === 'sent' || status === 'delivered' || status === 'read') counts.sent += 1;
    if (status === 'failed') counts.failed += 1;
    if (status === 'unknown') counts.unknown += 1;
    if (isStalled(contact)) counts.stalled += 1;
  }
  return counts;
};
