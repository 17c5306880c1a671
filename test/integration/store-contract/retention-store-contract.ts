import { describe, expect, it } from 'vitest';
import { keys, TTL_ATTRIBUTE, ttlSeconds } from '../../../lib/adapters/store/table-schema.ts';
import type { Store } from '../../../lib/ports/store.ts';
import { campaign, pendingEvent } from './callback-store-contract.ts';
import { optOut } from './feedback-store-contract.ts';
import type { MakeStore, StoreUnderTest } from './make-store.ts';
import { contact, message, queue, T0 } from './sending-store-contract.ts';
import { manualClock, tenant } from './tenant-store-contract.ts';

/** When the items of the test's finished queue expire (its retention ended). */
const EXPIRES = '2025-04-10T12:00:00.000Z';
const JUST_BEFORE = '2025-04-10T11:59:59.000Z';
const LATER = '2025-06-01T00:00:00.000Z';
const SENT = { status: 'sent', providerMessageId: '3EB0SENT', remoteJid: 'j', at: T0 } as const;
/** The campaign of the contract's queue-1 (the sending contract's queue). */
const queueCampaign = () => campaign({ queueId: 'queue-1', externalId: 'fatura-67890' });

/** Every page of the sweep at `now`, as the local worker would run them tick after tick. */
const sweepAll = async (store: Store, now: string, limit = 100): Promise<number[]> => {
  const deletedPerPage: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.deleteExpired(now, { limit, cursor });
    deletedPerPage.push(page.deleted);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return deletedPerPage;
};

/**
 * A finished queue as the use cases leave it: contact 0 sent (with its message), 1 failed, 2
 * waiting in retry (no expiry: it still has work), 3 skipped for an opt-out, 4 cancelled; the
 * queue completed, its campaign expired with it, a reply and a callback event recorded; the
 * tenant and an opt-out, which never expire. Everything that settles expires at EXPIRES.
 */
const finishedQueue = async (under: StoreUnderTest): Promise<void> => {
  const { store } = under;
  await store.createTenant(tenant('acme'));
  await store.putOptOut(optOut('+5511999990000', T0));
  await store.createCampaign(queueCampaign());
  await store.createQueue(queue({ status: 'running' }));
  await store.putContacts([0, 1, 2, 3, 4].map((p) => contact(p)));
  const claimed = await store.claimContact('queue-1', 0, T0);
  if (!claimed) throw new Error('contact 0 not claimed');
  await store.claimContact('queue-1', 1, T0);
  await store.claimContact('queue-1', 2, T0);
  await store.skipOptedOutContact('queue-1', 3, T0, EXPIRES);
  // Only contact 4 is still pending: 0, 1 and 2 are claimed (in `sending`).
  await store.cancelUnsentContacts('queue-1', T0, EXPIRES);
  await store.recordSent(claimed, SENT, message('3EB0SENT'), EXPIRES);
  await store.finishContact(
    'queue-1',
    1,
    { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: T0 },
    EXPIRES,
  );
  const retry = { status: 'retry', error: 'timeout', at: T0, retryAt: LATER } as const;
  await store.finishContact('queue-1', 2, retry, null);
  await store.transitionQueue('queue-1', ['running'], 'completed', { completedAt: T0 }, EXPIRES);
  await store.expireCampaign('acme', 'fatura-67890', 'queue-1', EXPIRES);
  await store.recordMessage(message('3A0REPLY', { direction: 'inbound', at: T0 }), EXPIRES);
  // Announced on the callbacks queue, as emit stores it: one item until its first attempt.
  const event = pendingEvent('queue-1:0:sent');
  await store.putCallbackEvent(
    { ...event, queueId: 'queue-1', delivery: { ...event.delivery, nextAttemptAt: null } },
    EXPIRES,
  );
};

/** The RetentionStore behaviour, and the expiry the other roles' writes give (dynalite and the in-memory store). */
export function describeRetentionStoreContract(makeStore: MakeStore): void {
  describe('RetentionStore contract', () => {
    it('writes the expiry into the writes that settle items, and never onto unsent work or opt-outs', async () => {
      // Prepare
      const clock = manualClock(T0);
      const under = await makeStore({ clock });
      const { tableItem } = under;
      if (!tableItem) return; // only a table shows its TTL attribute; the sweep tests below cover both stores

      // Act
      await finishedQueue(under);

      // Assess
      const ttlOf = async (key: Record<string, unknown>) => (await tableItem(key))?.[TTL_ATTRIBUTE];
      const expected = ttlSeconds(EXPIRES);
      expect(await ttlOf(keys.queue('queue-1'))).toBe(expected);
      expect(await ttlOf(keys.campaign('acme', 'fatura-67890'))).toBe(expected);
      for (const position of [0, 1, 3, 4])
        expect(await ttlOf(keys.contact('queue-1', position))).toBe(expected);
      expect(await ttlOf(keys.contact('queue-1', 2))).toBeUndefined();
      expect(await ttlOf(keys.message('acme', 'inst-1', '3EB0SENT'))).toBe(expected);
      expect(await ttlOf(keys.message('acme', 'inst-1', '3A0REPLY'))).toBe(expected);
      expect(await ttlOf(keys.callback('queue-1', 'queue-1:0:sent'))).toBe(expected);
      expect(await ttlOf(keys.optOut('acme', '+5511999990000'))).toBeUndefined();
      expect(await ttlOf(keys.tenant('acme'))).toBeUndefined();
    });

    it('deletes nothing before the expiry, then every expired item and nothing else', async () => {
      // Prepare
      const clock = manualClock(T0);
      const under = await makeStore({ clock });
      const { store } = under;
      await finishedQueue(under);

      // Act
      const early = await sweepAll(store, JUST_BEFORE);
      clock.set(JUST_BEFORE);
      const queueBefore = await store.getQueue('queue-1');
      const contactsBefore = (await store.listContacts('queue-1', { limit: 10 })).items.length;
      const swept = await sweepAll(store, EXPIRES);
      clock.set(EXPIRES);

      // Assess: before the expiry, on a table, only the queue's new-queue marker (kept a day, for
      // the payments and erasures that look back past the index's lag) has gone.
      const markers = under.tableItem ? 1 : 0;
      expect(early.reduce((a, b) => a + b, 0)).toBe(markers);
      expect(queueBefore?.status).toBe('completed');
      expect(contactsBefore).toBe(5);
      // queue, campaign, four settled contacts, two messages, one event; on a table the queue's
      // counters item too (docs/data-model.md, Queue counters), which expired with its queue.
      const queueItems = under.tableItem ? 2 : 1;
      expect(swept.reduce((a, b) => a + b, 0)).toBe(8 + queueItems);
      if (under.tableItem) expect(await under.tableItem(keys.queueCounters('queue-1'))).toBeUndefined();
      expect(await store.getQueue('queue-1')).toBeUndefined();
      expect(await store.getCampaign('acme', 'fatura-67890')).toBeUndefined();
      expect((await store.listContacts('queue-1', { limit: 10 })).items.map((c) => c.position)).toEqual([2]);
      expect(await store.getContact('queue-1', 0)).toBeUndefined();
      expect(await store.getMessage('acme', 'inst-1', '3EB0SENT')).toBeUndefined();
      expect(await store.getMessage('acme', 'inst-1', '3A0REPLY')).toBeUndefined();
      expect(await store.getCallbackEvent('queue-1', 'queue-1:0:sent')).toBeUndefined();
      expect(await store.getOptOut('acme', '+5511999990000')).toBeDefined();
      expect(await store.getTenant('acme')).toBeDefined();
    });

    it('goes through the table a bounded page at a time, resuming from its cursor', async () => {
      // Prepare: 40 cancelled contacts (expiring) and 10 pending ones (never)
      const clock = manualClock(T0);
      const { store, tableItem } = await makeStore({ clock });
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts(Array.from({ length: 40 }, (_, p) => contact(p)));
      await store.cancelUnsentContacts('queue-1', T0, EXPIRES);
      await store.putContacts(Array.from({ length: 10 }, (_, p) => contact(40 + p)));

      // Act
      const pages = await sweepAll(store, EXPIRES, 7);

      // Assess
      expect(pages.length).toBeGreaterThan(1);
      expect(Math.max(...pages)).toBeLessThanOrEqual(7);
      // On a table, the queue's new-queue marker too (kept a day).
      expect(pages.reduce((a, b) => a + b, 0)).toBe(tableItem ? 41 : 40);
      const left = (await store.listContacts('queue-1', { limit: 100 })).items;
      expect(left.map((c) => c.position)).toEqual(Array.from({ length: 10 }, (_, p) => 40 + p));
    });

    it('leaves expired queues, campaigns, messages and events out of reads before any sweep', async () => {
      // Prepare
      const clock = manualClock(T0);
      const under = await makeStore({ clock });
      const { store } = under;
      await finishedQueue(under);
      const phone = message('x').phone;
      const visible = async () => ({
        queue: (await store.getQueue('queue-1'))?.id,
        listed: (await store.listQueues('acme', { limit: 10 })).items.map((q) => q.id),
        campaign: (await store.getCampaign('acme', 'fatura-67890'))?.queueId,
        message: (await store.getMessage('acme', 'inst-1', '3EB0SENT'))?.id,
        history: (await store.listMessages('acme', phone, 10)).map((m) => m.id).sort(),
        events: (await store.listCallbackEvents('acme', { limit: 10 })).items.map((e) => e.eventId),
      });

      // Act
      clock.set(JUST_BEFORE);
      const before = await visible();
      clock.set(EXPIRES);
      const after = await visible();

      // Assess
      expect(before).toEqual({
        queue: 'queue-1',
        listed: ['queue-1'],
        campaign: 'queue-1',
        message: '3EB0SENT',
        history: ['3A0REPLY', '3EB0SENT'],
        events: ['queue-1:0:sent'],
      });
      expect(after).toEqual({
        queue: undefined,
        listed: [],
        campaign: undefined,
        message: undefined,
        history: [],
        events: [],
      });
    });

    it("frees an expired campaign's external id, and expires only the campaign of the queue named", async () => {
      // Prepare
      const clock = manualClock(T0);
      const { store } = await makeStore({ clock });
      await store.createCampaign(queueCampaign());
      await store.expireCampaign('acme', 'fatura-67890', 'another-queue', EXPIRES);
      clock.set(LATER);
      const kept = await store.getCampaign('acme', 'fatura-67890');
      const stillTaken = await store.createCampaign({ ...queueCampaign(), queueId: 'queue-2' });
      await store.expireCampaign('acme', 'fatura-67890', 'queue-1', EXPIRES);

      // Act: the same external id, past the first campaign's retention (not swept yet)
      const reused = await store.createCampaign({
        ...queueCampaign(),
        queueId: 'queue-2',
        owner: 'request-2',
      });
      const again = await store.createCampaign({
        ...queueCampaign(),
        queueId: 'queue-3',
        owner: 'request-3',
      });

      // Assess
      expect(kept?.queueId).toBe('queue-1');
      expect(stillTaken).toBe('exists');
      expect(reused).toBe('created');
      expect(again).toBe('exists');
      expect(await store.getCampaign('acme', 'fatura-67890')).toMatchObject({
        queueId: 'queue-2',
        owner: 'request-2',
      });
    });
  });
}
