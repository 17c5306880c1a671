import { describe, expect, it } from 'vitest';
import { useDynalite } from '../support/dynalite.ts';
import { sweepAndWebhooksWorld, T0 } from '../support/sweep-and-webhooks-world.ts';

const db = useDynalite();

const MINUTE = 60_000;

const setUp = (timeoutMinutes: number) => sweepAndWebhooksWorld(db, { timeoutMinutes });

describe('stalled deliveries (sweeper, webhooks and sends on dynalite)', () => {
  it('stalls a sent message with no acknowledgement only after the timeout, once, with its event and metric', async () => {
    // Prepare: three sends at T0; one gets SERVER_ACK, one DELIVERY_ACK, one nothing
    const s = await setUp(15);
    const queueId = await s.queue(3, ['sent', 'delivery_stalled']);
    const ids = [await s.send(queueId, 0), await s.send(queueId, 1), await s.send(queueId, 2)];
    expect((await s.receipt(ids[0] as string, 'SERVER_ACK')).result).toBe('applied');
    expect((await s.receipt(ids[2] as string, 'DELIVERY_ACK')).result).toBe('applied');

    // Act: just before the timeout, then just after it, twice
    s.clock.advance(15 * MINUTE - 1000);
    const early = await s.sweep();
    const earlyCount = await s.stalledCount(queueId);
    s.clock.advance(2000);
    const first = await s.sweep();
    const second = await s.sweep();

    // Assess
    expect(early.stalled).toBe(0);
    expect(earlyCount).toBe(0);
    expect([first.stalled, second.stalled]).toEqual([1, 0]);
    // The watch was checked at its deadline, then removed (its only send is stalled for good).
    expect([early.watchesChecked, first.watchesChecked, second.watchesChecked]).toEqual([0, 1, 0]);
    expect(await s.stalledCount(queueId)).toBe(1);
    expect(s.stalledMetric()).toBe('1');
    const contacts = await s.store.listContacts(queueId, { limit: 10 });
    expect(contacts.items.map((c) => [c.status, Boolean(c.serverAckAt), Boolean(c.stalledAt)])).toEqual([
      ['sent', true, false],
      ['sent', false, true],
      ['delivered', false, false],
    ]);
    const event = await s.store.getCallbackEvent(queueId, `${queueId}:1:delivery_stalled`);
    expect(event?.payload).toMatchObject({
      event: 'delivery_stalled',
      message_id: ids[1],
      error: { code: 'DELIVERY_STALLED' },
    });
    // Nothing sent awaits an acknowledgement any more: the watch is gone until the next send.
    expect(await s.store.getDeliveryWatch(queueId)).toBeUndefined();
  });

  it('moves a stalled contact on when a late DELIVERY_ACK arrives, and it is stalled no more', async () => {
    // Prepare
    const s = await setUp(15);
    const queueId = await s.queue(1, ['delivery_stalled']);
    const id = await s.send(queueId, 0);
    s.clock.advance(16 * MINUTE);
    await s.sweep();
    expect(await s.stalledCount(queueId)).toBe(1);

    // Act
    s.clock.advance(MINUTE);
    const late = await s.receipt(id, 'DELIVERY_ACK');
    const again = await s.receipt(id, 'DELIVERY_ACK');

    // Assess
    expect([late.result, again.result]).toEqual(['applied', 'ignored']);
    const queue = await s.store.getQueue(queueId);
    expect([queue?.contactsStalled, queue?.contactsDelivered]).toEqual([0, 1]);
    expect((await s.store.getContact(queueId, 0))?.status).toBe('delivered');
  });

  it('takes a stalled contact out of the count when its SERVER_ACK comes late, once', async () => {
    // Prepare
    const s = await setUp(15);
    const queueId = await s.queue(1, ['sent']);
    const id = await s.send(queueId, 0);
    s.clock.advance(16 * MINUTE);
    await s.sweep();

    // Act
    const ack = await s.receipt(id, 'SERVER_ACK');
    const read = await s.receipt(id, 'READ');

    // Assess: the ack ended the stall; the read that followed did not count it out a second time
    expect([ack.result, read.result]).toEqual(['applied', 'applied']);
    const queue = await s.store.getQueue(queueId);
    expect([queue?.contactsStalled, queue?.contactsRead]).toEqual([0, 1]);
    // Not asked for: the event is not recorded, the counter and the metric still count
    expect(await s.store.getCallbackEvent(queueId, `${queueId}:0:delivery_stalled`)).toBeUndefined();
    expect(s.stalledMetric()).toBe('1');
  });

  it('counts each stalled contact once when sweeps run at the same time', async () => {
    // Prepare
    const s = await setUp(5);
    const queueId = await s.queue(4, ['delivery_stalled']);
    for (const position of [0, 1, 2, 3]) await s.send(queueId, position);
    s.clock.advance(6 * MINUTE);

    // Act
    const results = await Promise.all([s.sweep(), s.sweep(), s.sweep()]);

    // Assess
    expect(results.reduce((sum, r) => sum + r.stalled, 0)).toBe(4);
    expect(await s.stalledCount(queueId)).toBe(4);
    expect(await s.stalledFigures()).toBe(4);
    expect(s.stalledMetric()).toBe('4');
  });

  it('checks later sends at their own deadline, and a send after the watch went away arms it again', async () => {
    // Prepare: one send at T0, one at T0 + 10 min
    const s = await setUp(15);
    const queueId = await s.queue(3, ['delivery_stalled']);
    await s.send(queueId, 0);
    s.clock.advance(10 * MINUTE);
    await s.send(queueId, 1);

    // Act: T0 + 16 min stalls the first only; T0 + 26 min the second; then a new send re-arms
    s.clock.advance(6 * MINUTE);
    const first = await s.sweep();
    const watch = await s.store.getDeliveryWatch(queueId);
    s.clock.advance(10 * MINUTE);
    const second = await s.sweep();
    const gone = await s.store.getDeliveryWatch(queueId);
    await s.send(queueId, 2);
    const rearmed = await s.store.getDeliveryWatch(queueId);

    // Assess
    expect([first.stalled, second.stalled]).toEqual([1, 1]);
    expect(watch?.checkAt).toBe(new Date(Date.parse(T0) + 25 * MINUTE).toISOString());
    expect(watch?.fromPosition).toBe(1);
    expect(gone).toBeUndefined();
    expect(rearmed?.checkAt).toBe(new Date(Date.parse(T0) + 41 * MINUTE).toISOString());
    expect(await s.stalledCount(queueId)).toBe(2);
  });
});
