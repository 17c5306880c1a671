import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { itemSize } from '../../bench/cost/dynamodb-sizing.ts';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI2, keys, TTL_ATTRIBUTE, ttlSeconds } from '../../lib/adapters/store/table-schema.ts';
import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import type { Campaign } from '../../lib/domain/types.ts';
import type { CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { KEPT_UNTIL } from '../support/acme-queue.ts';
import { createTestDynamoDbClient, useDynalite } from '../support/dynalite.ts';
import {
  clock,
  describeCallbackStoreContract,
  NOW,
  pendingEvent,
  QUEUE_ID,
  seedOneContact,
} from './store-contract/callback-store-contract.ts';
import { tenant } from './store-contract/tenant-store-contract.ts';

const db = useDynalite();

async function freshStore(storeClock: Clock = clock): Promise<{ store: Store; tableName: string }> {
  const tableName = await db.freshTable('callback-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock: storeClock }), tableName };
}

/** A store holding one campaign, its queue and one contact. */
async function seeded(overrides: Partial<Campaign> = {}) {
  const fresh = await freshStore();
  await seedOneContact(fresh.store, overrides);
  return fresh;
}

describeCallbackStoreContract(async ({ clock }) => {
  const { store, tableName } = await freshStore(clock);
  return { store, tableItem: (key) => db.item(tableName, key) };
});

describe('dynamodb callback store', () => {
  it('builds a contact event from the contact its emitter holds, reading it only when it holds none', async () => {
    // Prepare: a store that counts contact reads; the campaign asks for sent and delivered.
    const { store } = await seeded({ callbackEvents: ['sent', 'delivered'] });
    let contactReads = 0;
    const getContact = store.getContact.bind(store);
    const counting: Store = {
      ...store,
      getContact: (queueId, position) => {
        contactReads += 1;
        return getContact(queueId, position);
      },
    };
    const events = createBillingEvents({ store: counting, clock });
    const held = {
      phone: '+5511999990000',
      name: 'João Silva',
      invoiceNumber: '2025-1',
      providerMessageId: '3EB0ABC',
    };

    // Act
    await events.emit({
      name: 'sent',
      queueId: QUEUE_ID,
      contactPosition: 0,
      occurredAt: NOW,
      contact: held,
    });
    const readsWhenHeld = contactReads;
    await events.emit({ name: 'delivered', queueId: QUEUE_ID, contactPosition: 0, occurredAt: NOW });

    // Assess
    expect(readsWhenHeld).toBe(0);
    expect(contactReads).toBe(1);
    const [sent, delivered] = await Promise.all(
      ['sent', 'delivered'].map((name) => store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:${name}`)),
    );
    const told = { telefone: '+5511999990000', nome_cliente: 'João Silva', numero_fatura: '2025-1' };
    expect(sent?.payload).toMatchObject({ contact: told, message_id: '3EB0ABC' });
    expect(delivered?.payload).toMatchObject({ contact: told, message_id: '3EB0ABC' });
  });

  it('stores one item when the same event is emitted twice', async () => {
    // Prepare
    const { store, tableName } = await seeded();
    const events = createBillingEvents({ store, clock });
    const input = {
      name: 'sent' as const,
      queueId: QUEUE_ID,
      contactPosition: 0,
      occurredAt: NOW,
      providerMessageId: '3EB0ABC',
    };

    // Act
    await events.emit(input);
    await events.emit(input);

    // Assess
    const out = await db.doc.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cb)',
        ExpressionAttributeValues: { ':pk': keys.queue(QUEUE_ID).pk, ':cb': 'CALLBACK#' },
      }),
    );
    expect(out.Items).toHaveLength(1);
    const stored = await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:sent`);
    expect(stored?.delivery).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: NOW });
    expect(stored?.payload.contact).toEqual({
      telefone: '+5511999990000',
      nome_cliente: 'João Silva',
      numero_fatura: '2025-1',
    });
    expect(stored?.payload.message_id).toBe('3EB0ABC');
    // Without a callbacks queue it is due at once: its delivery item is in the due index, not the event.
    expect(out.Items?.[0]?.[GSI2.pk]).toBeUndefined();
    const delivery = await db.item(tableName, keys.callbackDelivery(QUEUE_ID, `${QUEUE_ID}:0:sent`));
    expect(delivery?.[GSI2.sk]).toBe(`${NOW}#${QUEUE_ID}:0:sent`);
  });

  it('stores an announced contact event from its announcement as one item under 1 KB, claimed by that put, that its delivery never rewrites', async () => {
    // Prepare: a realistic contact and a callbacks queue that takes the announcement (as on AWS: no
    // safety net, so the emitter leaves the storing to the consumer)
    const { store, tableName } = await seeded();
    const published: CallbackRef[] = [];
    const events = createBillingEvents({
      store,
      clock,
      callbackQueue: { publish: async (ref) => void published.push(ref) },
    });
    const id = `${QUEUE_ID}:0:sent`;

    // Act: the emitter announces; the consumer stores and claims; the first attempt succeeds
    await events.emit({
      name: 'sent',
      queueId: QUEUE_ID,
      contactPosition: 0,
      occurredAt: NOW,
      providerMessageId: '3EB0C0FFEE0123456789AB',
    });
    const storedByEmitter = await db.item(tableName, keys.callback(QUEUE_ID, id));
    const [ref] = published;
    const claimed = await store.claimCallback(QUEUE_ID, id, NOW, '2025-01-10T13:00:30.000Z', ref?.stored);
    const afterClaim = await db.item(tableName, keys.callback(QUEUE_ID, id));
    const deliveryAfterClaim = await db.item(tableName, keys.callbackDelivery(QUEUE_ID, id));
    const recorded = await store.finishCallbackAttempt(
      QUEUE_ID,
      id,
      1,
      { status: 'delivered', at: NOW },
      ref?.stored?.expiresAt,
    );

    // Assess
    expect(published).toEqual([
      {
        queueId: QUEUE_ID,
        eventId: id,
        stored: {
          event: expect.objectContaining({
            eventId: id,
            tenantId: 'acme',
            payload: claimed?.payload,
            delivery: expect.objectContaining({ status: 'pending', attempts: 0, nextAttemptAt: null }),
          }),
          expiresAt: expect.any(String),
        },
      },
    ]);
    expect(storedByEmitter).toBeUndefined();
    expect(afterClaim).toBeDefined();
    expect(itemSize(marshall(afterClaim))).toBeLessThan(1024);
    expect(JSON.stringify(afterClaim)).not.toContain('null');
    expect(afterClaim?.[GSI2.pk]).toBeUndefined();
    // The put was the claim: no delivery item before the result.
    expect(deliveryAfterClaim).toBeUndefined();
    expect(claimed?.delivery).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAt: '2025-01-10T13:00:30.000Z',
    });
    expect(recorded).toBe(true);
    expect(await db.item(tableName, keys.callback(QUEUE_ID, id))).toEqual(afterClaim);
    const delivery = await db.item(tableName, keys.callbackDelivery(QUEUE_ID, id));
    expect(delivery?.[GSI2.pk]).toBeUndefined();
    expect(delivery?.[TTL_ATTRIBUTE]).toBe(afterClaim?.[TTL_ATTRIBUTE]);
    expect((await store.getCallbackEvent(QUEUE_ID, id))?.delivery).toEqual({
      status: 'delivered',
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: NOW,
      lastError: null,
      deliveredAt: NOW,
    });
  });

  it('does not take over a retry whose earlier attempt recorded its result between the read and the write of the takeover', async () => {
    // Prepare: an event its consumer stored; its first attempt failed (retry due at 13:01:30); a
    // second attempt (a copy, after that) claims it and dies. A third deliverer reads that claim once
    // its lease is over, and just then the second attempt's late result (retry at 13:10:00) lands.
    const { store, tableName } = await seeded();
    const id = `${QUEUE_ID}:0:sent`;
    const carried = {
      event: { ...pendingEvent(id), delivery: { ...pendingEvent(id).delivery, nextAttemptAt: null } },
      expiresAt: KEPT_UNTIL,
    };
    await store.claimCallback(QUEUE_ID, id, NOW, '2025-01-10T13:00:30.000Z', carried);
    await store.finishCallbackAttempt(
      QUEUE_ID,
      id,
      1,
      { status: 'pending', at: NOW, error: 'HTTP 500', nextAttemptAt: '2025-01-10T13:01:30.000Z' },
      KEPT_UNTIL,
    );
    const second = await store.claimCallback(
      QUEUE_ID,
      id,
      '2025-01-10T13:01:31.000Z',
      '2025-01-10T13:02:01.000Z',
      carried,
    );
    const lowLevel = createTestDynamoDbClient(db.endpoint);
    let lateResult: Promise<boolean> | undefined;
    lowLevel.middlewareStack.add(
      (next, context) => async (args) => {
        // Marshalled or not yet, depending on where lib-dynamodb's own step runs.
        const sk = (args.input as { Item?: { sk?: string | { S?: string } } }).Item?.sk;
        const target = typeof sk === 'string' ? sk : (sk?.S ?? '');
        const isPut = context.commandName === 'PutCommand' || context.commandName === 'PutItemCommand';
        if (!lateResult && isPut && target.startsWith('CBDELIVERY#')) {
          lateResult = store.finishCallbackAttempt(
            QUEUE_ID,
            id,
            2,
            {
              status: 'pending',
              at: '2025-01-10T13:02:05.000Z',
              error: 'HTTP 502',
              nextAttemptAt: '2025-01-10T13:10:00.000Z',
            },
            KEPT_UNTIL,
          );
          await lateResult;
        }
        return next(args);
      },
      { step: 'initialize', name: 'lateResultBeforeTheTakeover' },
    );
    const third = createDynamoDbStore({ client: DynamoDBDocumentClient.from(lowLevel), tableName, clock });

    // Act
    const takeover = await third.claimCallback(
      QUEUE_ID,
      id,
      '2025-01-10T13:02:02.000Z',
      '2025-01-10T13:02:32.000Z',
      carried,
    );
    lowLevel.destroy();

    // Assess: the late result stands (next attempt at 13:10), and nobody attempts before it
    expect(second?.delivery.attempts).toBe(2);
    expect(await lateResult).toBe(true);
    expect(takeover).toBeUndefined();
    expect((await store.getCallbackEvent(QUEUE_ID, id))?.delivery).toMatchObject({
      status: 'pending',
      attempts: 2,
      nextAttemptAt: '2025-01-10T13:10:00.000Z',
      lastError: 'HTTP 502',
    });
  });

  it('keeps a first attempt exclusive when a re-emission whose publish failed makes its event due meanwhile', async () => {
    // Prepare: the consumer stored the event and is making its first attempt; the event is emitted
    // again (the queue's completion caught it up) and that publish fails, so it is made due now.
    const { store } = await seeded();
    let queueUp = true;
    const published: CallbackRef[] = [];
    const events = createBillingEvents({
      store,
      clock,
      callbackQueue: {
        publish: async (ref) => {
          if (!queueUp) throw new Error('queue down');
          published.push(ref);
        },
      },
    });
    await events.emit({ name: 'sent', queueId: QUEUE_ID, contactPosition: 0, occurredAt: NOW });
    const id = `${QUEUE_ID}:0:sent`;
    const carried = published[0]?.stored;
    await store.claimCallback(QUEUE_ID, id, NOW, '2025-01-10T13:00:30.000Z', carried);
    queueUp = false;
    await events.emit({ name: 'sent', queueId: QUEUE_ID, contactPosition: 0, occurredAt: NOW });

    // Act: the poller finds it due and tries during the lease; the first attempt then succeeds
    const due = await store.listDueCallbacks('2025-01-10T13:00:10.000Z', 10);
    const pollerDuringLease = await store.claimCallback(
      QUEUE_ID,
      id,
      '2025-01-10T13:00:10.000Z',
      '2025-01-10T13:00:40.000Z',
    );
    const firstResult = await store.finishCallbackAttempt(
      QUEUE_ID,
      id,
      1,
      { status: 'delivered', at: '2025-01-10T13:00:11.000Z' },
      carried?.expiresAt,
    );

    // Assess: due, yet not claimable while the first attempt holds it; then delivered and out of the index
    expect(due.map((e) => e.eventId)).toEqual([id]);
    expect(pollerDuringLease).toBeUndefined();
    expect(firstResult).toBe(true);
    expect(await store.listDueCallbacks('2025-01-10T14:00:00.000Z', 10)).toEqual([]);
    expect((await store.getCallbackEvent(QUEUE_ID, id))?.delivery).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
  });

  it.each([
    ['without', undefined],
    ['with', 60_000],
  ])('makes an event due at once when its announcement fails, %s a safety net', async (_, net) => {
    // Prepare
    const { store } = await seeded();
    const events = createBillingEvents({
      store,
      clock,
      callbackQueue: {
        publish: async () => {
          throw new Error('queue down');
        },
      },
      ...(net === undefined ? {} : { announcementSafetyNetMs: net }),
    });

    // Act
    await events.emit({ name: 'sent', queueId: QUEUE_ID, contactPosition: 0, occurredAt: NOW });

    // Assess
    expect((await store.listDueCallbacks(NOW, 10)).map((e) => e.eventId)).toEqual([`${QUEUE_ID}:0:sent`]);
  });

  it('with a safety net, makes an announced event due later, and its consumer still claims it first', async () => {
    // Prepare: two events announced on a queue that may lose its messages (60 s net)
    const { store } = await seeded();
    const events = createBillingEvents({
      store,
      clock,
      callbackQueue: { publish: async () => undefined },
      announcementSafetyNetMs: 60_000,
    });
    await events.emit({ name: 'sent', queueId: QUEUE_ID, contactPosition: 0, occurredAt: NOW });
    await events.emit({ name: 'sent', queueId: QUEUE_ID, contactPosition: 1, occurredAt: NOW });

    // Act: the consumer takes event 1's announcement now; event 0's announcement is lost
    const dueNow = await store.listDueCallbacks(NOW, 10);
    const consumer = await store.claimCallback(
      QUEUE_ID,
      `${QUEUE_ID}:1:sent`,
      NOW,
      '2025-01-10T13:00:30.000Z',
    );
    const secondCopy = await store.claimCallback(
      QUEUE_ID,
      `${QUEUE_ID}:1:sent`,
      NOW,
      '2025-01-10T13:00:30.000Z',
    );
    await store.finishCallbackAttempt(QUEUE_ID, `${QUEUE_ID}:1:sent`, 1, { status: 'delivered', at: NOW });
    const dueAfterTheNet = await store.listDueCallbacks('2025-01-10T13:01:00.000Z', 10);

    // Assess: nothing is due before the net; the consumer's claim won once; the lost one is due after it
    expect(dueNow).toEqual([]);
    expect(consumer?.delivery.attempts).toBe(1);
    expect(secondCopy).toBeUndefined();
    expect(dueAfterTheNet.map((e) => e.eventId)).toEqual([`${QUEUE_ID}:0:sent`]);
  });

  it("erases a stored event when it is stored again after its first put died before checking its contact's erasure", async () => {
    // Prepare: the erasure of contact 0 writes the contact and finds no event; then an emitter,
    // holding the contact as it was before, puts the reply's event and dies on its contact read.
    const { store, tableName } = await seeded();
    await store.eraseContact(QUEUE_ID, 0, NOW, KEPT_UNTIL);
    expect(await store.eraseContactEvents(QUEUE_ID, 0)).toBe(0);
    const contactKey = keys.contact(QUEUE_ID, 0);
    const dying = {
      send: (command: { constructor: { name: string }; input: { Key?: Record<string, unknown> } }) =>
        command.constructor.name === 'GetCommand' && command.input.Key?.sk === contactKey.sk
          ? Promise.reject(new Error('killed'))
          : db.doc.send(command as never),
    } as unknown as typeof db.doc;
    const dyingStore = createDynamoDbStore({ client: dying, tableName, clock });
    const reply = (telefone: string, nome_cliente: string, text: string) => ({
      ...pendingEvent(`${QUEUE_ID}:0:replied`),
      event: 'replied' as const,
      payload: {
        ...pendingEvent(`${QUEUE_ID}:0:replied`).payload,
        event: 'replied' as const,
        contact: { telefone, nome_cliente, numero_fatura: '2025-1' },
        reply: { text, intent: 'paid_claim' as const },
      },
    });
    await expect(
      dyingStore.putCallbackEvent(reply('+5511999990000', 'João Silva', 'Sou o João, já paguei'), KEPT_UNTIL),
    ).rejects.toThrow('killed');
    const left = await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:replied`);

    // Act: Evolution repeats the webhook; the emitter now builds the event from the erased contact
    const repeat = await store.putCallbackEvent(
      reply('[apagado LGPD]', '[apagado LGPD]', '[apagado LGPD]'),
      KEPT_UNTIL,
    );

    // Assess: the stored copy, which held the phone, name and text, holds none of them any more
    expect(left?.payload.contact?.telefone).toBe('+5511999990000');
    expect(repeat).toBe('exists');
    const stored = await store.getCallbackEvent(QUEUE_ID, `${QUEUE_ID}:0:replied`);
    expect(stored?.payload).toMatchObject({
      contact: { telefone: '[apagado LGPD]', nome_cliente: '[apagado LGPD]', numero_fatura: '2025-1' },
      reply: { text: '[apagado LGPD]', intent: 'paid_claim' },
    });
    expect(
      JSON.stringify(await db.item(tableName, keys.callback(QUEUE_ID, `${QUEUE_ID}:0:replied`))),
    ).not.toMatch(/999990000|João|paguei/);
  });

  it('still delivers an event stored before the delivery state had its own item', async () => {
    // Prepare: the item as the previous version wrote it (delivery inside, in gsi2 while pending)
    const { store, tableName } = await freshStore();
    const event = pendingEvent(`${QUEUE_ID}:0:sent`);
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.callback(QUEUE_ID, event.eventId),
          ...keys.callbackEventsIndex('acme', NOW, event.eventId),
          ...keys.dueIndex('CALLBACK', NOW, event.eventId),
          ...event,
          [TTL_ATTRIBUTE]: ttlSeconds(KEPT_UNTIL),
        },
      }),
    );

    // Act
    const due = await store.listDueCallbacks(NOW, 10);
    const claimed = await store.claimCallback(QUEUE_ID, event.eventId, NOW, '2025-01-10T13:00:30.000Z');
    const recorded = await store.finishCallbackAttempt(QUEUE_ID, event.eventId, 1, {
      status: 'delivered',
      at: NOW,
    });

    // Assess
    expect(due).toEqual([event]);
    expect(claimed?.delivery.attempts).toBe(1);
    expect(recorded).toBe(true);
    expect(await store.listDueCallbacks('2025-01-11T00:00:00.000Z', 10)).toEqual([]);
    const listed = await store.listCallbackEvents('acme', { limit: 10 });
    expect(listed.items.map((e) => e.delivery)).toEqual([
      expect.objectContaining({ status: 'delivered', attempts: 1, deliveredAt: NOW, nextAttemptAt: null }),
    ]);
  });

  it("keeps an event for the tenant's retention, counted from when it is stored", async () => {
    // Prepare: the tenant keeps 7 days
    const { store, tableName } = await seeded();
    await store.createTenant(tenant('acme', { config: { ...DEFAULT_BILLING_CONFIG, retentionDays: 7 } }));

    // Act
    await createBillingEvents({ store, clock }).emit({
      name: 'sent',
      queueId: QUEUE_ID,
      contactPosition: 0,
      occurredAt: NOW,
    });

    // Assess
    const stored = await db.item(tableName, keys.callback(QUEUE_ID, `${QUEUE_ID}:0:sent`));
    expect(stored?.[TTL_ATTRIBUTE]).toBe(ttlSeconds('2025-01-17T13:00:00.000Z'));
  });

  it('records nothing for an event the campaign did not ask for', async () => {
    // Prepare
    const { store, tableName } = await seeded({ callbackUrl: null });

    // Act
    await createBillingEvents({ store, clock }).emit({
      name: 'queue.completed',
      queueId: QUEUE_ID,
      contactPosition: null,
      occurredAt: NOW,
    });

    // Assess
    const item = await db.doc.send(
      new GetCommand({ TableName: tableName, Key: keys.callback(QUEUE_ID, `${QUEUE_ID}:queue.completed`) }),
    );
    expect(item.Item).toBeUndefined();
    expect(await store.listDueCallbacks(NOW, 10)).toEqual([]);
  });
});
