import { describe, expect, it } from 'vitest';
import { OPT_OUT_FRESH_MS, optOutRecheck, stampIsStale } from '../../lib/domain/opt-out-recheck.ts';

describe('stampIsStale', () => {
  it('asks for a reading when the page has none yet, or when it is older than the freshness', () => {
    // Prepare
    const readAt = 1_000_000;

    // Act
    const answers = [
      stampIsStale(undefined, readAt),
      stampIsStale(readAt, readAt),
      stampIsStale(readAt, readAt + OPT_OUT_FRESH_MS),
      stampIsStale(readAt, readAt + OPT_OUT_FRESH_MS + 1),
    ];

    // Assess
    expect(answers).toEqual([true, false, false, true]);
  });
});

describe('optOutRecheck', () => {
  it('looks nothing up for a tenant that never had an opt-out, page new or not', () => {
    // Act
    const fresh = optOutRecheck({ stamp: 0, salt: undefined }, undefined);
    const salted = optOutRecheck({ stamp: 0, salt: 'salt' }, { stamp: 0, salt: undefined });

    // Assess
    expect([fresh, salted]).toEqual(['none', 'none']);
  });

  it('looks a new page up once the tenant has opt-outs', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: undefined }, undefined);

    // Assess
    expect(decision).toBe('look_up');
  });

  it('keeps the answer while the stamp and the salt are the ones the lookup used', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: 's1' }, { stamp: 3, salt: 's1' });

    // Assess
    expect(decision).toBe('keep');
  });

  it('looks up again when an opt-out was stored since (the stamp moved), also the first one', () => {
    // Act
    const moved = optOutRecheck({ stamp: 4, salt: undefined }, { stamp: 3, salt: undefined });
    const first = optOutRecheck({ stamp: 2, salt: undefined }, { stamp: 0, salt: undefined });

    // Assess
    expect([moved, first]).toEqual(['look_up', 'look_up']);
  });

  it('looks up again when the erasure salt changed (a first erasure brings digests to look for)', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: 'new' }, { stamp: 3, salt: undefined });

    // Assess
    expect(decision).toBe('look_up');
  });
});
