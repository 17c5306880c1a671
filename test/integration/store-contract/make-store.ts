import type { Clock } from '../../../lib/ports/clock.ts';
import type { Store } from '../../../lib/ports/store.ts';

/**
 * An empty store of the implementation under test. `clock` is what the store reads the time from
 * (counter expiry, the stamps of queue writes); the implementation's own default when absent.
 */
export type MakeStore = (options: { clock?: Clock }) => Promise<Store>;
