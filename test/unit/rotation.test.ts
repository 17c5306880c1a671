import { describe, expect, it } from 'vitest';
import { DomainError } from '../../lib/domain/errors.ts';
import { chooseVariation, planVariations } from '../../lib/domain/rotation.ts';
import type { TemplateVariation } from '../../lib/domain/tenant-types.ts';

/** A small seeded PRNG so statistical tests are deterministic. */
const mulberry32 = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const variation = (id: string, timesUsed = 0, isActive = true): TemplateVariation => ({
  id,
  messageTemplate: `texto ${id} {{nome_cliente}}`,
  isActive,
  timesUsed,
});

const countIds = (picks: readonly TemplateVariation[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const p of picks) counts[p.id] = (counts[p.id] ?? 0) + 1;
  return counts;
};

const never = (): number => {
  throw new Error('sequential must not draw randomness');
};

describe('chooseVariation', () => {
  it('picks the least used variation when the strategy is sequential', () => {
    // Prepare
    const variations = [variation('a', 5), variation('b', 2), variation('c', 3)];

    // Act
    const chosen = chooseVariation('sequential', variations, never);

    // Assess
    expect(chosen.id).toBe('b');
  });

  it('breaks sequential ties by list order', () => {
    // Prepare
    const variations = [variation('a', 4), variation('b', 1), variation('c', 1)];

    // Act
    const chosen = chooseVariation('sequential', variations, never);

    // Assess
    expect(chosen.id).toBe('b');
  });

  it('maps the random source uniformly onto the active variations when the strategy is random', () => {
    // Prepare
    const variations = [variation('a', 100), variation('b'), variation('c')];

    // Act
    const low = chooseVariation('random', variations, () => 0);
    const middle = chooseVariation('random', variations, () => 0.5);
    const high = chooseVariation('random', variations, () => 0.999999);

    // Assess
    expect([low.id, middle.id, high.id]).toEqual(['a', 'b', 'c']);
  });

  it('covers every variation over many draws when the strategy is random', () => {
    // Prepare
    const variations = [variation('a'), variation('b'), variation('c'), variation('d')];
    const random = mulberry32(42);

    // Act
    const counts = countIds(
      Array.from({ length: 4000 }, () => chooseVariation('random', variations, random)),
    );

    // Assess
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(counts[id] ?? 0).toBeGreaterThan(800);
      expect(counts[id] ?? 0).toBeLessThan(1200);
    }
  });

  it('prefers the unused variation in more than 90% of draws when the other was used 100 times', () => {
    // Prepare
    const variations = [variation('used', 100), variation('fresh', 0)];
    const random = mulberry32(7);

    // Act
    const counts = countIds(
      Array.from({ length: 5000 }, () => chooseVariation('weighted', variations, random)),
    );

    // Assess
    expect(counts.fresh ?? 0).toBeGreaterThan(0.9 * 5000);
    expect(counts.used ?? 0).toBeGreaterThan(0);
  });

  it('draws uniformly when the strategy is weighted and no variation was used', () => {
    // Prepare
    const variations = [variation('a'), variation('b')];

    // Act
    const below = chooseVariation('weighted', variations, () => 0.49);
    const above = chooseVariation('weighted', variations, () => 0.51);

    // Assess
    expect([below.id, above.id]).toEqual(['a', 'b']);
  });

  it.each(['random', 'sequential', 'weighted'] as const)(
    'never chooses an inactive variation when the strategy is %s',
    (strategy) => {
      // Prepare
      const variations = [variation('off1', 0, false), variation('on', 1000), variation('off2', 0, false)];
      const random = mulberry32(1);

      // Act
      const chosen = Array.from({ length: 200 }, () => chooseVariation(strategy, variations, random));

      // Assess
      expect(new Set(chosen.map((v) => v.id))).toEqual(new Set(['on']));
    },
  );

  it('stays in range when the random source returns exactly 1', () => {
    // Prepare
    const variations = [variation('a'), variation('b')];

    // Act
    const random = chooseVariation('random', variations, () => 1);
    const weighted = chooseVariation('weighted', variations, () => 1);

    // Assess
    expect([random.id, weighted.id]).toEqual(['b', 'b']);
  });

  it.each(['random', 'sequential', 'weighted'] as const)(
    'throws NO_ACTIVE_VARIATION when no variation is active (%s)',
    (strategy) => {
      // Prepare
      const variations = [variation('a', 0, false)];

      // Act / Assess
      expect(() => chooseVariation(strategy, variations, () => 0)).toThrow(DomainError);
      expect(() => chooseVariation(strategy, [], () => 0)).toThrow(
        expect.objectContaining({ code: 'NO_ACTIVE_VARIATION' }) as unknown as Error,
      );
    },
  );
});

describe('planVariations', () => {
  it('spreads a sequential batch of 10 over 3 unused variations as 4/3/3 in rotation', () => {
    // Prepare
    const variations = [variation('a'), variation('b'), variation('c')];

    // Act
    const plan = planVariations('sequential', variations, 10, never);

    // Assess
    expect(plan.picks.map((v) => v.id).join('')).toBe('abcabcabca');
    expect(plan.uses).toEqual({ a: 4, b: 3, c: 3 });
  });

  it('fills the least used variations first when a sequential batch starts from uneven counts', () => {
    // Prepare
    const variations = [variation('a', 2), variation('b', 1), variation('c', 0)];

    // Act
    const plan = planVariations('sequential', variations, 10, never);

    // Assess
    expect(plan.picks.slice(0, 3).map((v) => v.id)).toEqual(['c', 'b', 'c']);
    const totals = variations.map((v) => v.timesUsed + (plan.uses[v.id] ?? 0));
    expect(totals).toEqual([5, 4, 4]);
  });

  it('keeps a weighted batch balanced by counting the picks made inside the batch', () => {
    // Prepare
    const variations = [variation('a'), variation('b'), variation('c')];
    const random = mulberry32(2024);

    // Act
    const plan = planVariations('weighted', variations, 3000, random);

    // Assess
    for (const id of ['a', 'b', 'c']) {
      expect(plan.uses[id] ?? 0).toBeGreaterThan(950);
      expect(plan.uses[id] ?? 0).toBeLessThan(1050);
    }
  });

  it('lets a weighted batch catch up the unused variation when another starts far ahead', () => {
    // Prepare
    const variations = [variation('old', 50), variation('new', 0)];
    const random = mulberry32(99);

    // Act
    const plan = planVariations('weighted', variations, 40, random);

    // Assess
    expect(plan.uses.new ?? 0).toBeGreaterThan(plan.uses.old ?? 0);
  });

  it.each([
    ['random', 1],
    ['sequential', 7],
    ['weighted', 50],
    ['weighted', 0],
  ] as const)('returns uses that sum to count and match the picks (%s, %i)', (strategy, count) => {
    // Prepare
    const variations = [variation('a', 3), variation('x', 0, false), variation('b', 0), variation('c', 10)];
    const random = mulberry32(5);

    // Act
    const plan = planVariations(strategy, variations, count, random);

    // Assess
    expect(plan.picks).toHaveLength(count);
    expect(Object.values(plan.uses).reduce((sum, n) => sum + n, 0)).toBe(count);
    expect(plan.uses).toEqual(countIds(plan.picks));
    expect(plan.uses.x).toBeUndefined();
  });

  it('does not mutate the variations it is given', () => {
    // Prepare
    const variations = [variation('a', 1), variation('b', 2)];
    const before = structuredClone(variations);

    // Act
    planVariations('sequential', variations, 5, never);

    // Assess
    expect(variations).toEqual(before);
  });

  it('throws NO_ACTIVE_VARIATION when no variation is active', () => {
    // Prepare / Act / Assess
    expect(() => planVariations('sequential', [variation('a', 0, false)], 3, never)).toThrow(
      expect.objectContaining({ code: 'NO_ACTIVE_VARIATION' }) as unknown as Error,
    );
  });

  it.each([-1, 1.5, Number.NaN])('throws a RangeError when count is %s', (count) => {
    // Prepare / Act / Assess
    expect(() => planVariations('random', [variation('a')], count, () => 0)).toThrow(RangeError);
  });
});
