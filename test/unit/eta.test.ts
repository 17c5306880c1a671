import { describe, expect, it } from 'vitest';
import { planSending, sharedSendCount } from '../../lib/domain/eta.ts';
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

describe('planSending with a daily cap (a new number warming up)', () => {
  const capOf =
    (caps: Record<string, number>, otherwise?: number) =>
    (day: string): number | undefined =>
      caps[day] ?? otherwise;
  const timezone = 'America/Sao_Paulo';

  it('goes on at midnight once a day is spent, until a day without a cap ends it by arithmetic', () => {
    // Monday 10:00 BRT, 10 sent already today; caps 30 today, 60 tomorrow, none after.
    const from = new Date('2026-11-30T13:00:00Z');
    const cap = {
      timezone,
      sent: { day: '2026-11-30', count: 10 },
      capOn: capOf({ '2026-11-30': 30, '2026-12-01': 60 }),
    };

    const plan = planSending(undefined, from, 100, minute, cap);

    // 20 today (10:00-10:19), 60 on Tuesday from midnight, the last 20 on Wednesday from midnight.
    expect(plan).toEqual({ start: from, end: new Date('2026-12-02T03:19:00Z') });
  });

  it("waits for the next business day's opening when the cap is spent before closing time", () => {
    // Friday 17:00 BRT, 50 messages at one a minute, 30 a day.
    const plan = planSending(weekdays, new Date('2026-12-04T20:00:00Z'), 50, minute, {
      timezone,
      sent: { day: '2026-12-04', count: 0 },
      capOn: () => 30,
    });

    // 30 on Friday 17:00-17:29, the other 20 on Monday from 09:00.
    expect(plan.end.toISOString()).toBe('2026-12-07T12:19:00.000Z');
  });

  it("starts tomorrow when today's cap is already spent", () => {
    const plan = planSending(undefined, new Date('2026-11-30T13:00:00Z'), 5, minute, {
      timezone,
      sent: { day: '2026-11-30', count: 30 },
      capOn: () => 30,
    });

    expect(plan).toEqual({
      start: new Date('2026-12-01T03:00:00Z'),
      end: new Date('2026-12-01T03:04:00Z'),
    });
  });

  it('counts both windows of a day with a lunch break against the same cap', () => {
    const withLunch: BusinessCalendar = {
      ...weekdays,
      weekly: Object.fromEntries(
        [1, 2, 3, 4, 5].map((d) => [
          d,
          [
            { start: '09:00', end: '12:00' },
            { start: '13:00', end: '18:00' },
          ],
        ]),
      ),
    };

    // Monday 11:30 BRT, 150 at one a minute, 100 a day: 30 before lunch, 70 from 13:00, 50 on Tuesday.
    const plan = planSending(withLunch, new Date('2026-11-30T14:30:00Z'), 150, minute, {
      timezone,
      sent: { day: '2026-11-30', count: 0 },
      capOn: () => 100,
    });

    expect(plan.end.toISOString()).toBe('2026-12-01T12:49:00.000Z');
  });

  it('counts what was sent today only against today, when the plan starts on a later day', () => {
    // A queue waiting for tomorrow: today's 30 sends leave tomorrow's cap of 30 whole.
    const plan = planSending(undefined, new Date('2026-12-01T03:00:00Z'), 30, minute, {
      timezone,
      sent: { day: '2026-11-30', count: 30 },
      capOn: () => 30,
    });

    expect(plan.end.toISOString()).toBe('2026-12-01T03:29:00.000Z');
  });
});

describe('sharedSendCount', () => {
  it('counts what the other queues on the instance send in turns until this one is done', () => {
    // A queue with 100 left, beside one with 30 (all of it goes) and one with 500 (as many as this one)
    expect(sharedSendCount(100, [30, 500])).toBe(230);
  });

  it("is the queue's own count alone, and never counts a negative remainder", () => {
    expect(sharedSendCount(40, [])).toBe(40);
    expect(sharedSendCount(40, [0, -3])).toBe(40);
  });
});
