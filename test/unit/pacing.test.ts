import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors.ts';
import { baseIntervalMs, estimateSendDurationMs, nextIntervalMs } from '../../lib/domain/pacing.ts';

/** mulberry32: a small seeded PRNG returning [0, 1), so every run draws the same sequence. */
const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const thrownBy = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

const draws = (n: number, draw: () => number): number[] => Array.from({ length: n }, draw);

describe('baseIntervalMs', () => {
  it('uses the rate when it is slower than the minimum interval', () => {
    // Act and Assess
    expect(baseIntervalMs({ messagesPerMinute: 20, minIntervalSeconds: 2 })).toBe(3000);
    expect(baseIntervalMs({ messagesPerMinute: 7, minIntervalSeconds: 0 })).toBeCloseTo(8571.43, 2);
  });

  it('uses the minimum interval when it is larger than the rate allows', () => {
    // Act and Assess
    expect(baseIntervalMs({ messagesPerMinute: 60, minIntervalSeconds: 5 })).toBe(5000);
  });

  it.each([
    [{ messagesPerMinute: 0, minIntervalSeconds: 1 }, 'messages_per_minute'],
    [{ messagesPerMinute: -5, minIntervalSeconds: 1 }, 'messages_per_minute'],
    [{ messagesPerMinute: Number.NaN, minIntervalSeconds: 1 }, 'messages_per_minute'],
    [{ messagesPerMinute: Number.POSITIVE_INFINITY, minIntervalSeconds: 1 }, 'messages_per_minute'],
    [{ messagesPerMinute: 10, minIntervalSeconds: -1 }, 'min_interval_seconds'],
  ])('throws INVALID_CONFIG for %o', (config, field) => {
    // Act
    const error = thrownBy(() => baseIntervalMs(config));

    // Assess
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', status: 400 });
    expect((error as DomainError).message).toContain(field);
  });
});

describe('nextIntervalMs', () => {
  it('returns base minus and plus the jitter at the extremes of the random draw', () => {
    // Prepare: base 6000 ms, jitter 2 s, minimum 3 s
    const config = { messagesPerMinute: 10, minIntervalSeconds: 3, jitterSeconds: 2 };

    // Act and Assess
    expect(nextIntervalMs(config, () => 0)).toBe(4000);
    expect(nextIntervalMs(config, () => 0.5)).toBe(6000);
    expect(nextIntervalMs(config, () => 0.999999)).toBe(8000);
  });

  it('returns the base exactly when there is no jitter', () => {
    // Act and Assess
    expect(
      nextIntervalMs({ messagesPerMinute: 20, minIntervalSeconds: 1, jitterSeconds: 0 }, seeded(1)),
    ).toBe(3000);
  });

  it('never goes below the minimum interval over many draws when the jitter is wide', () => {
    // Prepare: base 3000 ms, jitter 5 s would reach -2000 ms without the floor
    const config = { messagesPerMinute: 20, minIntervalSeconds: 2, jitterSeconds: 5 };
    const random = seeded(42);

    // Act
    const intervals = draws(10_000, () => nextIntervalMs(config, random));

    // Assess
    expect(Math.min(...intervals)).toBe(2000);
    expect(intervals.every((ms) => ms >= 2000)).toBe(true);
    expect(Math.max(...intervals)).toBeGreaterThan(7000);
  });

  it('keeps the mean within 2% of the base over 10000 draws when the jitter fits above the minimum', () => {
    // Prepare: base 6000 ms, jitter 2 s, range 4000..8000 ms, minimum 3000 ms never reached
    const config = { messagesPerMinute: 10, minIntervalSeconds: 3, jitterSeconds: 2 };
    const random = seeded(7);

    // Act
    const intervals = draws(10_000, () => nextIntervalMs(config, random));
    const mean = intervals.reduce((sum, ms) => sum + ms, 0) / intervals.length;

    // Assess
    expect(Math.abs(mean - 6000) / 6000).toBeLessThan(0.02);
    expect(Math.min(...intervals)).toBeGreaterThanOrEqual(4000);
    expect(Math.max(...intervals)).toBeLessThanOrEqual(8000);
  });

  it('lets a larger minimum interval dominate the rate', () => {
    // Prepare: the rate allows 1000 ms, the minimum asks for 10 s
    const config = { messagesPerMinute: 60, minIntervalSeconds: 10, jitterSeconds: 1 };
    const random = seeded(3);

    // Act
    const intervals = draws(1000, () => nextIntervalMs(config, random));

    // Assess
    expect(intervals.every((ms) => ms >= 10_000 && ms <= 11_000)).toBe(true);
  });

  it('throws INVALID_CONFIG for a negative jitter and a RangeError for a random draw outside [0, 1)', () => {
    // Prepare
    const config = { messagesPerMinute: 10, minIntervalSeconds: 3, jitterSeconds: 2 };

    // Act and Assess
    expect(() => nextIntervalMs({ ...config, jitterSeconds: -1 }, () => 0.5)).toThrow(DomainError);
    expect(() => nextIntervalMs(config, () => 1)).toThrow(RangeError);
    expect(() => nextIntervalMs(config, () => Number.NaN)).toThrow(RangeError);
  });
});

describe('estimateSendDurationMs', () => {
  it('multiplies the count by the base interval', () => {
    // Act and Assess
    expect(estimateSendDurationMs(100, { messagesPerMinute: 20, minIntervalSeconds: 2 })).toBe(300_000);
    expect(estimateSendDurationMs(0, { messagesPerMinute: 20, minIntervalSeconds: 2 })).toBe(0);
    expect(estimateSendDurationMs(10, { messagesPerMinute: 60, minIntervalSeconds: 5 })).toBe(50_000);
  });

  it.each([-1, 1.5, Number.NaN])('throws INVALID_CONFIG for the count %s', (count) => {
    // Act and Assess
    expect(() => estimateSendDurationMs(count, { messagesPerMinute: 20, minIntervalSeconds: 2 })).toThrow(
      DomainError,
    );
  });
});
