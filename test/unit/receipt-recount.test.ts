import { describe, expect, it } from 'vitest';
import {
  flagReceiptRecount,
  RECEIPT_RECOUNT_QUIET_MS,
  recountDueReceipts,
} from '../../lib/app/receipt-recount.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Store } from '../../lib/ports/store.ts';
import { sent } from '../integration/store-contract/delivery-watch-store-contract.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';
import { createTestClock } from '../support/local-stack.ts';

const T0 = '2026-03-02T13:00:00.000Z';

/** The in-memory store (it passes the DynamoDB store's contract) holding queue-1 with 2 contacts sent. */
const setUp = async () => {
  const clock = createTestClock(T0);
  const store = createInMemoryStore({ clock });
  await store.createQueue(
    acmeQueue({ totalContacts: 2, createdAt: T0, status: 'completed', contactsSent: 2 }),
  );
  await store.putContacts([sent(0), sent(1)]);
  const recount = (over: Store = store) =>
    recountDueReceipts({ store: over, clock, logger: createLogger('SILENT') });
  const dueFlags = () => store.listDueReceiptRecounts('2100-01-01T00:00:00.000Z', 10);
  return { clock, store, recount, dueFlags };
};

describe('recountDueReceipts', () => {
  it('never lowers the counters: contacts gone since keep what was counted', async () => {
    // Prepare: two deliveries counted, then one contact's receipt undone by its expiry (as seen by
    // the tally: fewer delivered contacts than counted)
    const s = await setUp();
    await s.store.applyReceipt('queue-1', 0, 'delivered', T0);
    await s.store.addToQueueCounters('queue-1', { contactsDelivered: 2, contactsRead: 1 });
    await flagReceiptRecount(s, 'queue-1', 'acme');
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);

    // Act
    const result = await s.recount();

    // Assess
    expect(result).toEqual({ recounted: 1, corrected: 0 });
    const queue = await s.store.getQueue('queue-1');
    expect([queue?.contactsDelivered, queue?.contactsRead]).toEqual([2, 1]);
    expect(await s.dueFlags()).toEqual([]);
  });

  it('drops the flag of a queue that no longer exists', async () => {
    // Prepare
    const s = await setUp();
    await flagReceiptRecount(s, 'queue-gone', 'acme');
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);

    // Act
    const result = await s.recount();

    // Assess
    expect(result).toEqual({ recounted: 0, corrected: 0 });
    expect(await s.dueFlags()).toEqual([]);
  });

  it('keeps the flag due when a counters write came between the tally and the correction', async () => {
    // Prepare: a delivery whose counters were lost; the pump's flush lands right after the tally
    const s = await setUp();
    await s.store.applyReceipt('queue-1', 0, 'delivered', T0);
    await flagReceiptRecount(s, 'queue-1', 'acme');
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);
    const racing: Store = {
      ...s.store,
      tallyReceipts: async (queueId) => {
        const tally = await s.store.tallyReceipts(queueId);
        await s.store.addToQueueCounters(queueId, { contactsReplied: 1 });
        return tally;
      },
    };

    // Act
    const raced = await s.recount(racing);
    const next = await s.recount();

    // Assess: refused once, done by the next sweep
    expect(raced).toEqual({ recounted: 0, corrected: 0 });
    expect(next).toEqual({ recounted: 1, corrected: 1 });
    expect((await s.store.getQueue('queue-1'))?.contactsDelivered).toBe(1);
    expect(await s.dueFlags()).toEqual([]);
  });

  it('keeps a flag a duplicate set again during the recount, for a recount of its own', async () => {
    // Prepare
    const s = await setUp();
    await flagReceiptRecount(s, 'queue-1', 'acme');
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);
    const flaggedMeanwhile: Store = {
      ...s.store,
      tallyReceipts: async (queueId) => {
        await flagReceiptRecount(s, queueId, 'acme');
        return s.store.tallyReceipts(queueId);
      },
    };

    // Act
    const result = await s.recount(flaggedMeanwhile);

    // Assess
    expect(result).toEqual({ recounted: 1, corrected: 0 });
    expect((await s.dueFlags()).map((flag) => flag.queueId)).toEqual(['queue-1']);
  });

  it('leaves the sender counters of a completed queue alone once a contact is gone', async () => {
    // Prepare: a completed queue of 3 whose third contact has expired; its counters say 3 sent
    const clock = createTestClock(T0);
    const store = createInMemoryStore({ clock });
    await store.createQueue(
      acmeQueue({ totalContacts: 3, createdAt: T0, status: 'completed', contactsSent: 3 }),
    );
    await store.putContacts([sent(0), sent(1)]);
    await flagReceiptRecount({ store, clock }, 'queue-1', 'acme');
    clock.advance(RECEIPT_RECOUNT_QUIET_MS);

    // Act
    const result = await recountDueReceipts({ store, clock, logger: createLogger('SILENT') });

    // Assess
    expect(result).toEqual({ recounted: 1, corrected: 0 });
    expect((await store.getQueue('queue-1'))?.contactsSent).toBe(3);
  });
});
