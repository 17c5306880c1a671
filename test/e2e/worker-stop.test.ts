import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../lib/local/worker.ts';
import { type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * Ctrl-C on `npm start` stops the worker: sends stop at once (one already claimed may finish), every
 * contact is left where the next start resumes it, and nothing is sent twice when it does.
 */
describe('stopping the local worker', () => {
  let s: SendingStack;
  beforeAll(async () => {
    // A budget far longer than the test: a pump that ran out its budget would hang the stop.
    s = await startSendingStack('sqs', { env: { SENDER_BUDGET_SECONDS: '600' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('stops sending at once, leaves no claim behind, and the next worker sends the rest exactly once', async () => {
    // Prepare: a queue sending at 120 a minute
    const tenant = await s.tenant({ messagesPerMinute: 120, minIntervalSeconds: 0, jitterSeconds: 0 });
    const { queueId, numbers } = await s.sendBatch(tenant, 30);
    await waitFor(() => s.sent(tenant).length >= 3, { timeoutMs: 20_000, what: '3 sends' });

    // Act: stop the worker, as Ctrl-C does
    const worker = s.test.stack.worker;
    if (!worker) throw new Error('the stack runs no worker');
    const atStop = s.sent(tenant).length;
    await worker.stop();
    const afterStop = s.sent(tenant).length;
    const contacts = await s.test.get(`/api/v1/billing/queue/${queueId}/contacts?limit=100`, {
      key: tenant.key,
    });

    // Assess: at most the send already claimed went out, and no contact is left claimed
    expect(afterStop).toBeLessThanOrEqual(atStop + 1);
    expect(afterStop).toBeLessThan(30);
    const statuses = (contacts.body.contacts as Array<{ status: string }>).map((c) => c.status);
    expect(statuses).not.toContain('sending');
    expect(statuses.filter((status) => status === 'sent')).toHaveLength(afterStop);

    // Act: the next start's worker
    const next = await startWorker(s.test.container);
    try {
      const done = await s.waitForStatus(tenant, queueId, ['completed'], 60_000);

      // Assess
      const log = s.sent(tenant);
      expect(done).toMatchObject({ contacts_sent: 30, contacts_failed: 0 });
      expect(log).toHaveLength(30);
      expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
    } finally {
      await next.stop();
    }
  }, 120_000);
});
