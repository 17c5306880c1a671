import { randomUUID } from 'node:crypto';
import { setTimeout as simulateWork } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackDeliveryError } from '../../lib/adapters/queue/callback-ref-schema.ts';
import type { CallbackQueue, CallbackQueueDelivery, CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { Consumer } from '../../lib/ports/work-queue.ts';
import { waitFor } from '../support/wait-for.ts';

/** One adapter on fresh, empty queues, plus what the contract needs to look behind it. */
export interface CallbackQueueFixture {
  queue: CallbackQueue;
  /** Deliveries of one ref before it goes to the dead-letter queue, as configured for this fixture. */
  maxReceiveCount: number;
  /** Puts a body on the queue without the adapter (e.g. one that fails the schema). */
  publishRaw(body: string): Promise<void>;
  /** Every body seen in the dead-letter queue so far (reading takes them off it). */
  deadLetterBodies(): Promise<string[]>;
  /** Messages still on the queue, ready or unacknowledged; meaningful once consumers are stopped. */
  remaining(): Promise<number>;
  /** Closes the adapter and deletes the queues. */
  dispose(): Promise<void>;
}

const ref = (): CallbackRef => {
  const queueId = randomUUID();
  return { queueId, eventId: `${queueId}:0:sent` };
};

/** A handler that records deliveries and runs `behaviour` (default: succeed). */
const recorder = (behaviour: (delivery: CallbackQueueDelivery) => Promise<void> = async () => {}) => {
  const deliveries: CallbackQueueDelivery[] = [];
  const handler = async (delivery: CallbackQueueDelivery) => {
    deliveries.push(delivery);
    await behaviour(delivery);
  };
  const of = (eventId: string) => deliveries.filter((d) => d.ref.eventId === eventId);
  return { deliveries, handler, of };
};

/**
 * The behaviour every CallbackQueue implementation must show (SQS standard and RabbitMQ run the
 * same cases). `makeQueue` returns a fixture on new queues; the suite disposes of it after each case.
 */
export function callbackQueueContract(name: string, makeQueue: () => Promise<CallbackQueueFixture>): void {
  describe(`${name} (CallbackQueue contract)`, () => {
    const fixtures: CallbackQueueFixture[] = [];
    const consumers: Consumer[] = [];

    const fresh = async () => {
      const fixture = await makeQueue();
      fixtures.push(fixture);
      return fixture;
    };
    const consume = async (
      queue: CallbackQueue,
      handler: (delivery: CallbackQueueDelivery) => Promise<void>,
      concurrency = 1,
      onError?: (error: unknown) => void,
    ) => {
      const consumer = await queue.consume(handler, { concurrency, onError });
      consumers.push(consumer);
      return consumer;
    };

    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      await Promise.all(fixtures.splice(0).map((fixture) => fixture.dispose()));
    });

    it('delivers a published ref intact on its first receive', async () => {
      // Prepare
      const { queue } = await fresh();
      const published = ref();
      const seen = recorder();
      await consume(queue, seen.handler);

      // Act
      await queue.publish(published);

      // Assess
      await waitFor(() => seen.deliveries.length >= 1, { what: 'the delivery' });
      expect(seen.deliveries[0]?.ref).toEqual(published);
      expect(seen.deliveries[0]?.receiveCount).toBe(1);
      expect(seen.deliveries[0]?.messageId).toMatch(/\S/);
    });

    it('delivers every one of 30 refs once and leaves nothing behind when all succeed', async () => {
      // Prepare
      const fixture = await fresh();
      const refs = Array.from({ length: 30 }, ref);
      const seen = recorder();
      const consumer = await consume(fixture.queue, seen.handler, 5);

      // Act
      await Promise.all(refs.map((published) => fixture.queue.publish(published)));
      await waitFor(() => new Set(seen.deliveries.map((d) => d.ref.eventId)).size === 30, {
        what: 'all 30 refs',
        timeoutMs: 20_000,
      });
      await consumer.stop();

      // Assess
      for (const published of refs) expect(seen.of(published.eventId)).toHaveLength(1);
      expect(await fixture.remaining()).toBe(0);
    });

    it('delivers a ref again with a higher receiveCount when its handler throws', async () => {
      // Prepare
      const { queue } = await fresh();
      const published = ref();
      const seen = recorder(async (delivery) => {
        if (delivery.receiveCount === 1) throw new Error('store unavailable');
      });
      const errors: unknown[] = [];
      await consume(queue, seen.handler, 1, (error) => errors.push(error));

      // Act
      await queue.publish(published);

      // Assess
      await waitFor(() => seen.deliveries.length >= 2, { what: 'the redelivery', timeoutMs: 15_000 });
      expect(seen.deliveries.map((d) => d.receiveCount)).toEqual([1, 2]);
      expect(seen.deliveries[1]?.ref).toEqual(published);
      expect(errors[0]).toBeInstanceOf(CallbackDeliveryError);
      expect((errors[0] as CallbackDeliveryError).kind).toBe('handler-failed');
    });

    it('moves a ref to the dead-letter queue after maxReceiveCount failures and stops delivering it', async () => {
      // Prepare
      const fixture = await fresh();
      const poison = ref();
      const sentinel = ref();
      const seen = recorder(async (delivery) => {
        if (delivery.ref.eventId === poison.eventId) throw new Error('always fails');
      });
      const errors: CallbackDeliveryError[] = [];
      await consume(fixture.queue, seen.handler, 2, (error) => errors.push(error as CallbackDeliveryError));

      // Act
      await fixture.queue.publish(poison);
      const dead = await waitFor(
        async () => (await fixture.deadLetterBodies()).find((body) => body.includes(poison.eventId)),
        { what: 'the ref in the dead-letter queue', timeoutMs: 25_000, intervalMs: 200 },
      );
      await fixture.queue.publish(sentinel);
      await waitFor(() => seen.of(sentinel.eventId).length === 1, {
        what: 'the sentinel',
        timeoutMs: 10_000,
      });

      // Assess
      expect(JSON.parse(dead)).toEqual(poison);
      const attempts = seen.of(poison.eventId).map((d) => d.receiveCount);
      expect(attempts).toEqual(Array.from({ length: fixture.maxReceiveCount }, (_, i) => i + 1));
      expect(errors.map((e) => e.kind).at(-1)).toBe('dead-lettered');
    });

    it('sends a body that fails the schema to the dead-letter queue without calling the handler', async () => {
      // Prepare
      const fixture = await fresh();
      const seen = recorder();
      const errors: CallbackDeliveryError[] = [];
      await consume(fixture.queue, seen.handler, 1, (error) => errors.push(error as CallbackDeliveryError));

      // Act
      await fixture.publishRaw('{"queueId":42}');

      // Assess
      await waitFor(async () => (await fixture.deadLetterBodies()).includes('{"queueId":42}'), {
        what: 'the malformed body in the dead-letter queue',
        timeoutMs: 25_000,
        intervalMs: 200,
      });
      expect(seen.deliveries).toHaveLength(0);
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors.every((e) => e.kind === 'invalid-body')).toBe(true);
    });

    it('stop() resolves only after the handler in flight has finished, and that ref is acknowledged', async () => {
      // Prepare
      const fixture = await fresh();
      let started = false;
      let finished = false;
      // Concurrency 2 leaves a free slot, so the receive loop is not itself waiting for this handler.
      const consumer = await consume(
        fixture.queue,
        async () => {
          started = true;
          // A slow ERP: longer than any receive wait, so a stop() that did not wait would return first.
          await simulateWork(3_000);
          finished = true;
        },
        2,
      );
      await fixture.queue.publish(ref());
      await waitFor(() => started, { what: 'the handler to start' });

      // Act
      await consumer.stop();

      // Assess
      expect(finished).toBe(true);
      expect(await fixture.remaining()).toBe(0);
    });

    it('never runs more handlers at once than the concurrency asked for', async () => {
      // Prepare
      const { queue } = await fresh();
      const refs = Array.from({ length: 12 }, ref);
      let active = 0;
      let peak = 0;
      let done = 0;
      for (const published of refs) await queue.publish(published);

      // Act
      await consume(
        queue,
        async () => {
          active += 1;
          peak = Math.max(peak, active);
          await simulateWork(150);
          active -= 1;
          done += 1;
        },
        3,
      );

      // Assess
      await waitFor(() => done === 12, { what: 'all 12 handlers', timeoutMs: 20_000 });
      expect(peak).toBe(3);
    });
  });
}
