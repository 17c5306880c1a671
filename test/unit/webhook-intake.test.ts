import { describe, expect, it } from 'vitest';
import { applyGatewayEvents } from '../../lib/app/apply-gateway-events.ts';
import { runQueue } from '../../lib/app/run-queue.ts';
import type { GatewayEvent } from '../../lib/ports/gateway-events.ts';
import { instance } from '../integration/store-contract/tenant-store-contract.ts';
import { OPTIONS, pumpWorld } from '../support/pump-world.ts';

/** A queue of five sent by the pump on the in-memory store, ready for the gateway's webhooks. */
const sentWorld = async () => {
  const w = await pumpWorld();
  await runQueue(w.deps, w.item, OPTIONS);
  const apply = (...events: [GatewayEvent, ...GatewayEvent[]]) =>
    applyGatewayEvents({ ...w.deps, store: w.base.store }, instance(), {
      events,
      label: { event: 'messages.update', instance: 'acme-principal' },
    });
  const receipt = (messageId: string, status: 'delivered' | 'read'): GatewayEvent => ({
    kind: 'receipt',
    messageId,
    status,
    at: w.base.clock.now(),
    error: undefined,
  });
  return { ...w, apply, receipt };
};

describe('webhook intake on the in-memory store', () => {
  it('moves a sent contact forward once, counting each receipt once however often it comes', async () => {
    // Prepare
    const w = await sentWorld();

    // Act
    const first = await w.apply(w.receipt('3EB01', 'delivered'));
    const duplicate = await w.apply(w.receipt('3EB01', 'delivered'));
    const read = await w.apply(w.receipt('3EB01', 'read'));
    const lateDelivery = await w.apply(w.receipt('3EB01', 'delivered'));

    // Assess
    expect([first.result, duplicate.result, read.result, lateDelivery.result]).toEqual([
      'applied',
      'ignored',
      'applied',
      'ignored',
    ]);
    const [contact] = (await w.base.store.listContacts(w.queueId, { limit: 1 })).items;
    expect(contact?.status).toBe('read');
    expect(await w.base.store.getQueue(w.queueId)).toMatchObject({ contactsDelivered: 1, contactsRead: 1 });
    const positions = w.events
      .filter((e) => e.name === 'delivered' || e.name === 'read')
      .map((e) => e.contactPosition);
    expect(new Set(positions)).toEqual(new Set([0]));
  });

  it('asks the gateway to retry a receipt for a message it does not know yet, changing nothing', async () => {
    // Prepare
    const w = await sentWorld();

    // Act
    const outcome = await w.apply(w.receipt('3EB0-NOT-OURS', 'delivered'));

    // Assess
    // The send may not be recorded yet: Evolution retries, and after two minutes it is ignored.
    expect(outcome.result).toBe('retry_later');
    expect((await w.base.store.getQueue(w.queueId))?.contactsDelivered).toBe(0);
  });
});
