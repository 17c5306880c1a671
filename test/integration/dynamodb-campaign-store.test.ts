import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize, toItem } from '../../bench/cost/dynamodb-sizing.ts';
import { createDynamoDbCampaignStore } from '../../lib/adapters/store/dynamodb-campaign-store.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { BillingContact } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { KEPT_UNTIL } from '../support/acme-queue.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import {
  allPages,
  campaign,
  contact,
  describeCampaignStoreContract,
  queue,
  thousandContacts,
} from './store-contract/campaign-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table; `client` replaces the document client (to count or disturb requests). */
async function freshStore(
  client: DynamoDBDocumentClient = db.doc,
  clock?: Clock,
): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('campaign-test');
  return {
    store: createDynamoDbStore({ client, tableName, batchRetryDelayMs: 1, ...(clock ? { clock } : {}) }),
    tableName,
  };
}

/** A document client on its own connection that counts the DynamoDB operations it sends. */
function countingClient(): { client: DynamoDBDocumentClient; counts: Map<string, number>; close(): void } {
  const counts = new Map<string, number>();
  const lowLevel = createTestDynamoDbClient(db.endpoint);
  lowLevel.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countOperations' },
  );
  return { client: DynamoDBDocumentClient.from(lowLevel), counts, close: () => lowLevel.destroy() };
}

type WriteRequests = NonNullable<BatchWriteCommandOutput['UnprocessedItems']>[string];

/**
 * A client whose BatchWriteItem writes only the first `keep(requests)` requests of each call and
 * hands the others back as UnprocessedItems, as DynamoDB does under throttling.
 */
function throttlingClient(keep: (requests: WriteRequests) => number): {
  client: DynamoDBDocumentClient;
  batchCalls: () => number;
} {
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) return db.doc.send(command as never);
      calls += 1;
      const entry = Object.entries(command.input.RequestItems ?? {})[0];
      if (!entry) throw new Error('BatchWriteItem without requests');
      const [table, requests] = entry;
      const kept = keep(requests);
      if (kept > 0) {
        await db.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests.slice(0, kept) } }));
      }
      const rest = requests.slice(kept);
      return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, batchCalls: () => calls };
}

/**
 * A client that passes every request on and records the keys each BatchWriteItem puts, and the
 * most calls in flight at once.
 */
function recordingClient(): {
  client: DynamoDBDocumentClient;
  calls: string[][];
  mostInFlight: () => number;
} {
  const calls: string[][] = [];
  let inFlight = 0;
  let most = 0;
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) return db.doc.send(command as never);
      const requests = Object.values(command.input.RequestItems ?? {})[0] ?? [];
      calls.push(requests.map((r) => `${r.PutRequest?.Item?.pk}|${r.PutRequest?.Item?.sk}`));
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        return await db.doc.send(command);
      } finally {
        inFlight -= 1;
      }
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, calls, mostInFlight: () => most };
}

/** A client that fails the `failAt`-th PutItem of a contact with a server error and passes the rest on. */
function failingClient(failAt: number): { client: DynamoDBDocumentClient; contactPuts: () => number } {
  let puts = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof PutCommand && String(command.input.Item?.sk).startsWith('CONTACT#')) {
        puts += 1;
        if (puts === failAt)
          throw Object.assign(new Error('internal server error'), { name: 'InternalServerError' });
      }
      return db.doc.send(command as never);
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, contactPuts: () => puts };
}

describeCampaignStoreContract(async ({ clock }) => {
  const { store, tableName } = await freshStore(db.doc, clock);
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('createDynamoDbStore (campaigns, queues, contacts)', () => {
  describe('contacts', () => {
    /** An overdue reminder as the cost bench sends it: a PIX code and a payment link, in the variables and the text. */
    const realisticContact = (position: number): BillingContact => {
      const pix =
        '00020126580014br.gov.bcb.pix01369cbcb591-98c5-4407-834a-400e92fe91e05204000053039865802BR5913EMPRESA DEMO6009SAO PAULO62070503***6304ABCD';
      const link = 'https://pagar.exemplo-erp.com.br/fatura/2025-03000003';
      return contact(position, {
        name: 'Francisco Rodrigues',
        phone: '+5511996000003',
        invoiceNumber: '2025-03000003',
        variationId: 'overdue-v1',
        variables: {
          empresa: 'Empresa Demonstração Ltda',
          cnpj: '12.345.678/0001-95',
          nome_cliente: 'Francisco Rodrigues',
          telefone: '+55 11 99600-0003',
          valor: 'R$ 4.468,61',
          data_vencimento: '24/11/2026',
          numero_fatura: '2025-03000003',
          valor_total: 'R$ 4.579,84',
          link_pagamento: link,
          codigo_pix: pix,
          dias_atraso: 12,
          dias_para_vencer: 0,
          status_vencimento: 'vencido',
        },
        renderedMessage: `Olá, Francisco Rodrigues! Consta em aberto a fatura 2025-03000003 no valor de R$ 4.468,61, vencida em 24/11/2026 (12 dia(s) de atraso). Pague por aqui: ${link} PIX copia e cola: ${pix} Se já pagou, por favor desconsidere.\n— Empresa Demonstração Ltda, CNPJ 12.345.678/0001-95`,
        createdAt: '2025-01-10T12:00:00.000Z',
      });
    };

    /**
     * Takes `accepted` through every write of its life (accept, claim, send, SERVER_ACK, delivered,
     * read), measuring its item after each step that grows it.
     */
    const lifeOf = async (store: Store, tableName: string, accepted: BillingContact) => {
      const { queueId, position } = accepted;
      const rawItem = async () =>
        (await db.doc.send(new GetCommand({ TableName: tableName, Key: keys.contact(queueId, position) })))
          .Item;
      const sizes: number[] = [];
      const measure = async () => sizes.push(itemSize(toItem((await rawItem()) ?? {})));
      await store.putFreshContacts([accepted]);
      await measure();
      const afterAccept = await store.getContact(queueId, position);
      const claimed = await store.claimContact(queueId, position, '2025-01-10T12:01:00.000Z');
      if (!claimed) throw new Error('claim failed');
      await measure();
      const result = {
        status: 'sent' as const,
        providerMessageId: '3EB0C431C26A1916E2B8F2',
        at: '2025-01-10T12:01:01.000Z',
      };
      const recorded = await store.recordSent(
        claimed,
        result,
        {
          id: result.providerMessageId,
          tenantId: accepted.tenantId,
          instanceId: 'inst-1',
          phone: accepted.phone,
          direction: 'outbound',
          at: result.at,
          queueId,
          contactPosition: position,
          campaignId: 'camp-1',
          externalId: 'fatura-67890',
          templateType: 'overdue',
        },
        KEPT_UNTIL,
      );
      await measure();
      await store.recordServerAck(queueId, position, '2025-01-10T12:01:02.000Z');
      await store.applyReceipt(queueId, position, 'delivered', '2025-01-10T12:01:03.000Z');
      await store.applyReceipt(queueId, position, 'read', '2025-01-10T12:01:04.000Z');
      await measure();
      return { sizes, afterAccept, recorded, result, item: await rawItem() };
    };

    it('keeps a realistic contact under 1 KB through its life, in no index, and reads it back whole', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const accepted = realisticContact(3);

      // Act
      const { sizes, afterAccept, recorded, result, item } = await lifeOf(store, tableName, accepted);

      // Assess: one write unit each (1024 bytes), no index key, no null, nothing the key says.
      expect(recorded).toBe(true);
      expect(Math.max(...sizes)).toBeLessThan(1024);
      expect(afterAccept).toEqual(accepted);
      expect(Object.keys(item ?? {}).filter((a) => a.startsWith('gsi'))).toEqual([]);
      expect(Object.values(item ?? {}).filter((v) => v === null)).toEqual([]);
      expect(item).not.toHaveProperty('id');
      expect(item).not.toHaveProperty('queueId');
      expect(item).not.toHaveProperty('position');
      expect(item).not.toHaveProperty('renderedMessage');
      expect(await store.getContact('queue-1', 3)).toEqual({
        ...accepted,
        status: 'read',
        attempts: 1,
        claimedAt: '2025-01-10T12:01:00.000Z',
        providerMessageId: result.providerMessageId,
        sentAt: result.at,
        serverAckAt: '2025-01-10T12:01:02.000Z',
        deliveredAt: '2025-01-10T12:01:03.000Z',
        readAt: '2025-01-10T12:01:04.000Z',
        updatedAt: '2025-01-10T12:01:04.000Z',
      });
    });

    it('keeps a 620-byte reminder under 1 KB through its life with ids of production length (README)', async () => {
      // Prepare: the guide's reminder and a paragraph of the tenant's own, to 620 bytes of UTF-8; a
      // queue id as accept makes it (a UUID) and a tenant id of 17 characters.
      const { store, tableName } = await freshStore();
      const realistic = realisticContact(3);
      const paragraph =
        ' Evite a suspensão do serviço e a inclusão do seu nome nos órgãos de proteção ao crédito. ' +
        'Nosso atendimento funciona de segunda a sexta, das 8h às 18h. Caso prefira, podemos negociar.';
      let text = realistic.renderedMessage;
      for (const char of paragraph) {
        if (Buffer.byteLength(text + char) > 620) break;
        text += char;
      }
      const accepted: BillingContact = {
        ...realistic,
        queueId: '5f0c6d1e-8c1a-4c59-9a5f-1e2b3c4d5e6f',
        id: '5f0c6d1e-8c1a-4c59-9a5f-1e2b3c4d5e6f:3',
        tenantId: 'loja-do-francisco',
        renderedMessage: text,
      };

      // Act
      const { sizes, recorded } = await lifeOf(store, tableName, accepted);

      // Assess: the edge README's "Length and cost" gives stays one write unit a write.
      expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(619);
      expect(recorded).toBe(true);
      expect(Math.max(...sizes)).toBeLessThan(1024);
    });

    it('reads, lists, claims and erases a contact stored in the earlier shape (gsi1 keys, nulls, plain texts)', async () => {
      // Prepare: the item as the adapter wrote it before contacts left gsi1.
      const { store, tableName } = await freshStore();
      const old = contact(4, { status: 'retry', retryAt: '2025-01-10T12:00:30.000Z', attempts: 1 });
      await db.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.contact('queue-1', 4),
            [GSI1.pk]: 'QUEUE#queue-1#CONTACTS',
            [GSI1.sk]: 'retry#2025-01-10T12:00:30.000Z#0004',
            ...old,
          },
        }),
      );

      // Act
      const read = await store.getContact('queue-1', 4);
      const listed = await store.listContacts('queue-1', { limit: 10 });
      const inRetry = await store.listContacts('queue-1', { status: 'retry', limit: 10 });
      const claimed = await store.claimContact('queue-1', 4, '2025-01-10T12:01:00.000Z');
      const afterClaim = (
        await db.doc.send(new GetCommand({ TableName: tableName, Key: keys.contact('queue-1', 4) }))
      ).Item;
      await store.finishContact(
        'queue-1',
        4,
        { status: 'failed', error: 'x', code: 'GATEWAY_REJECTED', at: '2025-01-10T12:01:01.000Z' },
        KEPT_UNTIL,
      );
      const erased = await store.eraseContact('queue-1', 4, '2025-01-10T12:02:00.000Z', KEPT_UNTIL);
      const afterErasure = await store.getContact('queue-1', 4);

      // Assess
      expect(read).toEqual(old);
      expect(listed.items).toEqual([old]);
      expect(inRetry.items).toEqual([old]);
      expect(claimed).toMatchObject({ id: 'queue-1:4', position: 4, status: 'sending', attempts: 2 });
      // The claim takes it out of gsi1 for good: no later write pays for an index copy.
      expect(afterClaim).not.toHaveProperty(GSI1.pk);
      expect(afterClaim).not.toHaveProperty(GSI1.sk);
      expect(erased).toEqual({ outcome: 'erased', cancelledFrom: null });
      expect(afterErasure).toMatchObject({
        id: 'queue-1:4',
        status: 'failed',
        name: '[apagado LGPD]',
        renderedMessage: '[apagado LGPD]',
        variables: { nome_cliente: '[apagado LGPD]', valor: '[apagado LGPD]', dias_atraso: '[apagado LGPD]' },
      });
    });

    it('ends a page by status early, with a cursor, once it read its budget of contacts', async () => {
      // Prepare: a budget of 10 contacts read per page; failed ones at 3, 15 and 22.
      const tableName = await db.freshTable('campaign-test');
      const store = createDynamoDbCampaignStore({
        client: db.doc,
        tableName,
        clock: { now: () => new Date('2025-01-10T12:00:00.000Z') },
        statusListingReadBudget: 10,
      });
      await store.putFreshContacts(
        Array.from({ length: 25 }, (_, i) =>
          contact(i, { status: [3, 15, 22].includes(i) ? 'failed' : 'pending' }),
        ),
      );

      // Act
      const pages = [];
      let cursor: string | undefined;
      do {
        const page = await store.listContacts('queue-1', { status: 'failed', limit: 5, cursor });
        pages.push(page.items.map((c) => c.position));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && pages.length < 10);

      // Assess: each page read 10 contacts (0-9, 10-19), the last one ran out of contacts (20-24).
      expect(pages).toEqual([[3], [15], [22]]);
    });

    it('writes 1000 fresh contacts and their invoice filter in 41 BatchWriteItem calls and lists them all in batch order', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);

      // Act
      await store.putFreshContacts(thousandContacts());
      const batchWrites = counting.counts.get('BatchWriteItemCommand');
      const pages = await allPages((cursor) => store.listContacts('queue-1', { limit: 100, cursor }));
      counting.close();

      // Assess: 40 calls of 25 contacts, one of the batch's invoice filter
      expect(batchWrites).toBe(41);
      expect(pages).toHaveLength(10);
      expect(pages.every((page) => page.length === 100)).toBe(true);
      const listed = pages.flat();
      expect(listed.map((c) => c.position)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(listed[7]).toEqual(thousandContacts()[7]);
    });

    it('puts every contact and the invoice filter exactly once, in calls of 25 with at most 4 in flight', async () => {
      // Prepare
      const recording = recordingClient();
      const { store } = await freshStore(recording.client);
      const contacts = thousandContacts();

      // Act
      await store.putFreshContacts(contacts);

      // Assess
      expect(recording.calls.map((call) => call.length)).toEqual([...Array(40).fill(25), 1]);
      expect(recording.mostInFlight()).toBeLessThanOrEqual(4);
      const written = recording.calls.flat().sort();
      const expected = [
        ...contacts.map((c) => keys.contact(c.queueId, c.position)),
        keys.queueInvoices('queue-1'),
      ].map((key) => `${key.pk}|${key.sk}`);
      expect(written).toEqual(expected.sort());
      const listed = await allPages((cursor) => store.listContacts('queue-1', { limit: 100, cursor }));
      expect(listed.flat()).toEqual(contacts);
    });

    it.each([
      [
        'two contacts at one position',
        (list: BillingContact[]) => [...list, { ...list[3], id: 'dup' } as BillingContact],
      ],
      ['a position beyond the key', (list: BillingContact[]) => [...list, contact(10_000)]],
    ])('writes nothing of a list with %s', async (_case, spoil) => {
      // Prepare
      const recording = recordingClient();
      const { store } = await freshStore(recording.client);

      // Act
      const attempt = store.putFreshContacts(spoil(thousandContacts()));

      // Assess
      await expect(attempt).rejects.toThrow(/putContacts/);
      expect(recording.calls).toEqual([]);
      expect((await store.listContacts('queue-1', { limit: 10 })).items).toEqual([]);
    });

    it("lists a queue's contacts only, not other items of its partition nor other queues", async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      await store.putFreshContacts([contact(0), contact(1)]);
      await store.putFreshContacts([contact(0, { id: 'queue-2:0', queueId: 'queue-2' })]);
      await db.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...keys.callback('queue-1', 'queue#completed'), kind: 'callback' },
        }),
      );

      // Act
      const listed = await store.listContacts('queue-1', { limit: 100 });

      // Assess
      expect(listed.items.map((c) => c.id)).toEqual(['queue-1:0', 'queue-1:1']);
      expect(listed.nextCursor).toBeNull();
    });

    it('re-sends unprocessed items until every contact is stored', async () => {
      // Prepare: every call leaves all but 10 of its requests unprocessed.
      const throttled = throttlingClient((requests) => Math.min(10, requests.length));
      const { store } = await freshStore(throttled.client);

      // Act
      await store.putFreshContacts(thousandContacts().slice(0, 100));
      const listed = await store.listContacts('queue-1', { limit: 100 });

      // Assess
      expect(listed.items.map((c) => c.position)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      // 4 batches of 25 need 3 calls each at 10 per call, the invoice filter's one.
      expect(throttled.batchCalls()).toBe(13);
    });

    it('throws after 8 tries when a batch stays unprocessed', async () => {
      // Prepare
      const throttled = throttlingClient(() => 0);
      const { store } = await freshStore(throttled.client);

      // Act
      // A batch of 10 (none of more than 10 contacts: no invoice filter in another call)
      const attempt = store.putFreshContacts(thousandContacts().slice(0, 10));

      // Assess
      await expect(attempt).rejects.toThrow(/unprocessed after 8 tries/);
      expect(throttled.batchCalls()).toBe(8);
    });

    it('creates contacts with one conditional PutItem each, none again the second time', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      const hundred = thousandContacts().slice(0, 100);

      // Act
      const created = await store.putContacts(hundred);
      const puts = counting.counts.get('PutItemCommand');
      const again = await store.putContacts(hundred);
      const listed = await store.listContacts('queue-1', { limit: 100 });
      counting.close();

      // Assess
      expect(created).toBe(100);
      // And the batch's invoice filter (written again as it is).
      expect(puts).toBe(101);
      expect(counting.counts.get('BatchWriteItemCommand')).toBeUndefined();
      expect(again).toBe(0);
      expect(listed.items).toEqual(hundred);
    });

    it('stops creating contacts after a failed put and throws its error', async () => {
      // Prepare
      const failing = failingClient(5);
      const { store } = await freshStore(failing.client);

      // Act
      const attempt = store.putContacts(thousandContacts().slice(0, 200));

      // Assess
      await expect(attempt).rejects.toThrow('internal server error');
      expect(failing.contactPuts()).toBeLessThan(200);
    });
  });

  describe('a campaign put whose answer was lost (the SDK retries it)', () => {
    it("is created, not taken for another request's campaign; another request's still is", async () => {
      // Prepare
      const losing = clientLosingAnswers(
        db.endpoint,
        (command, key) => command === 'PutItemCommand' && key.sk.startsWith('CAMPAIGN#'),
      );
      const { store } = await freshStore(losing.client);

      // Act: the first put is carried out and its answer lost; the second (another request, the
      // same external id) is refused and its answer lost too
      losing.loseTheNextAnswer();
      const first = await store.createCampaign(campaign());
      losing.loseTheNextAnswer();
      const second = await store.createCampaign(campaign({ id: 'camp-2', requestHash: '0'.repeat(64) }));
      const lost = losing.lost();
      losing.close();

      // Assess
      expect({ lost, first, second }).toEqual({ lost: 2, first: 'created', second: 'exists' });
    });
  });

  describe('queues', () => {
    it('leaves paused and finished queues out of the due index', async () => {
      // Prepare
      const { store, tableName } = await freshStore();

      // Act
      await store.createQueue(queue({ id: 'paused', status: 'paused' }));
      await store.createQueue(queue({ id: 'done', status: 'completed' }));
      await store.createQueue(
        queue({ id: 'later', status: 'scheduled', nextRunAt: '2025-01-11T11:00:00.000Z' }),
      );

      // Assess
      const read = async (id: string) =>
        (await db.doc.send(new GetCommand({ TableName: tableName, Key: keys.queue(id) }))).Item;
      expect((await read('paused'))?.[GSI2.pk]).toBeUndefined();
      expect((await read('done'))?.[GSI2.pk]).toBeUndefined();
      expect((await read('later'))?.[GSI2.sk]).toBe('2025-01-11T11:00:00.000Z#later');
    });
  });
});
