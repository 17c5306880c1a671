import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize, toItem } from '../../bench/cost/dynamodb-sizing.ts';
import { messageItem } from '../../lib/adapters/store/dynamodb-message-store.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, GSI2, keys } from '../../lib/adapters/store/table-schema.ts';
import type { BillingContact, BillingQueue, ConversationMessage } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { KEPT_UNTIL } from '../support/acme-queue.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import {
  contact,
  describeSendingStoreContract,
  fixedClock,
  message,
  queue,
  sendRecord,
  T0,
  withoutText,
} from './store-contract/sending-store-contract.ts';

const db = useDynalite();

/** A store on its own fresh table; `client` replaces the document client (to count requests). */
async function freshStore(
  client: DynamoDBDocumentClient = db.doc,
  clock: Clock = fixedClock,
): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('sending-test');
  return { store: createDynamoDbStore({ client, tableName, clock }), tableName };
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

/** A store holding queue-1 with `contacts`. */
async function seeded(contacts: BillingContact[], queueOverrides: Partial<BillingQueue> = {}) {
  const fresh = await freshStore();
  await fresh.store.createQueue(queue(queueOverrides));
  await fresh.store.putContacts(contacts);
  return fresh;
}

describeSendingStoreContract(async ({ clock }) => {
  const { store, tableName } = await freshStore(db.doc, clock);
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('createDynamoDbStore (sending)', () => {
  describe('transitionQueue', () => {
    it('keeps an open queue in the due index at nextRunAt and takes a paused or final one out', async () => {
      // Prepare
      const { store, tableName } = await seeded([]);
      const read = () => db.item(tableName, keys.queue('queue-1'));

      // Act
      await store.transitionQueue('queue-1', ['pending'], 'scheduled', {
        nextRunAt: '2025-01-11T11:00:00.000Z',
      });
      const scheduled = await read();
      await store.transitionQueue('queue-1', ['scheduled'], 'paused', {
        pausedAt: '2025-01-10T12:05:00.000Z',
        pauseReason: 'pedido do cliente',
      });
      const paused = await read();
      await store.transitionQueue('queue-1', ['paused'], 'running', { pausedAt: null, nextRunAt: null });
      const resumed = await read();
      await store.transitionQueue('queue-1', ['running'], 'completed', {
        completedAt: '2025-01-10T14:00:00.000Z',
      });
      const completed = await read();

      // Assess
      expect(scheduled?.[GSI2.pk]).toBe('DUE#QUEUE');
      expect(scheduled?.[GSI2.sk]).toBe('2025-01-11T11:00:00.000Z#queue-1');
      expect(paused?.[GSI2.pk]).toBeUndefined();
      expect(paused?.[GSI2.sk]).toBeUndefined();
      expect(paused).toMatchObject({
        pauseReason: 'pedido do cliente',
        [GSI1.pk]: 'TENANT#acme#QUEUES#paused',
      });
      // No next run: due from the write's time (the test clock), for the sweeper to check the pump.
      expect(resumed?.[GSI2.sk]).toBe('2025-01-10T13:00:00.000Z#queue-1');
      expect(resumed).toMatchObject({ pausedAt: null, nextRunAt: null });
      expect(completed?.[GSI2.pk]).toBeUndefined();
      expect(completed).toMatchObject({ status: 'completed', completedAt: '2025-01-10T14:00:00.000Z' });
      expect(completed?.[GSI1.sk]).toBe(`${T0}#queue-1`);
    });
  });

  describe('updateQueueProgress', () => {
    it('moves an open queue in the due index when nextRunAt changes, and never adds a paused one', async () => {
      // Prepare
      const { store, tableName } = await seeded([], { status: 'running' });
      await store.createQueue(queue({ id: 'queue-p', status: 'paused' }));

      // Act
      await store.updateQueueProgress('queue-1', {}, { nextRunAt: '2025-01-10T15:00:00.000Z' });
      await store.updateQueueProgress('queue-p', {}, { nextRunAt: '2025-01-10T15:00:00.000Z' });

      // Assess
      const open = await db.item(tableName, keys.queue('queue-1'));
      const paused = await db.item(tableName, keys.queue('queue-p'));
      expect(open?.[GSI2.sk]).toBe('2025-01-10T15:00:00.000Z#queue-1');
      expect(open?.[GSI2.pk]).toBe('DUE#QUEUE');
      expect(paused?.[GSI2.pk]).toBeUndefined();
    });
  });

  describe('messages written before the tenant joined their key', () => {
    /** A message as the previous version stored it: keyed `MSG#<instance>#<id>`, no tenant. */
    const putLegacy = (tableName: string, legacy: ConversationMessage) =>
      db.doc.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.legacyMessage(legacy.instanceId, legacy.id),
            ...keys.messagesIndex(legacy.tenantId, legacy.phone, legacy.at, legacy.id),
            ...legacy,
          },
        }),
      );

    it('finds one for the tenant it names, never for another tenant with the same instance id', async () => {
      // Prepare
      const { store, tableName } = await freshStore();
      const old = message('3EB0OLD');
      await putLegacy(tableName, old);

      // Act
      const own = await store.getMessage('acme', 'inst-1', '3EB0OLD');
      const foreign = await store.getMessage('beta', 'inst-1', '3EB0OLD');
      const foreignReply = await store.recordMessage(
        message('3EB0OLD', { tenantId: 'beta', direction: 'inbound', queueId: null, contactPosition: null }),
        KEPT_UNTIL,
      );
      const ownAfter = await store.getMessage('acme', 'inst-1', '3EB0OLD');

      // Assess
      expect(own).toEqual(withoutText(old));
      expect(foreign).toBeUndefined();
      expect(foreignReply).toBe(true);
      expect(ownAfter).toEqual(withoutText(old));
      expect((await store.getMessage('beta', 'inst-1', '3EB0OLD'))?.direction).toBe('inbound');
    });

    it('never takes one whose key happens to spell a new key for another message', async () => {
      // Prepare: tenant zeta's instance `acme`, message `inst-1#3EB0X`: `MSG#acme#inst-1#3EB0X`.
      const { store, tableName } = await freshStore();
      await putLegacy(tableName, message('inst-1#3EB0X', { tenantId: 'zeta', instanceId: 'acme' }));

      // Act
      const found = await store.getMessage('acme', 'inst-1', '3EB0X');

      // Assess
      expect(found).toBeUndefined();
    });
  });

  describe('recording a send', () => {
    it('stores the send without its text: its item and gsi1 copy stay one write unit however long the reminder', async () => {
      // Prepare: a reminder of 2000 characters (WhatsApp takes up to 4096).
      const rendered = `Olá Cliente 0! ${'Sua fatura está em aberto, pague pelo PIX. '.repeat(47)}`.slice(
        0,
        2000,
      );
      const { store, tableName } = await seeded([contact(0, { renderedMessage: rendered })]);
      const at = '2025-01-10T12:01:00.000Z';
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');

      // Act
      await store.recordSent(
        claimed,
        { status: 'sent', providerMessageId: '3EB0LONG', at },
        sendRecord('3EB0LONG', { at }),
        KEPT_UNTIL,
      );

      // Assess: the item (and so its gsi1 copy, which projects it all) is under 1 KB; the history has the text.
      const item = await db.item(tableName, keys.message('acme', 'inst-1', '3EB0LONG'));
      expect(item).toBeDefined();
      expect(item).not.toHaveProperty('text');
      expect(itemSize(toItem(item ?? {}))).toBeLessThan(1024);
      expect((await store.listMessages('acme', '+5511999990000', 10)).map((m) => m.text)).toEqual([rendered]);
    });

    it('lists a send the earlier version stored with its text as stored, without reading its contact', async () => {
      // Prepare: an item with its text, as `recordSent` wrote it before; the contact's text differs.
      const counting = countingClient();
      const { store, tableName } = await freshStore(counting.client);
      await store.createQueue(queue());
      await store.putContacts([contact(0, { renderedMessage: 'o texto do contato' })]);
      const earlier = message('3EB0EARLY', { text: 'o texto enviado' });
      await db.doc.send(new PutCommand({ TableName: tableName, Item: messageItem(earlier, KEPT_UNTIL) }));
      counting.counts.clear();

      // Act
      const history = await store.listMessages('acme', '+5511999990000', 10);

      // Assess
      expect(history).toEqual([earlier]);
      expect(counting.counts.get('BatchGetItemCommand')).toBeUndefined();
      counting.close();
    });

    it('writes the message before marking the contact sent, so a crash between them leaves no sent contact without its message', async () => {
      // Prepare: a claimed contact, and a client whose next write of a contact fails (the crash)
      const lowLevel = createTestDynamoDbClient(db.endpoint);
      let contactWritesFail = false;
      lowLevel.middlewareStack.add(
        (next, context) => async (args) => {
          // Marshalled or not yet, depending on where lib-dynamodb's own step runs.
          const sk = (args.input as { Key?: { sk?: string | { S?: string } } }).Key?.sk;
          const key = (typeof sk === 'string' ? sk : sk?.S) ?? '';
          if (contactWritesFail && context.commandName === 'UpdateItemCommand' && key.startsWith('CONTACT#'))
            throw new Error('the process died here');
          return next(args);
        },
        { step: 'initialize', name: 'dieAtTheContactWrite' },
      );
      const { store } = await freshStore(DynamoDBDocumentClient.from(lowLevel));
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      const at = '2025-01-10T12:01:00.000Z';
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');
      contactWritesFail = true;

      // Act
      const recording = await store
        .recordSent(
          claimed,
          { status: 'sent', providerMessageId: '3EB0XYZ', at },
          message('3EB0XYZ', { at }),
          KEPT_UNTIL,
        )
        .then(
          () => 'recorded',
          () => 'died',
        );
      contactWritesFail = false;

      // Assess: the receipts of that send can find it; the contact waits to be settled
      const found = await store.getMessage('acme', 'inst-1', '3EB0XYZ');
      const after = await store.getContact('queue-1', 0);
      lowLevel.destroy();
      expect({ recording, message: found?.id, contact: after?.status }).toEqual({
        recording: 'died',
        message: '3EB0XYZ',
        contact: 'sending',
      });
    });
  });

  describe('an answer lost after the write was carried out (the SDK retries it)', () => {
    const losingClient = () =>
      clientLosingAnswers(
        db.endpoint,
        (command, key) => command === 'UpdateItemCommand' && key.sk.startsWith('CONTACT#'),
      );

    it('takes a claim whose answer was lost for the claim it is, not for one another pump took', async () => {
      // Prepare
      const losing = losingClient();
      const { store } = await freshStore(losing.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      const at = '2025-01-10T12:01:00.000Z';

      // Act
      losing.loseTheNextAnswer();
      const claimed = await store.claimContact('queue-1', 0, at);
      const lost = losing.lost();
      losing.close();

      // Assess: a claim refused here would leave the contact `sending`, settled unknown, never sent
      expect(lost).toBe(1);
      expect(claimed).toMatchObject({ position: 0, status: 'sending', claimedAt: at, attempts: 1 });
    });

    it('still refuses a claim another pump holds when its own attempt was retried', async () => {
      // Prepare: the contact is claimed already (another pump)
      const losing = losingClient();
      const { store } = await freshStore(losing.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      await store.claimContact('queue-1', 0, '2025-01-10T12:00:00.000Z');

      // Act: this pump's claim fails its condition, and that answer is lost (the retry fails it again)
      losing.loseTheNextAnswer();
      const claimed = await store.claimContact('queue-1', 0, '2025-01-10T12:01:00.000Z');
      const lost = losing.lost();
      losing.close();

      // Assess
      expect({ lost, claimed }).toEqual({ lost: 1, claimed: undefined });
    });

    it('counts a send record whose answer was lost as recorded, and a settled attempt likewise', async () => {
      // Prepare: two claimed contacts
      const losing = losingClient();
      const { store } = await freshStore(losing.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0), contact(1)]);
      const at = '2025-01-10T12:01:00.000Z';
      const first = await store.claimContact('queue-1', 0, at);
      const second = await store.claimContact('queue-1', 1, at);
      if (!first || !second) throw new Error('claims failed');

      // Act
      losing.loseTheNextAnswer();
      const recorded = await store.recordSent(
        first,
        { status: 'sent', providerMessageId: '3EB0LOST', at },
        message('3EB0LOST', { at }),
        KEPT_UNTIL,
      );
      losing.loseTheNextAnswer();
      const settled = await store.finishContact(
        'queue-1',
        1,
        { status: 'unknown', error: 'resultado desconhecido: timeout', code: 'UNKNOWN_OUTCOME', at },
        KEPT_UNTIL,
        at,
      );
      const lost = losing.lost();
      losing.close();

      // Assess: refused, the pump would count neither (and log a lost claim for each)
      expect({ lost, recorded, settled }).toEqual({ lost: 2, recorded: true, settled: true });
      expect((await store.getContact('queue-1', 0))?.status).toBe('sent');
      expect((await store.getContact('queue-1', 1))?.status).toBe('unknown');
    });
  });

  describe('read consistency', () => {
    it('lists sendable contacts from the top strongly, after a position eventually, and summarizes strongly', async () => {
      // Prepare: a client that keeps each Query's ConsistentRead.
      const lowLevel = createTestDynamoDbClient(db.endpoint);
      const consistency: Array<boolean | undefined> = [];
      lowLevel.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'QueryCommand')
            consistency.push((args.input as { ConsistentRead?: boolean }).ConsistentRead);
          return next(args);
        },
        { step: 'initialize', name: 'keepConsistency' },
      );
      const { store } = await freshStore(DynamoDBDocumentClient.from(lowLevel));
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0), contact(1), contact(2)]);
      const reads = async <T>(read: () => Promise<T>) => {
        consistency.length = 0;
        const answer = await read();
        return { answer, consistency: [...consistency] };
      };

      // Act
      const fromTop = await reads(() => store.listSendableContacts('queue-1', T0, 10));
      const ahead = await reads(() => store.listSendableContacts('queue-1', T0, 10, 0));
      const summary = await reads(() => store.summarizeContacts('queue-1'));
      lowLevel.destroy();

      // Assess
      expect(fromTop.answer.map((c) => c.position)).toEqual([0, 1, 2]);
      expect(fromTop.consistency).toEqual([true]);
      expect(ahead.answer.map((c) => c.position)).toEqual([1, 2]);
      expect(ahead.consistency).toEqual([false]);
      expect(summary.answer.byStatus.pending).toBe(3);
      expect(summary.consistency).toEqual([true]);
    });
  });

  describe('request budget', () => {
    it("adds a receipt's counts in one UpdateItem of the counters item, reading nothing", async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      await store.createQueue(queue({ status: 'running' }));
      counting.counts.clear();

      // Act
      const added = await store.addToQueueCounters('queue-1', { contactsDelivered: 1 });
      const requests = Object.fromEntries(counting.counts);
      counting.close();

      // Assess
      expect(added).toBe(true);
      expect(requests).toEqual({ UpdateItemCommand: 1 });
    });

    it('claims, records a sent message (the message, then the contact on its claim) and counts it in exactly 4 requests and the status read', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      counting.counts.clear();
      const at = '2025-01-10T12:01:00.000Z';

      // Act
      const claimed = await store.claimContact('queue-1', 0, at);
      if (!claimed) throw new Error('claim failed');
      await store.recordSent(
        claimed,
        { status: 'sent', providerMessageId: '3EB0XYZ', at },
        message('3EB0XYZ', { at }),
        KEPT_UNTIL,
      );
      const progressed = await store.updateQueueProgress('queue-1', { contactsSent: 1 }, { currentRate: 20 });
      const requests = new Map(counting.counts);
      counting.close();

      // Assess
      expect(progressed?.contactsSent).toBe(1);
      // The claim, the contact's send (an UpdateItem of what changed) and the progress; the message
      // put (before the contact's); the queue item read beside the progress (the status check that
      // send makes anyway).
      expect(Object.fromEntries(requests)).toEqual({
        UpdateItemCommand: 3,
        PutItemCommand: 1,
        GetItemCommand: 1,
      });
    });

    it('claims, records, finishes and counts a sent message in exactly 4 requests and the status read', async () => {
      // Prepare
      const counting = countingClient();
      const { store } = await freshStore(counting.client);
      await store.createQueue(queue({ status: 'running' }));
      await store.putContacts([contact(0)]);
      counting.counts.clear();
      const at = '2025-01-10T12:01:00.000Z';

      // Act
      const claimed = await store.claimContact('queue-1', 0, at);
      await store.recordMessage(message('3EB0XYZ', { at }), KEPT_UNTIL);
      const finished = await store.finishContact(
        'queue-1',
        0,
        {
          status: 'sent',
          providerMessageId: '3EB0XYZ',
          at,
        },
        KEPT_UNTIL,
      );
      const progressed = await store.updateQueueProgress('queue-1', { contactsSent: 1 }, { currentRate: 20 });
      const requests = new Map(counting.counts);
      counting.close();

      // Assess
      expect(claimed?.status).toBe('sending');
      expect(finished).toBe(true);
      expect(progressed?.contactsSent).toBe(1);
      expect([...requests.values()].reduce((sum, n) => sum + n, 0)).toBe(5);
      expect(Object.fromEntries(requests)).toEqual({
        UpdateItemCommand: 3,
        PutItemCommand: 1,
        GetItemCommand: 1,
      });
    });
  });
});
