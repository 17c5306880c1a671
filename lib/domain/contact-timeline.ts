import type { BillingContact } from './types.ts';

/** What can happen to a contact's message, in the order it usually happens. */
export const TIMELINE_STEPS = [
  'claimed',
  'sent',
  'server_ack',
  'delivered',
  'read',
  'replied',
  'stalled',
  'failed',
] as const;
export type TimelineStep = (typeof TIMELINE_STEPS)[number];

/**
 * What happened to a contact's message and when, oldest first; steps that did not happen are left
 * out. `claimed` is the last claim; `failed` is the last error of a contact that ended failed.
 */
export const contactTimeline = (c: BillingContact): { step: TimelineStep; at: string }[] => {
  const moments: Record<TimelineStep, string | null | undefined> = {
    claimed: c.claimedAt,
    sent: c.sentAt,
    server_ack: c.serverAckAt,
    delivered: c.deliveredAt,
    read: c.readAt,
    replied: c.repliedAt,
    stalled: c.stalledAt,
    failed: c.status === 'failed' ? c.lastErrorAt : null,
  };
  return TIMELINE_STEPS.flatMap((step) => {
    const at = moments[step];
    return at ? [{ step, at }] : [];
  }).sort((a, b) => a.at.localeCompare(b.at));
};
