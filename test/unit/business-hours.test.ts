import Holidays from 'date-holidays';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  currentWindowEnd,
  describeOpening,
  holidaysOf,
  isHoliday,
  isOpen,
  nextOpening,
} from '../../lib/domain/business-hours.ts';
import { splitOvernightWindow, validateCalendar } from '../../lib/domain/calendar-validation.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import type { BusinessCalendar, TimeWindow } from '../../lib/domain/tenant-types.ts';

const office: TimeWindow[] = [
  { start: '09:00', end: '12:00' },
  { start: '13:00', end: '18:00' },
];

/** Monday to Friday 09:00-12:00 and 13:00-18:00 in São Paulo, national holidays closed. */
const saoPaulo = (overrides: Partial<BusinessCalendar> = {}): BusinessCalendar => ({
  timezone: 'America/Sao_Paulo',
  weekly: { 1: office, 2: office, 3: office, 4: office, 5: office },
  nationalHolidays: true,
  closedDates: [],
  ...overrides,
});

const nineToFive = (timezone: string): BusinessCalendar => {
  const day: TimeWindow[] = [{ start: '09:00', end: '17:00' }];
  return {
    timezone,
    weekly: { 1: day, 2: day, 3: day, 4: day, 5: day },
    nationalHolidays: false,
    closedDates: [],
  };
};

const errorOf = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
};

describe('validateCalendar', () => {
  it('accepts a valid calendar and returns windows sorted with overlapping and touching ones merged', () => {
    // Prepare
    const cal = saoPaulo({
      weekly: {
        1: [
          { start: '14:00', end: '15:00' },
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '14:00' },
          { start: '16:00', end: '17:00' },
        ],
      },
    });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.weekly[1]).toEqual([
      { start: '09:00', end: '15:00' },
      { start: '16:00', end: '17:00' },
    ]);
  });

  it('accepts 24:00 as an end and normalises the region and closed dates', () => {
    // Prepare
    const cal = saoPaulo({
      weekly: { 6: [{ start: '20:00', end: '24:00' }] },
      region: 'sp',
      closedDates: ['2026-03-02', '2026-01-02', '2026-03-02'],
    });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.weekly[6]).toEqual([{ start: '20:00', end: '24:00' }]);
    expect(result.value.region).toBe('SP');
    expect(result.value.closedDates).toEqual(['2026-01-02', '2026-03-02']);
  });

  it.each([
    ['9:00', '12:00', 'início'],
    ['24:00', '24:00', 'início'],
    ['12:60', '13:00', 'início'],
    ['09:00', '25:00', 'fim'],
    ['09:00', '24:01', 'fim'],
    ['09:00', '0900', 'fim'],
    ['10:00', '10:00', 'vazia'],
  ])('refuses the window %s-%s with INVALID_BUSINESS_HOURS', (start, end, reasonWord) => {
    // Prepare
    const cal = saoPaulo({ weekly: { 1: [{ start, end }] } });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_BUSINESS_HOURS');
    expect(result.error.status).toBe(400);
    expect(result.error.message).toContain(reasonWord);
  });

  it('refuses an overnight window with OVERNIGHT_WINDOW telling to register two windows', () => {
    // Prepare
    const cal = saoPaulo({ weekly: { 5: [{ start: '22:00', end: '02:00' }] } });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('OVERNIGHT_WINDOW');
    expect(result.error.params).toEqual({ start: '22:00', end: '02:00' });
    expect(result.error.message).toContain('cadastre duas janelas (22:00-24:00 e 00:00-02:00)');
  });

  it('refuses an unknown timezone with INVALID_TIMEZONE', () => {
    // Prepare
    const cal = saoPaulo({ timezone: 'America/Atlantis' });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_TIMEZONE');
    expect(result.error.params).toEqual({ value: 'America/Atlantis' });
  });

  it('refuses an unknown Brazilian region with INVALID_BUSINESS_HOURS', () => {
    // Prepare
    const cal = saoPaulo({ region: 'XX' });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_BUSINESS_HOURS');
    expect(result.error.message).toContain('XX');
  });

  it.each(['2026-02-30', '26-01-01', '2026-1-5', '05/01/2026'])('refuses the closed date %s', (date) => {
    // Prepare
    const cal = saoPaulo({ closedDates: [date] });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_BUSINESS_HOURS');
    expect(result.error.message).toContain(date);
  });

  it('refuses a weekday outside 0..6', () => {
    // Prepare
    const cal = saoPaulo({ weekly: { 7: office } as unknown as BusinessCalendar['weekly'] });

    // Act
    const result = validateCalendar(cal);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('INVALID_BUSINESS_HOURS');
    expect(result.error.message).toContain('dia da semana');
  });
});

describe('splitOvernightWindow', () => {
  it('returns the two windows of a window that crosses midnight, which then validate', () => {
    // Act
    const windows = splitOvernightWindow('22:00', '02:00');

    // Assess
    expect(windows).toEqual([
      { start: '22:00', end: '24:00' },
      { start: '00:00', end: '02:00' },
    ]);
    expect(validateCalendar(saoPaulo({ weekly: { 1: windows } })).ok).toBe(true);
  });

  it('returns one window when the end is midnight and the same window when it does not cross', () => {
    // Act and Assess
    expect(splitOvernightWindow('18:00', '00:00')).toEqual([{ start: '18:00', end: '24:00' }]);
    expect(splitOvernightWindow('09:00', '18:00')).toEqual([{ start: '09:00', end: '18:00' }]);
  });

  it('throws INVALID_BUSINESS_HOURS on a malformed time', () => {
    // Act
    const error = errorOf(() => splitOvernightWindow('22h', '02:00'));

    // Assess
    expect(error.code).toBe('INVALID_BUSINESS_HOURS');
  });
});

describe('holidays', () => {
  it('treats Christmas and Consciência Negra (national since 2024) as holidays', () => {
    // Prepare
    const cal = saoPaulo();

    // Act and Assess
    expect(isHoliday(cal, '2026-12-25')).toBe(true);
    expect(isHoliday(cal, '2026-11-20')).toBe(true);
    expect(isHoliday(cal, '2026-12-23')).toBe(false);
  });

  it('closes on Carnival Monday and Tuesday but not on the Saturday before or on Ash Wednesday', () => {
    // Prepare
    const cal = saoPaulo();

    // Act and Assess
    expect(isHoliday(cal, '2026-02-16')).toBe(true);
    expect(isHoliday(cal, '2026-02-17')).toBe(true);
    expect(isHoliday(cal, '2026-02-14')).toBe(false);
    expect(isHoliday(cal, '2026-02-18')).toBe(false);
  });

  it('leaves election days out although the library lists them as public holidays', () => {
    // Prepare: the raw library output does hold the 2026 election Sundays as public, so the filter is what removes them
    const raw = new Holidays('BR').getHolidays(2026).map((h) => `${h.date.slice(0, 10)} ${h.type}`);
    expect(raw).toContain('2026-10-04 public');
    expect(raw).toContain('2026-10-25 public');

    // Act
    const dates = holidaysOf(saoPaulo(), 2026).map((h) => h.date);

    // Assess
    expect(dates).not.toContain('2026-10-04');
    expect(dates).not.toContain('2026-10-25');
    expect(dates).toContain('2026-10-12');
  });

  it('lists the 2026 national days off in order, without observances, optional half-days or Corpus Christi', () => {
    // Act
    const list = holidaysOf(saoPaulo(), 2026);

    // Assess
    expect(list.map((h) => h.date)).toEqual([
      '2026-01-01',
      '2026-02-16',
      '2026-02-17',
      '2026-04-03',
      '2026-04-21',
      '2026-05-01',
      '2026-09-07',
      '2026-10-12',
      '2026-11-02',
      '2026-11-15',
      '2026-11-20',
      '2026-12-25',
    ]);
    expect(list.every((h) => h.scope === 'national')).toBe(true);
  });

  it('closes on 9 July only when the region is SP, keeping Consciência Negra that the SP table drops', () => {
    // Prepare
    const national = saoPaulo();
    const withSp = saoPaulo({ region: 'SP' });

    // Act and Assess
    expect(isHoliday(national, '2026-07-09')).toBe(false);
    expect(isHoliday(withSp, '2026-07-09')).toBe(true);
    expect(isHoliday(withSp, '2026-11-20')).toBe(true);
    expect(holidaysOf(withSp, 2026).find((h) => h.date === '2026-07-09')?.scope).toBe('regional');
  });

  it('uses only state holidays and closed dates when national holidays are off', () => {
    // Prepare
    const cal = saoPaulo({
      nationalHolidays: false,
      region: 'SP',
      closedDates: ['2026-12-24', '2027-01-04'],
    });

    // Act
    const list = holidaysOf(cal, 2026);

    // Assess
    expect(list).toEqual([
      { date: '2026-07-09', name: 'Revolução Constitucionalista', scope: 'regional' },
      { date: '2026-12-24', name: 'Fechado', scope: 'custom' },
    ]);
    expect(isHoliday(cal, '2026-12-25')).toBe(false);
    expect(isHoliday(cal, '2027-01-04')).toBe(true);
  });

  it('throws a RangeError for a local date that is not yyyy-mm-dd', () => {
    // Act and Assess
    expect(() => isHoliday(saoPaulo(), '25/12/2026')).toThrow(RangeError);
  });
});

describe('isOpen', () => {
  it('is open inside a window and closed at lunch, on weekends and before opening', () => {
    // Prepare: 2026-03-04 is a Wednesday
    const cal = saoPaulo();

    // Act and Assess
    expect(isOpen(cal, new Date('2026-03-04T10:00:00-03:00'))).toBe(true);
    expect(isOpen(cal, new Date('2026-03-04T12:30:00-03:00'))).toBe(false);
    expect(isOpen(cal, new Date('2026-03-04T08:59:59-03:00'))).toBe(false);
    expect(isOpen(cal, new Date('2026-03-07T10:00:00-03:00'))).toBe(false);
    expect(isOpen(cal, new Date('2026-03-08T10:00:00-03:00'))).toBe(false);
  });

  it('includes the window start and excludes its end (Friday 17:59 open, 18:00 closed)', () => {
    // Prepare: 2026-03-06 is a Friday
    const cal = saoPaulo();

    // Act and Assess
    expect(isOpen(cal, new Date('2026-03-06T09:00:00-03:00'))).toBe(true);
    expect(isOpen(cal, new Date('2026-03-06T17:59:00-03:00'))).toBe(true);
    expect(isOpen(cal, new Date('2026-03-06T17:59:59.999-03:00'))).toBe(true);
    expect(isOpen(cal, new Date('2026-03-06T18:00:00-03:00'))).toBe(false);
  });

  it('is closed on a holiday inside a window', () => {
    // Act and Assess
    expect(isOpen(saoPaulo(), new Date('2026-12-25T10:00:00-03:00'))).toBe(false);
    expect(isOpen(saoPaulo(), new Date('2026-02-16T10:00:00-03:00'))).toBe(false);
  });

  it('reads the wall clock of the calendar zone, not UTC (Asia/Tokyo)', () => {
    // Prepare: Friday 2026-03-06 09:00 in Tokyo is 00:00 UTC
    const cal = nineToFive('Asia/Tokyo');

    // Act and Assess
    expect(isOpen(cal, new Date('2026-03-06T00:00:00Z'))).toBe(true);
    expect(isOpen(cal, new Date('2026-03-05T23:59:00Z'))).toBe(false);
    expect(isOpen(cal, new Date('2026-03-06T08:00:00Z'))).toBe(false);
  });

  it('throws a RangeError for an invalid Date', () => {
    // Act and Assess
    expect(() => isOpen(saoPaulo(), new Date(Number.NaN))).toThrow(RangeError);
  });

  it('throws the validation error of an invalid calendar', () => {
    // Act
    const error = errorOf(() => isOpen(saoPaulo({ timezone: 'Nowhere' }), new Date('2026-03-04T10:00:00Z')));

    // Assess
    expect(error.code).toBe('INVALID_TIMEZONE');
  });
});

describe('nextOpening', () => {
  it('returns the same instant when already open', () => {
    // Prepare
    const at = new Date('2026-03-04T10:15:00-03:00');

    // Act
    const next = nextOpening(saoPaulo(), at);

    // Assess
    expect(next.getTime()).toBe(at.getTime());
  });

  it('returns 13:00 for 12:30 when a day has two windows', () => {
    // Act
    const next = nextOpening(saoPaulo(), new Date('2026-03-04T12:30:00-03:00'));

    // Assess
    expect(next.toISOString()).toBe(new Date('2026-03-04T13:00:00-03:00').toISOString());
  });

  it('returns the first window of the day before opening and Monday 09:00 after Friday closing', () => {
    // Act and Assess
    expect(nextOpening(saoPaulo(), new Date('2026-03-04T07:00:00-03:00')).toISOString()).toBe(
      new Date('2026-03-04T09:00:00-03:00').toISOString(),
    );
    expect(nextOpening(saoPaulo(), new Date('2026-03-06T18:00:00-03:00')).toISOString()).toBe(
      new Date('2026-03-09T09:00:00-03:00').toISOString(),
    );
  });

  it('skips Christmas and the weekend: Thursday 24 Dec 18:30 opens Monday 28 Dec 09:00', () => {
    // Act
    const next = nextOpening(saoPaulo(), new Date('2026-12-24T18:30:00-03:00'));

    // Assess
    expect(next.toISOString()).toBe(new Date('2026-12-28T09:00:00-03:00').toISOString());
  });

  it('skips Carnival: Friday 13 Feb after closing opens Ash Wednesday 18 Feb 09:00', () => {
    // Act
    const next = nextOpening(saoPaulo(), new Date('2026-02-13T18:00:00-03:00'));

    // Assess
    expect(next.toISOString()).toBe(new Date('2026-02-18T09:00:00-03:00').toISOString());
  });

  it('survives a run of closed dates longer than two weeks', () => {
    // Prepare: closed every day from 2026-07-01 to 2026-07-24
    const closedDates = Array.from({ length: 24 }, (_, i) => `2026-07-${String(i + 1).padStart(2, '0')}`);
    const cal = saoPaulo({ closedDates });

    // Act
    const next = nextOpening(cal, new Date('2026-06-30T18:00:00-03:00'));

    // Assess: the 25th is a Saturday, so Monday the 27th
    expect(next.toISOString()).toBe(new Date('2026-07-27T09:00:00-03:00').toISOString());
  });

  it('throws NO_BUSINESS_HOURS when the calendar has no window at all', () => {
    // Prepare
    const cal = saoPaulo({ weekly: {} });

    // Act
    const error = errorOf(() => nextOpening(cal, new Date('2026-03-04T10:00:00-03:00')));

    // Assess
    expect(error.code).toBe('NO_BUSINESS_HOURS');
    expect(error.status).toBe(400);
    expect(isOpen(cal, new Date('2026-03-04T10:00:00-03:00'))).toBe(false);
  });

  it('throws NO_BUSINESS_HOURS when nothing opens within the horizon', () => {
    // Prepare: open on Mondays only, and the next ten Mondays are closed
    const mondays = Array.from({ length: 10 }, (_, i) =>
      new Date(Date.UTC(2026, 2, 9 + 7 * i)).toISOString().slice(0, 10),
    );
    const cal = saoPaulo({ weekly: { 1: office }, closedDates: mondays });

    // Act
    const error = errorOf(() => nextOpening(cal, new Date('2026-03-04T10:00:00-03:00')));

    // Assess
    expect(error.code).toBe('NO_BUSINESS_HOURS');
  });

  it('keeps 09:00 local across the New York DST changes', () => {
    // Prepare: the clocks spring forward on Sunday 2026-03-08 and fall back on Sunday 2026-11-01
    const cal = nineToFive('America/New_York');

    // Act
    const afterSpring = nextOpening(cal, new Date('2026-03-06T17:30:00-05:00'));
    const afterFall = nextOpening(cal, new Date('2026-10-30T17:30:00-04:00'));

    // Assess: 09:00 EDT is 13:00 UTC, 09:00 EST is 14:00 UTC
    expect(afterSpring.toISOString()).toBe('2026-03-09T13:00:00.000Z');
    expect(afterFall.toISOString()).toBe('2026-11-02T14:00:00.000Z');
  });

  it('opens at 03:00 EDT for a 02:00 window on the spring-forward night and skips a window lost in the gap', () => {
    // Prepare
    const inGapStart: BusinessCalendar = {
      ...nineToFive('America/New_York'),
      weekly: { 0: [{ start: '02:00', end: '04:00' }] },
    };
    const wholeWindowInGap: BusinessCalendar = {
      ...nineToFive('America/New_York'),
      weekly: { 0: [{ start: '02:00', end: '02:30' }] },
    };
    const saturdayNight = new Date('2026-03-07T23:00:00-05:00');

    // Act
    const shifted = nextOpening(inGapStart, saturdayNight);
    const skipped = nextOpening(wholeWindowInGap, saturdayNight);

    // Assess
    expect(shifted.toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(isOpen(inGapStart, shifted)).toBe(true);
    expect(skipped.toISOString()).toBe('2026-03-15T06:00:00.000Z');
  });

  it('returns the next Tokyo morning for an instant after Tokyo closing', () => {
    // Act: Friday 2026-03-06 18:00 JST
    const next = nextOpening(nineToFive('Asia/Tokyo'), new Date('2026-03-06T09:00:00Z'));

    // Assess: Monday 09:00 JST
    expect(next.toISOString()).toBe('2026-03-09T00:00:00.000Z');
  });

  it('always returns an open instant at or after the input, and a window start when later', () => {
    // Prepare
    const calendars = [saoPaulo({ region: 'SP' }), nineToFive('America/New_York'), nineToFive('Asia/Tokyo')];
    const instants = fc.date({
      min: new Date('2025-01-01T00:00:00Z'),
      max: new Date('2028-12-31T00:00:00Z'),
      noInvalidDate: true,
    });

    // Act and Assess
    fc.assert(
      fc.property(fc.constantFrom(...calendars), instants, (cal, at) => {
        const next = nextOpening(cal, at);
        expect(next.getTime()).toBeGreaterThanOrEqual(at.getTime());
        expect(isOpen(cal, next)).toBe(true);
        if (next.getTime() > at.getTime()) expect(isOpen(cal, new Date(next.getTime() - 1))).toBe(false);
      }),
      { numRuns: 500, seed: 20260101 },
    );
  });
});

describe('currentWindowEnd', () => {
  it('returns the close of the current window, or undefined when closed', () => {
    // Prepare
    const cal = saoPaulo();

    // Act and Assess
    expect(currentWindowEnd(cal, new Date('2026-03-04T10:00:00-03:00'))?.toISOString()).toBe(
      new Date('2026-03-04T12:00:00-03:00').toISOString(),
    );
    expect(currentWindowEnd(cal, new Date('2026-03-04T13:30:00-03:00'))?.toISOString()).toBe(
      new Date('2026-03-04T18:00:00-03:00').toISOString(),
    );
    expect(currentWindowEnd(cal, new Date('2026-03-04T12:30:00-03:00'))).toBeUndefined();
    expect(currentWindowEnd(cal, new Date('2026-12-25T10:00:00-03:00'))).toBeUndefined();
  });

  it('uses the merged window and returns midnight for a window ending at 24:00', () => {
    // Prepare
    const cal = saoPaulo({
      weekly: {
        3: [
          { start: '09:00', end: '12:00' },
          { start: '12:00', end: '14:00' },
          { start: '20:00', end: '24:00' },
        ],
      },
    });

    // Act and Assess
    expect(currentWindowEnd(cal, new Date('2026-03-04T11:00:00-03:00'))?.toISOString()).toBe(
      new Date('2026-03-04T14:00:00-03:00').toISOString(),
    );
    expect(currentWindowEnd(cal, new Date('2026-03-04T23:00:00-03:00'))?.toISOString()).toBe(
      new Date('2026-03-05T00:00:00-03:00').toISOString(),
    );
  });

  it('ends a window in the repeated hour of the New York fall-back night after the input', () => {
    // Prepare: 01:10 EST is the second 01:10 of Sunday 2026-11-01
    const cal: BusinessCalendar = {
      ...nineToFive('America/New_York'),
      weekly: { 0: [{ start: '00:00', end: '01:30' }] },
    };
    const at = new Date('2026-11-01T01:10:00-05:00');

    // Act
    const end = currentWindowEnd(cal, at);

    // Assess
    expect(end?.toISOString()).toBe('2026-11-01T06:30:00.000Z');
  });
});

describe('describeOpening', () => {
  it('names the day and time of an opening in the tenant’s timezone, in Portuguese', () => {
    // Act
    const text = describeOpening(new Date('2026-03-02T12:00:30.000Z'), 'America/Sao_Paulo');

    // Assess
    expect(text).toBe('segunda-feira, 02/03 às 09:00');
  });
});
