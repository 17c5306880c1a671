import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureTenant } from '../../lib/app/configure-tenant.ts';
import { workItemOf } from '../../lib/app/queue-work.ts';
import { createSenderHandler } from '../../lib/lambda/sender-handler.ts';
import type { SimSentMessage } from '../../lib/local/evolution-simulator/index.ts';
import { toSqsEvent } from '../../lib/local/worker.ts';
import { forceCloseConnections } from '../support/rabbitmq.ts';
import {
  FAST_PACE,
  type QueueDriver,
  type SendingStack,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

/** Numbers that appear more than once in a send log. */
const duplicates = (log: readonly SimSentMessage[]): string[] => {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const m of log) {
    if (seen.has(m.number)) twice.add(m.number);
    seen.add(m.number);
  }
  return [...twice];
};

/** Milliseconds between consecutive sends of a log. */
const gaps = (log: readonly SimSentMessage[]): number[] =>
  log.slice(1).map((m, i) => Date.parse(m.at) - Date.parse((log[i] as SimSentMessage).at));

/**
 * Checks, over a bounded window, that a value does not change: this is not a sleep waiting for an
 * outcome, it is the observation that nothing happens (a stopped queue must stay stopped).
 */
const staysTheSame = async <T>(read: () => T, windowMs: number): Promise<T[]> => {
  const seen = [read()];
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    seen.push(read());
  }
  return seen;
};

const lambdaContext = (ms: number) =>
  ({
    awsRequestId: 'dup',
    functionName: 'sender',
    getRemainingTimeInMillis: () => ms,
  }) as Parameters<ReturnType<typeof createSenderHandler>>[1];

describe.each<QueueDriver>(['sqs', 'rabbitmq'])('sending (%s driver)', (driver) => {
  let s: SendingStack;
  beforeAll(async () => {
    s = await startSendingStack(driver);
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('sends 50 contacts exactly once across continuations and completes with exact counters', async () => {
    // Prepare
    const tenant = await s.tenant();

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 50);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed', 'cancelled'], 25_000);

    // Assess
    const log = s.sent(tenant);
    expect(done).toMatchObject({
      status: 'completed',
      total_contacts: 50,
      contacts_sent: 50,
      contacts_failed: 0,
      contacts_pending: 0,
      progress_percent: 100,
    });
    expect(log).toHaveLength(50);
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
  }, 30_000);

  it('stops before the next send when paused and sends the rest exactly once after resume', async () => {
    // Prepare
    const tenant = await s.tenant();
    const { queueId, numbers } = await s.sendBatch(tenant, 40);
    await waitFor(() => s.sent(tenant).length >= 10, { timeoutMs: 10_000, what: '10 sends' });

    // Act: pause
    const paused = await s.control(tenant, queueId, 'pause');
    const atPause = s.sent(tenant).length;
    const window = await staysTheSame(() => s.sent(tenant).length, 2000);
    const whilePaused = await s.status(tenant, queueId);

    // Assess: nothing new went out after the pause answered. One send may still land: the pump
    // read `running` and claimed its contact a few ms before the pause was written (the gap
    // between the pump's status read and the gateway call is not closed by any single write).
    const settled = window[window.length - 1] as number;
    expect(paused.status).toBe(200);
    expect(settled).toBeLessThanOrEqual(atPause + 1);
    expect(window.slice(5)).toEqual(window.slice(5).map(() => settled));
    expect(settled).toBeLessThan(40);
    expect(whilePaused.status).toBe('paused');

    // Act: resume
    const resumed = await s.control(tenant, queueId, 'resume');
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 20_000);

    // Assess
    const log = s.sent(tenant);
    expect(resumed.status).toBe(200);
    expect(done).toMatchObject({ contacts_sent: 40, contacts_failed: 0, contacts_pending: 0 });
    expect(log).toHaveLength(40);
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
  }, 30_000);

  it('cancels in the middle: unsent contacts cancelled, nothing claimed after the cancel answered goes out', async () => {
    // Prepare
    const tenant = await s.tenant();
    const { queueId } = await s.sendBatch(tenant, 40);
    await waitFor(() => s.sent(tenant).length >= 10, { timeoutMs: 10_000, what: '10 sends' });
    const store = s.test.container.store;
    const contactsNow = async () => (await store.listContacts(queueId, { limit: 100 })).items;

    // Act
    const cancelled = await s.control(tenant, queueId, 'cancel');
    const answeredAt = s.test.clock.now().toISOString();
    // A send claimed before the answer may still go out (a claimed send is never undone); it is in
    // `sending` now, or already in the gateway's log read next.
    const claimed = (await contactsNow()).filter((c) => c.status === 'sending');
    const inFlight = claimed.length;
    const atCancel = s.sent(tenant).length;
    const window = await staysTheSame(() => s.sent(tenant).length, 2000);
    const after = await s.status(tenant, queueId);

    // Assess
    expect(cancelled.status).toBe(200);
    expect(inFlight).toBeLessThanOrEqual(1);
    for (const contact of claimed) expect(String(contact.claimedAt) <= answeredAt).toBe(true);
    expect(Math.max(...window)).toBeLessThanOrEqual(atCancel + inFlight);
    const sentInAll = s.sent(tenant).length;
    expect(after.status).toBe('cancelled');
    expect(after.contacts_sent).toBe(sentInAll);
    expect(after.contacts_cancelled + after.contacts_sent).toBe(40);
    expect(after.contacts_cancelled).toBeGreaterThan(0);
    const contacts = await contactsNow();
    const count = (status: string) => contacts.filter((c) => c.status === status).length;
    expect(count('cancelled')).toBe(after.contacts_cancelled);
    expect(count('sent')).toBe(sentInAll);
  }, 30_000);

  it('retries transient gateway failures and then sends every contact once', async () => {
    // Prepare
    const tenant = await s.tenant();
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'connection_closed', count: 2 });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'http500', count: 1 });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'rate_overlimit', count: 1 });

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 6);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed'], 20_000);

    // Assess
    const log = s.sent(tenant);
    expect(done).toMatchObject({
      status: 'completed',
      contacts_sent: 6,
      contacts_failed: 0,
      contacts_pending_retry: 0,
      contacts_pending: 0,
    });
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
    const contacts = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
    expect(contacts.reduce((sum, c) => sum + c.attempts, 0)).toBe(6 + 4);
  }, 30_000);

  it('fails a contact with the gateway reason once maxRetries is spent', async () => {
    // Prepare
    const tenant = await s.tenant({
      messagesPerMinute: 600,
      minIntervalSeconds: 0,
      jitterSeconds: 0,
      retryBackoffSeconds: 0,
      maxRetries: 1,
    });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'connection_closed', count: 3 });

    // Act
    const { queueId } = await s.sendBatch(tenant, 1);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed'], 20_000);

    // Assess
    const [contact] = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
    expect(done).toMatchObject({
      status: 'completed',
      contacts_sent: 0,
      contacts_failed: 1,
      contacts_pending_retry: 0,
      contacts_pending: 0,
    });
    expect(contact).toMatchObject({ status: 'failed', attempts: 2, lastError: 'connection closed' });
    expect(s.sent(tenant)).toHaveLength(0);
    expect(s.simulator.instances().find((i) => i.name === tenant.instance)?.pendingFailures).toEqual([
      'connection_closed',
    ]);
  }, 30_000);

  it('fails a number that is not on WhatsApp at once, without a retry', async () => {
    // Prepare
    const tenant = await s.tenant();
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'not_on_whatsapp', count: 1 });

    // Act
    const { queueId } = await s.sendBatch(tenant, 3);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed'], 20_000);

    // Assess
    const contacts = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
    const failed = contacts.filter((c) => c.status === 'failed');
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 2, contacts_failed: 1 });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attempts: 1, lastError: 'not on WhatsApp' });
    expect(s.sent(tenant)).toHaveLength(2);
  }, 30_000);

  it('marks a timed-out send unknown and never resends it', async () => {
    // Prepare
    const tenant = await s.tenant();
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'timeout', count: 1 });

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 4);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed'], 20_000);

    // Assess: the simulator took the timed-out message (it went out) exactly once
    const log = s.sent(tenant);
    const contacts = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
    const unknown = contacts.filter((c) => c.status === 'unknown');
    expect(done).toMatchObject({
      status: 'completed',
      contacts_sent: 3,
      contacts_unknown: 1,
      contacts_failed: 0,
    });
    expect(unknown).toHaveLength(1);
    expect(unknown[0]?.attempts).toBe(1);
    expect(log).toHaveLength(4);
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
  }, 30_000);

  it('sends no contact twice when the same work item is delivered twice at once', async () => {
    // Prepare
    const tenant = await s.tenant();
    const { queueId, numbers } = await s.sendBatch(tenant, 20);
    const queue = await s.test.container.store.getQueue(queueId);
    if (!queue) throw new Error('queue not stored');
    const item = workItemOf(queue, queue.publishGeneration);
    const sender = createSenderHandler(s.test.container);
    const event = toSqsEvent({ item, messageId: 'dup-1', receiveCount: 1 }, 'dup');

    // Act: the item the API published is being consumed; deliver it again twice, in-process and via the broker
    const [first, second] = await Promise.all([
      sender(event, lambdaContext(32_000)),
      sender(event, lambdaContext(32_000)),
      s.test.container.workQueue.publish(item),
      s.test.container.workQueue.publish(item),
    ]);
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 20_000);

    // Assess
    const log = s.sent(tenant);
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(done.contacts_sent).toBe(20);
    expect(log).toHaveLength(20);
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
  }, 30_000);

  it('lets two queues of one instance take turns, never closer than the interval', async () => {
    // Prepare: 300 per minute = 200 ms apart; a 2 s budget lets each run send about 10
    const tenant = await s.tenant({
      messagesPerMinute: 300,
      minIntervalSeconds: 0,
      jitterSeconds: 0,
      retryBackoffSeconds: 0,
    });

    // The pump's gateway calls, stamped as it makes them (what its pacing promises), by the
    // monotonic clock: the time that passes for the gateway. Not by the wall clock, which on this
    // machine gains about 0.4 ms a second on it and steps back about 1 ms every 2 s (more under
    // load), so wall stamps would show gaps a few ms short that no one saw.
    const calls: number[] = [];
    const callNumbers: string[] = [];
    const container = s.test.container;
    const gateway = container.gateway;
    container.gateway = {
      sendText: (target, number, text, onRequestLeft) => {
        if (target.instanceName === tenant.instance) {
          calls.push(performance.now());
          callNumbers.push(number);
        }
        return gateway.sendText(target, number, text, onRequestLeft);
      },
      connectionState: (target) => gateway.connectionState(target),
    };

    // Act
    const a = await s.sendBatch(tenant, 20, 'A');
    const b = await s.sendBatch(tenant, 20, 'B');
    await s.waitForStatus(tenant, a.queueId, ['completed'], 25_000);
    await s.waitForStatus(tenant, b.queueId, ['completed'], 25_000);

    // Assess
    const log = s.sent(tenant);
    const owner = (m: SimSentMessage) => (a.numbers.includes(m.number) ? 'A' : 'B');
    const blocks = log.map(owner).filter((q, i, all) => i === 0 || all[i - 1] !== q);
    expect(log).toHaveLength(40);
    expect(duplicates(log)).toEqual([]);
    // Interleaved in blocks: A.., B.., A.. (at least three blocks), not one queue after the other.
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    container.gateway = gateway;
    // Never closer than 200 ms between the pump's gateway calls (1 ms: what the wall clock, which
    // the lease carries the last send on, can gain between a hand-over and the next run's start);
    // two pumps sending at once would put calls a few ms apart.
    const callGaps = calls.slice(1).map((t, i) => t - (calls[i] as number));
    // Should it fail: which calls came too close, of which queues (a hand-over from A to B or back).
    const short = callGaps.flatMap((gap, i) =>
      gap < 199
        ? [
            `#${i + 1} ${gap.toFixed(1)} ms ${a.numbers.includes(callNumbers[i] ?? '') ? 'A' : 'B'}->${a.numbers.includes(callNumbers[i + 1] ?? '') ? 'A' : 'B'}`,
          ]
        : [],
    );
    expect(calls).toHaveLength(40);
    expect(Math.min(...callGaps), short.join(', ')).toBeGreaterThanOrEqual(199);
  }, 30_000);

  it('runs queues of two instances in parallel', async () => {
    // Prepare
    const first = await s.tenant();
    const second = await s.tenant();

    // Act
    const a = await s.sendBatch(first, 20);
    const b = await s.sendBatch(second, 20);
    await s.waitForStatus(first, a.queueId, ['completed'], 20_000);
    await s.waitForStatus(second, b.queueId, ['completed'], 20_000);

    // Assess: the two send windows overlap in time
    const logA = s.sent(first).map((m) => Date.parse(m.at));
    const logB = s.sent(second).map((m) => Date.parse(m.at));
    expect(logA).toHaveLength(20);
    expect(logB).toHaveLength(20);
    expect(Math.min(...logA)).toBeLessThan(Math.max(...logB));
    expect(Math.min(...logB)).toBeLessThan(Math.max(...logA));
    const bDuringA = logB.filter((t) => t > Math.min(...logA) && t < Math.max(...logA));
    expect(bDuringA.length).toBeGreaterThanOrEqual(5);
  }, 30_000);

  it('applies a new pace to a running queue without pause or resume', async () => {
    // Prepare: 60 per minute = one a second
    const tenant = await s.tenant({
      messagesPerMinute: 60,
      minIntervalSeconds: 0,
      jitterSeconds: 0,
      retryBackoffSeconds: 0,
    });
    const { queueId } = await s.sendBatch(tenant, 20);
    await waitFor(() => s.sent(tenant).length >= 3, { timeoutMs: 10_000, what: '3 slow sends' });

    // Act
    await configureTenant(s.test.container, tenant.tenantId, { messagesPerMinute: 600 });
    const done = await s.waitForStatus(tenant, queueId, ['completed'], 20_000);

    // Assess
    const spacing = gaps(s.sent(tenant));
    expect(done.contacts_sent).toBe(20);
    expect(spacing.slice(0, 2).every((g) => g >= 900)).toBe(true);
    // The new pace (100 ms): the median of the last five gaps, since one of them may be a hand-off
    // to the next run (a continuation through the broker), slow on a loaded machine.
    const lastFive = spacing.slice(-5).sort((x, y) => x - y);
    expect(lastFive[2]).toBeLessThan(500);
  }, 30_000);

  // RabbitMQ only: the embedded SQS emulator has no connection to drop.
  if (driver === 'rabbitmq')
    it('survives the broker dropping its connection mid-run and sends each contact once', async () => {
      // Prepare
      const tenant = await s.tenant();
      const { queueId, numbers } = await s.sendBatch(tenant, 40);
      await waitFor(() => s.sent(tenant).length >= 10, { timeoutMs: 10_000, what: '10 sends' });

      // Act
      const closed = await forceCloseConnections(s.connectionName);
      const done = await s.waitForStatus(tenant, queueId, ['completed'], 25_000);

      // Assess
      const log = s.sent(tenant);
      expect(closed).toBeGreaterThanOrEqual(1);
      expect(done.contacts_sent).toBe(40);
      expect(log).toHaveLength(40);
      expect(duplicates(log)).toEqual([]);
      expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
    }, 30_000);
});

describe('sending on an index that lags every write (sqs driver)', () => {
  let s: SendingStack;
  beforeAll(async () => {
    // Every write reaches the index half a second late: an index read right after a write always
    // shows the item as it was (the worst case of DynamoDB's eventually consistent GSIs).
    s = await startSendingStack('sqs', { indexLag: { maxLagMs: 500, random: () => 1 } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it('does not complete a queue while a contact waits in retry, and sends that contact', async () => {
    // Prepare: the first send fails (transient) and the retry is due a second later.
    const tenant = await s.tenant({ ...FAST_PACE, retryBackoffSeconds: 1 });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'http500', count: 1 });

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 1);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed', 'cancelled'], 20_000);

    // Assess
    const contacts = (await s.test.container.store.listContacts(queueId, { limit: 10 })).items;
    expect(contacts.map((c) => [c.status, c.attempts])).toEqual([['sent', 2]]);
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 1, contacts_pending_retry: 0 });
    expect(s.sent(tenant).map((m) => m.number)).toEqual(numbers);
    expect(s.dynamo?.stats().staleReads).toBeGreaterThan(0);
  }, 30_000);

  it('sends 30 contacts with retries exactly once and completes with exact counters', async () => {
    // Prepare
    const tenant = await s.tenant({ ...FAST_PACE, retryBackoffSeconds: 1 });
    s.simulator.injectFailures({ instance: tenant.instance, kind: 'connection_closed', count: 3 });

    // Act
    const { queueId, numbers } = await s.sendBatch(tenant, 30);
    const done = await s.waitForStatus(tenant, queueId, ['completed', 'failed', 'cancelled'], 25_000);

    // Assess
    const log = s.sent(tenant);
    expect(done).toMatchObject({ status: 'completed', contacts_sent: 30, contacts_pending_retry: 0 });
    expect(duplicates(log)).toEqual([]);
    expect(new Set(log.map((m) => m.number))).toEqual(new Set(numbers));
  }, 30_000);
});
