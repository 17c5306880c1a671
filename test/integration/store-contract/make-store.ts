import { expect } from 'vitest';
import type { Clock } from '../../../lib/ports/clock.ts';
import type { Store } from '../../../lib/ports/store.ts';

/** One implementation's store, empty, and what a contract test may look at behind it. */
export interface StoreUnderTest {
  store: Store;
  /**
   * The stored item under a table key, with its index and TTL attributes: only a store on a table
   * (DynamoDB) has one, so the checks of its index entries run there and are skipped elsewhere.
   */
  tableItem?: (key: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>;
}

/**
 * An empty store of the implementation under test. `clock` is what the store reads the time from
 * (counter expiry, the stamps of queue writes); the implementation's own default when absent.
 */
export type MakeStore = (options: { clock?: Clock }) => Promise<StoreUnderTest>;

/**
 * Checks a contact's table item: in `status`, and in no index (contacts left gsi1: a status change
 * moves no index copy, see docs/data-model.md, Contact).
 */
export function expectContactItem(item: Record<string, unknown> | undefined, status: string): void {
  expect(item?.status).toBe(status);
  expect(Object.keys(item ?? {}).filter((attribute) => attribute.startsWith('gsi'))).toEqual([]);
}
