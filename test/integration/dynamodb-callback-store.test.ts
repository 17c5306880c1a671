import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { GSI2, keys, TTL_ATTRIBUTE, ttlSeconds } from '../../lib/adapters/store/table-schema.ts';
import { createBillingEvents } from '../../lib/app/billing-events.ts';
import { DEFAULT_BILLING_CONFIG } from '../../lib/domain/billing-config.ts';
import type { Campaign } from '../../lib/domain/types.ts';
import type { Clock } from '../../lib/ports/clock.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import {
  clock,
  describeCallbackStoreContract,
  NOW,
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
    expect(out.Items?.[0]?.[GSI2.sk]).toBe(`${NOW}#${QUEUE_ID}:0:sent`);
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
