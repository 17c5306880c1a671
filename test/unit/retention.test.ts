import { describe, expect, it } from 'vitest';
import { contactExpiry, retentionEnd, retentionStart } from '../../lib/domain/retention.ts';

const AT = '2026-03-02T13:00:00.000Z';

describe('retention', () => {
  it('ends whole days after the instant, across a month end and whatever the local time', () => {
    expect(retentionEnd(AT, 90)).toBe('2026-05-31T13:00:00.000Z');
    expect(retentionEnd(new Date(AT), 1)).toBe('2026-03-03T13:00:00.000Z');
  });

  it('refuses a retention that is not a positive whole number of days', () => {
    expect(() => retentionEnd(AT, 0)).toThrow(/positive integer/);
    expect(() => retentionEnd(AT, 1.5)).toThrow(/positive integer/);
    expect(() => retentionStart(AT, -1)).toThrow(/positive integer/);
  });

  it('starts the kept span whole days before now: what settled then expires now', () => {
    expect(retentionStart(AT, 90)).toBe('2025-12-02T13:00:00.000Z');
    expect(retentionEnd(retentionStart(new Date(AT), 7), 7)).toBe(AT);
  });

  it('gives a settled contact an expiry and never one that still has work', () => {
    const settled = [
      { status: 'sent', providerMessageId: 'm', remoteJid: 'j', at: AT },
      { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: AT },
      { status: 'unknown', error: 'x', code: 'UNKNOWN_OUTCOME', at: AT },
      { status: 'skipped_opt_out', at: AT },
    ] as const;
    const withWork = [
      { status: 'pending', at: AT },
      { status: 'retry', error: 'x', at: AT, retryAt: AT },
    ] as const;

    expect(settled.map((r) => contactExpiry(r, 30))).toEqual(settled.map(() => '2026-04-01T13:00:00.000Z'));
    expect(withWork.map((r) => contactExpiry(r, 30))).toEqual([null, null]);
  });
});
