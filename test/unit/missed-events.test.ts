import { describe, expect, it } from 'vitest';
import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { eraseDebtor } from '../../lib/app/erase-debtor.ts';
import { runQueue } from '../../lib/app/run-queue.ts';
import { ERASED_MARKER } from '../../lib/domain/debtor-erasure.ts';
import type { BillingEventInput } from '../../lib/ports/billing-events.ts';
import type { SendOutcome } from '../../lib/ports/whatsapp-gateway.ts';
import { OPTIONS, pumpWorld } from '../support/pump-world.ts';

/**
 * A pump process that dies between a write the store kept and the event that write stands for
 * (the emit throws, as a process killed there would never run it): the next run of the same work
 * item emits what was lost, once. Events go through the real BillingEvents over the in-memory store.
 */
const worldWithCallbacks = async (config = {}, script: SendOutcome['kind'][] = []) => {
  const w = await pumpWorld(script, config, {
    callbackUrl: 'https://erp.example.com/billing',
    callbackEvents: ['sent', 'failed', 'unknown', 'cancelled', 'queue.completed'],
  });
  const real = createBillingEvents({ store: w.base.store, clock: w.base.clock });
  const emitted: BillingEventInput[] = [];
  let dieAt: ((event: BillingEventInput) => boolean) | undefined;
  w.deps.events = {
    emit: async (event) => {
      if (dieAt?.(event)) {
        dieAt = undefined;
        throw new Error('the process died before emitting');
      }
      emitted.push(event);
      await real.emit(event);
    },
  };
  const storedEvent = (name: string, position: number | null) =>
    w.base.store.getCallbackEvent(
      w.queueId,
      position === null ? `${w.queueId}:${name}` : `${w.queueId}:${position}:${name}`,
    );
  return { ...w, emitted, storedEvent, dieOnce: (at: (event: BillingEventInput) => boolean) => (dieAt = at) };
};

describe('events a crash lost', () => {
  it('emits the sent event of a send recorded just before the process died, when the queue completes', async () => {
    // Prepare
    const w = await worldWithCallbacks();
    w.dieOnce((event) => event.name === 'sent' && event.contactPosition === 1);
    await expect(runQueue(w.deps, w.item, OPTIONS)).rejects.toThrow('died before emitting');
    const recorded = await w.base.store.getContact(w.queueId, 1);
    expect(recorded?.status).toBe('sent');
    expect(await w.storedEvent('sent', 1)).toBeUndefined();

    // Act: the work item comes back.
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(w.sends).toHaveLength(5);
    const lost = await w.storedEvent('sent', 1);
    expect(lost?.payload).toMatchObject({
      event: 'sent',
      occurred_at: recorded?.sentAt,
      message_id: recorded?.providerMessageId,
      contact: { telefone: recorded?.phone, nome_cliente: 'Cliente 1' },
    });
    for (const position of [0, 2, 3, 4]) expect(await w.storedEvent('sent', position)).toBeDefined();
    // Only the lost one was emitted again: the others were looked up, not re-announced.
    expect(w.emitted.filter((e) => e.name === 'sent').map((e) => e.contactPosition)).toEqual([0, 2, 3, 4, 1]);
  });

  it('emits the failed event of a failure recorded just before the process died, when the queue completes', async () => {
    // Prepare: the gateway refuses contact 0 for good; the process dies before its event.
    const w = await worldWithCallbacks({}, ['permanent']);
    w.dieOnce((event) => event.name === 'failed');
    await expect(runQueue(w.deps, w.item, OPTIONS)).rejects.toThrow('died before emitting');
    expect((await w.base.store.getContact(w.queueId, 0))?.status).toBe('failed');
    expect(await w.storedEvent('failed', 0)).toBeUndefined();

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    const failed = await w.storedEvent('failed', 0);
    expect(failed?.payload.error).toEqual({ code: 'NOT_ON_WHATSAPP', message: 'not on WhatsApp' });
    expect(failed?.occurredAt).toBe((await w.base.store.getContact(w.queueId, 0))?.lastErrorAt);
  });

  it('emits the unknown event of a send whose outcome is unknown, also when the process died before it', async () => {
    // Prepare: contacts 0 and 1 time out at the gateway; the process dies before the event of 1.
    const w = await worldWithCallbacks({}, ['unknown', 'unknown']);
    w.dieOnce((event) => event.name === 'unknown' && event.contactPosition === 1);
    await expect(runQueue(w.deps, w.item, OPTIONS)).rejects.toThrow('died before emitting');
    // The pump emitted the first as it recorded it and died at the second's, which waits for the
    // completion.
    expect(w.sends).toHaveLength(2);
    expect(await w.storedEvent('unknown', 0)).toBeDefined();
    expect(await w.storedEvent('unknown', 1)).toBeUndefined();

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    for (const position of [0, 1]) {
      const contact = await w.base.store.getContact(w.queueId, position);
      const event = await w.storedEvent('unknown', position);
      expect(contact?.status).toBe('unknown');
      expect(event?.occurredAt).toBe(contact?.lastErrorAt);
      expect(event?.payload).toMatchObject({
        event: 'unknown',
        message_id: null,
        error: { code: 'UNKNOWN_OUTCOME', message: 'timeout' },
      });
    }
    expect(w.sends).toHaveLength(5);
  });

  it('does not publish again at completion the events its own run emitted, whatever a lagging listing shows', async () => {
    // Prepare: the store's listing of event ids lags (as the port allows: an event stored a moment
    // ago may be missing); nothing dies.
    const w = await worldWithCallbacks();
    w.deps.store.listCallbackEventIds = async () => [];

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: each sent event emitted once, by the send; the completion looked for none of them.
    expect(result).toBe('completed');
    expect(w.emitted.filter((e) => e.name === 'sent').map((e) => e.contactPosition)).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not post anew an event of before the retention: its absence says nothing', async () => {
    // Prepare: the tenant keeps data a day; the process dies before the sent event of contact 1,
    // and the queue only completes two days later (stored events of then would have expired).
    const w = await worldWithCallbacks({ retentionDays: 1 });
    w.dieOnce((event) => event.name === 'sent' && event.contactPosition === 1);
    await expect(runQueue(w.deps, w.item, OPTIONS)).rejects.toThrow('died before emitting');
    w.base.clock.set(new Date(w.base.clock.now().getTime() + 2 * 86_400_000).toISOString());

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: the later sends' events go out; the old one is not emitted again.
    expect(result).toBe('completed');
    expect(await w.storedEvent('sent', 1)).toBeUndefined();
    expect(w.emitted.filter((e) => e.name === 'sent').map((e) => e.contactPosition)).toEqual([0, 2, 3, 4]);
  });

  it('emits queue.completed when the process died right after completing the queue', async () => {
    // Prepare
    const w = await worldWithCallbacks();
    w.dieOnce((event) => event.name === 'queue.completed');
    await expect(runQueue(w.deps, w.item, OPTIONS)).rejects.toThrow('died before emitting');
    const queue = await w.base.store.getQueue(w.queueId);
    expect(queue?.status).toBe('completed');
    expect(await w.storedEvent('queue.completed', null)).toBeUndefined();

    // Act
    const again = await runQueue(w.deps, w.item, OPTIONS);
    const thrice = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect([again, thrice]).toEqual(['skipped', 'skipped']);
    expect((await w.storedEvent('queue.completed', null))?.occurredAt).toBe(queue?.completedAt);
    expect(w.emitted.filter((e) => e.name === 'queue.completed')).toHaveLength(1);
    expect(w.sends).toHaveLength(5);
  });

  it.each([
    ['unknown', 'mark_unknown (the default)', {}],
    ['failed', 'retry, its tries used up', { ambiguousSendPolicy: 'retry', maxRetries: 0 }],
  ] as const)(
    'tells the ERP a claim a dead pump left is %s when settling it (%s)',
    async (status, _, config) => {
      // Prepare: contact 0 claimed by a pump that died a minute ago.
      const w = await worldWithCallbacks(config);
      const claimedAt = w.base.clock.now().toISOString();
      await w.base.store.claimContact(w.queueId, 0, claimedAt);
      w.base.clock.set(new Date(Date.parse(claimedAt) + 60_000).toISOString());

      // Act
      const result = await runQueue(w.deps, w.item, OPTIONS);

      // Assess
      expect(result).toBe('completed');
      expect((await w.base.store.getContact(w.queueId, 0))?.status).toBe(status);
      expect((await w.storedEvent(status, 0))?.payload.error).toMatchObject({ code: 'UNKNOWN_OUTCOME' });
      // Emitted as it was settled, before any send of the run (not left to the completion).
      expect(w.emitted[0]).toMatchObject({ name: status, contactPosition: 0 });
      expect(w.sends).toHaveLength(4);
    },
  );

  it('emits, when the queue completes, the cancelled event of an erasure that died after its writes', async () => {
    // Prepare: the debtor of contact 2 is erased; the request dies before its cancelled event, and
    // erasing again would not find the contact (its phone is the marker now).
    const w = await worldWithCallbacks();
    const tenant = await w.base.store.getTenant('acme');
    const debtor = await w.base.store.getContact(w.queueId, 2);
    if (!tenant || !debtor) throw new Error('the world has tenant acme and contact 2');
    w.dieOnce((event) => event.name === 'cancelled');
    await expect(
      eraseDebtor({ ...w.deps, store: w.base.store }, tenant, debtor.phone, 'cli'),
    ).rejects.toThrow('died before emitting');
    const erased = await w.base.store.getContact(w.queueId, 2);
    expect(erased).toMatchObject({ status: 'cancelled', cancelReason: 'erased', phone: ERASED_MARKER });
    expect(await w.storedEvent('cancelled', 2)).toBeUndefined();

    // Act: the pump sends the rest and completes the queue.
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess
    expect(result).toBe('completed');
    expect(w.sends).toHaveLength(4);
    const lost = await w.storedEvent('cancelled', 2);
    expect(lost?.occurredAt).toBe(erased?.updatedAt);
    expect(lost?.payload).toMatchObject({
      event: 'cancelled',
      cancel_reason: 'erased',
      contact: { telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER },
    });
    expect(w.emitted.filter((e) => e.name === 'cancelled').map((e) => e.contactPosition)).toEqual([2]);
  });
});
