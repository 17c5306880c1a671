import { randomInt, randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_LEASE_MS } from '../../lib/app/create-campaign.ts';
import type { BillingContact } from '../../lib/domain/types.ts';
import { type AnyJson, API } from '../support/local-stack.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Issue 10, finding 3: an ERP retries an accept that is only slow, not dead. The first request
 * stalls right after storing its campaign (the quota step) past the campaign lease (the test
 * moves the clock, no real wait), the retry takes the campaign over, finishes it and the sender
 * starts sending; then the first request goes on. Its late writes must change nothing: every
 * debtor gets one message.
 */

let stack: SendingStack;

beforeAll(async () => {
  stack = await startSendingStack('sqs');
});

afterAll(async () => {
  await stack?.close();
});

/** A gate: `arrived` resolves when the held call comes in, `release()` lets it go on. */
const gate = () => {
  let arrive = () => {};
  let release = () => {};
  const arrived = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { arrived, released, arrive, release };
};

describe('Accept API: a retry of a slow request', () => {
  it('sends each debtor exactly one message when the slow first request writes after the retry finished', async () => {
    // Prepare: a pace slow enough (one send every 2 s) that the late write lands mid-queue.
    // A daily limit, so the request records its quota reservation: the step it stalls in.
    const tenant = await stack.tenant({ ...FAST_PACE, messagesPerMinute: 30, dailyMessageLimit: 1000 });
    const { container, clock } = stack.test;
    const numbers = Array.from(
      { length: 3 },
      (_, i) => `119${String(randomInt(10_000_000)).padStart(7, '0')}${i}`,
    );
    const body = {
      external_id: `slow-${randomUUID()}`,
      contacts: numbers.map((n, i) => ({
        nome_cliente: `Devedor ${i}`,
        telefone: n,
        mensagem: 'Aviso de teste',
      })),
    };
    const path = `${API}/send/notification`;
    const firstWrite = gate();
    const markQuota = container.store.markCampaignQuotaReserved.bind(container.store);
    let calls = 0;
    // The first request stalls once its campaign is stored, until the test lets it go on.
    container.store.markCampaignQuotaReserved = async (...args) => {
      calls += 1;
      if (calls === 1) {
        firstWrite.arrive();
        await firstWrite.released;
      }
      return markQuota(...args);
    };

    try {
      // Act: the first request stalls; its lease runs out; the ERP retries.
      const first = stack.test.post(path, body, { key: tenant.key });
      await firstWrite.arrived;
      clock.advance(CAMPAIGN_LEASE_MS + 1_000);
      const retry = await stack.test.post(path, body, { key: tenant.key });
      const queueId: string = retry.body.queue_id;
      // The sender is under way when the first request goes on.
      await waitFor(() => stack.sent(tenant).length >= 1, { timeoutMs: 20_000, what: 'the first send' });
      firstWrite.release();
      const late = await first;
      const done = await stack.waitForStatus(tenant, queueId, ['completed'], 30_000);
      const contacts = await container.store.listContacts(queueId, { limit: 10 });

      // Assess
      const sentTo = stack
        .sent(tenant)
        .map((m) => m.number)
        .sort();
      expect(sentTo).toEqual(numbers.map((n) => `55${n}`).sort());
      expect(contacts.items.map((c: BillingContact) => c.status)).toEqual(['sent', 'sent', 'sent']);
      expect(done).toMatchObject({ total_contacts: 3, contacts_sent: 3 });
      expect(await stack.test.allQueues(tenant.tenantId)).toHaveLength(1);
      expect(retry.status).toBe(200);
      // The slow request answers like a duplicate: the campaign's answer, never a 5xx.
      expect(late.status).toBe(200);
      expect(late.headers.get('idempotent-replayed')).toBe('true');
      expect(late.body).toEqual(retry.body);
    } finally {
      firstWrite.release();
      container.store.markCampaignQuotaReserved = markQuota;
    }
  });

  it('leaves no contacts behind for requests that lost the campaign or were refused', async () => {
    // Prepare: room for two debtors a day.
    const tenant = await stack.tenant({ ...FAST_PACE, dailyMessageLimit: 2 });
    const { container } = stack.test;
    const path = `${API}/send/notification`;
    const batch = (externalId: string, n: number) => ({
      external_id: externalId,
      contacts: [
        {
          nome_cliente: 'Devedor',
          telefone: `119${String(randomInt(10_000_000)).padStart(7, '0')}${n}`,
          mensagem: 'Aviso',
        },
      ],
    });
    const same = batch(`race-${randomUUID()}`, 0);

    // Act: 10 identical concurrent posts (one campaign), then two more batches (one over the limit).
    const racing = await Promise.all(
      Array.from({ length: 10 }, () => stack.test.post(path, same, { key: tenant.key })),
    );
    const second = await stack.test.post(path, batch(`b-${randomUUID()}`, 1), { key: tenant.key });
    const third = await stack.test.post(path, batch(`c-${randomUUID()}`, 2), { key: tenant.key });
    const items: AnyJson[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await container.dynamo.send(
        new ScanCommand({
          TableName: container.config.TABLE_NAME,
          FilterExpression: 'tenantId = :t AND begins_with(sk, :c)',
          ExpressionAttributeValues: { ':t': tenant.tenantId, ':c': 'CONTACT#' },
          // The stack's DynamoDB lags eventually consistent reads: read what is stored now.
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);

    // Assess
    expect(racing.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(racing.map((r) => r.body.queue_id)).size).toBe(1);
    expect(second.status).toBe(200);
    expect(third.status).toBe(429);
    // A contact item holds its queue in its key only (`QUEUE#<queueId>`, docs/data-model.md, Contact).
    expect(items.map((c) => String(c.pk).replace(/^QUEUE#/, '')).sort()).toEqual(
      [racing[0]?.body.queue_id, second.body.queue_id].sort(),
    );
  });
});
