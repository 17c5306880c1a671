import { describe, expect, it } from 'vitest';
import { planSending } from '../../lib/domain/eta.ts';
import type { BusinessCalendar } from '../../lib/domain/tenant-types.ts';

const weekdays: BusinessCalendar = {
  timezone: 'America/Sao_Paulo',
  weekly: Object.fromEntries([1, 2, 3, 4, 5].map((d) => [d, [{ start: '09:00', end: '18:00' }]])),
  nationalHolidays: true,
  closedDates: [],
};
const minute = 60_000;

describe('planSending', () => {
  it('is plain arithmetic without a calendar (notifications go 24/7)', () => {
    const from = new Date('2026-11-29T06:00:00Z'); // Sunday 03:00 in Sao Paulo

    const plan = planSending(undefined, from, 3, minute);

    expect(plan).toEqual({ start: from, end: new Date('2026-11-29T06:02:00Z') });
  });

  it('starts at the next opening when posted outside hours', () => {
    const plan = planSending(weekdays, new Date('2026-11-29T06:00:00Z'), 1, minute);

    expect(plan.start.toISOString()).toBe('2026-11-30T12:00:00.000Z'); // Monday 09:00 BRT
  });

  it('carries what does not fit before closing into the next business day, skipping a weekend', () => {
    // Friday 2026-12-04 17:59 BRT, 5 messages at 2 per minute: 2 fit before 18:00
    const plan = planSending(weekdays, new Date('2026-12-04T20:59:00Z'), 5, 30_000);

    expect(plan.start.toISOString()).toBe('2026-12-04T20:59:00.000Z');
    // the other 3 go Monday 09:00, 09:00:30, 09:01
    expect(plan.end.toISOString()).toBe('2026-12-07T12:01:00.000Z');
  });

  it('skips a holiday', () => {
    // Thursday 2026-12-24 17:59: Christmas Friday is closed, then the weekend
    const plan = planSending(weekdays, new Date('2026-12-24T20:59:00Z'), 3, minute);

    expect(plan.end.toISOString()).toBe('2026-12-28T12:01:00.000Z');
  });
});
