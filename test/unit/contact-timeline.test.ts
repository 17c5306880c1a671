import { describe, expect, it } from 'vitest';
import { newBillingContact } from '../../lib/domain/billing-queue.ts';
import { contactTimeline } from '../../lib/domain/contact-timeline.ts';
import type { BillingContact } from '../../lib/domain/types.ts';

const contact = (fields: Partial<BillingContact>) =>
  newBillingContact({
    queueId: 'q',
    tenantId: 't',
    position: 0,
    phone: '+5511999990000',
    name: 'Maria',
    invoiceNumber: null,
    variables: {},
    variationId: 'v',
    renderedMessage: 'oi',
    createdAt: '2026-12-16T09:00:00Z',
    ...fields,
  });

describe('contactTimeline', () => {
  it('lists what happened, oldest first, leaving out what did not', () => {
    const timeline = contactTimeline(
      contact({
        status: 'read',
        claimedAt: '2026-12-16T10:00:00Z',
        sentAt: '2026-12-16T10:00:01Z',
        // A receipt can land before the server ack is recorded: time decides the order.
        deliveredAt: '2026-12-16T10:00:02Z',
        serverAckAt: '2026-12-16T10:00:03Z',
        readAt: '2026-12-16T10:05:00Z',
        repliedAt: '2026-12-16T10:06:00Z',
      }),
    );

    expect(timeline.map((t) => t.step)).toEqual([
      'claimed',
      'sent',
      'delivered',
      'server_ack',
      'read',
      'replied',
    ]);
  });

  it('shows a failure only on a contact that ended failed, not on an error it got over', () => {
    const retried = contact({ status: 'retry', lastError: 'timeout', lastErrorAt: '2026-12-16T10:00:00Z' });
    const failed = contact({
      status: 'failed',
      lastError: 'not on WhatsApp',
      lastErrorAt: '2026-12-16T10:00:00Z',
    });

    expect(contactTimeline(retried)).toEqual([]);
    expect(contactTimeline(failed)).toEqual([{ step: 'failed', at: '2026-12-16T10:00:00Z' }]);
  });
});
