import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI1, GSI2, keys, TTL_ATTRIBUTE, ttlSeconds } from '../../lib/adapters/store/table-schema.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import { useDynalite } from '../support/dynalite.ts';
import { clientLosingAnswers } from '../support/lost-answers.ts';
import { queue, T0 } from './store-contract/sending-store-contract.ts';

const db = useDynalite();

/** A clock the test moves: progress writes stamp their own time. */
const movableClock = (start: string): Clock & { set(at: string): void } => {
  let now = new Date(start);
  return { now: () => now, set: (at) => (now = new Date(at)) };
};

async function freshStore(clock: Clock) {
  const tableName = await db.freshTable('counters-test');
  return { store: createDynamoDbStore({ client: db.doc, tableName, clock }), tableName };
}

describe('queue counters on their own item (docs/data-model.md, Queue)', () => {
  it('adds a progress write whose answer was lost once, on the counters item and when it creates it', async () => {
    // Prepare: a queue stored before the split (no counters item), and a client losing the answers
    // of counters writes
    const losing = clientLosingAnswers(
      db.endpoint,
      (command, key) => command === 'UpdateItemCommand' && key.sk === keys.queueCounters('queue-1').sk,
    );
    const tableName = await db.freshTable('counters-test');
    const store = createDynamoDbStore({ client: losing.client, tableName, clock: movableClock(T0) });
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.queue('queue-1'), ...queue({ status: 'running' }) },
      }),
    );

    // Act: a receipt's counters create the item, another's add to it; every answer lost
    losing.loseTheNextAnswer();
    await store.addToQueueCounters('queue-1', { contactsDelivered: 1 });
    losing.loseTheNextAnswer();
    await store.addToQueueCounters('queue-1', { contactsDelivered: 1, contactsRead: 1 });
    const lost = losing.lost();
    losing.close();

    // Assess: receipt counters are never recounted, so a double add would stay
    expect(lost).toBe(2);
    expect(await store.getQueue('queue-1')).toMatchObject({ contactsDelivered: 2, contactsRead: 1 });
  });

  it('counts on an item with no index key and leaves the queue item (and its index copies) unwritten', async () => {
    // Prepare
    const clock = movableClock('2025-01-10T13:00:00.000Z');
    const { store, tableName } = await freshStore(clock);
    await store.createQueue(queue({ status: 'running', contactsSkipped: 2 }));
    const queueItemBefore = await db.item(tableName, keys.queue('queue-1'));
    clock.set('2025-01-10T13:05:00.000Z');

    // Act
    const progressed = await store.updateQueueProgress(
      'queue-1',
      { contactsSent: 3, contactsFailed: 1 },
      { currentRate: 19.5 },
    );
    await store.updateQueueProgress('queue-1', { contactsSent: 2 });

    // Assess
    const queueItemAfter = await db.item(tableName, keys.queue('queue-1'));
    const counters = await db.item(tableName, keys.queueCounters('queue-1'));
    expect(queueItemAfter).toEqual(queueItemBefore);
    expect(queueItemAfter).not.toHaveProperty('contactsSent');
    expect(counters).toMatchObject({
      contactsSent: 5,
      contactsFailed: 1,
      contactsSkipped: 2,
      currentRate: 19.5,
    });
    for (const indexKey of [GSI1.pk, GSI1.sk, GSI2.pk, GSI2.sk])
      expect(counters).not.toHaveProperty(indexKey);
    // The write answers with the queue as a whole: its status and its counters.
    expect(progressed).toMatchObject({
      status: 'running',
      contactsSent: 3,
      contactsFailed: 1,
      currentRate: 19.5,
    });
    const read = await store.getQueue('queue-1');
    expect(read).toMatchObject({ contactsSent: 5, contactsFailed: 1, contactsSkipped: 2, currentRate: 19.5 });
    // The sweeper's liveness check counts from the last progress write.
    expect(read?.updatedAt).toBe('2025-01-10T13:05:00.000Z');
    const listed = await store.listQueues('acme', { limit: 10 });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ id: 'queue-1', contactsSent: 5, currentRate: 19.5 });
  });

  it('adds to the counters a queue stored before the split kept on its item, and loses none', async () => {
    // Prepare: the previous layout, counters on the queue item and no counters item.
    const clock = movableClock('2025-01-10T13:00:00.000Z');
    const { store, tableName } = await freshStore(clock);
    const legacy = queue({ status: 'running', contactsSent: 40, contactsRead: 7, currentRate: 18 });
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.queue(legacy.id),
          ...keys.queuesIndex(legacy.tenantId, legacy.status, legacy.createdAt, legacy.id),
          ...legacy,
        },
      }),
    );

    // Act
    await store.updateQueueProgress('queue-1', { contactsSent: 2, contactsRead: 1 }, { currentRate: 21 });
    await store.updateQueueProgress('queue-1', { contactsSent: 1 });

    // Assess
    expect(await db.item(tableName, keys.queueCounters('queue-1'))).toMatchObject({
      contactsSent: 3,
      contactsRead: 1,
    });
    expect(await store.getQueue('queue-1')).toMatchObject({
      contactsSent: 43,
      contactsRead: 8,
      currentRate: 21,
    });
    expect((await store.listQueues('acme', { limit: 10 })).items[0]).toMatchObject({ contactsSent: 43 });
  });

  it('gives the counters item the expiry of a finished queue, and of a legacy one it creates one for', async () => {
    // Prepare
    const clock = movableClock('2025-01-10T13:00:00.000Z');
    const { store, tableName } = await freshStore(clock);
    await store.createQueue(queue({ status: 'running' }));
    await store.updateQueueProgress('queue-1', { contactsSent: 1 });
    const expiresAt = '2025-04-10T14:00:00.000Z';
    const legacy = queue({ id: 'queue-old', status: 'completed' });
    await db.doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.queue(legacy.id), ...legacy, [TTL_ATTRIBUTE]: ttlSeconds(expiresAt) },
      }),
    );

    // Act
    const completed = await store.transitionQueue('queue-1', ['running'], 'completed', {}, expiresAt);
    // A late receipt of the finished legacy queue.
    await store.updateQueueProgress('queue-old', { contactsRead: 1 });

    // Assess
    expect(completed).toMatchObject({ status: 'completed', contactsSent: 1 });
    expect((await db.item(tableName, keys.queueCounters('queue-1')))?.[TTL_ATTRIBUTE]).toBe(
      ttlSeconds(expiresAt),
    );
    expect((await db.item(tableName, keys.queueCounters('queue-old')))?.[TTL_ATTRIBUTE]).toBe(
      ttlSeconds(expiresAt),
    );
  });

  it('writes nothing for a queue that does not exist, and reads it as absent', async () => {
    // Prepare
    const clock = movableClock(T0);
    const { store, tableName } = await freshStore(clock);

    // Act
    const progressed = await store.updateQueueProgress('gone', { contactsDelivered: 1 });

    // Assess
    expect(progressed).toBeUndefined();
    expect(await db.item(tableName, keys.queueCounters('gone'))).toBeUndefined();
    expect(await store.getQueue('gone')).toBeUndefined();
  });
});
