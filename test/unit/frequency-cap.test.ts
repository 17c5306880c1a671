import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { isOpen } from '../../lib/domain/business-hours.ts';
import {
  capWindowStart,
  decideReminder,
  type FrequencyCaps,
  isCapped,
  lastHeldBackReminder,
} from '../../lib/domain/frequency-cap.ts';
import type { BusinessCalendar, TimeWindow } from '../../lib/domain/tenant-types.ts';

const day: TimeWindow[] = [{ start: '09:00', end: '18:00' }];

/** Weekdays 09:00-18:00 in São Paulo (UTC-3), national holidays closed. */
const weekdays: BusinessCalendar = {
  timezone: 'America/Sao_Paulo',
  weekly: { 1: day, 2: day, 3: day, 4: day, 5: day },
  nationalHolidays: true,
  closedDates: [],
};

const caps = (overrides: Partial<FrequencyCaps> = {}): FrequencyCaps => ({
  maxRemindersPerDebtorPerDay: DEFAULT_BILLING_CONFIG.maxRemindersPerDebtorPerDay,
  minHoursBetweenReminders: DEFAULT_BILLING_CONFIG.minHoursBetweenReminders,
  frequencyCapTypes: DEFAULT_BILLING_CONFIG.frequencyCapTypes,
  timezone: 'America/Sao_Paulo',
  ...overrides,
});

const at = (iso: string) => new Date(iso);

describe('decideReminder', () => {
  it('sends to a phone never reminded', () => {
    // Act
    const decision = decideReminder({
      caps: caps(),
      reminded: [],
      now: at('2026-12-16T13:00:00Z'),
      calendar: weekdays,
    });

    // Assess
    expect(decision).toEqual({ kind: 'send' });
  });

  it('defers a second reminder of the same morning to the next day’s opening with the defaults', () => {
    // Prepare: reminded Wednesday 10:00 São Paulo; a second batch asks at 11:00
    const reminded = [at('2026-12-16T13:00:00Z')];

    // Act
    const decision = decideReminder({
      caps: caps(),
      reminded,
      now: at('2026-12-16T14:00:00Z'),
      calendar: weekdays,
    });

    // Assess: 20 h later is Thursday 06:00, before the opening: Thursday 09:00
    expect(decision).toEqual({ kind: 'defer', until: at('2026-12-17T12:00:00Z'), reason: 'min_interval' });
  });

  it('waits out the minimum gap inside business hours when it ends in a window', () => {
    // Prepare: reminded Wednesday 17:00; asked again at 17:30
    const reminded = [at('2026-12-16T20:00:00Z')];

    // Act
    const decision = decideReminder({
      caps: caps(),
      reminded,
      now: at('2026-12-16T20:30:00Z'),
      calendar: weekdays,
    });

    // Assess: Thursday 13:00, 20 h after the reminder
    expect(decision).toEqual({ kind: 'defer', until: at('2026-12-17T16:00:00Z'), reason: 'min_interval' });
  });

  it('counts reminders per local day: two allowed, the third waits for tomorrow’s opening', () => {
    // Prepare
    const twoADay = caps({ maxRemindersPerDebtorPerDay: 2, minHoursBetweenReminders: 0 });
    const now = at('2026-12-16T19:00:00Z');

    // Act
    const afterOne = decideReminder({
      caps: twoADay,
      reminded: [at('2026-12-16T12:00:00Z')],
      now,
      calendar: weekdays,
    });
    const afterTwo = decideReminder({
      caps: twoADay,
      reminded: [at('2026-12-16T12:00:00Z'), at('2026-12-16T15:00:00Z')],
      now,
      calendar: weekdays,
    });

    // Assess
    expect(afterOne).toEqual({ kind: 'send' });
    expect(afterTwo).toEqual({ kind: 'defer', until: at('2026-12-17T12:00:00Z'), reason: 'daily_limit' });
  });

  it('takes the day in the tenant’s timezone: 23:30 yesterday in São Paulo is not today', () => {
    // Prepare: 02:30 UTC on the 17th is 23:30 on the 16th in São Paulo
    const oncePerDay = caps({ minHoursBetweenReminders: 0 });
    const reminded = [at('2026-12-17T02:30:00Z')];

    // Act
    const sameLocalDay = decideReminder({
      caps: oncePerDay,
      reminded,
      now: at('2026-12-17T02:50:00Z'),
      calendar: undefined,
    });
    const nextLocalDay = decideReminder({
      caps: oncePerDay,
      reminded,
      now: at('2026-12-17T03:10:00Z'),
      calendar: undefined,
    });

    // Assess: without business hours (a capped notification) the next local midnight itself
    expect(sameLocalDay).toEqual({ kind: 'defer', until: at('2026-12-17T03:00:00Z'), reason: 'daily_limit' });
    expect(nextLocalDay).toEqual({ kind: 'send' });
  });

  it('skips the weekend and a holiday to the next business opening', () => {
    // Prepare: reminded Thursday 2026-12-24 at 10:00; Friday the 25th is Christmas
    const reminded = [at('2026-12-24T13:00:00Z')];

    // Act
    const decision = decideReminder({
      caps: caps(),
      reminded,
      now: at('2026-12-24T14:00:00Z'),
      calendar: weekdays,
    });

    // Assess: Monday the 28th at 09:00
    expect(decision).toEqual({ kind: 'defer', until: at('2026-12-28T12:00:00Z'), reason: 'min_interval' });
  });

  it('has no rule at 0: only the gap, or only the daily count, or nothing', () => {
    // Prepare
    const reminded = [at('2026-12-16T13:00:00Z')];
    const now = at('2026-12-16T14:00:00Z');

    // Act
    const gapOnly = decideReminder({
      caps: caps({ maxRemindersPerDebtorPerDay: 0, minHoursBetweenReminders: 2 }),
      reminded,
      now,
      calendar: weekdays,
    });
    const off = decideReminder({
      caps: caps({ maxRemindersPerDebtorPerDay: 0, minHoursBetweenReminders: 0 }),
      reminded,
      now,
      calendar: weekdays,
    });

    // Assess
    expect(gapOnly).toEqual({ kind: 'defer', until: at('2026-12-16T15:00:00Z'), reason: 'min_interval' });
    expect(off).toEqual({ kind: 'send' });
  });

  it('always defers to an open moment the rules allow, where deciding again sends (property)', () => {
    const base = at('2026-12-14T03:00:00Z').getTime();
    const hour = 3_600_000;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 7 * 24 * 60 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 7 * 24 * 60 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 48 }),
        (remindedMinutes, nowMinutes, perDay, gapHours) => {
          const now = new Date(base + nowMinutes * 60_000);
          // Reminders are in the past of `now`.
          const reminded = remindedMinutes.map((m) => new Date(base + m * 60_000)).filter((d) => d <= now);
          const rules = caps({ maxRemindersPerDebtorPerDay: perDay, minHoursBetweenReminders: gapHours });
          const decision = decideReminder({ caps: rules, reminded, now, calendar: weekdays });
          if (decision.kind === 'send') return;
          expect(decision.until.getTime()).toBeGreaterThan(now.getTime());
          expect(isOpen(weekdays, decision.until)).toBe(true);
          const latest = Math.max(...reminded.map((d) => d.getTime()));
          if (gapHours > 0) expect(decision.until.getTime()).toBeGreaterThanOrEqual(latest + gapHours * hour);
          expect(decideReminder({ caps: rules, reminded, now: decision.until, calendar: weekdays })).toEqual({
            kind: 'send',
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('isCapped', () => {
  it('holds overdue and upcoming to the cap by default, not notifications', () => {
    expect(isCapped(caps(), 'overdue')).toBe(true);
    expect(isCapped(caps(), 'upcoming')).toBe(true);
    expect(isCapped(caps(), 'notification')).toBe(false);
    expect(isCapped(caps({ frequencyCapTypes: ['notification'] }), 'notification')).toBe(true);
  });

  it('caps nothing when both rules are off', () => {
    expect(isCapped(caps({ maxRemindersPerDebtorPerDay: 0, minHoursBetweenReminders: 0 }), 'overdue')).toBe(
      false,
    );
  });
});

describe('capWindowStart', () => {
  it('reads back to the start of the local day or the gap, whichever is earlier', () => {
    // Prepare: Wednesday 10:00 in São Paulo
    const now = at('2026-12-16T13:00:00Z');

    // Act
    const withGap = capWindowStart(caps(), now);
    const dayOnly = capWindowStart(caps({ minHoursBetweenReminders: 2 }), now);

    // Assess
    expect(withGap).toEqual(at('2026-12-15T17:00:00Z'));
    expect(dayOnly).toEqual(at('2026-12-16T03:00:00Z'));
  });
});

describe('lastHeldBackReminder', () => {
  it("puts a debtor's second and third reminders of one batch on the next business days, 20 h apart at least", () => {
    // Wednesday 10:00 in São Paulo: Maria three times, João once.
    const last = lastHeldBackReminder({
      caps: caps(),
      calendar: weekdays,
      phones: ['+5511988880001', '+5511988880002', '+5511988880001', '+5511988880001'],
      start: at('2026-12-16T13:00:00Z'),
    });

    // Thursday 06:00 is before the opening: 09:00; then Friday 09:00 (20 h after is 05:00, a new day).
    expect(last).toEqual(at('2026-12-18T12:00:00Z'));
  });

  it('holds nothing back when every phone appears once, or when the cap allows the repeats', () => {
    const start = at('2026-12-16T13:00:00Z');
    const phones = ['+5511988880001', '+5511988880002'];

    expect(lastHeldBackReminder({ caps: caps(), calendar: weekdays, phones, start })).toBeUndefined();
    expect(
      lastHeldBackReminder({
        caps: caps({ maxRemindersPerDebtorPerDay: 0, minHoursBetweenReminders: 0 }),
        calendar: weekdays,
        phones: [...phones, ...phones],
        start,
      }),
    ).toBeUndefined();
  });
});
