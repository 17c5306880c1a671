import { describe, expect, it } from 'vitest';
import {
  OPT_OUT_FRESH_MS,
  OPT_OUT_LOOKUP_AHEAD,
  optOutRecheck,
  phonesToLookUp,
  stampIsStale,
} from '../../lib/domain/opt-out-recheck.ts';

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

  it('asks the phones once the tenant has opt-outs and no answer is held yet', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: undefined }, undefined);

    // Assess
    expect(decision).toBe('ask_again');
  });

  it('keeps the answers while the stamp and the salt are the ones the lookup used', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: 's1' }, { stamp: 3, salt: 's1' });

    // Assess
    expect(decision).toBe('keep');
  });

  it('asks again when an opt-out was stored since (the stamp moved), also the first one', () => {
    // Act
    const moved = optOutRecheck({ stamp: 4, salt: undefined }, { stamp: 3, salt: undefined });
    const first = optOutRecheck({ stamp: 2, salt: undefined }, { stamp: 0, salt: undefined });

    // Assess
    expect([moved, first]).toEqual(['ask_again', 'ask_again']);
  });

  it('asks again when the erasure salt changed (a first erasure brings digests to look for)', () => {
    // Act
    const decision = optOutRecheck({ stamp: 3, salt: 'new' }, { stamp: 3, salt: undefined });

    // Assess
    expect(decision).toBe('ask_again');
  });
});

describe('phonesToLookUp', () => {
  const page = Array.from({ length: 15 }, (_, i) => `+55119876540${String(i).padStart(2, '0')}`);

  it('asks nothing for a phone already asked', () => {
    // Act
    const phones = phonesToLookUp(page[0] as string, page.slice(1), new Set([page[0] as string]));

    // Assess
    expect(phones).toEqual([]);
  });

  it('asks the phone and the next ones of the page not asked yet, a few at most', () => {
    // Prepare: the 2nd and 3rd upcoming phones were asked with an earlier lookup; the phone repeats.
    const asked = new Set([page[2] as string, page[3] as string]);

    // Act
    const phones = phonesToLookUp(page[0] as string, [page[0] as string, ...page.slice(1)], asked);

    // Assess
    expect(phones).toHaveLength(OPT_OUT_LOOKUP_AHEAD);
    expect(phones).toEqual([page[0], page[1], ...page.slice(4, 4 + OPT_OUT_LOOKUP_AHEAD - 2)]);
  });
});
