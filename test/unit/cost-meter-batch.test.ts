import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { DeployedInfra } from '../../bench/cost/deployed-infra.ts';
import { CostMeter, type Tally } from '../../bench/cost/metering.ts';
import type { Container } from '../../lib/composition.ts';
import type { CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { ConsumeOptions, MessageDelivery, MessageQueue } from '../../lib/ports/message-queue.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';

/**
 * The cost bench's clock and the sender's billing: pumps' waits are skipped, not waited, and a
 * batch of FIFO groups run side by side is billed its own length (the longest group), not the sum.
 * Durations are on the meter's virtual clock, so they are checked to within the real time the
 * test itself takes (a few ms), never against the wall clock.
 */
const infra: DeployedInfra = {
  memoryMb: () => 256,
  crons: [],
  alarmMetrics: 0,
  dashboards: 0,
  accessLogFormat: '',
  functionUrls: new Set(),
  batching: () => ({ size: 10, windowSeconds: 0, maxConcurrency: 10 }),
};

/** Real work that does not sleep: the clock must not jump while it runs. */
const work = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const senderTally = (meter: CostMeter): Tally => meter.tallies().get('sender') as Tally;

/** Real milliseconds the test may spend on top of the virtual ones (timers, event loop). */
const SLACK_MS = 300;

describe('cost meter: sender batches on a shared virtual clock', () => {
  it('bills a batch of groups with different time lines the longest one, not their sum', async () => {
    // Arrange
    const meter = new CostMeter(infra);
    const before = meter.clock.now().getTime();

    // Act: three groups, 1 s, 5 s (two records) and 10 x 0.1 s of pacing waits.
    await meter.invoke('sender', () =>
      Promise.all([
        meter.pump('a', () => meter.sleep(1000)),
        meter.pump('b', () => meter.sleep(3000)).then(() => meter.pump('b', () => meter.sleep(2000))),
        meter.pump('c', async () => {
          for (let i = 0; i < 10; i++) await meter.sleep(100);
        }),
      ]),
    );

    // Assess
    const tally = senderTally(meter);
    expect(tally.invocations).toBe(1);
    expect(tally.groups).toBe(3);
    expect(tally.durationMs).toBeGreaterThanOrEqual(5000);
    expect(tally.durationMs).toBeLessThan(5000 + SLACK_MS);
    // The groups' own time lines add up to 7 s; the billed time does not.
    expect(tally.groupMs).toBeGreaterThanOrEqual(7000);
    expect(tally.groupMs).toBeLessThan(7000 + 3 * SLACK_MS);
    expect(tally.sleptMs).toBe(7000);
    expect(tally.gbSeconds).toBeCloseTo((tally.durationMs / 1000) * 0.25, 3);
    // Ten pumps' waits overlap: the clock moved 5 s, not 7.
    const moved = meter.clock.now().getTime() - before;
    expect(moved).toBeGreaterThanOrEqual(5000);
    expect(moved).toBeLessThan(5000 + SLACK_MS);
  });

  it('bills one group alone all of its waits, as before the batches', async () => {
    // Arrange
    const meter = new CostMeter(infra);

    // Act
    await meter.invoke('sender', () =>
      meter.pump('a', async () => {
        for (let i = 0; i < 3; i++) await meter.sleep(3250);
      }),
    );

    // Assess
    const tally = senderTally(meter);
    expect(tally.durationMs).toBeGreaterThanOrEqual(9750);
    expect(tally.durationMs).toBeLessThan(9750 + SLACK_MS);
    expect(tally.groupMs / tally.durationMs).toBeCloseTo(1, 1);
  });

  it('does not jump the clock while a pump works: a sleeper wakes on time, the worker sees real time', async () => {
    // Arrange
    const meter = new CostMeter(infra);
    const before = meter.clock.now().getTime();
    let seenByWorker = 0;

    // Act: a sleeps 1 s; b works 100 ms for real, then reads the clock, then sleeps 2 s.
    await meter.invoke('sender', () =>
      Promise.all([
        meter.pump('a', () => meter.sleep(1000)),
        meter.pump('b', async () => {
          await work(100);
          seenByWorker = meter.clock.now().getTime() - before;
          await meter.sleep(2000);
        }),
      ]),
    );

    // Assess: a's wait did not move the clock under b's work.
    expect(seenByWorker).toBeGreaterThanOrEqual(95);
    expect(seenByWorker).toBeLessThan(1000);
    const tally = senderTally(meter);
    expect(tally.durationMs).toBeGreaterThanOrEqual(2100);
    expect(tally.durationMs).toBeLessThan(2100 + SLACK_MS);
  });

  it('bills invocations running at once each its own length on the one clock', async () => {
    // Arrange
    const meter = new CostMeter(infra);

    // Act: more groups than one batch holds: two invocations side by side.
    await Promise.all([
      meter.invoke('sender', () => meter.pump('a', () => meter.sleep(1000))),
      meter.invoke('sender', () => meter.pump('b', () => meter.sleep(4000))),
    ]);

    // Assess: 1 s + 4 s billed, and the clock moved 4 s.
    const tally = senderTally(meter);
    expect(tally.invocations).toBe(2);
    expect(tally.durationMs).toBeGreaterThanOrEqual(5000);
    expect(tally.durationMs).toBeLessThan(5000 + 2 * SLACK_MS);
  });

  it('refuses a pump outside an invocation', async () => {
    const meter = new CostMeter(infra);
    await expect(meter.pump('a', async () => undefined)).rejects.toThrow(/inside an invocation/);
  });

  it('moves the clock on at once between scenarios, and never under a running pump', async () => {
    // Arrange
    const meter = new CostMeter(infra);
    const before = meter.clock.now().getTime();

    // Act
    meter.advance(20 * 60_000);
    const moved = meter.clock.now().getTime() - before;
    let refused = '';
    await meter.invoke('sender', () =>
      meter.pump('a', async () => {
        refused = (() => {
          try {
            meter.advance(1000);
            return 'advanced';
          } catch (error) {
            return (error as Error).message;
          }
        })();
      }),
    );

    // Assess
    expect(moved).toBeGreaterThanOrEqual(20 * 60_000);
    expect(moved).toBeLessThan(20 * 60_000 + SLACK_MS);
    expect(refused).toMatch(/pumps are running/);
  });
});

/** A queue whose deliveries the test hands to whatever the consumer was given. */
const handQueue = <T>() => {
  let handler: ((delivery: MessageDelivery<T>) => Promise<void>) | undefined;
  let options: ConsumeOptions | undefined;
  const queue: MessageQueue<T> = {
    publish: async () => undefined,
    consume: async (h, o) => {
      handler = h;
      options = o;
      return { stop: async () => undefined };
    },
    reachability: async () => 'ok',
    close: async () => undefined,
  };
  return {
    queue,
    deliver: (delivery: MessageDelivery<T>) =>
      (handler as (d: MessageDelivery<T>) => Promise<void>)(delivery),
    options: () => options,
  };
};

/**
 * A meter instrumenting hand-driven work and callbacks queues; `mapping` goes to the named one's
 * event source mapping (batches of up to 10, `windowMs`), whose run records each batch's message ids
 * and fails the `failed` ones.
 */
const instrumented = (
  queue: 'work' | 'callbacks',
  options: { windowMs: number; failed?: ReadonlySet<string> },
) => {
  const meter = new CostMeter(infra);
  const work = handQueue<WorkItem>();
  const callbacks = handQueue<CallbackRef>();
  const batches: string[][] = [];
  const c = {
    workQueue: work.queue,
    callbackQueue: callbacks.queue,
    scheduler: { schedule: async () => undefined, cancel: async () => undefined },
  } as unknown as Container;
  const mapping = {
    size: 10,
    windowMs: options.windowMs,
    concurrency: 100,
    run: async (deliveries: ReadonlyArray<{ messageId: string }>) => {
      batches.push(deliveries.map((d) => d.messageId));
      return options.failed ?? new Set<string>();
    },
  };
  if (queue === 'work') meter.instrument(c, mapping);
  else meter.instrument(c, undefined, mapping);
  return { meter, work, callbacks, c, batches };
};

describe('cost meter: the sender event source mapping', () => {
  const item = (n: number): MessageDelivery<WorkItem> => ({
    item: { queueId: `q${n}`, tenantId: `t${n}`, instanceId: `wa-${n}`, generation: 1 },
    messageId: `m${n}`,
    receiveCount: 1,
  });

  const setUp = (failed: ReadonlySet<string>) => instrumented('work', { windowMs: 30, failed });

  it('invokes the sender once per batch of up to ten records and settles each record by the answer', async () => {
    // Arrange
    const { meter, work, c, batches } = setUp(new Set(['m2']));
    await c.workQueue.consume(async () => undefined, { concurrency: 4 });

    // Act: twelve records arrive together.
    const settled = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => work.deliver(item(i + 1))));

    // Assess
    expect(batches).toEqual([
      ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10'],
      ['m11', 'm12'],
    ]);
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'rejected',
      ...Array.from({ length: 10 }, () => 'fulfilled'),
    ]);
    const tally = meter.tallies().get('sender') as Tally;
    expect(tally.invocations).toBe(2);
    // Per batch one ReceiveMessage and one DeleteMessageBatch.
    expect(tally.sqsFifoRequests).toBe(4);
    // Enough deliveries held at once for the batches in flight.
    expect(work.options()?.concurrency).toBe(100);
  });

  it('bills no delete when every record of a batch failed', async () => {
    // Arrange
    const { meter, work, c } = setUp(new Set(['m1']));
    await c.workQueue.consume(async () => undefined, { concurrency: 4 });

    // Act
    const settled = await Promise.allSettled([work.deliver(item(1))]);

    // Assess
    expect(settled[0]?.status).toBe('rejected');
    expect((meter.tallies().get('sender') as Tally).sqsFifoRequests).toBe(1);
  });
});

describe('cost meter: the callback sender event source mapping', () => {
  const ref = (n: number): MessageDelivery<CallbackRef> => ({
    item: { queueId: `q${n}`, eventId: `e${n}` },
    messageId: `c${n}`,
    receiveCount: 1,
  });

  const setUp = (windowMs: number, failed: ReadonlySet<string> = new Set()) =>
    instrumented('callbacks', { windowMs, failed });

  it('invokes once per batch, with a receive per record and one DeleteMessageBatch per batch', async () => {
    // Arrange
    const { meter, callbacks, c, batches } = setUp(2000, new Set(['c3']));
    await c.callbackQueue.consume(async () => undefined, { concurrency: 10 });

    // Act: twelve events arrive together, then the window closes the last two.
    const settled = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => callbacks.deliver(ref(i + 1))),
    );

    // Assess
    expect(batches).toEqual([
      ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10'],
      ['c11', 'c12'],
    ]);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    const tally = meter.tallies().get('callback-sender') as Tally;
    expect(tally.invocations).toBe(2);
    expect(tally.sqsStandardRequests).toBe(12 + 2);
    expect(callbacks.options()?.concurrency).toBe(100);
  });

  it('waits out the window on the virtual clock: a lone event is posted after it, without waiting it for real', async () => {
    // Arrange
    const { meter, callbacks, c, batches } = setUp(60_000);
    await c.callbackQueue.consume(async () => undefined, { concurrency: 10 });
    const virtualBefore = meter.clock.now().getTime();
    const realBefore = Date.now();

    // Act
    await callbacks.deliver(ref(1));

    // Assess: the minute passed on the meter's clock only.
    expect(batches).toEqual([['c1']]);
    // (to the millisecond: the clock is a Date on a sub-millisecond time line)
    expect(meter.clock.now().getTime() - virtualBefore).toBeGreaterThanOrEqual(59_999);
    expect(Date.now() - realBefore).toBeLessThan(SLACK_MS);
  });
});

describe('cost meter: HTTP requests', () => {
  const event = (routeKey: string) =>
    ({
      routeKey,
      rawPath: '/',
      body: '{}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST' } },
    }) as unknown as APIGatewayProxyEventV2;

  it('bills API Gateway and an access log line for a route, and neither for one reached through its function URL', async () => {
    // Arrange
    const meter = new CostMeter({
      ...infra,
      accessLogFormat: '{"routeKey":"$context.routeKey"}',
      functionUrls: new Set(['evolution-webhook']),
    });
    const handler = meter.httpHandler(async () => ({ statusCode: 200, body: '' }));

    // Act
    await handler(event('POST /api/v1/billing/send/overdue'), {} as Context);
    await handler(event('POST /api/v1/billing/webhooks/evolution/{tenant_id}/{instance_id}'), {} as Context);

    // Assess
    const tallies = meter.tallies();
    expect(tallies.get('send-overdue')?.apiGatewayRequests).toBe(1);
    expect(tallies.get('evolution-webhook')?.apiGatewayRequests).toBe(0);
    expect(tallies.get('evolution-webhook')?.invocations).toBe(1);
    // Lambda's own platform lines only, no access log line.
    const platformOnly = tallies.get('evolution-webhook')?.logBytes ?? 0;
    expect(tallies.get('send-overdue')?.logBytes).toBeGreaterThan(platformOnly);
  });
});
