import { describe, expect, it } from 'vitest';
import { type ContactDelivery, isStalled, planDeliveryCheck } from '../../lib/domain/delivery-stall.ts';

const NOW = new Date('2026-03-02T13:30:00.000Z');
const TIMEOUT = 15 * 60_000;
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

const contact = (position: number, fields: Partial<ContactDelivery>): ContactDelivery => ({
  position,
  status: 'sent',
  sentAt: null,
  serverAckAt: null,
  stalledAt: null,
  providerMessageId: null,
  ...fields,
});

describe('delivery-stall', () => {
  it('stalls sends past the timeout with no ack, and plans the next check at the earliest deadline ahead', () => {
    // Prepare
    const contacts = [
      contact(0, { status: 'delivered', sentAt: minutesAgo(30) }),
      contact(1, { sentAt: minutesAgo(20), serverAckAt: minutesAgo(19) }),
      contact(2, { sentAt: minutesAgo(16) }),
      contact(3, { sentAt: minutesAgo(15) }),
      contact(4, { sentAt: minutesAgo(10) }),
      contact(5, { sentAt: minutesAgo(5) }),
      contact(6, { status: 'pending' }),
    ];

    // Act
    const plan = planDeliveryCheck(contacts, NOW, TIMEOUT, 0);

    // Assess: exactly at the timeout is stalled; 10 minutes ago is due in 5 minutes
    expect(plan.stall).toEqual([2, 3]);
    expect(plan.nextCheckAt).toBe(new Date(NOW.getTime() + 5 * 60_000).toISOString());
    expect(plan.fromPosition).toBe(4);
  });

  it('plans no check when nothing sent awaits an ack, and starts after what it read', () => {
    const plan = planDeliveryCheck(
      [contact(3, { status: 'read' }), contact(4, { stalledAt: minutesAgo(1), sentAt: minutesAgo(20) })],
      NOW,
      TIMEOUT,
      3,
    );
    expect(plan).toEqual({ stall: [], nextCheckAt: null, fromPosition: 5 });
  });

  it('keeps a contact not sent yet as the start of the next check', () => {
    const plan = planDeliveryCheck(
      [contact(0, { status: 'retry' }), contact(1, { sentAt: minutesAgo(1) })],
      NOW,
      TIMEOUT,
      0,
    );
    expect(plan.fromPosition).toBe(0);
    expect(plan.stall).toEqual([]);
  });

  it('is stalled only while sent, stalled and never server-acked', () => {
    expect(isStalled({ status: 'sent', stalledAt: NOW.toISOString() })).toBe(true);
    expect(isStalled({ status: 'sent', stalledAt: NOW.toISOString(), serverAckAt: NOW.toISOString() })).toBe(
      false,
    );
    expect(isStalled({ status: 'delivered', stalledAt: NOW.toISOString() })).toBe(false);
    expect(isStalled({ status: 'sent' })).toBe(false);
  });
});
