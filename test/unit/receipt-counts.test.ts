import { describe, expect, it } from 'vitest';
import { receiptCountsOfContacts } from '../../lib/domain/receipt-counts.ts';

describe('receiptCountsOfContacts', () => {
  it('counts a read contact as delivered and sent too, a stall only while unacknowledged and sent', () => {
    // Act
    const counts = receiptCountsOfContacts([
      { status: 'read' },
      { status: 'delivered', stalledAt: '2026-03-02T13:15:00.000Z' },
      { status: 'sent', stalledAt: '2026-03-02T13:15:00.000Z' },
      { status: 'sent', stalledAt: '2026-03-02T13:15:00.000Z', serverAckAt: '2026-03-02T13:16:00.000Z' },
      { status: 'failed' },
      { status: 'unknown' },
      { status: 'pending' },
    ]);

    // Assess
    expect(counts).toEqual({ delivered: 2, read: 1, stalled: 1, sent: 4, failed: 1, unknown: 1 });
  });
});
