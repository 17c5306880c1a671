/** How old the pump's reading of the tenant's opt-out stamp may be when a contact is checked. */
export const OPT_OUT_FRESH_MS = 10_000;

/**
 * Phones the pump looks up at once: the contact's and those of the next contacts of its page. A
 * few, not the whole page: an invocation often ends (its budget) long before its page does, and
 * every phone asked costs a read unit, found or not.
 */
export const OPT_OUT_LOOKUP_AHEAD = 10;

/** What the pump's answers about phones hold against: the tenant's stamp and erasure salt. */
export interface OptOutsCheckedAgainst {
  /** The tenant's opt-out stamp read before the lookups (0: nobody on its list). */
  stamp: number;
  /** The erasure salt the lookups use (its digests find an erased debtor's opt-out). */
  salt: string | undefined;
}

/**
 * Whether the stamp must be read again before a contact is checked: it never was, or its reading
 * is older than `OPT_OUT_FRESH_MS`.
 */
export const stampIsStale = (stampReadAt: number | undefined, nowMs: number): boolean =>
  stampReadAt === undefined || nowMs - stampReadAt > OPT_OUT_FRESH_MS;

/**
 * What a fresh reading of the stamp means for the answers the pump holds about phones:
 * - `none`: the tenant never had an opt-out, so nobody is suppressed (no lookup at all);
 * - `keep`: nothing was stored since the reading they were asked under, with the same salt, so
 *   they stand (the stamp only grows: an equal stamp means no opt-out completed in between);
 * - `ask_again`: none held yet, an opt-out was stored since (the stamp moved), or the salt changed
 *   (a first erasure: new digests to look for); every phone is asked again when its turn comes.
 */
export const optOutRecheck = (
  current: OptOutsCheckedAgainst,
  heldAgainst: OptOutsCheckedAgainst | undefined,
): 'none' | 'keep' | 'ask_again' => {
  if (current.stamp === 0) return 'none';
  if (heldAgainst && heldAgainst.stamp === current.stamp && heldAgainst.salt === current.salt) return 'keep';
  return 'ask_again';
};

/**
 * The phones to look up before `phone` can be answered: none when it was asked already under the
 * current reading, else it and the next unasked phones of the page, `OPT_OUT_LOOKUP_AHEAD` at most.
 */
export const phonesToLookUp = (
  phone: string,
  upcoming: readonly string[],
  asked: ReadonlySet<string>,
): string[] => {
  if (asked.has(phone)) return [];
  const fresh = [...new Set([phone, ...upcoming])].filter((p) => !asked.has(p));
  return fresh.slice(0, OPT_OUT_LOOKUP_AHEAD);
};
