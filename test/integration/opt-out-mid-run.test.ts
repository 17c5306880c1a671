import { describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../../lib/adapters/store/dynamodb-store.ts';
import { addOptOut } from '../../lib/app/opt-outs.ts';
import { type PumpDeps, runQueue } from '../../lib/app/run-queue.ts';
import { OPT_OUT_FRESH_MS } from '../../lib/domain/opt-out-recheck.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Store } from '../../lib/ports/store.ts';
import { useDynalite } from '../support/dynalite.ts';
import { acceptNotificationBatch, contacts, OPTIONS } from '../support/pump-world.ts';
import { inMemoryDeps, simpleTemplate, tenantWith } from '../support/use-case-deps.ts';
import { instance } from './store-contract/tenant-store-contract.ts';

const db = useDynalite();

const PHONES = contacts(3).map((c) => c.telefone);

/**
 * A pump over the DynamoDB emulator on virtual time (a sleep moves the clock): tenant acme at 2
 * messages a minute (30 s apart, more than the opt-out freshness), a notification batch of 3
 * contacts accepted, and a gateway that runs `duringSend` inside each send. The store counts the
 * page lookups the pump makes.
 */
const pumpOverDynamoDb = async (duringSend: (index: number, store: Store) => Promise<void>) => {
  const base = inMemoryDeps('2026-03-02T13:00:00.000Z');
  const tableName = await db.freshTable('opt-out-mid-run');
  const real = createDynamoDbStore({ client: db.doc, tableName, clock: base.clock });
  const lookups: string[][] = [];
  const store: Store = {
    ...real,
    findOptedOut: async (tenantId, phones) => {
      lookups.push([...phones]);
      return real.findOptedOut(tenantId, phones);
    },
  };
  const tenant = tenantWith({ messagesPerMinute: 2, minIntervalSeconds: 0, jitterSeconds: 0 });
  await store.createTenant(tenant);
  await store.putTemplate(simpleTemplate());
  await store.putInstance(instance());
  const world = { ...base, store };
  const { campaign, item } = await acceptNotificationBatch(
    { ...world, published: base.published },
    tenant,
    3,
  );
  const sends: Array<{ number: string; at: number }> = [];
  const deps: PumpDeps = {
    ...world,
    logger: createLogger('SILENT'),
    gateway: {
      sendText: async (_target, number) => {
        sends.push({ number, at: base.clock.now().getTime() });
        await duringSend(sends.length - 1, store);
        return { kind: 'sent', messageId: `3EB0${sends.length}`, remoteJid: `${number}@s.whatsapp.net` };
      },
      connectionState: async () => 'open',
    },
    events: { emit: async () => undefined },
    deliveryWatch: { arm: async () => undefined },
    secrets: { resolve: async () => 'evolution-key' },
    sleep: async (ms) => base.clock.set(new Date(base.clock.now().getTime() + ms).toISOString()),
  };
  const statuses = async () =>
    (await store.listContacts(campaign.queueId, { limit: 10 })).items.map((c) => c.status);
  return { deps, item, sends, lookups, statuses, clock: base.clock };
};

describe('an opt-out stored while the pump runs (DynamoDB emulator)', () => {
  it("skips a prefetched contact whose phone opts out by API, the tenant's first opt-out", async () => {
    // Prepare: during the first send (the page of 3 is prefetched and checked by then), the second
    // contact's phone opts out through the API use case.
    const w = await pumpOverDynamoDb(async (index, store) => {
      if (index === 0) await addOptOut({ store, clock: w.clock }, 'acme', { telefone: PHONES[1] as string });
    });

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: the tenant had no opt-out, so only the moved stamp made the pump look its phones up.
    expect(result).toBe('completed');
    expect(w.sends.map((s) => `+${s.number}`)).toEqual([PHONES[0], PHONES[2]]);
    expect(await w.statuses()).toEqual(['sent', 'skipped_opt_out', 'sent']);
    expect(w.lookups).toEqual([[PHONES[1], PHONES[2]]]);
    expect((w.sends[1]?.at ?? 0) - (w.sends[0]?.at ?? 0)).toBeGreaterThan(OPT_OUT_FRESH_MS);
  });

  it('skips a prefetched contact whose phone opts out by reply after the page was looked up', async () => {
    // Prepare: acme has an older opt-out (so the page is looked up at its start); during the first
    // send the third contact's phone replies SAIR (the webhook's store write).
    const w = await pumpOverDynamoDb(async (index, store) => {
      if (index === 0) {
        await store.putOptOut({
          tenantId: 'acme',
          phone: PHONES[2] as string,
          source: 'reply',
          reason: 'SAIR',
          at: w.clock.now().toISOString(),
        });
      }
    });
    await w.deps.store.putOptOut({
      tenantId: 'acme',
      phone: '+5511900000000',
      source: 'api',
      reason: '',
      at: '2026-03-01T00:00:00.000Z',
    });

    // Act
    const result = await runQueue(w.deps, w.item, OPTIONS);

    // Assess: looked up once for the page, once more after the reply moved the stamp, not again.
    expect(result).toBe('completed');
    expect(w.sends.map((s) => `+${s.number}`)).toEqual([PHONES[0], PHONES[1]]);
    expect(await w.statuses()).toEqual(['sent', 'sent', 'skipped_opt_out']);
    expect(w.lookups).toEqual([PHONES, [PHONES[1], PHONES[2]]]);
  });
});
