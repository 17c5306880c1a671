import { PRICES } from './prices.ts';

/**
 * What a month costs a few kinds of users (docs/deploy.md, "What a month costs"), from one
 * bench:cost run: its per-message figures, its fixed monthly costs and the storage its messages
 * leave for as long as they are kept. Numbers only, so a test can check it by hand.
 */

/** One scenario's figures per 1M messages, as the run measured them. */
export interface ScenarioPerMillion {
  /** Total with the sender's waits shared by the run's fleet of instances sending at once. */
  sharedUsd: number;
  /** Total with the sender's cost of one instance sending alone instead (its waits unshared). */
  unsharedUsd: number;
  /** Table and index bytes its messages leave, in GB. */
  storageGb: number;
}

export interface MonthlyProfile {
  who: string;
  messagesPerMonth: number;
  scenario: 'core' | 'all-in';
  /**
   * Whose sender figure applies: `unshared` when the instances' campaigns run at different times,
   * `shared` when many send at once; `either` gives the range between the two.
   */
  sharing: 'shared' | 'unshared' | 'either';
}

export const MONTHLY_PROFILES: readonly MonthlyProfile[] = [
  {
    who: 'one company, its own number, no callbacks (its ERP reads the status)',
    messagesPerMonth: 5_000,
    scenario: 'core',
    sharing: 'unshared',
  },
  {
    who: 'an ERP integrator: 50 client companies, 20,000 reminders each, receipts and 3 callbacks a contact',
    messagesPerMonth: 1_000_000,
    scenario: 'all-in',
    sharing: 'either',
  },
  {
    who: 'a large integrator: 500 numbers, many sending at once, all-in',
    messagesPerMonth: 10_000_000,
    scenario: 'all-in',
    sharing: 'shared',
  },
];

/** A range of dollars; `low === high` when nothing varies. */
export interface UsdRange {
  low: number;
  high: number;
}

export interface MonthlyEstimate {
  profile: MonthlyProfile;
  perMessage: UsdRange;
  /** GB held once the store keeps `retentionDays` of traffic (settled items expire after it). */
  storageGb: number;
  storageUsd: number;
  fixedUsd: number;
  total: UsdRange;
}

/** Settled items live `retentionDays`: the table holds that many days of a month's traffic. */
const DAYS_PER_MONTH = 30;

export const monthlyEstimate = (
  profile: MonthlyProfile,
  figures: Record<MonthlyProfile['scenario'], ScenarioPerMillion>,
  fixedUsd: number,
  retentionDays: number,
): MonthlyEstimate => {
  const scenario = figures[profile.scenario];
  const millions = profile.messagesPerMonth / 1_000_000;
  const shared = scenario.sharedUsd * millions;
  const unshared = scenario.unsharedUsd * millions;
  const perMessage: UsdRange =
    profile.sharing === 'shared'
      ? { low: shared, high: shared }
      : profile.sharing === 'unshared'
        ? { low: unshared, high: unshared }
        : { low: Math.min(shared, unshared), high: Math.max(shared, unshared) };
  const storageGb = scenario.storageGb * millions * (retentionDays / DAYS_PER_MONTH);
  const storageUsd = storageGb * (PRICES.dynamoStorageGbMonth.usd + PRICES.dynamoPitrGbMonth.usd);
  return {
    profile,
    perMessage,
    storageGb,
    storageUsd,
    fixedUsd,
    total: {
      low: perMessage.low + storageUsd + fixedUsd,
      high: perMessage.high + storageUsd + fixedUsd,
    },
  };
};
