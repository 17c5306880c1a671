import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import { eraseDebtor } from '../../lib/app/erase-debtor.ts';
import { recordPayments } from '../../lib/app/record-payments.ts';
import { debtorDeps, seedQueue } from '../support/debtor-world.ts';
import { type IndexLagDynamoDb, startIndexLagDynamoDb } from '../support/index-lag-dynamodb.ts';
import { tenantWith } from '../support/use-case-deps.ts';
import { message } from './store-contract/sending-store-contract.ts';

/**
 * A payment or an erasure posted right after the batch it concerns, on a store whose index lags as
 * DynamoDB's may: the tenant's queues are listed through gsi1, which does not show a queue created
 * a moment ago, so without another way to find it the payment cancelled nothing and the reminder of
 * a paid invoice (or of a debtor who asked to be erased) went out anyway. Likewise a phone's
 * messages are found through its history, an index: a reminder sent a moment before an erasure
 * must go by its key.
 */
describe('payments and erasures right after a batch, on a store whose index lags', () => {
  let dynamo: IndexLagDynamoDb;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    // Every replicated write waits the full two seconds: an index read right after a write misses it.
    dynamo = await startIndexLagDynamoDb({ maxLagMs: 2_000, random: () => 1 });
    client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });

  /** Debtor deps on a fresh table of the lagging store; tenant acme stored and replicated. */
  const depsOnLaggingStore = async () => {
    const tableName = `lag-${randomUUID().slice(0, 8)}`;
    await ensureTable(client, tableName);
    const deps = await debtorDeps({
      store: (clock) => createDynamoDbStore({ client: doc, tableName, clock }),
    });
    await dynamo.catchUp();
    return deps;
  };

  it('a payment cancels the reminder of a batch whose queue the index does not show yet', async () => {
    // Prepare: the batch is stored a moment before the payment; the index still shows no queue.
    const deps = await depsOnLaggingStore();
    const invoice = `NF-${randomUUID().slice(0, 6)}`;
    await seedQueue(deps, 'fresh', 'pending', [
      { status: 'pending', phone: '+5511988880001', invoice },
      { status: 'pending', phone: '+5511988880002', invoice: 'NF-other' },
    ]);
    expect((await deps.store.listQueues('acme', { limit: 10 })).items).toEqual([]);

    // Act
    const [outcome] = await recordPayments(deps, tenantWith(), [{ numero_fatura: invoice }]);

    // Assess
    expect(outcome).toMatchObject({ cancelled: 1, already_sent: 0, being_sent: 0, queue_ids: ['fresh'] });
    const contacts = (await deps.store.listContacts('fresh', { limit: 10 })).items;
    expect(contacts.map((c) => [c.status, c.cancelReason ?? null])).toEqual([
      ['cancelled', 'paid'],
      ['pending', null],
    ]);
  });

  it('an erasure reaches the contact of a batch whose queue the index does not show yet', async () => {
    // Prepare
    const deps = await depsOnLaggingStore();
    const phone = '+5511988880003';
    await seedQueue(deps, 'fresh', 'scheduled', [{ status: 'pending', phone, name: 'Carla' }]);
    expect((await deps.store.listQueues('acme', { limit: 10 })).items).toEqual([]);

    // Act
    const answer = await eraseDebtor(deps, tenantWith(), phone, 'test');

    // Assess
    expect(answer.counts).toMatchObject({ contacts: 1, contactsCancelled: 1 });
    const [contact] = (await deps.store.listContacts('fresh', { limit: 10 })).items;
    expect(contact).toMatchObject({ status: 'cancelled', cancelReason: 'erased' });
    expect(contact?.name).not.toBe('Carla');
  });

  it("an erasure deletes a reminder sent a moment ago, which the phone's history does not show yet", async () => {
    // Prepare: the batch was stored and replicated; its reminder went out and was recorded just now.
    const deps = await depsOnLaggingStore();
    const phone = '+5511988880004';
    await seedQueue(deps, 'sent', 'running', [{ status: 'sent', phone, name: 'Dora' }]);
    await dynamo.catchUp();
    await deps.store.recordMessage(
      message('3EB0-sent-0', { phone, queueId: 'sent', text: 'Olá Dora' }),
      '2026-06-01T00:00:00.000Z',
    );
    expect(await deps.store.listMessages('acme', phone, 10)).toEqual([]);

    // Act
    const answer = await eraseDebtor(deps, tenantWith(), phone, 'test');

    // Assess
    expect(answer.counts).toMatchObject({ contacts: 1, messages: 1 });
    expect(await deps.store.getMessage('acme', 'inst-1', '3EB0-sent-0')).toBeUndefined();
  });

  it('an erasure spread over several requests reaches a batch stored between them behind its walk, which the index does not show yet', async () => {
    // Prepare: 120 one-contact queues stored an hour before the erasure, replicated; a first
    // request walks 100 of them (queue ids sort the walk: they share their creation instant).
    const deps = await depsOnLaggingStore();
    const phone = '+5511988880005';
    for (let n = 0; n < 120; n++)
      await seedQueue(deps, `q${String(n).padStart(3, '0')}`, 'completed', [
        { status: 'sent', phone: n === 110 ? phone : '+5511988880006' },
      ]);
    await dynamo.catchUp();
    deps.clock.set('2026-03-02T14:00:00.000Z');
    const request = () => eraseDebtor({ ...deps, erasureWalkBudgetMs: 0 }, tenantWith(), phone, 'test');
    const first = await request();
    // A batch whose queue sorts before where the walk stopped, stored now: the index shows it later.
    deps.clock.set('2026-03-02T14:00:05.000Z');
    await seedQueue(deps, 'a-late', 'scheduled', [{ status: 'pending', phone, name: 'Eva' }]);

    // Act
    const second = await request();

    // Assess
    expect(first).toMatchObject({ state: 'in_progress', queuesChecked: 100, counts: { contacts: 0 } });
    expect(second).toMatchObject({ state: 'complete', counts: { contacts: 2, contactsCancelled: 1 } });
    expect(await deps.store.getContact('a-late', 0)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'erased',
    });
  });
});
