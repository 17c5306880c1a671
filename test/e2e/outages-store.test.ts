import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_LEASE_MS } from '../../lib/app/create-campaign.ts';
import type { Store } from '../../lib/ports/store.ts';
import { API, type TestResponse } from '../support/local-stack.ts';
import {
  FAST_PACE,
  notificationBatch,
  type SendingStack,
  sentNumbers,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Issue 17: DynamoDB goes down. The stack's DynamoDB (test/support/index-lag-dynamodb.ts) stops
 * listening, so every call finds its connection refused after the SDK's retries, as when the
 * service is unreachable. The API answers 503 STORE_UNAVAILABLE with Retry-After (never a 500),
 * and a retry with the same external_id, once the store is back, finishes the batch: every debtor
 * is sent exactly once.
 */

let s: SendingStack;

beforeAll(async () => {
  s = await startSendingStack('sqs', {
    env: { SWEEPER_GRACE_SECONDS: '2', SWEEPER_INTERVAL_SECONDS: '1' },
  });
}, 120_000);

afterEach(async () => {
  // A failed test must not leave the next one without a store, or without its answers.
  s?.dynamo?.answer();
  await s?.dynamo?.start();
});

afterAll(async () => {
  await s?.close();
});

const path = `${API}/send/notification`;

const dynamo = () => {
  if (!s.dynamo) throw new Error('the stack runs without its own DynamoDB');
  return s.dynamo;
};

const expectStoreUnavailable = (response: TestResponse) => {
  expect(response.status).toBe(503);
  expect(response.body).toMatchObject({
    code: 'STORE_UNAVAILABLE',
    message: expect.stringContaining('Serviço temporariamente indisponível'),
  });
  expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
};

/**
 * Makes DynamoDB go down the moment the accept reaches `step` (a store call made after its
 * campaign was stored): that call and every later one find the connection refused.
 */
const storeDiesAt = (step: keyof Store): (() => void) => {
  const { store } = s.test.container;
  const original = store[step] as (...args: unknown[]) => Promise<unknown>;
  const own = Object.hasOwn(store, step);
  let armed = true;
  (store as unknown as Record<string, unknown>)[step] = async (...args: unknown[]) => {
    if (armed) {
      armed = false;
      await dynamo().stop();
    }
    return original.apply(store, args);
  };
  return () => {
    if (own) (store as unknown as Record<string, unknown>)[step] = original;
    else delete (store as unknown as Record<string, unknown>)[step];
  };
};

describe('Outages: the store (DynamoDB) is down', () => {
  it('answers /health 503 with store unreachable while DynamoDB is down, and ok after', async () => {
    // Act
    await dynamo().stop();
    let down: TestResponse;
    try {
      down = await s.test.get('/health', { key: null });
    } finally {
      await dynamo().start();
    }
    const after = await s.test.get('/health', { key: null });

    // Assess
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'degraded', store: 'unreachable' });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: 'ok', store: 'ok' });
  });

  it('refuses a batch posted while DynamoDB is down with a 503, and the same POST after it is back sends it once', async () => {
    // Prepare
    const tenant = await s.tenant(FAST_PACE);
    const { numbers, body } = notificationBatch(5);

    // Act
    await dynamo().stop();
    let refused: TestResponse;
    try {
      refused = await s.test.post(path, body, { key: tenant.key });
    } finally {
      await dynamo().start();
    }
    await dynamo().catchUp();
    const queuesBetween = await s.test.allQueues(tenant.tenantId);
    const retried = await s.test.post(path, body, { key: tenant.key });
    const done = await s.waitForStatus(tenant, retried.body.queue_id, ['completed'], 30_000);

    // Assess
    expectStoreUnavailable(refused);
    expect(queuesBetween).toEqual([]);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ accepted: 5, total_contacts: 5 });
    expect(done).toMatchObject({ total_contacts: 5, contacts_sent: 5 });
    expect(sentNumbers(s, tenant)).toEqual([...numbers].sort());
    expect(await s.test.allQueues(tenant.tenantId)).toHaveLength(1);
  }, 60_000);

  it('refuses a batch posted while DynamoDB takes requests and never answers with a 503 (each attempt times out), and a retry once it answers sends it once', async () => {
    // Prepare
    const tenant = await s.tenant(FAST_PACE);
    const { numbers, body } = notificationBatch(5);

    // Act: whatever the unanswered requests wrote stands (a write whose answer was lost happened)
    dynamo().hang();
    let refused: TestResponse;
    try {
      refused = await s.test.post(path, body, { key: tenant.key });
    } finally {
      dynamo().answer();
    }
    // The refused request may have stored its campaign and holds its lease; an ERP retrying later finds it ended.
    s.test.clock.advance(CAMPAIGN_LEASE_MS + 1_000);
    const retried = await s.test.post(path, body, { key: tenant.key });
    const done = await s.waitForStatus(tenant, retried.body.queue_id, ['completed'], 30_000);

    // Assess
    expectStoreUnavailable(refused);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ accepted: 5, total_contacts: 5 });
    expect(done).toMatchObject({ total_contacts: 5, contacts_sent: 5 });
    expect(sentNumbers(s, tenant)).toEqual([...numbers].sort());
    expect(await s.test.allQueues(tenant.tenantId)).toHaveLength(1);
  }, 90_000);

  it('finishes a run DynamoDB left in the middle: nobody sent twice, every contact sent or (its outcome cut) unknown', async () => {
    // Prepare: 20 debtors at 2 a second, so the store goes down mid-run.
    const tenant = await s.tenant({ ...FAST_PACE, messagesPerMinute: 120 });
    const { numbers, body } = notificationBatch(20);
    const accepted = await s.test.post(path, body, { key: tenant.key });
    expect(accepted.status).toBe(200);
    await waitFor(() => s.sent(tenant).length >= 3, { timeoutMs: 20_000, what: 'three sends' });

    // Act: DynamoDB is down for a few seconds (the outage's length, not a wait for an outcome).
    await dynamo().stop();
    let sentWhileDown: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      sentWhileDown = s.sent(tenant).length;
    } finally {
      await dynamo().start();
    }
    const done = await s.waitForStatus(tenant, accepted.body.queue_id, ['completed'], 90_000);

    const contacts = (await s.test.container.store.listContacts(accepted.body.queue_id, { limit: 100 }))
      .items;

    // Assess: nobody twice. A write the outage cut between a claim and its record may leave a
    // contact's outcome unknown, which is never resent (the default `mark_unknown`); any other
    // contact is sent, and a contact recorded sent did reach the gateway.
    const log = sentNumbers(s, tenant);
    expect(sentWhileDown).toBeLessThan(20);
    expect(done).toMatchObject({ total_contacts: 20 });
    expect(new Set(log).size).toBe(log.length);
    expect(numbers).toEqual(expect.arrayContaining(log));
    expect(contacts).toHaveLength(20);
    for (const contact of contacts) expect(['sent', 'unknown']).toContain(contact.status);
    const recordedSent = contacts.filter((c) => c.status === 'sent').map((c) => c.phone.replace(/^\+/, ''));
    expect(log).toEqual(expect.arrayContaining(recordedSent));
    expect(done.contacts_sent).toBe(recordedSent.length);
  }, 120_000);

  // Right after the contacts (campaign stored, no queue yet), and right before the campaign is
  // completed (its queue stored `pending`, so the sweeper may already send it).
  it.each(['holdCampaign', 'completeCampaign'] as const)(
    'refuses an accept DynamoDB left after its campaign was stored (at %s) with a 503; a retry finishes it, each debtor sent once',
    async (step) => {
      // Prepare
      const tenant = await s.tenant(FAST_PACE);
      const { numbers, body } = notificationBatch(6);
      const restore = storeDiesAt(step);

      // Act
      let refused: TestResponse;
      try {
        refused = await s.test.post(path, body, { key: tenant.key });
      } finally {
        restore();
        await dynamo().start();
      }
      // The refused request holds the campaign's lease; an ERP retrying later finds it ended.
      s.test.clock.advance(CAMPAIGN_LEASE_MS + 1_000);
      const retried = await s.test.post(path, body, { key: tenant.key });
      const done = await s.waitForStatus(tenant, retried.body.queue_id, ['completed'], 30_000);
      const again = await s.test.post(path, body, { key: tenant.key });

      // Assess
      expectStoreUnavailable(refused);
      expect(retried.status).toBe(200);
      expect(retried.body).toMatchObject({ accepted: 6, total_contacts: 6 });
      expect(done).toMatchObject({ total_contacts: 6, contacts_sent: 6 });
      expect(sentNumbers(s, tenant)).toEqual([...numbers].sort());
      expect(await s.test.allQueues(tenant.tenantId)).toHaveLength(1);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(retried.body);
    },
    60_000,
  );
});
