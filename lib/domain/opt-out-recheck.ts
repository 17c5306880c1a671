/** How old the pump's reading of the tenant's opt-out stamp may be when a contact is checked. */
export const OPT_OUT_FRESH_MS = 10_000;

/** What a prefetched page's phones were last looked up against: the tenant's stamp and erasure salt. */
export interface OptOutsCheckedAgainst {
  /** The tenant's opt-out stamp read before the lookup (0: nobody on its list). */
  stamp: number;
  /** The erasure salt the lookup used (its digests find an erased debtor's opt-out). */
  salt: string | undefined;
}

/**
 * Whether the stamp must be read again before a contact is checked: it never was for this page,
 * or its reading is older than `OPT_OUT_FRESH_MS`.
 */
export const stampIsStale = (stampReadAt: number | undefined, nowMs: number): boolean =>
  stampReadAt === undefined || nowMs - stampReadAt > OPT_OUT_FRESH_MS;

/**
 * What a fresh reading of the stamp means for the page's phones:
 * - `none`: the tenant never had an opt-out, so nobody on the page is suppressed (no lookup);
 * - `keep`: nothing was stored since the page's last lookup, under the same salt, so its answer stands;
 * - `look_up`: the page was never looked up, an opt-out was stored since (the stamp moved), or the
 *   salt changed (a first erasure: the digests to look for are new).
 */
export const optOutRecheck = (
  current: OptOutsCheckedAgainst,
  lastLookup: OptOutsCheckedAgainst | undefined,
): 'none' | 'keep' | 'look_up' => {
  if (current.stamp === 0) return 'none';
  if (lastLookup && lastLookup.stamp === current.stamp && lastLookup.salt === current.salt) return 'keep';
  return 'look_up';
};
