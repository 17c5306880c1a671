import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedSqs,
  ensureCallbackQueue,
  ensureWorkQueues,
  startEmbeddedSqs,
} from '../../lib/local/embedded-sqs.ts';
import { FAST_PACE, type SendingStack, startSendingStack } from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The SQS emulator stops in the middle of a run and comes back empty on the same port (as an
 * SQS outage that loses what was in flight): the pump's continuation cannot be published, the
 * sweeper publishes the queue again once SQS answers, and every debtor still gets exactly one
 * message.
 */
describe('the SQS emulator stopped during a run', () => {
  let sqs: EmbeddedSqs;
  let s: SendingStack;
  beforeAll(async () => {
    sqs = await startEmbeddedSqs();
    s = await startSendingStack('sqs', {
      env: {
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        SWEEPER_GRACE_SECONDS: '2',
        SWEEPER_INTERVAL_SECONDS: '1',
      },
    });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await sqs?.close();
  }, 30_000);

  it('completes the queue with each debtor sent once after SQS comes back', async () => {
    // Prepare: 30 debtors at 600 a minute; the pump publishes a continuation every 2 s.
    const tenant = await s.tenant(FAST_PACE);
    const { queueId, numbers } = await s.sendBatch(tenant, 30);
    await waitFor(() => s.sent(tenant).length >= 5, { what: 'the first sends' });

    // Act: SQS goes away for a few seconds, then comes back with its queues but no messages.
    await sqs.close();
    const sentWhileDown = s.sent(tenant).length;
    await waitFor(async () => (await s.status(tenant, queueId)).status !== 'pending', {
      what: 'the pump to notice',
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    sqs = await startEmbeddedSqs({ port: sqs.port });
    const client = new SQSClient({
      // fauxqs names queues by URL, and its URLs carry the region: the stack's own.
      region: s.test.container.config.AWS_REGION,
      endpoint: sqs.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const name = s.test.container.config.WORK_QUEUE_NAME;
    await ensureWorkQueues(client, { name });
    await ensureCallbackQueue(client, `${name}-callbacks`);
    client.destroy();
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 40_000);

    // Assess
    const log = s.sent(tenant).map((m) => m.number);
    expect(sentWhileDown).toBeLessThan(30);
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 30, contacts_pending: 0 });
    expect(log).toHaveLength(30);
    expect(new Set(log)).toEqual(new Set(numbers));
    const metrics = await fetch(`${s.test.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /billing_dependency_failures_total\{dependency="work_queue",operation="publish"\} [1-9]/,
    );
  }, 60_000);
});
