import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { ensureTable } from '../../lib/adapters/store/table-schema.ts';
import type { ApplyGatewayEventsDeps } from '../../lib/app/apply-gateway-events.ts';
import type { DomainError } from '../../lib/domain/errors.ts';
import type { HttpRequest } from '../../lib/http/http-handler.ts';
import { evolutionWebhookRoute } from '../../lib/http/routes/evolution-webhook.ts';
import type { Store } from '../../lib/ports/store.ts';
import { type IndexLagDynamoDb, startIndexLagDynamoDb } from '../support/index-lag-dynamodb.ts';
import { inMemoryDeps } from '../support/use-case-deps.ts';
import { clock, pendingEvent, QUEUE_ID, seedOneContact } from './store-contract/callback-store-contract.ts';
import { message } from './store-contract/sending-store-contract.ts';
import { instance } from './store-contract/tenant-store-contract.ts';

/**
 * Reads the product makes eventually consistent (half the read units), on a store whose eventually
 * consistent reads lag as DynamoDB's may. The callback claim reads its event so: a claim right
 * after the event was stored must still find it (the announcement it carries stores it again, a
 * no-op, and reads it back consistently), and a stored event is never replaced by the
 * announcement's copy. The Evolution webhook reads its instance so (a secret changed a moment ago
 * must still be accepted: Evolution never repeats a 4xx), and a receipt its message (one recorded a
 * moment ago must still be found: the receipt may come 250 ms after the send).
 */
describe('eventually consistent reads on a store whose such reads lag', () => {
  let dynamo: IndexLagDynamoDb;
  let store: Store;

  beforeAll(async () => {
    // Every replicated write waits the full second: an eventual read right after a write misses it.
    dynamo = await startIndexLagDynamoDb({ maxLagMs: 1_000, random: () => 1 });
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(client, 'billing-lag');
    await dynamo.catchUp();
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    store = createDynamoDbStore({ client: doc, tableName: 'billing-lag', clock });
    await seedOneContact(store);
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('claims an event stored a moment ago, as it was stored, not as the announcement carries it', async () => {
    // Prepare: the emitter stores the event; its announcement carries a copy that differs (as a
    // later re-emission's may), and arrives at once.
    const eventId = `${QUEUE_ID}:0:sent`;
    const stored = pendingEvent(eventId);
    await store.putCallbackEvent(stored, '2025-04-10T12:00:00.000Z');
    const carried = { ...stored, payload: { ...stored.payload, message_id: '3EB0CARRIED' } };

    // Act
    const claimed = await store.claimCallback(
      QUEUE_ID,
      eventId,
      clock.now().toISOString(),
      '2099-01-01T00:00:00.000Z',
      {
        event: carried,
        expiresAt: '2025-04-10T12:00:00.000Z',
      },
    );

    // Assess: the claim went on with the stored event (its conditional put found it, and the read
    // after is consistent: a lagging read would have missed it).
    expect(claimed?.delivery).toMatchObject({ status: 'pending', attempts: 1 });
    expect(claimed?.payload.message_id).toBe(stored.payload.message_id);
  });

  it('finds nothing to claim for an event that is not stored and not carried', async () => {
    // Act
    const claimed = await store.claimCallback(
      QUEUE_ID,
      `${QUEUE_ID}:9:sent`,
      clock.now().toISOString(),
      '2099-01-01T00:00:00.000Z',
    );

    // Assess
    expect(claimed).toBeUndefined();
  });

  it('accepts a webhook signed with an instance secret changed a moment ago, and refuses one it never had', async () => {
    // Prepare: the instance's secret was A long ago and is B since a moment (the lagging read still
    // shows A).
    await store.putInstance(instance({ webhookSecret: 'secret-A' }));
    await dynamo.catchUp();
    await store.putInstance(instance({ webhookSecret: 'secret-B' }));
    const deps = { ...inMemoryDeps(), store } as unknown as ApplyGatewayEventsDeps;
    const [operation] = evolutionWebhookRoute.operations;
    if (!operation) throw new Error('the webhook route has an operation');
    const post = (secret: string) =>
      operation.handler(deps, {
        request: { headers: { 'x-webhook-secret': secret } } as unknown as HttpRequest,
        auth: undefined,
        params: { tenant_id: 'acme', instance_id: 'inst-1' },
        query: undefined,
        body: { event: 'send.message', instance: 'acme-principal', data: {} },
      });
    const before = dynamo.stats().staleReads;

    // Act
    const accepted = await post('secret-B');
    const refused = await post('secret-never-set').then(
      () => 'accepted',
      (error: DomainError) => error.code,
    );

    // Assess
    expect(dynamo.stats().staleReads).toBeGreaterThan(before);
    expect(accepted.statusCode).toBe(200);
    expect(refused).toBe('WEBHOOK_UNAUTHORIZED');
  });

  it('finds a message recorded a moment ago by its gateway id, and no message that is not there', async () => {
    // Prepare: the send was recorded a moment ago (the lagging read does not show it yet).
    await store.recordMessage(message('3EB0FRESH'), '2099-01-01T00:00:00.000Z');
    const before = dynamo.stats().staleReads;

    // Act
    const found = await store.getMessage('acme', 'inst-1', '3EB0FRESH');
    const missing = await store.getMessage('acme', 'inst-1', '3EB0NEVER');

    // Assess
    expect(dynamo.stats().staleReads).toBeGreaterThan(before);
    expect(found).toMatchObject({ id: '3EB0FRESH', queueId: 'queue-1', contactPosition: 0 });
    expect(missing).toBeUndefined();
  });
});
