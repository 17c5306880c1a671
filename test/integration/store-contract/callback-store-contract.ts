import { describe, expect, it } from 'vitest';
import { newBillingContact, newBillingQueue } from '../../../lib/domain/billing-queue.ts';
import type { BillingContact, BillingQueue, Campaign } from '../../../lib/domain/types.ts';
import type { Clock } from '../../../lib/ports/clock.ts';
import type { Store, StoredCallbackEvent } from '../../../lib/ports/store.ts';
import { KEPT_UNTIL } from '../../support/acme-queue.ts';
import type { MakeStore } from './make-store.ts';

export const NOW = '2025-01-10T13:00:00.000Z';

export const clock: Clock = { now: () => new Date(NOW) };

export const QUEUE_ID = '11111111-1111-4111-8111-111111111111';

export const campaign = (overrides: Partial<Campaign> = {}): Campaign => ({
  id: '22222222-2222-4222-8222-222222222222',
  tenantId: 'acme',
  externalId: 'fatura-1',
  templateType: 'notification',
  queueId: QUEUE_ID,
  requestHash: 'h',
  apiKeyId: 'key-1',
  callbackUrl: 'https://erp.example.com/hook',
  callbackEvents: ['sent', 'queue.completed'],
  metadata: {},
  state: 'created',
  leaseUntil: NOW,
  owner: 'request-1',
  plan: { seed: 1, uses: {} },
  quotaReserved: true,
  accepted: 1,
  rejected: [],
  estimatedDurationMinutes: 1,
  scheduledStart: null,
  createdAt: NOW,
  ...overrides,
});

export const queue = (): BillingQueue =>
  newBillingQueue({
    id: QUEUE_ID,
    tenantId: 'acme',
    campaignId: '22222222-2222-4222-8222-222222222222',
    externalId: 'fatura-1',
    templateType: 'notification',
    instanceId: 'inst-1',
    status: 'running',
    totalContacts: 1,
    createdAt: NOW,
    startedAt: NOW,
  });

export const contact = (position: number): BillingContact =>
  newBillingContact({
    queueId: QUEUE_ID,
    tenantId: 'acme',
    position,
    phone: '+5511999990000',
    name: 'João Silva',
    invoiceNumber: '2025-1',
    variables: {},
    variationId: 'v1',
    renderedMessage: 'Olá',
    status: 'sent',
    attempts: 1,
    providerMessageId: '3EB0ABC',
    sentAt: NOW,
    createdAt: NOW,
  });

export const pendingEvent = (eventId: string, nextAttemptAt = NOW): StoredCallbackEvent => ({
  eventId,
  tenantId: 'acme',
  queueId: QUEUE_ID,
  event: 'sent',
  occurredAt: NOW,
  callbackUrl: 'https://erp.example.com/hook',
  apiKeyId: 'key-1',
  payload: {
    event_id: eventId,
    event: 'sent',
    occurred_at: NOW,
    external_id: 'fatura-1',
    billing_campaign_id: 'c',
    queue_id: QUEUE_ID,
    contact: null,
    message_id: null,
    error: null,
    reply: null,
  },
  delivery: {
    status: 'pending',
    attempts: 0,
    nextAttemptAt,
    lastAttemptAt: null,
    lastError: null,
    deliveredAt: null,
  },
  createdAt: NOW,
});

/** Stores one campaign, its queue and one contact. */
export async function seedOneContact(store: Store, overrides: Partial<Campaign> = {}): Promise<void> {
  await store.createCampaign(campaign(overrides));
  await store.createQueue(queue());
  await store.putContacts([contact(0)]);
}

/** The CallbackStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeCallbackStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({ clock });

  describe('CallbackStore contract', () => {
    it('lets exactly one of 20 concurrent claims win', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.putCallbackEvent(pendingEvent(`${QUEUE_ID}:0:sent`), KEPT_UNTIL);

      // Act
      const claims = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.claimCallback(QUEUE_ID, `${QUEUE_ID}:0:sent`, NOW, '2025-01-10T13:00:30.000Z'),
        ),
      );

      // Assess
      const won = claims.filter((c) => c !== undefined);
      expect(won).toHaveLength(1);
      expect(won[0]?.delivery).toMatchObject({ attempts: 1, nextAttemptAt: '2025-01-10T13:00:30.000Z' });
    });

    it('lets the first attempt of an event never attempted be claimed at once, once, whatever its due time', async () => {
      // Prepare: due in an hour (a safety net's entry), never attempted
      const { store } = await freshStore();
      await store.putCallbackEvent(
        pendingEvent(`${QUEUE_ID}:0:sent`, '2025-01-10T14:00:00.000Z'),
        KEPT_UNTIL,
      );

      // Act
      const first = await store.claimCallback(
        QUEUE_ID,
        `${QUEUE_ID}:0:sent`,
        NOW,
        '2025-01-10T13:00:30.000Z',
      );
      const second = await store.claimCallback(
        QUEUE_ID,
        `${QUEUE_ID}:0:sent`,
        NOW,
        '2025-01-10T13:00:30.000Z',
      );

      // Assess
      expect(first?.delivery).toMatchObject({ attempts: 1, nextAttemptAt: '2025-01-10T13:00:30.000Z' });
      expect(second).toBeUndefined();
    });

    it('lists only due pending events and drops delivered ones from the due index', async () => {
      // Prepare
      const { store } = await freshStore();
      await store.putCallbackEvent(pendingEvent(`${QUEUE_ID}:0:sent`), KEPT_UNTIL);
      await store.putCallbackEvent(
        pendingEvent(`${QUEUE_ID}:1:sent`, '2025-01-10T14:00:00.000Z'),
        KEPT_UNTIL,
      );
      const claimed = await store.claimCallback(
        QUEUE_ID,
        `${QUEUE_ID}:0:sent`,
        NOW,
        '2025-01-10T13:00:30.000Z',
      );

      // Act
      const recorded = await store.finishCallbackAttempt(QUEUE_ID, `${QUEUE_ID}:0:sent`, 1, {
        status: 'delivered',
        at: NOW,
      });
      const stale = await store.finishCallbackAttempt(QUEUE_ID, `${QUEUE_ID}:0:sent`, 1, {
        status: 'dead',
        at: NOW,
        error: 'late',
      });

      // Assess
      expect(claimed).toBeDefined();
      expect(recorded).toBe(true);
      expect(stale).toBe(false);
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:sent`))?.delivery.status).toBe(
        'delivered',
      );
      const due = await store.listDueCallbacks('2025-01-10T15:00:00.000Z', 10);
      expect(due.map((e) => e.eventId)).toEqual([`${QUEUE_ID}:1:sent`]);
    });

    it('moves a failed attempt to its next time in the due index, then records it dead', async () => {
      // Prepare
      const { store } = await freshStore();
      const id = `${QUEUE_ID}:0:sent`;
      await store.putCallbackEvent(pendingEvent(id), KEPT_UNTIL);
      await store.claimCallback(QUEUE_ID, id, NOW, '2025-01-10T13:00:30.000Z');

      // Act
      const retried = await store.finishCallbackAttempt(QUEUE_ID, id, 1, {
        status: 'pending',
        at: '2025-01-10T13:00:01.000Z',
        error: 'HTTP 500',
        nextAttemptAt: '2025-01-10T13:00:31.000Z',
      });
      const dueBefore = await store.listDueCallbacks('2025-01-10T13:00:30.999Z', 10);
      const dueAt = await store.listDueCallbacks('2025-01-10T13:00:31.000Z', 10);
      await store.claimCallback(QUEUE_ID, id, '2025-01-10T13:00:31.000Z', '2025-01-10T13:01:01.000Z');
      const dead = await store.finishCallbackAttempt(QUEUE_ID, id, 2, {
        status: 'dead',
        at: '2025-01-10T13:00:32.000Z',
        error: 'HTTP 502',
      });

      // Assess
      expect(retried).toBe(true);
      expect(dueBefore).toEqual([]);
      expect(dueAt.map((e) => e.delivery)).toEqual([
        expect.objectContaining({
          attempts: 1,
          lastError: 'HTTP 500',
          lastAttemptAt: '2025-01-10T13:00:01.000Z',
        }),
      ]);
      expect(dead).toBe(true);
      expect((await store.getCallbackEvent(QUEUE_ID, id))?.delivery).toMatchObject({
        status: 'dead',
        attempts: 2,
        lastError: 'HTTP 502',
        nextAttemptAt: null,
      });
      expect(await store.listDueCallbacks('2025-01-11T00:00:00.000Z', 10)).toEqual([]);
    });

    it('keeps an announced event out of the due index, yet claimable at once, until made due', async () => {
      // Prepare: two events announced on the callbacks queue (no next attempt)
      const { store } = await freshStore();
      const announced = (id: string): StoredCallbackEvent => ({
        ...pendingEvent(id),
        delivery: { ...pendingEvent(id).delivery, nextAttemptAt: null },
      });
      await store.putCallbackEvent(announced(`${QUEUE_ID}:0:sent`), KEPT_UNTIL);
      await store.putCallbackEvent(announced(`${QUEUE_ID}:1:sent`), KEPT_UNTIL);

      // Act
      const dueAtFirst = await store.listDueCallbacks('2025-01-11T00:00:00.000Z', 10);
      const claims = await Promise.all(
        [1, 2, 3].map(() =>
          store.claimCallback(QUEUE_ID, `${QUEUE_ID}:0:sent`, NOW, '2025-01-10T13:00:30.000Z'),
        ),
      );
      // The second's announcement failed: it becomes due; the first, being attempted, is not touched.
      await store.makeCallbackDue(QUEUE_ID, `${QUEUE_ID}:1:sent`, NOW, KEPT_UNTIL);
      await store.makeCallbackDue(QUEUE_ID, `${QUEUE_ID}:0:sent`, NOW, KEPT_UNTIL);
      const dueAfter = await store.listDueCallbacks(NOW, 10);

      // Assess
      expect(dueAtFirst).toEqual([]);
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      expect(dueAfter.map((e) => e.eventId)).toEqual([`${QUEUE_ID}:1:sent`]);
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:sent`))?.delivery).toMatchObject({
        attempts: 1,
        nextAttemptAt: '2025-01-10T13:00:30.000Z',
      });
    });

    it('stores a missing event from its announcement before claiming it, and never replaces a stored one', async () => {
      // Prepare: one announced event its emitter never stored, one it did (with another payload)
      const { store } = await freshStore();
      const announced = (id: string, externalId: string): StoredCallbackEvent => ({
        ...pendingEvent(id),
        payload: { ...pendingEvent(id).payload, external_id: externalId },
        delivery: { ...pendingEvent(id).delivery, nextAttemptAt: null },
      });
      const missing = `${QUEUE_ID}:0:sent`;
      const stored = `${QUEUE_ID}:1:sent`;
      await store.putCallbackEvent(announced(stored, 'as-stored'), KEPT_UNTIL);

      // Act
      const withoutEvent = await store.claimCallback(QUEUE_ID, missing, NOW, '2025-01-10T13:00:30.000Z');
      const fromAnnouncement = await store.claimCallback(QUEUE_ID, missing, NOW, '2025-01-10T13:00:30.000Z', {
        event: announced(missing, 'from-announcement'),
        expiresAt: KEPT_UNTIL,
      });
      const overStored = await store.claimCallback(QUEUE_ID, stored, NOW, '2025-01-10T13:00:30.000Z', {
        event: announced(stored, 'from-announcement'),
        expiresAt: KEPT_UNTIL,
      });
      const again = await store.claimCallback(QUEUE_ID, missing, NOW, '2025-01-10T13:01:00.000Z', {
        event: announced(missing, 'from-announcement'),
        expiresAt: KEPT_UNTIL,
      });

      // Assess
      expect(withoutEvent).toBeUndefined();
      expect(fromAnnouncement?.payload.external_id).toBe('from-announcement');
      expect(fromAnnouncement?.delivery).toMatchObject({ status: 'pending', attempts: 1 });
      expect(overStored?.payload.external_id).toBe('as-stored');
      // Stored once: the lease of the first claim still holds, so the announcement's copy changes nothing.
      expect(again).toBeUndefined();
      expect((await store.getCallbackEvent(QUEUE_ID, missing))?.payload.external_id).toBe(
        'from-announcement',
      );
    });

    it('keeps the first attempt of an event stored from its announcement exclusive for its lease, and ignores its result once another took over', async () => {
      // Prepare: the consumer stores the announced event and makes its first attempt (lease to 13:00:30)
      const { store } = await freshStore();
      const id = `${QUEUE_ID}:0:sent`;
      const carried = {
        event: { ...pendingEvent(id), delivery: { ...pendingEvent(id).delivery, nextAttemptAt: null } },
        expiresAt: KEPT_UNTIL,
      };
      const first = await store.claimCallback(QUEUE_ID, id, NOW, '2025-01-10T13:00:30.000Z', carried);

      // Act: a copy of the announcement during the lease, one after it, then both results
      const duringLease = await store.claimCallback(
        QUEUE_ID,
        id,
        '2025-01-10T13:00:10.000Z',
        '2025-01-10T13:00:40.000Z',
        carried,
      );
      const afterLease = await store.claimCallback(
        QUEUE_ID,
        id,
        '2025-01-10T13:00:31.000Z',
        '2025-01-10T13:01:01.000Z',
        carried,
      );
      const lateFirst = await store.finishCallbackAttempt(
        QUEUE_ID,
        id,
        1,
        { status: 'delivered', at: '2025-01-10T13:00:32.000Z' },
        KEPT_UNTIL,
      );
      const takeover = await store.finishCallbackAttempt(
        QUEUE_ID,
        id,
        2,
        {
          status: 'pending',
          at: '2025-01-10T13:00:33.000Z',
          error: 'HTTP 500',
          nextAttemptAt: '2025-01-10T13:01:33.000Z',
        },
        KEPT_UNTIL,
      );

      // Assess
      expect(first?.delivery).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: '2025-01-10T13:00:30.000Z',
      });
      expect(duringLease).toBeUndefined();
      expect(afterLease?.delivery).toMatchObject({ attempts: 2, nextAttemptAt: '2025-01-10T13:01:01.000Z' });
      expect(lateFirst).toBe(false);
      expect(takeover).toBe(true);
      expect((await store.getCallbackEvent(QUEUE_ID, id))?.delivery).toEqual({
        status: 'pending',
        attempts: 2,
        nextAttemptAt: '2025-01-10T13:01:33.000Z',
        lastAttemptAt: '2025-01-10T13:00:33.000Z',
        lastError: 'HTTP 500',
        deliveredAt: null,
      });
      expect((await store.listDueCallbacks('2025-01-10T13:01:33.000Z', 10)).map((e) => e.eventId)).toEqual([
        id,
      ]);
    });

    it("stores a contact event erased when its contact was erased first, whoever stores it, and leaves the others' as they are", async () => {
      // Prepare: contact 0 erased; each event built before that, from the contact as it was.
      const { store } = await freshStore();
      await seedOneContact(store);
      await store.putContacts([contact(1)]);
      await store.eraseContact(QUEUE_ID, 0, NOW, KEPT_UNTIL);
      const built = (eventId: string, position: number | null): StoredCallbackEvent => ({
        ...pendingEvent(eventId),
        payload: {
          ...pendingEvent(eventId).payload,
          contact:
            position === null
              ? null
              : { telefone: '+5511999990000', nome_cliente: 'João Silva', numero_fatura: '2025-1' },
          reply: position === null ? null : { text: 'Sou o João, já paguei', intent: 'paid_claim' },
        },
      });

      // Act
      await store.putCallbackEvent(built(`${QUEUE_ID}:0:replied`, 0), KEPT_UNTIL);
      const fromAnnouncement = await store.claimCallback(
        QUEUE_ID,
        `${QUEUE_ID}:0:sent`,
        NOW,
        '2025-01-10T13:00:30.000Z',
        {
          event: built(`${QUEUE_ID}:0:sent`, 0),
          expiresAt: KEPT_UNTIL,
        },
      );
      await store.putCallbackEvent(built(`${QUEUE_ID}:1:replied`, 1), KEPT_UNTIL);
      await store.putCallbackEvent(built(`${QUEUE_ID}:queue.completed`, null), KEPT_UNTIL);

      // Assess
      const erased = { telefone: '[apagado LGPD]', nome_cliente: '[apagado LGPD]', numero_fatura: '2025-1' };
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:replied`))?.payload).toMatchObject({
        contact: erased,
        reply: { text: '[apagado LGPD]', intent: 'paid_claim' },
      });
      expect(fromAnnouncement?.payload.contact).toEqual(erased);
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:sent`))?.payload.contact).toEqual(erased);
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:1:replied`))?.payload).toEqual(
        built(`${QUEUE_ID}:1:replied`, 1).payload,
      );
      expect((await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:queue.completed`))?.payload).toEqual(
        built(`${QUEUE_ID}:queue.completed`, null).payload,
      );
    });

    it('gives back exactly the event it stored, through every read', async () => {
      // Prepare: a contact event with every optional part, and one whose payload time differs
      const { store } = await freshStore();
      const id = `${QUEUE_ID}:0:cancelled`;
      const full: StoredCallbackEvent = {
        ...pendingEvent(id),
        event: 'cancelled',
        payload: {
          ...pendingEvent(id).payload,
          event: 'cancelled',
          contact: { telefone: '+5511999990000', nome_cliente: 'João Silva', numero_fatura: null },
          message_id: '3EB0ABC',
          error: { code: 'X', message: 'y' },
          reply: { text: 'paguei', intent: 'paid' },
          cancel_reason: 'paid',
        },
      };
      const odd: StoredCallbackEvent = {
        ...pendingEvent(`${QUEUE_ID}:queue.completed`),
        event: 'queue.completed',
        occurredAt: '2025-01-10T13:00:05.000Z',
        callbackUrl: null,
      };

      // Act
      await store.putCallbackEvent(full, KEPT_UNTIL);
      await store.putCallbackEvent(odd, KEPT_UNTIL);

      // Assess
      expect(await store.getCallbackEvent(QUEUE_ID, id)).toEqual(full);
      expect(await store.getCallbackEvent(QUEUE_ID, odd.eventId)).toEqual(odd);
      expect((await store.listCallbackEvents('acme', { limit: 10 })).items).toEqual([full, odd]);
      expect((await store.listDueCallbacks(NOW, 10)).find((e) => e.eventId === id)).toEqual(full);
    });

    it('pages a tenant listing and a queue listing with cursors, from since on', async () => {
      // Prepare
      const { store } = await freshStore();
      for (let i = 0; i < 5; i++) {
        const event = pendingEvent(`${QUEUE_ID}:${i}:sent`);
        await store.putCallbackEvent({ ...event, occurredAt: `2025-01-10T13:00:0${i}.000Z` }, KEPT_UNTIL);
      }

      // Act
      const first = await store.listCallbackEvents('acme', { limit: 2, since: '2025-01-10T13:00:01.000Z' });
      const second = await store.listCallbackEvents('acme', {
        limit: 2,
        cursor: first.nextCursor ?? undefined,
      });
      const byQueue = await store.listCallbackEvents('acme', { queueId: QUEUE_ID, limit: 3 });
      const byQueueNext = await store.listCallbackEvents('acme', {
        queueId: QUEUE_ID,
        limit: 3,
        cursor: byQueue.nextCursor ?? undefined,
      });
      const otherTenant = await store.listCallbackEvents('other', { queueId: QUEUE_ID, limit: 10 });

      // Assess
      expect(first.items.map((e) => e.eventId)).toEqual([`${QUEUE_ID}:1:sent`, `${QUEUE_ID}:2:sent`]);
      expect(second.items.map((e) => e.eventId)).toEqual([`${QUEUE_ID}:3:sent`, `${QUEUE_ID}:4:sent`]);
      expect(second.nextCursor).toBeNull();
      expect([...byQueue.items, ...byQueueNext.items].map((e) => e.eventId).sort()).toEqual(
        [0, 1, 2, 3, 4].map((i) => `${QUEUE_ID}:${i}:sent`),
      );
      expect(byQueueNext.nextCursor).toBeNull();
      expect(otherTenant.items).toEqual([]);
      await expect(
        store.listCallbackEvents('acme', { limit: 2, cursor: 'bm90LWpzb24' }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });

    it("gives the ids of one queue's events, claimed or not, and no delivery item's", async () => {
      // Prepare: three events of the queue (one claimed: it has a delivery item), one of another queue.
      const { store } = await freshStore();
      for (const id of [`${QUEUE_ID}:1:sent`, `${QUEUE_ID}:0:sent`, `${QUEUE_ID}:queue.completed`])
        await store.putCallbackEvent(pendingEvent(id), KEPT_UNTIL);
      await store.claimCallback(QUEUE_ID, `${QUEUE_ID}:0:sent`, NOW, '2025-01-10T13:00:30.000Z');
      const otherQueue = '33333333-3333-4333-8333-333333333333';
      await store.putCallbackEvent(
        { ...pendingEvent(`${otherQueue}:0:sent`), queueId: otherQueue },
        KEPT_UNTIL,
      );

      // Act
      const ids = await store.listCallbackEventIds(QUEUE_ID);

      // Assess
      expect(ids).toEqual([`${QUEUE_ID}:0:sent`, `${QUEUE_ID}:1:sent`, `${QUEUE_ID}:queue.completed`]);
    });
  });
}
