import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAMPAIGN_LEASE_MS } from '../../lib/app/create-campaign.ts';
import type { BillingContact } from '../../lib/domain/types.ts';
import { API } from '../support/local-stack.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Issue 10, finding 3: an ERP retries an accept that is only slow, not dead. The first request
 * stalls inside its contact write past the campaign lease (the test moves the clock, no real
 * wait), the retry takes the campaign over, finishes it and the sender starts sending; then the
 * first request's late writes land. They must change nothing: every debtor gets one message.
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
    const tenant = await stack.tenant({ ...FAST_PACE, messagesPerMinute: 30 });
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
    const putContacts = container.store.putContacts.bind(container.store);
    let calls = 0;
    // The first request's contact write stalls until the test lets it land; later ones pass.
    container.store.putContacts = async (contacts) => {
      calls += 1;
      if (calls === 1) {
        firstWrite.arrive();
        await firstWrite.released;
      }
      return putContacts(contacts);
    };

    try {
      // Act: the first request stalls; its lease runs out; the ERP retries.
      const first = stack.test.post(path, body, { key: tenant.key });
      await firstWrite.arrived;
      clock.advance(CAMPAIGN_LEASE_MS + 1_000);
      const retry = await stack.test.post(path, body, { key: tenant.key });
      const queueId: string = retry.body.queue_id;
      // The sender is under way when the first request's writes land.
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
      container.store.putContacts = putContacts;
    }
  });
});
