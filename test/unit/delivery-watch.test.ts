import { describe, expect, it } from 'vitest';
import { type ArmDeliveryWatchDeps, createDeliveryWatchArmer } from '../../lib/app/delivery-watch.ts';
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

describe('delivery-watch arming', () => {
  it('arms a queue once while its watch is not nearly due, and again once it is', async () => {
    // Prepare: a send every 6 s for 13 minutes, then past the watch's due time minus a minute
    const clock = createTestClock(T0);
    const f = fakeStore();
    const armer = createDeliveryWatchArmer({ store: f.store, clock });

    // Act
    for (let i = 0; i < 130; i++) {
      await armer.arm('q1', clock.now().toISOString());
      clock.advance(6000);
    }
    const armsBeforeDue = f.arms.length;
    clock.set(new Date(Date.parse(T0) + 14 * MINUTE + 1000));
    await armer.arm('q1', clock.now().toISOString());
    f.move(new Date(Date.parse(T0) + 29 * MINUTE).toISOString());
    await armer.arm('q1', clock.now().toISOString());
    await armer.arm('q1', clock.now().toISOString());

    // Assess
    expect(armsBeforeDue).toBe(1);
    expect(f.arms[0]).toBe(new Date(Date.parse(T0) + 15 * MINUTE).toISOString());
    // Near the due time every send arms (cheap, bounded by the sweeper's minute), until it moved.
    expect(f.arms).toHaveLength(3);
  });

  it('arms each queue on its own', async () => {
    // Prepare
    const clock = createTestClock(T0);
    const f = fakeStore();
    const armer = createDeliveryWatchArmer({ store: f.store, clock });

    // Act
    await armer.arm('q1', T0);
    await armer.arm('q2', T0);
    await armer.arm('q1', T0);
    await armer.arm('q3', T0);

    // Assess
    expect(f.arms).toHaveLength(3);
  });
});
