import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../lib/http/json-depth.ts';

/** The depth of a parsed value, the slow recursive way (fine for the small values generated here). */
const depthOf = (value: unknown): number => {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Object.values(value as Record<string, unknown>);
  return 1 + Math.max(0, ...children.map(depthOf));
};

describe('jsonDepthExceeds', () => {
  it('measures the nesting of any JSON text exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, max) => {
        // Act
        const exceeds = jsonDepthExceeds(JSON.stringify(value), max);

        // Assess
        expect(exceeds).toBe(depthOf(value) > max);
      }),
      { numRuns: 500 },
    );
  });

  it('ignores brackets and escaped quotes inside strings', () => {
    // Prepare
    const text = JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[\\" "[[', c: ['}}}]]]'] });

    // Act & Assess
    expect(jsonDepthExceeds(text, 2)).toBe(false);
    expect(jsonDepthExceeds(text, 1)).toBe(true);
  });

  it('answers without recursion for a body nested a million levels deep', () => {
    // Prepare
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;

    // Act & Assess
    expect(jsonDepthExceeds(deep, 64)).toBe(true);
    expect(jsonDepthExceeds(`{"metadata":${'{"a":'.repeat(64)}1${'}'.repeat(64)}}`, 64)).toBe(true);
    expect(jsonDepthExceeds(`{"metadata":${'{"a":'.repeat(63)}1${'}'.repeat(63)}}`, 64)).toBe(false);
  });
});
