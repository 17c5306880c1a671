import type { Clock } from '../ports/clock.ts';

/**
 * Reads remembered per key for `ttlMs` by `clock`, so a warm process asks the store once per period
 * instead of once per request. A failed read is not remembered. At most `limit` keys at once:
 * beyond that the memory starts over, so a long-lived container stays bounded.
 */
export type ExpiringMemo<T> = (key: string, read: () => Promise<T>) => Promise<T>;

export const createExpiringMemo = <T>(clock: Clock, ttlMs: number, limit: number): ExpiringMemo<T> => {
  const entries = new Map<string, { until: number; value: Promise<T> }>();
  return (key, read) => {
    const now = clock.now().getTime();
    const hit = entries.get(key);
    if (hit && hit.until > now) return hit.value;
    if (entries.size >= limit) entries.clear();
    const value = read();
    entries.set(key, { until: now + ttlMs, value });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return value;
  };
};
