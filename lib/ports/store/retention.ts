/**
 * Deleting what has expired, where the database does not (local mode: dynalite has no TTL). On AWS,
 * DynamoDB's TTL deletes expired items by itself and nothing calls this.
 */
export interface RetentionStore {
  /**
   * Deletes items whose expiry is at or before `now`, looking at one bounded page of the table
   * (at most `limit` items) from `cursor`; `nextCursor` is where the next page starts, null once the
   * whole table has been looked at (start again from the beginning). Items without an expiry
   * (opt-outs, tenants, keys, open work) are never deleted.
   */
  deleteExpired(now: string, page: { limit: number; cursor?: string }): Promise<ExpiredSweep>;
}

export interface ExpiredSweep {
  deleted: number;
  nextCursor: string | null;
}
