import { describe, expect, it } from 'vitest';
import { API_TIMEOUT_SECONDS } from '../../lib/app/api-timeout.ts';
import { RECEIPT_RECOUNT_QUIET_MS } from '../../lib/app/receipt-recount.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { sweepAndWebhooksWorld } from '../support/sweep-and-webhooks-world.ts';

const db = useDynalite();

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * The webhook intake's store with its queue counters writes under the test's control: `failNext`
 * makes the next one fail (the store lost past the SDK's retries, or the invocation dying, between
 * a receipt's contact write and its counters write), `holdNext` keeps the next one from landing
 * until released (a slow request still on its way) and answers once that write is waiting.
 */
const countersWrites = () => {
  let failNext = false;
  let release: () => void = () => undefined;
  let holdNext: (() => void) | undefined;
  return {
    failNext: () => {
      failNext = true;
    },
    holdNext: () =>
      new Promise<void>((waiting) => {
        holdNext = waiting;
      }),
    release: () => release(),
    wrap: (store: Store): Store => ({
      ...store,
      addToQueueCounters: async (queueId, deltas) => {
        if (failNext) {
          failNext = false;
          throw Object.assign(new Error('the store stopped answering'), { name: 'TimeoutError' });
        }
        if (holdNext) {
          const waiting = holdNext;
          holdNext = undefined;
          await new Promise<void>((resolve) => {
            release = resolve;
            waiting();
          });
        }
        return store.addToQueueCounters(queueId, deltas);
      },
    }),
  };
};

const setUp = async () => {
  const writes = countersWrites();
  const sweeperWrites = countersWrites();
  const world = await sweepAndWebhooksWorld(db, { ingestStore: writes.wrap, sweepStore: sweeperWrites.wrap });
  const queueId = await world.queue(3, []);
  const ids = [await world.send(queueId, 0), await world.send(queueId, 1), await world.send(queueId, 2)];
  const counts = async () => {
    const queue = await world.store.getQueue(queueId);
    return { delivered: queue?.contactsDelivered, read: queue?.contactsRead };
  };
  const stalled = async () => (await world.store.getQueue(queueId))?.contactsStalled;
  return { ...world, writes, sweeperWrites, queueId, ids: ids as [string, string, string], counts, stalled };
};

describe('receipt counters recounted after a duplicate receipt (webhooks and sweeper on dynalite)', () => {
  it('waits longer than a webhook can run', () => {
    expect(RECEIPT_RECOUNT_QUIET_MS).toBeGreaterThan(API_TIMEOUT_SECONDS * SECOND);
  });

  it("counts a delivery whose counters write was lost once the gateway's retry flags its queue", async () => {
    // Prepare: a delivery whose contact write lands and whose counters write is lost; the webhook
    // fails (503), so the gateway sends it again
    const s = await setUp();
    s.writes.failNext();
    await expect(s.receipt(s.ids[0], 'DELIVERY_ACK')).rejects.toThrow('the store stopped answering');
    const retry = await s.receipt(s.ids[0], 'DELIVERY_ACK');
    const short = await s.counts();

    // Act: a sweep before the receipts are quiet, then one after
    s.clock.advance(MINUTE);
    const early = await s.sweep();
    const afterEarly = await s.counts();
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);
    const due = await s.sweep();
    const next = await s.sweep();

    // Assess
    expect(retry.result).toBe('ignored');
    expect(short).toEqual({ delivered: 0, read: 0 });
    expect(early.receiptRecounts).toEqual({ recounted: 0, corrected: 0 });
    expect(afterEarly).toEqual({ delivered: 0, read: 0 });
    expect(due.receiptRecounts).toEqual({ recounted: 1, corrected: 1 });
    expect(await s.counts()).toEqual({ delivered: 1, read: 0 });
    expect(next.receiptRecounts).toEqual({ recounted: 0, corrected: 0 });
  });

  it("leaves counters alone when the duplicate was only Evolution's repeat", async () => {
    // Prepare: a read counted once, then the same READ again and a late DELIVERY_ACK
    const s = await setUp();
    await s.receipt(s.ids[1], 'READ');
    await s.receipt(s.ids[1], 'READ');
    await s.receipt(s.ids[1], 'DELIVERY_ACK');

    // Act
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS + MINUTE);
    const swept = await s.sweep();

    // Assess
    expect(swept.receiptRecounts).toEqual({ recounted: 1, corrected: 0 });
    expect(await s.counts()).toEqual({ delivered: 1, read: 1 });
  });

  it('waits for a receipt whose counters write is still on its way, and counts it once', async () => {
    // Prepare: contact 0's counters lost and flagged by the retry; a minute later contact 1's read
    // writes its contact, its counters write held back (a slow request)
    const s = await setUp();
    s.writes.failNext();
    await expect(s.receipt(s.ids[0], 'DELIVERY_ACK')).rejects.toThrow();
    await s.receipt(s.ids[0], 'DELIVERY_ACK');
    s.clock.advance(MINUTE);
    const held = s.writes.holdNext();
    const slowRead = s.receipt(s.ids[1], 'READ');
    await held;

    // Act: when the flag is due, contact 1's write is recent: the recount waits for its counters
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS - 30 * SECOND);
    const whileInFlight = await s.sweep();
    const duringHold = await s.counts();
    s.writes.release();
    await slowRead;
    s.clock.advance(MINUTE);
    const afterQuiet = await s.sweep();

    // Assess: contact 0 counted by the recount, contact 1 by its own write: each once
    expect(whileInFlight.receiptRecounts).toEqual({ recounted: 0, corrected: 0 });
    expect(duringHold).toEqual({ delivered: 0, read: 0 });
    expect(afterQuiet.receiptRecounts).toEqual({ recounted: 1, corrected: 1 });
    expect(await s.counts()).toEqual({ delivered: 2, read: 1 });
  });

  it('takes a stall out of the count when the SERVER_ACK that ended it lost its counters write', async () => {
    // Prepare: three sends found stalled; a late SERVER_ACK ends one stall, its counters write lost,
    // and the gateway's retry finds it recorded
    const s = await setUp();
    s.clock.advance(16 * MINUTE);
    await s.sweep();
    const before = await s.stalled();
    s.writes.failNext();
    await expect(s.receipt(s.ids[0], 'SERVER_ACK')).rejects.toThrow();
    const retry = await s.receipt(s.ids[0], 'SERVER_ACK');
    const high = await s.stalled();

    // Act
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS + MINUTE);
    const swept = await s.sweep();

    // Assess
    expect(retry.result).toBe('ignored');
    expect([before, high]).toEqual([3, 3]);
    expect(swept.receiptRecounts).toEqual({ recounted: 1, corrected: 1 });
    expect(await s.stalled()).toBe(2);
  });

  it('counts a late delivery that ended a stall, both ways, when its counters write was lost', async () => {
    // Prepare: three sends found stalled; a late DELIVERY_ACK ends one, its counters write lost
    const s = await setUp();
    s.clock.advance(16 * MINUTE);
    await s.sweep();
    s.writes.failNext();
    await expect(s.receipt(s.ids[1], 'DELIVERY_ACK')).rejects.toThrow();
    await s.receipt(s.ids[1], 'DELIVERY_ACK');
    const off = { stalled: await s.stalled(), ...(await s.counts()) };

    // Act
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS + MINUTE);
    await s.sweep();

    // Assess
    expect(off).toEqual({ stalled: 3, delivered: 0, read: 0 });
    expect({ stalled: await s.stalled(), ...(await s.counts()) }).toEqual({
      stalled: 2,
      delivered: 1,
      read: 0,
    });
  });

  it('counts the stalls of a sweep that died before its counter write', async () => {
    // Prepare: three sends past their delivery timeout; the sweep that stalls them loses its
    // counter write (the sweeper dying between the two)
    const s = await setUp();
    s.clock.advance(16 * MINUTE);
    s.sweeperWrites.failNext();
    await s.sweep();
    const short = await s.stalled();

    // Act: the next sweeps, before and after the stalls are quiet
    s.clock.advance(MINUTE);
    const early = await s.sweep();
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS);
    const due = await s.sweep();

    // Assess
    expect(short).toBe(0);
    expect(early.receiptRecounts).toEqual({ recounted: 0, corrected: 0 });
    expect(due.receiptRecounts).toEqual({ recounted: 1, corrected: 1 });
    expect(await s.stalled()).toBe(3);
  });

  it('moves a contact of a completed queue from sent to failed when its failure receipt lost its counters write', async () => {
    // Prepare: the queue completed (its counters exact); WhatsApp then reports one message failed,
    // the receipt's counters write is lost, and the gateway's retry reads as a duplicate
    const s = await setUp();
    await s.store.transitionQueue(s.queueId, ['pending'], 'completed');
    s.writes.failNext();
    await expect(s.receipt(s.ids[2], 'ERROR')).rejects.toThrow();
    await s.receipt(s.ids[2], 'ERROR');
    const sender = async () => {
      const queue = await s.store.getQueue(s.queueId);
      return { sent: queue?.contactsSent, failed: queue?.contactsFailed };
    };
    const off = await sender();

    // Act
    s.clock.advance(RECEIPT_RECOUNT_QUIET_MS + MINUTE);
    const swept = await s.sweep();

    // Assess
    expect(off).toEqual({ sent: 3, failed: 0 });
    expect(swept.receiptRecounts).toEqual({ recounted: 1, corrected: 1 });
    expect(await sender()).toEqual({ sent: 2, failed: 1 });
  });
});
