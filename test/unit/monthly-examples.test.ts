import { describe, expect, it } from 'vitest';
import {
  MONTHLY_PROFILES,
  type MonthlyProfile,
  monthlyEstimate,
  type ScenarioPerMillion,
} from '../../bench/cost/monthly-examples.ts';
import { PRICES } from '../../bench/cost/prices.ts';

const figures: Record<MonthlyProfile['scenario'], ScenarioPerMillion> = {
  core: { sharedUsd: 5, unsharedUsd: 15, storageGb: 2 },
  'all-in': { sharedUsd: 20, unsharedUsd: 30, storageGb: 8 },
};
const storagePrice = PRICES.dynamoStorageGbMonth.usd + PRICES.dynamoPitrGbMonth.usd;

const profile = (overrides: Partial<MonthlyProfile>): MonthlyProfile => ({
  who: 'someone',
  messagesPerMonth: 1_000_000,
  scenario: 'core',
  sharing: 'shared',
  ...overrides,
});

describe('what a month costs (bench:cost, docs/deploy.md)', () => {
  it('scales the per-message figures by the month, shared or unshared as the profile says', () => {
    const shared = monthlyEstimate(profile({ messagesPerMonth: 2_000_000 }), figures, 10, 30);
    expect(shared.perMessage).toEqual({ low: 10, high: 10 });
    const unshared = monthlyEstimate(
      profile({ sharing: 'unshared', messagesPerMonth: 5_000 }),
      figures,
      10,
      30,
    );
    expect(unshared.perMessage.low).toBeCloseTo(0.075, 10);
    expect(unshared.perMessage.high).toBeCloseTo(0.075, 10);
  });

  it('gives the range between shared and unshared when either may apply', () => {
    const e = monthlyEstimate(profile({ scenario: 'all-in', sharing: 'either' }), figures, 12, 30);
    expect(e.perMessage).toEqual({ low: 20, high: 30 });
    expect(e.total.low).toBeCloseTo(20 + 8 * storagePrice + 12, 10);
    expect(e.total.high).toBeCloseTo(30 + 8 * storagePrice + 12, 10);
  });

  it('keeps retention_days of traffic stored, priced with point-in-time recovery', () => {
    const ninety = monthlyEstimate(profile({ scenario: 'all-in' }), figures, 0, 90);
    expect(ninety.storageGb).toBeCloseTo(24, 10);
    expect(ninety.storageUsd).toBeCloseTo(24 * 0.45, 10);
    const thirty = monthlyEstimate(profile({ scenario: 'all-in' }), figures, 0, 30);
    expect(thirty.storageGb).toBeCloseTo(ninety.storageGb / 3, 10);
  });

  it('adds the fixed costs once, whatever the volume', () => {
    const small = monthlyEstimate(profile({ messagesPerMonth: 1 }), figures, 12.5, 90);
    expect(small.total.low - small.perMessage.low - small.storageUsd).toBeCloseTo(12.5, 10);
  });

  it('has one example per kind of user the deploy guide names', () => {
    expect(MONTHLY_PROFILES.map((p) => [p.messagesPerMonth, p.scenario, p.sharing])).toEqual([
      [5_000, 'core', 'unshared'],
      [1_000_000, 'all-in', 'either'],
      [10_000_000, 'all-in', 'shared'],
    ]);
  });
});
