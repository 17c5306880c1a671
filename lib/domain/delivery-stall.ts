/**
 * Stalled deliveries: Evolution answers 201 `PENDING` when it accepts a send, and the most reported
 * problem is a message that then never reaches WhatsApp. A `sent` contact with no SERVER_ACK,
 * DELIVERY_ACK or READ within the tenant's delivery timeout is stalled. Pure rules; the sweeper
 * applies them (lib/app/delivery-watch.ts).
 */
import type { ContactStatus } from './types.ts';

/** What a delivery check needs to know of one contact. */
export interface ContactDelivery {
  position: number;
  status: ContactStatus;
  sentAt: string | null;
  serverAckAt: string | null;
  stalledAt: string | null;
  providerMessageId: string | null;
}

/** Statuses that can still become `sent` (a pump will, or may, send them). */
const NOT_SENT_YET: ReadonlySet<ContactStatus> = new Set(['pending', 'retry', 'sending', 'unknown']);

/** Sent and not acknowledged in any way, nor already found stalled: the contacts a check watches. */
export const awaitsAcknowledgement = (c: ContactDelivery): boolean =>
  c.status === 'sent' && !c.serverAckAt && !c.stalledAt;

/**
 * Currently stalled: found stalled and still only `sent` with no SERVER_ACK. A receipt or a
 * SERVER_ACK that arrives later ends it (that is when `contacts_stalled` goes down again).
 */
export const isStalled = (c: {
  status: ContactStatus;
  serverAckAt?: string | null;
  stalledAt?: string | null;
}): boolean => c.status === 'sent' && Boolean(c.stalledAt) && !c.serverAckAt;

/** What one check of a queue's contacts decides. */
export interface DeliveryCheckPlan {
  /** Positions to mark stalled now (sent at or before the cutoff, still unacknowledged). */
  stall: number[];
  /** When the next check is due (the earliest deadline still ahead); null when nothing awaits one. */
  nextCheckAt: string | null;
  /**
   * The first position that may still change what a check decides (waiting for an ack, or not sent
   * yet): every contact before it is settled for good, so the next check starts there.
   */
  fromPosition: number;
}

/**
 * Plans one check at `now` over contacts in batch order, from `fromPosition` on (the position given
 * is kept when every contact seen is settled, so later contacts are still read).
 */
export const planDeliveryCheck = (
  contacts: readonly ContactDelivery[],
  now: Date,
  timeoutMs: number,
  fromPosition: number,
): DeliveryCheckPlan => {
  const cutoff = now.getTime() - timeoutMs;
  const stall: number[] = [];
  let earliest: number | undefined;
  let firstOpen: number | undefined;
  let lastSeen = fromPosition - 1;
  for (const c of contacts) {
    lastSeen = Math.max(lastSeen, c.position);
    if (awaitsAcknowledgement(c)) {
      const sentAt = c.sentAt ? new Date(c.sentAt).getTime() : Number.NaN;
      // A sent contact without a usable send time is judged from now on, never stalled at once.
      if (!Number.isNaN(sentAt) && sentAt <= cutoff) {
        stall.push(c.position);
        continue;
      }
      const deadline = Number.isNaN(sentAt) ? now.getTime() + timeoutMs : sentAt + timeoutMs;
      earliest = earliest === undefined ? deadline : Math.min(earliest, deadline);
      firstOpen ??= c.position;
    } else if (NOT_SENT_YET.has(c.status)) {
      firstOpen ??= c.position;
    }
  }
  return {
    stall,
    nextCheckAt: earliest === undefined ? null : new Date(earliest).toISOString(),
    fromPosition: firstOpen ?? lastSeen + 1,
  };
};
