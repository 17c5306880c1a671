import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItemOf } from '../../lib/app/queue-work.ts';
import { createSenderHandler } from '../../lib/lambda/sender-handler.ts';
import { toSqsEvent } from '../../lib/local/worker.ts';
import { type SendingStack, type SendingTenant, startSendingStack } from '../support/sending-stack.ts';

/**
 * The sender Lambda with batches of several work items: one invocation runs the pumps of several
 * WhatsApp instances at once (so it pays for their pacing waits once), on the real local stack.
 * No worker runs here: every send comes from the invocations the test makes.
 */

/** 300 per minute: 200 ms between one instance's sends. */
const PACE = { messagesPerMinute: 300, minIntervalSeconds: 0, jitterSeconds: 0, retryBackoffSeconds: 0 };

const lambdaContext = (ms: number) =>
  ({
    awsRequestId: 'batch',
    functionName: 'sender',
    getRemainingTimeInMillis: () => ms,
  }) as Parameters<ReturnType<typeof createSenderHandler>>[1];

describe('sender batches (several instances per invocation)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack('sqs', {
      roles: { api: true, worker: false },
      env: { SENDER_BUDGET_SECONDS: '20' },
    });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  /** One SQS FIFO event holding the current work item of each queue, grouped by instance. */
  const eventOf = async (queueIds: string[]): Promise<SQSEvent> => {
    const records = await Promise.all(
      queueIds.map(async (queueId, i) => {
        const queue = await s.test.container.store.getQueue(queueId);
        if (!queue) throw new Error(`queue ${queueId} not stored`);
        const item = workItemOf(queue, queue.publishGeneration);
        return toSqsEvent({ item, messageId: `${queueId}-${i}`, receiveCount: 1 }, 'batch').Records;
      }),
    );
    return { Records: records.flat() };
  };

  /** When each of a tenant's messages reached the simulator (ms). */
  const sendTimes = (tenant: SendingTenant) => s.sent(tenant).map((m) => Date.parse(m.at));

  it('sends the queues of three instances at the same time in one invocation, each exactly once', async () => {
    // Prepare
    const tenants = [await s.tenant(PACE), await s.tenant(PACE), await s.tenant(PACE)];
    const queues = [];
    for (const tenant of tenants) queues.push((await s.sendBatch(tenant, 10)).queueId);
    const sender = createSenderHandler(s.test.container);

    // Act
    const result = await sender(await eventOf(queues), lambdaContext(60_000));

    // Assess: every queue finished in this one invocation, and their send windows overlap
    expect(result.batchItemFailures).toEqual([]);
    for (const [i, tenant] of tenants.entries()) {
      const status = await s.status(tenant, queues[i] as string);
      expect(status).toMatchObject({ status: 'completed', contacts_sent: 10 });
      expect(new Set(s.sent(tenant).map((m) => m.number)).size).toBe(10);
      expect(s.sent(tenant)).toHaveLength(10);
    }
    const windows = tenants.map(sendTimes).map((t) => ({ from: Math.min(...t), to: Math.max(...t) }));
    const latestStart = Math.max(...windows.map((w) => w.from));
    const earliestEnd = Math.min(...windows.map((w) => w.to));
    expect(latestStart).toBeLessThan(earliestEnd);
  }, 30_000);

  it("holds a failed record's later records of its instance back, and lets the other instances finish", async () => {
    // Prepare: instance A's first record is unreadable, its second a real queue; B is healthy
    const [a, b] = [await s.tenant(PACE), await s.tenant(PACE)];
    const queueA = (await s.sendBatch(a, 5)).queueId;
    const queueB = (await s.sendBatch(b, 5)).queueId;
    const event = await eventOf([queueA, queueB]);
    const [recordA, recordB] = event.Records;
    if (!recordA || !recordB) throw new Error('missing records');
    const poison = { ...recordA, messageId: 'poison', body: '{"not":"a work item"}' };
    const sender = createSenderHandler(s.test.container);

    // Act
    const result = await sender({ Records: [poison, recordB, recordA] }, lambdaContext(60_000));

    // Assess: A's queue was not run behind its failed record (FIFO order kept), B finished
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: 'poison' },
      { itemIdentifier: recordA.messageId },
    ]);
    expect(s.sent(a)).toHaveLength(0);
    expect(await s.status(b, queueB)).toMatchObject({ status: 'completed', contacts_sent: 5 });
  }, 30_000);

  it("keeps one instance's sends apart when two invocations hold queues of it at once", async () => {
    // Prepare: two queues of instance X, one of instance Y, in two invocations running together
    const [x, y] = [await s.tenant(PACE), await s.tenant(PACE)];
    const first = (await s.sendBatch(x, 8, 'A')).queueId;
    const second = (await s.sendBatch(x, 8, 'B')).queueId;
    const other = (await s.sendBatch(y, 8)).queueId;
    // The pump's gateway calls for X, stamped by the monotonic clock (the time the gateway sees
    // pass; the wall clock here steps back a millisecond now and then: sending.test.ts).
    const calls: number[] = [];
    const container = s.test.container;
    const gateway = container.gateway;
    container.gateway = {
      sendText: (target, number, text, onRequestLeft) => {
        if (target.instanceName === x.instance) calls.push(performance.now());
        return gateway.sendText(target, number, text, onRequestLeft);
      },
      connectionState: (target) => gateway.connectionState(target),
    };
    const sender = createSenderHandler(container);

    // Act: the invocation that did not get X's lease hands its queue back; run it again until done
    try {
      await Promise.all([
        sender(await eventOf([first, other]), lambdaContext(60_000)),
        sender(await eventOf([second]), lambdaContext(60_000)),
      ]);
      for (let round = 0; round < 10; round += 1) {
        const pending = [];
        for (const queueId of [first, second]) {
          const queue = await container.store.getQueue(queueId);
          if (queue?.status !== 'completed') pending.push(queueId);
        }
        if (pending.length === 0) break;
        await sender(await eventOf(pending), lambdaContext(60_000));
      }
    } finally {
      container.gateway = gateway;
    }

    // Assess
    const numbers = s.sent(x).map((m) => m.number);
    expect(await s.status(x, first)).toMatchObject({ status: 'completed', contacts_sent: 8 });
    expect(await s.status(x, second)).toMatchObject({ status: 'completed', contacts_sent: 8 });
    expect(await s.status(y, other)).toMatchObject({ status: 'completed', contacts_sent: 8 });
    expect(numbers).toHaveLength(16);
    expect(new Set(numbers).size).toBe(16);
    const gaps = calls.slice(1).map((t, i) => t - (calls[i] as number));
    expect(calls).toHaveLength(16);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(199);
  }, 30_000);
});
