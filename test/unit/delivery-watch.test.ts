import { describe, expect, it } from 'vitest';
import { type ArmDeliveryWatchDeps, armingDeliveryWatch } from '../../lib/app/delivery-watch.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type { DeliveryWatch } from '../../lib/ports/store.ts';
import { createTestClock } from '../support/local-stack.ts';

const T0 = '2026-03-02T13:00:00.000Z';
const MINUTE = 60_000;

/** A store that keeps one watch the way the DynamoDB adapter does (due time kept once set). */
const fakeStore = () => {
  let watch: DeliveryWatch | undefined;
  const arms: string[] = [];
  const store = {
    getQueue: async (id: string) => ({ id, tenantId: 'acme', templateType: 'overdue' }),
    getTenant: async () => ({ config: { deliveryTimeoutMinutes: 15 } }),
    armDeliveryWatch: async (w: Omit<DeliveryWatch, 'fromPosition' | 'token'>, token: string) => {
      arms.push(w.checkAt);
      watch = { fromPosition: 0, ...w, ...(watch ? { checkAt: watch.checkAt } : {}), token };
      return watch;
    },
  } as unknown as ArmDeliveryWatchDeps['store'];
  return { store, arms, move: (checkAt: string) => watch && Object.assign(watch, { checkAt }) };
};

const sent = (queueId: string, position: number, at: Date): BillingEventInput => ({
  name: 'sent',
  queueId,
  contactPosition: position,
  occurredAt: at.toISOString(),
});

describe('delivery-watch arming', () => {
  it('arms a queue once while its watch is not nearly due, and again once it is', async () => {
    // Prepare: a send every 6 s for 13 minutes, then past the watch's due time minus a minute
    const clock = createTestClock(T0);
    const f = fakeStore();
    const inner: BillingEventInput[] = [];
    const events = armingDeliveryWatch({ emit: async (e) => void inner.push(e) }, { store: f.store, clock });

    // Act
    for (let i = 0; i < 130; i++) {
      await events.emit(sent('q1', i, clock.now()));
      clock.advance(6000);
    }
    const armsBeforeDue = f.arms.length;
    clock.set(new Date(Date.parse(T0) + 14 * MINUTE + 1000));
    await events.emit(sent('q1', 200, clock.now()));
    f.move(new Date(Date.parse(T0) + 29 * MINUTE).toISOString());
    await events.emit(sent('q1', 201, clock.now()));
    await events.emit(sent('q1', 202, clock.now()));
    await events.emit({ name: 'delivered', queueId: 'q1', contactPosition: 0, occurredAt: T0 });

    // Assess
    expect(armsBeforeDue).toBe(1);
    expect(f.arms[0]).toBe(new Date(Date.parse(T0) + 15 * MINUTE).toISOString());
    // Near the due time every send arms (cheap, bounded by the sweeper's minute), until it moved.
    expect(f.arms).toHaveLength(3);
    expect(inner).toHaveLength(134);
  });

  it('arms each queue on its own, and on queue.completed (a send whose `sent` a crash lost)', async () => {
    const clock = createTestClock(T0);
    const f = fakeStore();
    const events = armingDeliveryWatch({ emit: async () => undefined }, { store: f.store, clock });
    await events.emit(sent('q1', 0, clock.now()));
    await events.emit(sent('q2', 0, clock.now()));
    await events.emit(sent('q1', 1, clock.now()));
    await events.emit({ name: 'queue.completed', queueId: 'q3', contactPosition: null, occurredAt: T0 });
    expect(f.arms).toHaveLength(3);
  });
});
