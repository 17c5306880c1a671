import { describe, expect, it } from 'vitest';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import { DomainError } from '../../lib/domain/errors.ts';
import {
  checkedWarmup,
  describeWarmupPause,
  newWarmup,
  paceDailyCapacity,
  warmupOn,
  warmupSendCap,
} from '../../lib/domain/warmup.ts';

/** The defaults' pace: 20 a minute, 3 s apart at least = 28 800 a day. */
const pace = DEFAULT_BILLING_CONFIG;

describe('warmupOn', () => {
  it('allows 30 on the first day, doubling each day after', () => {
    // Prepare
    const warmup = newWarmup('2026-12-16');

    // Act
    const days = ['2026-12-16', '2026-12-17', '2026-12-18', '2026-12-25'].map((d) =>
      warmupOn(warmup, d, pace),
    );

    // Assess
    expect(days).toEqual([
      { kind: 'ramping', day: 1, cap: 30 },
      { kind: 'ramping', day: 2, cap: 60 },
      { kind: 'ramping', day: 3, cap: 120 },
      { kind: 'ramping', day: 10, cap: 15_360 },
    ]);
  });

  it('ends once the ramp passes what the tenant’s pace sends in a day', () => {
    // Prepare: day 11 would allow 30 720, more than 28 800
    const warmup = newWarmup('2026-12-16');

    // Act
    const day11 = warmupOn(warmup, '2026-12-26', pace);
    const slowPace = warmupOn(warmup, '2026-12-19', { messagesPerMinute: 0.1, minIntervalSeconds: 0 });

    // Assess: at 0.1 a minute (144 a day) day 4 (240) is already past the pace
    expect(paceDailyCapacity(pace)).toBe(28_800);
    expect(day11).toEqual({ kind: 'complete', day: 11 });
    expect(slowPace).toEqual({ kind: 'complete', day: 4 });
  });

  it('follows a configured first day and growth, and counts a day before the start as day 1', () => {
    // Prepare
    const warmup = newWarmup('2026-12-16', { firstDayLimit: 50, dailyGrowth: 1.5 });

    // Act
    const day2 = warmupOn(warmup, '2026-12-17', pace);
    const before = warmupOn(warmup, '2026-12-15', pace);

    // Assess
    expect(day2).toEqual({ kind: 'ramping', day: 2, cap: 75 });
    expect(before).toEqual({ kind: 'ramping', day: 1, cap: 50 });
  });

  it('has no ramp when switched off or for an instance stored before warm-up existed', () => {
    expect(warmupOn(newWarmup('2026-12-16', { enabled: false }), '2026-12-16', pace)).toEqual({
      kind: 'off',
    });
    expect(warmupOn(undefined, '2026-12-16', pace)).toEqual({ kind: 'off' });
  });
});

describe('warmupSendCap', () => {
  it("gives each day's cap while the ramp lasts, none once it is complete, and today's sends", () => {
    // Prepare
    const warmup = newWarmup('2026-12-16');

    // Act
    const cap = warmupSendCap(warmup, pace, 'America/Sao_Paulo', '2026-12-17', 12);

    // Assess: day 11 (30 x 2^10 = 30 720) passes the pace's 28 800 a day.
    expect(cap?.sent).toEqual({ day: '2026-12-17', count: 12 });
    expect(cap?.timezone).toBe('America/Sao_Paulo');
    expect(['2026-12-16', '2026-12-17', '2026-12-25', '2026-12-26'].map((d) => cap?.capOn(d))).toEqual([
      30,
      60,
      15_360,
      undefined,
    ]);
  });

  it('is undefined when the ramp is off or already complete', () => {
    expect(warmupSendCap(undefined, pace, 'America/Sao_Paulo', '2026-12-17', 0)).toBeUndefined();
    expect(
      warmupSendCap(newWarmup('2026-12-16', { enabled: false }), pace, 'America/Sao_Paulo', '2026-12-17', 0),
    ).toBeUndefined();
    expect(
      warmupSendCap(newWarmup('2026-12-16'), pace, 'America/Sao_Paulo', '2027-01-30', 0),
    ).toBeUndefined();
  });
});

describe('checkedWarmup', () => {
  it('refuses a first day below 1, a growth below 1 and a bad start date, in Portuguese', () => {
    // Prepare
    const base = newWarmup('2026-12-16');
    const refusal = (change: object) => {
      try {
        checkedWarmup({ ...base, ...change });
      } catch (error) {
        return error as DomainError;
      }
      throw new Error('expected a refusal');
    };

    // Act
    const errors = [
      refusal({ firstDayLimit: 0 }),
      refusal({ dailyGrowth: 0.5 }),
      refusal({ startDate: '16/12' }),
    ];

    // Assess
    expect(errors.every((e) => e instanceof DomainError && e.code === 'INVALID_CONFIG')).toBe(true);
    expect(errors[0]?.message).toContain('limite do primeiro dia de aquecimento');
    expect(errors[1]?.message).toContain('crescimento diário do aquecimento');
  });
});

describe('describeWarmupPause', () => {
  it('tells the operator the day’s cap and when the queue resumes', () => {
    // Act
    const reason = describeWarmupPause(
      { kind: 'ramping', day: 1, cap: 30 },
      new Date('2026-12-17T12:00:00Z'),
      'America/Sao_Paulo',
    );

    // Assess
    expect(reason).toBe(
      'Aquecimento do número: limite de 30 mensagens hoje (dia 1) atingido; retoma quinta-feira, 17/12 às 09:00',
    );
  });
});
