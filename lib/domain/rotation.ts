/**
 * Rotation of a template's text variations, so a batch does not send one identical text to every
 * contact. Randomness is injected (`() => number` in [0, 1)) so tests and replays are deterministic.
 */
import { DomainError } from './errors.ts';
import type { RotationStrategy, TemplateVariation } from './tenant-types.ts';

export type RandomSource = () => number;

export interface VariationPlan {
  /** One variation per contact, in contact order. */
  picks: TemplateVariation[];
  /** Picks per variation id within this batch (only ids picked at least once); add to `timesUsed` once. */
  uses: Record<string, number>;
}

/** Chooses one active variation by `strategy`; throws `NO_ACTIVE_VARIATION` when none is active. */
export const chooseVariation = (
  strategy: RotationStrategy,
  variations: readonly TemplateVariation[],
  random: RandomSource,
): TemplateVariation => {
  const active = activeOnly(variations);
  const index = pickIndex(
    strategy,
    active.map((v) => v.timesUsed),
    random,
  );
  return active[index] as TemplateVariation;
};

/**
 * Chooses variations for a batch of `count` contacts, counting the batch's own picks as uses so
 * sequential spreads the batch evenly and weighted keeps rebalancing. The caller stores `uses` once.
 */
export const planVariations = (
  strategy: RotationStrategy,
  variations: readonly TemplateVariation[],
  count: number,
  random: RandomSource,
): VariationPlan => {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  const active = activeOnly(variations);
  const used = active.map((v) => v.timesUsed);
  const picks: TemplateVariation[] = [];
  const uses: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const index = pickIndex(strategy, used, random);
    const variation = active[index] as TemplateVariation;
    used[index] = (used[index] ?? 0) + 1;
    picks.push(variation);
    uses[variation.id] = (uses[variation.id] ?? 0) + 1;
  }
  return { picks, uses };
};

const activeOnly = (variations: readonly TemplateVariation[]): TemplateVariation[] => {
  const active = variations.filter((v) => v.isActive);
  if (active.length === 0) throw new DomainError('NO_ACTIVE_VARIATION');
  return active;
};

// A stored count below zero would make a weight infinite; treat it as unused.
const safeCount = (timesUsed: number | undefined): number =>
  Number.isFinite(timesUsed) ? Math.max(0, timesUsed as number) : 0;

// Clamps so a random source that returns exactly 1 (or drifts) still yields a valid index.
const clampIndex = (index: number, length: number): number => Math.min(length - 1, Math.max(0, index));

const pickIndex = (strategy: RotationStrategy, used: readonly number[], random: RandomSource): number => {
  switch (strategy) {
    case 'random':
      return clampIndex(Math.floor(random() * used.length), used.length);
    case 'sequential': {
      // Least used wins; the strict `<` keeps the earliest in list order on ties.
      let best = 0;
      for (let i = 1; i < used.length; i++) {
        if (safeCount(used[i]) < safeCount(used[best])) best = i;
      }
      return best;
    }
    case 'weighted': {
      // Weight is the inverse of use, so all-unused variations are equally likely.
      const weights = used.map((n) => 1 / (safeCount(n) + 1));
      const total = weights.reduce((sum, w) => sum + w, 0);
      let threshold = random() * total;
      for (let i = 0; i < weights.length; i++) {
        threshold -= weights[i] as number;
        if (threshold < 0) return i;
      }
      // Floating-point rounding can leave a sliver at the end; it belongs to the last variation.
      return weights.length - 1;
    }
  }
};
