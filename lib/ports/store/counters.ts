/** Atomic counters with a limit and a time to live (daily quota, hourly key rate). */
export interface CounterStore {
  /**
   * Adds `by` to the named counter unless the result would pass `limit` (null = no limit).
   * Atomic under concurrency. The counter disappears after `expiresAt` (TTL attribute).
   */
  incrementCounter(name: string, by: number, limit: number | null, expiresAt: Date): Promise<CounterResult>;
  /** Current value of a counter (0 when absent or expired). */
  getCounter(name: string): Promise<number>;
}

/** Outcome of an atomic counter increment that must never pass its limit. */
export type CounterResult =
  | { ok: true; value: number }
  /** Refused: adding would pass the limit; `value` is the current count, unchanged. */
  | { ok: false; value: number };
