import { beforeAll, describe, expect, it } from 'vitest';
import { GSI2, keys } from '../../../lib/adapters/store/table-schema.ts';
import { DomainError } from '../../../lib/domain/errors.ts';
import type {
  BillingContact,
  BillingQueue,
  Campaign,
  ContactStatus,
  QueueStatus,
} from '../../../lib/domain/types.ts';
import type { QueuePosition, Store } from '../../../lib/ports/store.ts';
import { acmeContact, acmeQueue } from '../../support/acme-queue.ts';
import type { MakeStore } from './make-store.ts';

export const campaign = (overrides: Partial<Campaign> = {}): Campaign => ({
  id: 'camp-1',
  tenantId: 'acme',
  externalId: 'fatura-67890',
  templateType: 'overdue',
  queueId: 'queue-1',
  requestHash: 'f'.repeat(64),
  apiKeyId: 'key-1',
  callbackUrl: 'https://erp.example.com/hooks/billing',
  callbackEvents: ['sent', 'failed'],
  metadata: { origem: 'erp', lote: 7, nested: { ok: true } },
  state: 'creating',
  leaseUntil: '2025-01-10T12:00:30.000Z',
  owner: 'request-1',
  plan: { seed: 42, uses: { v1: 3, v2: 0 } },
  quotaReserved: false,
  accepted: 2,
  rejected: [{ index: 1, telefone: '123', code: 'INVALID_PHONE', message: 'Telefone inválido: 123' }],
  estimatedDurationMinutes: 1,
  scheduledStart: null,
  createdAt: '2025-01-10T12:00:00.000Z',
  ...overrides,
});

export const queue = (overrides: Partial<BillingQueue> = {}): BillingQueue =>
  acmeQueue({
    totalContacts: 1000,
    createdAt: '2025-01-10T12:00:00.000Z',
    publishGeneration: 1,
    ...overrides,
  });

export const contact = (position: number, overrides: Partial<BillingContact> = {}): BillingContact =>
  acmeContact(position, {
    invoiceNumber: `NF-${position}`,
    variables: { nome_cliente: `Cliente ${position}`, valor: 'R$ 10,00', dias_atraso: 3 },
    renderedMessage: `Olá Cliente ${position}, sua fatura venceu.`,
    createdAt: '2025-01-10T12:00:00.000Z',
    ...overrides,
  });

/** 1000 contacts; every fourth one `failed`, so a status filter has something to find. */
export const thousandContacts = (queueId = 'queue-1'): BillingContact[] =>
  Array.from({ length: 1000 }, (_, i) =>
    contact(i, { id: `${queueId}:${i}`, queueId, status: i % 4 === 0 ? 'failed' : 'pending' }),
  );

/** Follows `nextCursor` to the end; returns every page. */
export async function allPages<T>(
  list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The CampaignStore behaviour every Store implementation shows (run against dynalite and the in-memory store). */
export function describeCampaignStoreContract(makeStore: MakeStore): void {
  const freshStore = () => makeStore({});

  describe('CampaignStore contract', () => {
    describe('campaigns', () => {
      it('creates a campaign, reports exists on a second create and keeps the first', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const first = await store.createCampaign(campaign());
        const second = await store.createCampaign(campaign({ id: 'camp-2', requestHash: '0'.repeat(64) }));

        // Assess
        expect(first).toBe('created');
        expect(second).toBe('exists');
        expect(await store.getCampaign('acme', 'fatura-67890')).toEqual(campaign());
        expect(await store.getCampaign('beta', 'fatura-67890')).toBeUndefined();
        expect(await store.getCampaign('acme', 'other')).toBeUndefined();
      });

      it('keeps free-form external ids apart, whatever characters they hold', async () => {
        // Prepare
        const { store } = await freshStore();
        const odd = 'pedido#42/ção é 💸 & % CAMPAIGN#x';
        const longest = '€'.repeat(255);

        // Act
        await store.createCampaign(campaign({ externalId: odd, id: 'odd' }));
        await store.createCampaign(campaign({ externalId: longest, id: 'long' }));
        const prefixOfOdd = await store.createCampaign(campaign({ externalId: 'pedido#42', id: 'prefix' }));

        // Assess
        expect(prefixOfOdd).toBe('created');
        expect((await store.getCampaign('acme', odd))?.id).toBe('odd');
        expect((await store.getCampaign('acme', longest))?.id).toBe('long');
        expect((await store.getCampaign('acme', 'pedido#42'))?.id).toBe('prefix');
      });

      it('lets exactly one of 20 concurrent creates with the same external id through', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.createCampaign(campaign({ id: `camp-${i}` }))),
        );

        // Assess
        expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'exists')).toHaveLength(19);
        const winner = outcomes.indexOf('created');
        expect((await store.getCampaign('acme', 'fatura-67890'))?.id).toBe(`camp-${winner}`);
      });

      it('refuses a take-over while the lease is live, accepts it after with a new owner, and refuses it once created', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createCampaign(campaign({ leaseUntil: '2025-01-10T12:00:30.000Z' }));

        // Act
        const whileLive = await store.takeOverCampaign(
          'acme',
          'fatura-67890',
          'request-2',
          '2025-01-10T12:00:10.000Z',
          '2025-01-10T12:00:40.000Z',
        );
        const afterLease = await store.takeOverCampaign(
          'acme',
          'fatura-67890',
          'request-2',
          '2025-01-10T12:00:31.000Z',
          '2025-01-10T12:01:01.000Z',
        );
        const afterTakeOver = await store.getCampaign('acme', 'fatura-67890');
        await store.completeCampaign('acme', 'fatura-67890', 'request-2');
        const onceCreated = await store.takeOverCampaign(
          'acme',
          'fatura-67890',
          'request-3',
          '2025-01-10T13:00:00.000Z',
          '2025-01-10T13:00:30.000Z',
        );
        const unknown = await store.takeOverCampaign(
          'acme',
          'nope',
          'request-3',
          '2025-01-10T13:00:00.000Z',
          '2025-01-10T13:00:30.000Z',
        );

        // Assess
        expect(whileLive).toBe(false);
        expect(afterLease).toBe(true);
        expect(afterTakeOver).toMatchObject({ leaseUntil: '2025-01-10T12:01:01.000Z', owner: 'request-2' });
        expect(onceCreated).toBe(false);
        expect(unknown).toBe(false);
        expect(await store.getCampaign('acme', 'fatura-67890')).toMatchObject({
          state: 'created',
          owner: 'request-2',
        });
        expect(await store.getCampaign('acme', 'nope')).toBeUndefined();
      });

      it('lets only the owner hold, complete or delete a campaign once a retry took it over', async () => {
        // Prepare: request-1 created it; its lease ended and request-2 took over.
        const { store } = await freshStore();
        await store.createCampaign(campaign({ externalId: 'slow' }));
        await store.createCampaign(campaign({ externalId: 'refused' }));
        for (const externalId of ['slow', 'refused']) {
          await store.takeOverCampaign(
            'acme',
            externalId,
            'request-2',
            '2025-01-10T12:00:31.000Z',
            '2025-01-10T12:01:31.000Z',
          );
        }

        // Act
        const lateHold = await store.holdCampaign('acme', 'slow', 'request-1', '2025-01-10T12:09:00.000Z');
        const lateComplete = await store.completeCampaign('acme', 'slow', 'request-1');
        await store.deleteCreatingCampaign('acme', 'refused', 'request-1');
        const stillThere = await store.getCampaign('acme', 'refused');
        const ownerHold = await store.holdCampaign('acme', 'slow', 'request-2', '2025-01-10T12:02:00.000Z');
        const heldLease = (await store.getCampaign('acme', 'slow'))?.leaseUntil;
        const ownerComplete = await store.completeCampaign('acme', 'slow', 'request-2');
        const holdOnceCreated = await store.holdCampaign(
          'acme',
          'slow',
          'request-2',
          '2025-01-10T12:03:00.000Z',
        );
        await store.deleteCreatingCampaign('acme', 'refused', 'request-2');
        const missingHold = await store.holdCampaign('acme', 'nope', 'request-1', '2025-01-10T12:03:00.000Z');

        // Assess
        expect(lateHold).toBe(false);
        expect(lateComplete).toBe(false);
        expect(stillThere).toMatchObject({ state: 'creating', owner: 'request-2' });
        expect(ownerHold).toBe(true);
        expect(heldLease).toBe('2025-01-10T12:02:00.000Z');
        expect(ownerComplete).toBe(true);
        expect(holdOnceCreated).toBe(false);
        expect(missingHold).toBe(false);
        expect(await store.getCampaign('acme', 'slow')).toMatchObject({
          state: 'created',
          leaseUntil: '2025-01-10T12:02:00.000Z',
        });
        expect(await store.getCampaign('acme', 'refused')).toBeUndefined();
        expect(await store.getCampaign('acme', 'nope')).toBeUndefined();
      });

      it('completes a creating campaign once and reports false the second time', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createCampaign(campaign());

        // Act
        const first = await store.completeCampaign('acme', 'fatura-67890', 'request-1');
        const second = await store.completeCampaign('acme', 'fatura-67890', 'request-1');
        const missing = await store.completeCampaign('acme', 'nope', 'request-1');

        // Assess
        expect(first).toBe(true);
        expect(second).toBe(false);
        expect(missing).toBe(false);
        expect((await store.getCampaign('acme', 'fatura-67890'))?.state).toBe('created');
        expect(await store.getCampaign('acme', 'nope')).toBeUndefined();
      });

      it('marks the quota reserved without creating a missing campaign', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createCampaign(campaign());

        // Act
        await store.markCampaignQuotaReserved('acme', 'fatura-67890');
        await store.markCampaignQuotaReserved('acme', 'nope');

        // Assess
        expect(await store.getCampaign('acme', 'fatura-67890')).toEqual(campaign({ quotaReserved: true }));
        expect(await store.getCampaign('acme', 'nope')).toBeUndefined();
      });

      it('deletes a creating campaign but never a created one, and ignores a missing one', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.createCampaign(campaign({ externalId: 'refused' }));
        await store.createCampaign(campaign({ externalId: 'done' }));
        await store.completeCampaign('acme', 'done', 'request-1');

        // Act
        const refused = await store.deleteCreatingCampaign('acme', 'refused', 'request-1');
        const done = await store.deleteCreatingCampaign('acme', 'done', 'request-1');
        const missing = await store.deleteCreatingCampaign('acme', 'never-existed', 'request-1');

        // Assess
        expect([refused, done, missing]).toEqual([true, false, false]);
        expect(await store.getCampaign('acme', 'refused')).toBeUndefined();
        expect(await store.getCampaign('acme', 'done')).toEqual(
          campaign({ externalId: 'done', state: 'created' }),
        );
        expect(await store.createCampaign(campaign({ externalId: 'refused' }))).toBe('created');
      });
    });

    describe('contacts', () => {
      it('lists only the contacts in a status, in batch order, page by page', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putFreshContacts(thousandContacts());

        // Act
        const failedPages = await allPages((cursor) =>
          store.listContacts('queue-1', { status: 'failed', limit: 100, cursor }),
        );
        const sent = await store.listContacts('queue-1', { status: 'sent', limit: 10 });

        // Assess
        expect(failedPages.map((page) => page.length)).toEqual([100, 100, 50]);
        expect(failedPages.flat().map((c) => c.position)).toEqual(
          Array.from({ length: 250 }, (_, i) => i * 4),
        );
        expect(failedPages.flat().every((c) => c.status === 'failed')).toBe(true);
        expect(sent).toEqual({ items: [], nextCursor: null });
      });

      it('lists a rare status of a large queue in batch order, following cursors across short pages', async () => {
        // Prepare: 1200 contacts, two of them failed, far apart (a store may read only part of the
        // queue per page: then a page holds fewer than asked, and its cursor goes on).
        const { store } = await freshStore();
        await store.putFreshContacts(
          Array.from({ length: 1200 }, (_, i) =>
            contact(i, { status: i === 5 || i === 1150 ? 'failed' : 'pending' }),
          ),
        );

        // Act
        const pages: { items: BillingContact[]; nextCursor: string | null }[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listContacts('queue-1', { status: 'failed', limit: 10, cursor });
          pages.push(page);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && pages.length < 20);

        // Assess
        expect(pages.flatMap((page) => page.items.map((c) => c.position))).toEqual([5, 1150]);
        expect(pages.every((page) => page.items.length <= 10)).toBe(true);
        expect(pages.at(-1)?.nextCursor).toBeNull();
        expect(pages.flatMap((page) => page.items).every((c) => c.status === 'failed')).toBe(true);
      });

      it('lists retries in batch order, whatever their retry times', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putFreshContacts([
          contact(0, { status: 'retry', retryAt: '2025-01-10T13:00:00.000Z' }),
          contact(1, { status: 'pending' }),
          contact(2, { status: 'retry', retryAt: '2025-01-10T12:30:00.000Z' }),
        ]);

        // Act
        const first = await store.listContacts('queue-1', { status: 'retry', limit: 1 });
        const second = await store.listContacts('queue-1', {
          status: 'retry',
          limit: 1,
          cursor: first.nextCursor ?? undefined,
        });

        // Assess
        expect(first.items.map((c) => c.position)).toEqual([0]);
        expect(second).toMatchObject({ items: [{ position: 2, retryAt: '2025-01-10T12:30:00.000Z' }] });
        expect(second.nextCursor).toBeNull();
      });

      it('resumes a listing by status from a cursor written before contacts left the index', async () => {
        // Prepare: the earlier cursor form carried the contact's gsi1 sort key.
        const { store } = await freshStore();
        await store.putFreshContacts(thousandContacts().slice(0, 20));

        // Act
        const page = await store.listContacts('queue-1', {
          status: 'failed',
          limit: 10,
          cursor: cursorOf({ p: 4, i: 'failed#0004' }),
        });

        // Assess
        expect(page.items.map((c) => c.position)).toEqual([8, 12, 16]);
        expect(page.nextCursor).toBeNull();
      });

      it('keeps exactly 1000 contacts when the same fresh batch is written twice', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putFreshContacts(thousandContacts());

        // Act
        await store.putFreshContacts(thousandContacts());
        const pages = await allPages((cursor) => store.listContacts('queue-1', { limit: 100, cursor }));

        // Assess
        expect(pages.flat()).toHaveLength(1000);
        expect(new Set(pages.flat().map((c) => c.id)).size).toBe(1000);
      });

      it('throws on two contacts at the same position before writing anything', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const attempt = store.putFreshContacts([contact(3), contact(3, { name: 'Outro' })]);

        // Assess
        await expect(attempt).rejects.toThrow(/share the key/);
        expect((await store.listContacts('queue-1', { limit: 10 })).items).toEqual([]);
      });

      it('removes fresh contacts of a queue and nothing else', async () => {
        // Prepare
        const { store } = await freshStore();
        await store.putFreshContacts(thousandContacts().slice(0, 30));
        await store.putFreshContacts([contact(0, { id: 'queue-2:0', queueId: 'queue-2' })]);

        // Act
        await store.deleteFreshContacts(
          'queue-1',
          Array.from({ length: 30 }, (_, i) => i),
        );

        // Assess
        expect((await store.listContacts('queue-1', { limit: 100 })).items).toEqual([]);
        expect((await store.listContacts('queue-2', { limit: 100 })).items.map((c) => c.id)).toEqual([
          'queue-2:0',
        ]);
      });

      it('never rewrites a contact that moved on: a late write of the batch leaves it as it is', async () => {
        // Prepare: contact 1 was already sent (a retry wrote the batch and the sender sent it).
        const { store } = await freshStore();
        const sent = contact(1, {
          status: 'sent',
          attempts: 1,
          providerMessageId: 'wamid-1',
          sentAt: '2025-01-10T12:01:00.000Z',
        });
        await store.putFreshContacts([sent]);

        // Act: a late writer creates the batch's contacts.
        const created = await store.putContacts([contact(0), contact(1), contact(2)]);
        const listed = await store.listContacts('queue-1', { limit: 10 });
        const inSent = await store.listContacts('queue-1', { status: 'sent', limit: 10 });

        // Assess
        expect(created).toBe(2);
        expect(listed.items.map((c) => c.status)).toEqual(['pending', 'sent', 'pending']);
        expect(listed.items[1]).toEqual(sent);
        expect(inSent.items.map((c) => c.position)).toEqual([1]);
      });

      it('refuses two contacts at the same position in a conditional create before writing anything', async () => {
        // Prepare
        const { store } = await freshStore();

        // Act
        const attempt = store.putContacts([contact(3), contact(3, { name: 'Outro' })]);

        // Assess
        await expect(attempt).rejects.toThrow(/share the key/);
        expect((await store.listContacts('queue-1', { limit: 10 })).items).toEqual([]);
      });
    });

    describe('queues', () => {
      const statuses: QueueStatus[] = ['pending', 'running', 'completed', 'paused', 'running', 'failed'];
      /** 12 queues of acme, one a minute, in mixed statuses; 3 of beta, newer than all of them. */
      const acmeQueues = Array.from({ length: 12 }, (_, i) =>
        queue({
          id: `acme-${String(i).padStart(2, '0')}`,
          status: statuses[i % statuses.length],
          createdAt: new Date(Date.UTC(2025, 0, 10, 12, i)).toISOString(),
        }),
      );
      const betaQueues = Array.from({ length: 3 }, (_, i) =>
        queue({
          id: `beta-${i}`,
          tenantId: 'beta',
          status: 'running',
          createdAt: new Date(Date.UTC(2025, 0, 11, 12, i)).toISOString(),
        }),
      );
      async function seededQueues(): Promise<Store> {
        const { store } = await freshStore();
        for (const q of [...acmeQueues, ...betaQueues]) await store.createQueue(q);
        return store;
      }
      describe('listQueues', () => {
        it('lists every status newest first, page by page, and never another tenant', async () => {
          // Prepare
          const store = await seededQueues();

          // Act
          const pages = await allPages((cursor) => store.listQueues('acme', { limit: 5, cursor }));

          // Assess
          expect(pages.map((page) => page.length)).toEqual([5, 5, 2]);
          expect(pages.flat().map((q) => q.id)).toEqual(acmeQueues.map((q) => q.id).reverse());
          expect(pages[0]?.[0]).toEqual(acmeQueues[11]);
        });

        it('returns a single page with a null cursor when everything fits', async () => {
          // Prepare
          const store = await seededQueues();

          // Act
          const page = await store.listQueues('acme', { limit: 12 });

          // Assess
          expect(page.items).toHaveLength(12);
          expect(page.nextCursor).toBeNull();
        });

        it('lists only the queues in a status, newest first, page by page', async () => {
          // Prepare
          const store = await seededQueues();

          // Act
          const pages = await allPages((cursor) =>
            store.listQueues('acme', { status: 'running', limit: 2, cursor }),
          );
          const beta = await store.listQueues('beta', { status: 'running', limit: 10 });
          const none = await store.listQueues('gamma', { limit: 10 });

          // Assess
          const running = acmeQueues.filter((q) => q.status === 'running').map((q) => q.id);
          expect(running).toHaveLength(4);
          expect(pages.map((page) => page.length)).toEqual([2, 2]);
          expect(pages.flat().map((q) => q.id)).toEqual(running.reverse());
          expect(beta.items.map((q) => q.id)).toEqual(['beta-2', 'beta-1', 'beta-0']);
          expect(none).toEqual({ items: [], nextCursor: null });
        });
      });

      describe('listQueuesOldestFirst', () => {
        it("walks the tenant's queues oldest first from where the last page stopped, up to an instant, in every status", async () => {
          // Prepare: acme's 12 queues (one a minute, mixed statuses) and one created at the same
          // instant as acme-03 with a greater id; one moved to another status since; beta's.
          const store = await seededQueues();
          const twin = queue({ id: 'acme-03b', createdAt: acmeQueues[3]?.createdAt });
          await store.createQueue(twin);
          await store.transitionQueue('acme-01', ['running'], 'paused');
          const createdBefore = acmeQueues[10]?.createdAt ?? '';

          // Act
          const pages: string[][] = [];
          let after: QueuePosition | undefined;
          for (;;) {
            const page = await store.listQueuesOldestFirst('acme', {
              ...(after ? { after } : {}),
              createdBefore,
              limit: 4,
            });
            pages.push(page.map((q) => q.id));
            const last = page.at(-1);
            if (!last) break;
            after = { createdAt: last.createdAt, id: last.id };
          }
          const fromTwin = await store.listQueuesOldestFirst('acme', {
            after: { createdAt: twin.createdAt, id: 'acme-03' },
            createdBefore,
            limit: 2,
          });
          const beta = await store.listQueuesOldestFirst('beta', {
            createdBefore: '2026-01-01T00:00:00.000Z',
            limit: 10,
          });

          // Assess: acme-10 and acme-11 are not before the instant.
          expect(pages).toEqual([
            ['acme-00', 'acme-01', 'acme-02', 'acme-03'],
            ['acme-03b', 'acme-04', 'acme-05', 'acme-06'],
            ['acme-07', 'acme-08', 'acme-09'],
            [],
          ]);
          expect(fromTwin.map((q) => q.id)).toEqual(['acme-03b', 'acme-04']);
          expect(beta.map((q) => q.id)).toEqual(['beta-0', 'beta-1', 'beta-2']);
          // As listQueues shows them: the paused one in its new status.
          expect((await store.listQueuesOldestFirst('acme', { createdBefore, limit: 2 }))[1]).toMatchObject({
            id: 'acme-01',
            status: 'paused',
          });
        });

        it('leaves out an expired queue', async () => {
          // Prepare
          const { store } = await makeStore({ clock: { now: () => new Date('2025-01-10T12:30:00.000Z') } });
          await store.createQueue(queue({ id: 'kept' }));
          await store.createQueue(queue({ id: 'gone', createdAt: '2025-01-10T12:01:00.000Z' }));
          await store.transitionQueue('gone', ['pending'], 'cancelled', {}, '2025-01-10T12:10:00.000Z');

          // Act
          const found = await store.listQueuesOldestFirst('acme', {
            createdBefore: '2025-01-10T13:00:00.000Z',
            limit: 10,
          });

          // Assess
          expect(found.map((q) => q.id)).toEqual(['kept']);
        });
      });

      describe('listQueuesCreatedSince', () => {
        it("lists the tenant's queues created since the instant, oldest first, as they are now", async () => {
          // Prepare: acme's queues created at 12:00, 12:05 and 12:10 by the store's clock, one of
          // beta's at 12:06; the one of 12:05 has moved on since.
          let now = Date.parse('2025-01-10T12:00:00.000Z');
          const { store } = await makeStore({ clock: { now: () => new Date(now) } });
          const createAt = async (minute: number, q: BillingQueue) => {
            now = Date.parse('2025-01-10T12:00:00.000Z') + minute * 60_000;
            await store.createQueue(q);
          };
          await createAt(0, queue({ id: 'old' }));
          await createAt(5, queue({ id: 'mid' }));
          await createAt(6, queue({ id: 'beta-q', tenantId: 'beta' }));
          await createAt(10, queue({ id: 'new' }));
          await store.transitionQueue('mid', ['pending'], 'paused');
          await store.addToQueueCounters('new', { contactsDelivered: 2 });

          // Act
          const sinceFive = await store.listQueuesCreatedSince('acme', new Date('2025-01-10T12:05:00.000Z'));
          const sinceEleven = await store.listQueuesCreatedSince(
            'acme',
            new Date('2025-01-10T12:11:00.000Z'),
          );
          const beta = await store.listQueuesCreatedSince('beta', new Date('2025-01-10T12:00:00.000Z'));

          // Assess
          expect(sinceFive.map((q) => [q.id, q.status])).toEqual([
            ['mid', 'paused'],
            ['new', 'pending'],
          ]);
          // With its counters as they are now (the progress write also moves `updatedAt`).
          expect(sinceFive[1]).toEqual({
            ...queue({ id: 'new' }),
            contactsDelivered: 2,
            updatedAt: '2025-01-10T12:10:00.000Z',
          });
          expect(sinceEleven).toEqual([]);
          expect(beta.map((q) => q.id)).toEqual(['beta-q']);
        });

        it('lists a queue once when a retried create found it there, and leaves out an expired one', async () => {
          // Prepare
          let now = Date.parse('2025-01-10T12:00:00.000Z');
          const { store } = await makeStore({ clock: { now: () => new Date(now) } });
          await store.createQueue(queue({ id: 'kept' }));
          await store.createQueue(queue({ id: 'gone' }));
          await store.transitionQueue('gone', ['pending'], 'cancelled', {}, '2025-01-10T12:01:00.000Z');
          now += 30_000;
          await store.createQueue(queue({ id: 'kept' }));
          now += 60_000;

          // Act
          const found = await store.listQueuesCreatedSince('acme', new Date('2025-01-10T11:59:00.000Z'));

          // Assess
          expect(found.map((q) => q.id)).toEqual(['kept']);
        });
      });

      it('creates a queue, reports exists on a second create and returns it without table attributes', async () => {
        // Prepare
        const { store, tableItem } = await freshStore();

        // Act
        const first = await store.createQueue(queue());
        const second = await store.createQueue(queue({ tenantId: 'beta', status: 'running' }));

        // Assess
        expect(first).toBe('created');
        expect(second).toBe('exists');
        expect(await store.getQueue('queue-1')).toEqual(queue());
        expect(await store.getQueue('nope')).toBeUndefined();
        if (tableItem) {
          const item = await tableItem(keys.queue('queue-1'));
          expect(item?.[GSI2.pk]).toBe('DUE#QUEUE');
          expect(item?.[GSI2.sk]).toBe('2025-01-10T12:00:00.000Z#queue-1');
        }
      });
    });

    describe('cursors', () => {
      /** One table for every cursor test: nothing here writes. */
      let store: Store;
      beforeAll(async () => {
        ({ store } = await freshStore());
        await store.putFreshContacts([contact(0), contact(1)]);
      });
      const garbage = [
        'not a cursor!',
        'Zm9v', // "foo": not JSON
        cursorOf([1, 2]),
        cursorOf({ a: 'DROP TABLE' }),
        cursorOf({ a: '2025-01-10T12:00:00.000Z#q', extra: 1 }),
        cursorOf({ p: 5 }), // a contact cursor given to the queue listing
      ];
      it.each(garbage)('refuses the queue cursor %s with VALIDATION_FAILED', async (cursor) => {
        // Act
        const attempt = store.listQueues('acme', { limit: 10, cursor });

        // Assess
        await expect(attempt).rejects.toBeInstanceOf(DomainError);
        await expect(attempt).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
      });

      const badContactCursors: [string, ContactStatus | undefined][] = [
        ['not a cursor!', undefined],
        [cursorOf({ p: -1 }), undefined],
        [cursorOf({ p: 1.5 }), undefined],
        [cursorOf({ p: 10_000 }), undefined],
        [cursorOf({ a: '2025-01-10T12:00:00.000Z#q' }), undefined],
        [cursorOf({ p: 3, i: 'pending#0003' }), undefined], // a filtered listing's cursor, unfiltered
        [cursorOf({ p: 3 }), 'pending'], // an unfiltered listing's cursor, filtered
        [cursorOf({ p: 3, i: 'pending#0003' }), 'failed'], // another status's cursor
      ];
      it.each(badContactCursors)(
        'refuses the contact cursor %s (status %s) with VALIDATION_FAILED',
        async (cursor, status) => {
          // Act
          const attempt = store.listContacts('queue-1', { status, limit: 10, cursor });

          // Assess
          await expect(attempt).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
        },
      );

      it('refuses a page size outside 1..100 with VALIDATION_FAILED', async () => {
        // Act + Assess
        await expect(store.listQueues('acme', { limit: 0 })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
        await expect(store.listContacts('queue-1', { limit: 101 })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      });
    });
  });
}
