import { describe, expect, it } from 'vitest';
import { keys, TTL_ATTRIBUTE } from '../../../lib/adapters/store/table-schema.ts';
import { ERASED_MARKER } from '../../../lib/domain/debtor-erasure.ts';
import { DomainError } from '../../../lib/domain/errors.ts';
import type { BillingContact, Campaign, ConversationMessage } from '../../../lib/domain/types.ts';
import type { Clock } from '../../../lib/ports/clock.ts';
import type { DebtorErasureRecord, ErasureProgress, StoredCallbackEvent } from '../../../lib/ports/store.ts';
import { acmeContact, acmeQueue } from '../../support/acme-queue.ts';
import { expectContactItem, type MakeStore } from './make-store.ts';
import { tenant } from './tenant-store-contract.ts';

const T0 = '2025-01-10T12:00:00.000Z';
const AT = '2025-01-10T13:00:00.000Z';
/** When what the tests settle expires: far enough that nothing here expires. */
const EXPIRES = '2025-04-10T13:00:00.000Z';
const clock: Clock = { now: () => new Date(AT) };

const contact = (position: number, overrides: Partial<BillingContact> = {}): BillingContact =>
  acmeContact(position, {
    invoiceNumber: `NF-${position}`,
    variables: { nome_cliente: `Cliente ${position}`, valor: 'R$ 10,00' },
    renderedMessage: `Olá Cliente ${position}, sua fatura NF-${position} venceu`,
    createdAt: T0,
    ...overrides,
  });

const event = (position: number | null, overrides: Partial<StoredCallbackEvent['payload']> = {}) => {
  const eventId = position === null ? 'queue-1:queue.completed' : `queue-1:${position}:sent`;
  const stored: StoredCallbackEvent = {
    eventId,
    tenantId: 'acme',
    queueId: 'queue-1',
    event: position === null ? 'queue.completed' : 'sent',
    occurredAt: T0,
    callbackUrl: 'https://erp.example.com/hook',
    apiKeyId: 'key-1',
    payload: {
      event_id: eventId,
      event: position === null ? 'queue.completed' : 'sent',
      occurred_at: T0,
      external_id: 'fatura-67890',
      billing_campaign_id: 'camp-1',
      queue_id: 'queue-1',
      contact:
        position === null
          ? null
          : {
              telefone: `+55119${String(position).padStart(8, '0')}`,
              nome_cliente: 'Ana',
              numero_fatura: 'NF-1',
            },
      message_id: null,
      error: null,
      reply: null,
      ...overrides,
    },
    delivery: {
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: T0,
      lastError: null,
      deliveredAt: T0,
    },
    createdAt: T0,
  };
  return stored;
};

const message = (
  id: string,
  phone: string,
  overrides: Partial<ConversationMessage> = {},
): ConversationMessage => ({
  id,
  tenantId: 'acme',
  phone,
  instanceId: 'inst-1',
  direction: 'outbound',
  text: 'Olá Ana',
  at: T0,
  queueId: 'queue-1',
  contactPosition: 0,
  campaignId: 'camp-1',
  externalId: 'fatura-67890',
  templateType: 'overdue',
  ...overrides,
});

const campaign = (rejected: Campaign['rejected']): Campaign => ({
  id: 'camp-1',
  tenantId: 'acme',
  externalId: 'fatura-67890',
  templateType: 'overdue',
  queueId: 'queue-1',
  requestHash: 'h',
  apiKeyId: 'key-1',
  callbackUrl: null,
  callbackEvents: [],
  metadata: {},
  state: 'created',
  leaseUntil: T0,
  owner: 'request-1',
  plan: { seed: 1, uses: {} },
  quotaReserved: true,
  accepted: 1,
  rejected,
  estimatedDurationMinutes: 1,
  scheduledStart: null,
  createdAt: T0,
});

const erasure = (id: string, at: string, tenantId = 'acme'): DebtorErasureRecord => ({
  id,
  tenantId,
  at,
  requestedBy: 'cli',
  phoneDigest: `lgpd:${id}`,
  counts: {
    contacts: 1,
    contactsCancelled: 0,
    messages: 2,
    callbackEvents: 0,
    optOuts: 0,
    campaignRejections: 0,
  },
  inFlight: 0,
  complete: true,
});

/** The DebtorStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeDebtorStoreContract(makeStore: MakeStore): void {
  const seeded = async (contacts: BillingContact[]) => {
    const fresh = await makeStore({ clock });
    await fresh.store.createQueue(acmeQueue({ totalContacts: contacts.length, createdAt: T0 }));
    await fresh.store.putContacts(contacts);
    return fresh;
  };

  describe('DebtorStore contract', () => {
    describe('listContactIdentities', () => {
      it("lists every contact's position, status, phone, invoice, cancel reason and gateway id in batch order, and nothing else of the queue", async () => {
        // Prepare
        const { store } = await seeded([
          contact(1, { status: 'sent', providerMessageId: '3EB0-ONE' }),
          contact(0),
          contact(2, { invoiceNumber: null }),
          contact(3),
        ]);
        await store.cancelUnsentContact('queue-1', 3, AT, EXPIRES, 'paid');
        await store.putCallbackEvent(event(0), EXPIRES);

        // Act
        const identities = (await store.listContactIdentities([{ id: 'queue-1', totalContacts: 4 }])).get(
          'queue-1',
        );

        // Assess
        const unchanged = { updatedAt: T0, cancelReason: null, providerMessageId: null };
        expect(identities).toEqual([
          { position: 0, status: 'pending', phone: '+5511900000000', invoiceNumber: 'NF-0', ...unchanged },
          {
            position: 1,
            status: 'sent',
            phone: '+5511900000001',
            invoiceNumber: 'NF-1',
            ...unchanged,
            providerMessageId: '3EB0-ONE',
          },
          { position: 2, status: 'pending', phone: '+5511900000002', invoiceNumber: null, ...unchanged },
          {
            position: 3,
            status: 'cancelled',
            phone: '+5511900000003',
            invoiceNumber: 'NF-3',
            updatedAt: AT,
            cancelReason: 'paid',
            providerMessageId: null,
          },
        ]);
        expect(await store.listContactIdentities([{ id: 'queue-none', totalContacts: 1 }])).toEqual(
          new Map([['queue-none', []]]),
        );
      });

      it('reads many queues at once, small and large, and those whose contacts are not at the first positions', async () => {
        // Prepare: one-contact queues (the contact at position 0, or at 2 after two refused ones), a
        // queue of 12 contacts, a queue of two around a refused one, and a queue of none
        const { store } = await makeStore({ clock });
        const stored = async (id: string, positions: readonly number[], totalContacts = positions.length) => {
          await store.createQueue(acmeQueue({ id, totalContacts, createdAt: T0 }));
          await store.putContacts(
            positions.map((position) =>
              contact(position, { queueId: id, invoiceNumber: `${id}-${position}` }),
            ),
          );
          return { id, totalContacts };
        };
        const queues = [
          ...(await Promise.all(['one-a', 'one-b', 'one-c'].map((id) => stored(id, [0])))),
          await stored('one-after-refused', [2]),
          await stored(
            'twelve',
            Array.from({ length: 12 }, (_, position) => position),
          ),
          await stored('two-around-refused', [0, 2]),
          { id: 'none', totalContacts: 0 },
        ];

        // Act
        const identities = await store.listContactIdentities(queues);

        // Assess: every queue, each with its own contacts in batch order
        const positions = (id: string) => identities.get(id)?.map((c) => c.position);
        expect([...identities.keys()].sort()).toEqual(queues.map((q) => q.id).sort());
        expect([positions('one-a'), positions('one-b'), positions('one-c')]).toEqual([[0], [0], [0]]);
        expect(positions('one-after-refused')).toEqual([2]);
        expect(positions('twelve')).toEqual(Array.from({ length: 12 }, (_, position) => position));
        expect(positions('two-around-refused')).toEqual([0, 2]);
        expect(positions('none')).toEqual([]);
        expect(identities.get('one-b')?.[0]).toMatchObject({ status: 'pending', invoiceNumber: 'one-b-0' });
        expect(identities.get('two-around-refused')?.map((c) => c.invoiceNumber)).toEqual([
          'two-around-refused-0',
          'two-around-refused-2',
        ]);
      });
    });

    describe('cancelUnsentContact', () => {
      it('cancels a pending, retrying or deferred contact with its reason and says how it waited', async () => {
        // Prepare: contact 2 was held back by the frequency cap.
        const { store, tableItem } = await seeded([
          contact(0),
          contact(1, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z', attempts: 1 }),
          contact(2),
        ]);
        await store.deferContact('queue-1', 2, '2025-01-11T12:00:00.000Z', T0);

        // Act
        const fromPending = await store.cancelUnsentContact('queue-1', 0, AT, EXPIRES, 'paid');
        const fromRetry = await store.cancelUnsentContact('queue-1', 1, AT, EXPIRES, 'paid');
        const fromDeferred = await store.cancelUnsentContact('queue-1', 2, AT, EXPIRES, 'paid');
        const again = await store.cancelUnsentContact('queue-1', 0, AT, EXPIRES, 'paid');

        // Assess
        expect([fromPending, fromRetry, fromDeferred, again]).toEqual([
          'pending',
          'retry',
          'deferred',
          undefined,
        ]);
        const deferred = await store.getContact('queue-1', 2);
        expect(deferred).toMatchObject({ status: 'cancelled', cancelReason: 'paid' });
        expect(deferred?.deferred ?? false).toBe(false);
        const retried = await store.getContact('queue-1', 1);
        expect(retried).toMatchObject({
          status: 'cancelled',
          cancelReason: 'paid',
          updatedAt: AT,
          attempts: 1,
        });
        expect(retried?.retryAt ?? null).toBeNull();
        if (tableItem) {
          const item = await tableItem(keys.contact('queue-1', 1));
          expectContactItem(item, 'cancelled');
          // Settled: it expires with the retention it was given.
          expect(item?.[TTL_ATTRIBUTE]).toBe(Math.ceil(new Date(EXPIRES).getTime() / 1000));
        }
      });

      it('never undoes a claimed or sent contact, nor invents a missing one', async () => {
        // Prepare
        const { store } = await seeded([contact(0, { status: 'sending' }), contact(1, { status: 'sent' })]);

        // Act
        const results = await Promise.all([
          store.cancelUnsentContact('queue-1', 0, AT, EXPIRES, 'paid'),
          store.cancelUnsentContact('queue-1', 1, AT, EXPIRES, 'paid'),
          store.cancelUnsentContact('queue-1', 7, AT, EXPIRES, 'paid'),
        ]);

        // Assess
        expect(results).toEqual([undefined, undefined, undefined]);
        expect((await store.getContact('queue-1', 0))?.status).toBe('sending');
        expect((await store.getContact('queue-1', 1))?.status).toBe('sent');
        expect(await store.getContact('queue-1', 7)).toBeUndefined();
      });
    });

    describe('eraseContact', () => {
      it('replaces the personal data of a sent contact with the marker and keeps its status and times', async () => {
        // Prepare
        const { store } = await seeded([
          contact(0, {
            status: 'sent',
            attempts: 1,
            sentAt: T0,
            providerMessageId: '3EB0AA',
            lastError: 'rejected: 5511900000000',
          }),
        ]);

        // Act
        const result = await store.eraseContact('queue-1', 0, AT, EXPIRES);

        // Assess
        expect(result).toEqual({ outcome: 'erased', cancelledFrom: null });
        expect(await store.getContact('queue-1', 0)).toMatchObject({
          status: 'sent',
          sentAt: T0,
          attempts: 1,
          providerMessageId: '3EB0AA',
          invoiceNumber: 'NF-0',
          name: ERASED_MARKER,
          phone: ERASED_MARKER,
          variables: { nome_cliente: ERASED_MARKER, valor: ERASED_MARKER },
          renderedMessage: ERASED_MARKER,
          lastError: ERASED_MARKER,
          erasedAt: AT,
        });
      });

      it('cancels an unsent contact as erased in the same write, and leaves a claimed one to its pump', async () => {
        // Prepare
        const { store, tableItem } = await seeded([
          contact(0, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z', attempts: 1 }),
          contact(1, { status: 'sending', attempts: 1 }),
        ]);

        // Act
        const retrying = await store.eraseContact('queue-1', 0, AT, EXPIRES);
        const claimed = await store.eraseContact('queue-1', 1, AT, EXPIRES);
        const missing = await store.eraseContact('queue-1', 9, AT, EXPIRES);

        // Assess
        expect([retrying, claimed, missing]).toEqual([
          { outcome: 'erased', cancelledFrom: 'retry' },
          { outcome: 'in_flight' },
          { outcome: 'missing' },
        ]);
        const erased = await store.getContact('queue-1', 0);
        expect(erased).toMatchObject({ status: 'cancelled', cancelReason: 'erased', phone: ERASED_MARKER });
        expect(erased?.retryAt ?? null).toBeNull();
        expect(await store.getContact('queue-1', 1)).toMatchObject({
          status: 'sending',
          phone: '+5511900000001',
        });
        if (tableItem) {
          expectContactItem(await tableItem(keys.contact('queue-1', 0)), 'cancelled');
        }
      });
    });

    describe('eraseContactEvents', () => {
      it("replaces phone, name, reply and error texts in one contact's events only, once", async () => {
        // Prepare
        const { store } = await seeded([contact(1), contact(10)]);
        await store.putCallbackEvent(
          event(1, { reply: { text: 'Já paguei, Ana', intent: 'paid_claim' } }),
          EXPIRES,
        );
        await store.putCallbackEvent(
          {
            ...event(1),
            eventId: 'queue-1:1:failed',
            payload: {
              ...event(1).payload,
              event_id: 'queue-1:1:failed',
              error: { code: 'X', message: 'nº 5511' },
            },
          },
          EXPIRES,
        );
        await store.putCallbackEvent(event(10), EXPIRES);
        await store.putCallbackEvent(event(null), EXPIRES);

        // Act
        const first = await store.eraseContactEvents('queue-1', 1);
        const second = await store.eraseContactEvents('queue-1', 1);

        // Assess
        expect([first, second]).toEqual([2, 0]);
        const sent = await store.getCallbackEvent('queue-1', 'queue-1:1:sent');
        expect(sent?.payload).toMatchObject({
          contact: { telefone: ERASED_MARKER, nome_cliente: ERASED_MARKER, numero_fatura: 'NF-1' },
          reply: { text: ERASED_MARKER, intent: 'paid_claim' },
        });
        expect(sent?.delivery.status).toBe('delivered');
        expect((await store.getCallbackEvent('queue-1', 'queue-1:1:failed'))?.payload.error).toEqual({
          code: 'X',
          message: ERASED_MARKER,
        });
        expect(
          (await store.getCallbackEvent('queue-1', 'queue-1:10:sent'))?.payload.contact?.nome_cliente,
        ).toBe('Ana');
      });
    });

    describe('deleteMessages', () => {
      it("deletes a phone's messages on every instance of the tenant, and no one else's", async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        await store.recordMessage(message('m1', '+5511911110000'), EXPIRES);
        await store.recordMessage(
          message('m2', '+5511911110000', { instanceId: 'inst-2', direction: 'inbound' }),
          EXPIRES,
        );
        await store.recordMessage(message('m3', '+5511922220000'), EXPIRES);
        await store.recordMessage(message('m4', '+5511911110000', { tenantId: 'other' }), EXPIRES);

        // Act
        const deleted = await store.deleteMessages('acme', ['+5511911110000'], []);

        // Assess
        expect(deleted).toBe(2);
        expect(await store.listMessages('acme', '+5511911110000', 10)).toEqual([]);
        expect(await store.getMessage('acme', 'inst-1', 'm1')).toBeUndefined();
        expect((await store.listMessages('acme', '+5511922220000', 10)).map((m) => m.id)).toEqual(['m3']);
        expect((await store.listMessages('other', '+5511911110000', 10)).map((m) => m.id)).toEqual(['m4']);
        expect(await store.deleteMessages('acme', ['+5511911110000'], [])).toBe(0);
      });

      it('deletes the known messages by key too, counting each message once and a missing one not at all', async () => {
        // Prepare: m1 is both in the phone's history and known; m5 (another spelling) only known.
        const { store } = await makeStore({ clock });
        await store.recordMessage(message('m1', '+5511911110000'), EXPIRES);
        await store.recordMessage(message('m5', '+551111110000'), EXPIRES);
        await store.recordMessage(message('m6', '+5511933330000'), EXPIRES);

        // Act
        const deleted = await store.deleteMessages(
          'acme',
          ['+5511911110000'],
          [
            { instanceId: 'inst-1', messageId: 'm1' },
            { instanceId: 'inst-1', messageId: 'm5' },
            { instanceId: 'inst-1', messageId: 'gone' },
          ],
        );

        // Assess
        expect(deleted).toBe(2);
        expect(await store.getMessage('acme', 'inst-1', 'm5')).toBeUndefined();
        expect(await store.getMessage('acme', 'inst-1', 'm6')).toBeDefined();
      });
    });

    describe('listContactIdentities for invoices', () => {
      it('reads every contact of the invoices asked for, whatever else it leaves unread', async () => {
        // Prepare: two batches of 12 contacts, as the accept writes them
        const { store } = await makeStore({ clock });
        const queues = [];
        for (const id of ['batch-a', 'batch-b']) {
          await store.createQueue(acmeQueue({ id, totalContacts: 12, createdAt: T0 }));
          await store.putFreshContacts(
            Array.from({ length: 12 }, (_, position) =>
              contact(position, { queueId: id, invoiceNumber: `${id}-${position % 6}` }),
            ),
          );
          queues.push({ id, totalContacts: 12 });
        }

        // Act
        const identities = await store.listContactIdentities(queues, { invoices: new Set(['batch-b-3']) });

        // Assess: both contacts of the invoice; nothing of it in the other batch
        const ofInvoice = (id: string) =>
          (identities.get(id) ?? []).filter((c) => c.invoiceNumber === 'batch-b-3').map((c) => c.position);
        expect(ofInvoice('batch-b')).toEqual([3, 9]);
        expect(ofInvoice('batch-a')).toEqual([]);
        expect([...identities.keys()].sort()).toEqual(['batch-a', 'batch-b']);
      });
    });

    describe('listCampaignRejections', () => {
      it('reads the refused contacts of several stored answers, and leaves out a campaign there is none of', async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        const rejection = { index: 1, telefone: '11 91111-0000', code: 'OPTED_OUT', message: 'Opt-out' };
        await store.createCampaign(campaign([rejection]));
        await store.createCampaign({
          ...campaign([]),
          id: 'camp-2',
          externalId: 'fatura-2',
          queueId: 'queue-2',
        });

        // Act
        const found = await store.listCampaignRejections('acme', ['fatura-67890', 'fatura-2', 'fatura-none']);
        const otherTenant = await store.listCampaignRejections('globex', ['fatura-67890']);

        // Assess
        expect(found).toEqual(
          new Map([
            ['fatura-67890', [rejection]],
            ['fatura-2', []],
          ]),
        );
        expect(otherTenant.size).toBe(0);
      });
    });

    describe('eraseCampaignRejections', () => {
      it('replaces the phone of the refused contacts named by index in a stored answer', async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        const rejection = (index: number, telefone: string) => ({
          index,
          telefone,
          code: 'OPTED_OUT',
          message: 'Este telefone pediu para não receber mensagens',
        });
        await store.createCampaign(campaign([rejection(1, '11 91111-0000'), rejection(4, '11 92222-0000')]));

        // Act
        const erased = await store.eraseCampaignRejections('acme', 'fatura-67890', [0]);
        const gone = await store.eraseCampaignRejections('acme', 'fatura-none', [0]);

        // Assess
        expect([erased, gone]).toEqual([true, false]);
        expect((await store.getCampaign('acme', 'fatura-67890'))?.rejected).toEqual([
          rejection(1, ERASED_MARKER),
          rejection(4, '11 92222-0000'),
        ]);
      });
    });

    describe('ensureErasureSalt', () => {
      it("keeps the tenant's first salt, and has none for a missing tenant", async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        await store.createTenant(tenant('acme'));

        // Act
        const first = await store.ensureErasureSalt('acme', 'salt-1');
        const second = await store.ensureErasureSalt('acme', 'salt-2');
        const missing = await store.ensureErasureSalt('nobody', 'salt-3');

        // Assess
        expect([first, second, missing]).toEqual(['salt-1', 'salt-1', undefined]);
        expect((await store.getTenant('acme'))?.erasureSalt).toBe('salt-1');
        expect(await store.getTenant('nobody')).toBeUndefined();
      });
    });

    describe('debtor erasure records', () => {
      it("lists a tenant's records newest first, page by page, and refuses a cursor that is not one of ours", async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        await store.recordDebtorErasure(erasure('e1', '2025-01-10T10:00:00.000Z'));
        await store.recordDebtorErasure(erasure('e3', '2025-01-10T12:00:00.000Z'));
        await store.recordDebtorErasure(erasure('e2', '2025-01-10T11:00:00.000Z'));
        await store.recordDebtorErasure(erasure('x1', '2025-01-10T11:30:00.000Z', 'other'));

        // Act
        const first = await store.listDebtorErasures('acme', { limit: 2 });
        const rest = await store.listDebtorErasures('acme', { limit: 2, cursor: first.nextCursor ?? '' });

        // Assess
        expect(first.items.map((r) => r.id)).toEqual(['e3', 'e2']);
        expect(first.items[0]).toEqual(erasure('e3', '2025-01-10T12:00:00.000Z'));
        expect(rest).toEqual({ items: [erasure('e1', '2025-01-10T10:00:00.000Z')], nextCursor: null });
        await expect(store.listDebtorErasures('acme', { limit: 2, cursor: 'bm9wZQ' })).rejects.toBeInstanceOf(
          DomainError,
        );
      });

      it('keeps one record per erasure: a later request of it replaces the record with its totals', async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        await store.recordDebtorErasure({ ...erasure('e1', T0), complete: false, inFlight: 1 });

        // Act
        await store.recordDebtorErasure({
          ...erasure('e1', T0),
          counts: { ...erasure('e1', T0).counts, contacts: 3 },
        });

        // Assess
        expect((await store.listDebtorErasures('acme', { limit: 10 })).items).toEqual([
          { ...erasure('e1', T0), counts: { ...erasure('e1', T0).counts, contacts: 3 } },
        ]);
      });
    });

    describe('erasure progress', () => {
      const fresh = (overrides: Partial<ErasureProgress> = {}): ErasureProgress => ({
        tenantId: 'acme',
        phoneDigest: 'lgpd:abc',
        erasureId: 'erasure-1',
        startedAt: AT,
        walkedTo: null,
        inFlightQueueIds: [],
        queuesChecked: 0,
        counts: erasure('e1', AT).counts,
        ...overrides,
      });
      const at = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();

      it('is held by one request at a time, keeps what a request saved for the next, and is gone once deleted', async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        const saved = fresh({
          walkedTo: { createdAt: T0, id: 'queue-9' },
          inFlightQueueIds: ['queue-3'],
          queuesChecked: 100,
        });

        // Act: a first request takes it (fresh), a second one meanwhile finds it held, the first saves
        // and lets go, a third takes what it saved, and deletes it.
        const first = await store.takeErasureProgress(fresh(), 'request-1', AT, at(1), at(720));
        const meanwhile = await store.takeErasureProgress(
          fresh({ erasureId: 'erasure-2' }),
          'request-2',
          at(0.5),
          at(1.5),
          at(720),
        );
        const savedByFirst = await store.saveErasureProgress(saved, 'request-1', at(0.6));
        const third = await store.takeErasureProgress(
          fresh({ erasureId: 'erasure-3' }),
          'request-3',
          at(0.7),
          at(1.7),
          at(720),
        );
        const savedByOther = await store.saveErasureProgress(fresh(), 'request-1', at(0.8));
        await store.deleteErasureProgress('acme', 'lgpd:abc', 'request-2');
        const stillThere = await store.takeErasureProgress(fresh(), 'request-4', at(2), at(3), at(720));
        await store.deleteErasureProgress('acme', 'lgpd:abc', 'request-4');
        const afterDelete = await store.takeErasureProgress(
          fresh({ erasureId: 'erasure-5' }),
          'request-5',
          at(3),
          at(4),
          at(720),
        );

        // Assess
        expect(first).toEqual({ taken: true, progress: fresh() });
        expect(meanwhile).toEqual({ taken: false, progress: fresh() });
        expect([savedByFirst, savedByOther]).toEqual([true, false]);
        expect(third).toEqual({ taken: true, progress: saved });
        // request-2 never held it: its delete changed nothing; request-3's hold ran out at 1.7.
        expect(stillThere).toEqual({ taken: true, progress: saved });
        expect(afterDelete).toEqual({ taken: true, progress: fresh({ erasureId: 'erasure-5' }) });
      });

      it('is taken over once its hold has run out, and starts afresh once it has expired', async () => {
        // Prepare
        const { store } = await makeStore({ clock });
        const saved = fresh({ walkedTo: { createdAt: T0, id: 'queue-9' }, queuesChecked: 100 });
        await store.takeErasureProgress(fresh(), 'request-1', AT, at(1), at(60));
        await store.saveErasureProgress(saved, 'request-1', at(0.5));
        await store.takeErasureProgress(fresh(), 'request-2', at(0.6), at(1.6), at(60));

        // Act: request-2 died holding it.
        const beforeItsHoldEnds = await store.takeErasureProgress(
          fresh(),
          'request-3',
          at(1.5),
          at(2.5),
          at(60),
        );
        const afterItsHoldEnds = await store.takeErasureProgress(
          fresh(),
          'request-4',
          at(1.7),
          at(2.7),
          at(60),
        );
        const lateSave = await store.saveErasureProgress(fresh(), 'request-2', at(1.8));
        await store.saveErasureProgress(saved, 'request-4', at(2));
        const afterExpiry = await store.takeErasureProgress(
          fresh({ erasureId: 'erasure-2' }),
          'request-5',
          at(61),
          at(62),
          at(121),
        );

        // Assess
        expect(beforeItsHoldEnds.taken).toBe(false);
        expect(afterItsHoldEnds).toEqual({ taken: true, progress: saved });
        expect(lateSave).toBe(false);
        expect(afterExpiry).toEqual({ taken: true, progress: fresh({ erasureId: 'erasure-2' }) });
      });
    });
  });
}
