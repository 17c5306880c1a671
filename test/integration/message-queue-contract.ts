import { randomUUID } from 'node:crypto';
import { setTimeout as simulateWork } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { callbackRefCodec } from '../../lib/adapters/queue/callback-ref-schema.ts';
import { DeliveryError } from '../../lib/adapters/queue/delivery-error.ts';
import type { MessageCodec } from '../../lib/adapters/queue/message-codec.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import type { CallbackRef } from '../../lib/ports/callback-queue.ts';
import type { Consumer, MessageDelivery, MessageQueue } from '../../lib/ports/message-queue.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
import { waitFor } from '../support/wait-for.ts';

/** One message type: its codec (the adapters' side), and how the contract makes and tells apart its messages. */
export interface MessageKind<T> {
  codec: MessageCodec<T>;
  /** A new message, unique by `idOf`; messages made with one `group` share a FIFO group where the queue has groups. */
  make(group: string): T;
  idOf(item: T): string;
}

export const workItems: MessageKind<WorkItem> = {
  codec: workItemCodec,
  make: (instanceId) => ({ queueId: randomUUID(), tenantId: 'tenant-1', instanceId, generation: 7 }),
  idOf: (item) => item.queueId,
};

export const callbackRefs: MessageKind<CallbackRef> = {
  codec: callbackRefCodec,
  // The callbacks queue has no groups: every ref stands alone.
  make: () => {
    const queueId = randomUUID();
    return { queueId, eventId: `${queueId}:0:sent` };
  },
  idOf: (ref) => ref.eventId,
};

/** One adapter on fresh, empty queues, plus what the contract needs to look behind it. */
export interface MessageQueueFixture<T> {
  queue: MessageQueue<T>;
  /** Deliveries of one message before it goes to the dead-letter queue, as configured for this fixture. */
  maxReceiveCount: number;
  /** Puts a body on the queue without the adapter (e.g. one that fails the schema), in `group` where there are groups. */
  publishRaw(body: string, group: string): Promise<void>;
  /** Every body seen in the dead-letter queue so far (reading takes them off it). */
  deadLetterBodies(): Promise<string[]>;
  /** Messages still on the queue, ready or unacknowledged; meaningful once consumers are stopped. */
  remaining(): Promise<number>;
  /** Closes the adapter and deletes the queues. */
  dispose(): Promise<void>;
}

/**
 * The behaviour every MessageQueue implementation must show, for every message type: each driver
 * (SQS, RabbitMQ) runs these cases once per type (work items, callback refs). `makeQueue` returns
 * a fixture on new queues carrying the codec's messages; the suite disposes of it after each case.
 */
export function messageQueueContract<T>(
  name: string,
  kind: MessageKind<T>,
  makeQueue: (codec: MessageCodec<T>) => Promise<MessageQueueFixture<T>>,
): void {
  /** A handler that records deliveries and runs `behaviour` (default: succeed). */
  const recorder = (behaviour: (delivery: MessageDelivery<T>) => Promise<void> = async () => {}) => {
    const deliveries: MessageDelivery<T>[] = [];
    const handler = async (delivery: MessageDelivery<T>) => {
      deliveries.push(delivery);
      await behaviour(delivery);
    };
    const of = (item: T) => deliveries.filter((d) => kind.idOf(d.item) === kind.idOf(item));
    return { deliveries, handler, of };
  };

  describe(`${name} carrying ${kind.codec.name}s (MessageQueue contract)`, () => {
    const fixtures: MessageQueueFixture<T>[] = [];
    const consumers: Consumer[] = [];

    const fresh = async () => {
      const fixture = await makeQueue(kind.codec);
      fixtures.push(fixture);
      return fixture;
    };
    const consume = async (
      queue: MessageQueue<T>,
      handler: (delivery: MessageDelivery<T>) => Promise<void>,
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

    it('delivers a published message intact on its first receive', async () => {
      // Prepare
      const { queue } = await fresh();
      const published = kind.make('group-1');
      const seen = recorder();
      await consume(queue, seen.handler);

      // Act
      await queue.publish(published);

      // Assess
      await waitFor(() => seen.deliveries.length >= 1, { what: 'the delivery' });
      expect(seen.deliveries[0]?.item).toEqual(published);
      expect(seen.deliveries[0]?.receiveCount).toBe(1);
      expect(seen.deliveries[0]?.messageId).toMatch(/\S/);
    });

    it('delivers every one of 50 messages across groups once and leaves nothing behind when all succeed', async () => {
      // Prepare
      const fixture = await fresh();
      const items = Array.from({ length: 50 }, (_, i) => kind.make(`group-${i % 5}`));
      const seen = recorder();
      const consumer = await consume(fixture.queue, seen.handler, 5);

      // Act: published side by side, as the accept route and the sender do.
      await Promise.all(items.map((published) => fixture.queue.publish(published)));
      await waitFor(() => new Set(seen.deliveries.map((d) => kind.idOf(d.item))).size === 50, {
        what: 'all 50 messages',
        timeoutMs: 20_000,
      });
      await consumer.stop();

      // Assess
      for (const published of items) expect(seen.of(published)).toHaveLength(1);
      expect(await fixture.remaining()).toBe(0);
    });

    it('delivers a message again with a higher receiveCount when its handler throws', async () => {
      // Prepare
      const { queue } = await fresh();
      const published = kind.make('group-1');
      const seen = recorder(async (delivery) => {
        if (delivery.receiveCount === 1) throw new Error('transient');
      });
      const errors: unknown[] = [];
      await consume(queue, seen.handler, 1, (error) => errors.push(error));

      // Act
      await queue.publish(published);

      // Assess
      await waitFor(() => seen.deliveries.length >= 2, { what: 'the redelivery', timeoutMs: 15_000 });
      expect(seen.deliveries.map((d) => d.receiveCount)).toEqual([1, 2]);
      expect(seen.deliveries[1]?.item).toEqual(published);
      expect(errors[0]).toBeInstanceOf(DeliveryError);
      expect((errors[0] as DeliveryError).kind).toBe('handler-failed');
      expect((errors[0] as DeliveryError).messageName).toBe(kind.codec.name);
    });

    it('moves a message to the dead-letter queue after maxReceiveCount failures and stops delivering it', async () => {
      // Prepare
      const fixture = await fresh();
      // One group: on SQS FIFO the sentinel waits behind the poison until it is dead-lettered.
      const poison = kind.make('group-poison');
      const sentinel = kind.make('group-poison');
      const seen = recorder(async (delivery) => {
        if (kind.idOf(delivery.item) === kind.idOf(poison)) throw new Error('always fails');
      });
      const errors: DeliveryError[] = [];
      await consume(fixture.queue, seen.handler, 2, (error) => errors.push(error as DeliveryError));

      // Act
      await fixture.queue.publish(poison);
      const dead = await waitFor(
        async () => (await fixture.deadLetterBodies()).find((body) => body.includes(kind.idOf(poison))),
        { what: 'the message in the dead-letter queue', timeoutMs: 25_000, intervalMs: 200 },
      );
      await fixture.queue.publish(sentinel);
      await waitFor(() => seen.of(sentinel).length === 1, { what: 'the sentinel', timeoutMs: 10_000 });

      // Assess
      expect(JSON.parse(dead)).toEqual(poison);
      const attempts = seen.of(poison).map((d) => d.receiveCount);
      expect(attempts).toEqual(Array.from({ length: fixture.maxReceiveCount }, (_, i) => i + 1));
      expect(errors.map((e) => e.kind).at(-1)).toBe('dead-lettered');
    });

    it('sends a body that fails the schema to the dead-letter queue without calling the handler', async () => {
      // Prepare
      const fixture = await fresh();
      const seen = recorder();
      const errors: DeliveryError[] = [];
      await consume(fixture.queue, seen.handler, 1, (error) => errors.push(error as DeliveryError));

      // Act
      await fixture.publishRaw('{"queueId":42}', 'group-bad');

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

    it('stop() resolves only after the handler in flight has finished, and that message is acknowledged', async () => {
      // Prepare
      const fixture = await fresh();
      let started = false;
      let finished = false;
      // Concurrency 2 leaves a free slot, so the receive loop is not itself waiting for this handler.
      const consumer = await consume(
        fixture.queue,
        async () => {
          started = true;
          // A slow handler: longer than any receive wait, so a stop() that did not wait would return first.
          await simulateWork(3_000);
          finished = true;
        },
        2,
      );
      await fixture.queue.publish(kind.make('group-1'));
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
      // One group each: on SQS FIFO, messages of one group never run side by side anyway.
      const items = Array.from({ length: 12 }, (_, i) => kind.make(`group-${i}`));
      let active = 0;
      let peak = 0;
      let done = 0;
      for (const published of items) await queue.publish(published);

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

    it('says it is reachable while its broker answers', async () => {
      // Prepare
      const { queue } = await fresh();

      // Act
      const reachability = await queue.reachability();

      // Assess
      expect(reachability).toBe('ok');
    });
  });
}
