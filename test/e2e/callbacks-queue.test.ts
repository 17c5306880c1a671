import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLBACK_RETRY_DELAYS_MS,
  deliverCallback,
  deliverDueCallbacks,
} from '../../lib/app/deliver-callbacks.ts';
import { callbackQueueName } from '../../lib/composition/queues.ts';
import { verifyCallbackSignature } from '../../lib/domain/callback-signature.ts';
import type { CallbackRef } from '../../lib/ports/callback-queue.ts';
import { openBrokerAdmin } from '../support/rabbitmq.ts';
import {
  FAST_PACE,
  type QueueDriver,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

interface Received {
  eventId: string;
  signature: string;
  body: string;
  answered: number;
  /** The stack's clock when the callback arrived, in unix seconds. */
  atSeconds: number;
}

/**
 * An ERP endpoint on 127.0.0.1 that records every callback and answers what `answer` says (once
 * `answer`'s promise settles, for an ERP that takes its time).
 */
const startReceiver = async (
  nowSeconds: () => number,
  answer: (tryNumber: number) => number | Promise<number>,
) => {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const eventId = String(req.headers['x-billing-event-id'] ?? '');
      const status = await answer(received.filter((r) => r.eventId === eventId).length + 1);
      received.push({
        eventId,
        signature: String(req.headers['x-billing-signature'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
        answered: status,
        atSeconds: nowSeconds(),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** An hour: the worker's due-callback poller never ticks during a test, so only the queue delivers. */
const POLLER_OFF_SECONDS = '3600';

describe.each<QueueDriver>(['sqs', 'rabbitmq'])(
  'ERP callbacks through the callbacks queue (%s driver)',
  (driver) => {
    let s: SendingStack;
    let tenant: SendingTenant;
    const nowSeconds = () => Math.floor(s.test.clock.now().getTime() / 1000);
    const store = () => s.test.container.store;

    beforeAll(async () => {
      s = await startSendingStack(driver, {
        env: { CALLBACK_POLL_SECONDS: POLLER_OFF_SECONDS, LOG_LEVEL: 'WARN' },
      });
      tenant = await s.tenant({ ...FAST_PACE, allowInsecureCallbacks: true });
      // The deliverer finds the campaign's API key by id through an index: a key made a moment ago
      // may not be there yet (its first attempt would then wait for the poller's retry).
      await s.dynamo?.catchUp();
    }, 60_000);
    afterAll(async () => {
      const callbacks = s && callbackQueueName(s.test.container.config.WORK_QUEUE_NAME);
      await s?.close();
      if (callbacks && driver === 'rabbitmq') {
        const admin = await openBrokerAdmin();
        try {
          await admin.deleteQueues(callbacks, `${callbacks}.dlq`);
        } finally {
          await admin.close();
        }
      }
    }, 30_000);

    /** Posts a one-contact notification batch asking for the `event` callback; returns its event ref. */
    const sendOne = async (callbackUrl: string, event: 'sent' | 'unknown' = 'sent'): Promise<CallbackRef> => {
      const response = await s.test.post(
        '/api/v1/billing/send/notification',
        {
          external_id: `cbq-${randomUUID()}`,
          callback_url: callbackUrl,
          callback_events: [event],
          contacts: [
            {
              nome_cliente: 'Cliente Fila',
              telefone: `1197${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`,
              mensagem: 'Aviso de teste',
            },
          ],
        },
        { key: tenant.key },
      );
      expect(response.status).toBe(200);
      const queueId = response.body.queue_id as string;
      return { queueId, eventId: `${queueId}:0:${event}` };
    };
    const deliveryOf = async (ref: CallbackRef) =>
      (await store().getCallbackEvent(ref.queueId, ref.eventId))?.delivery;
    /** Waits for the event's delivery to be recorded `delivered`, and gives it. */
    const deliveredOf = (ref: CallbackRef, what: string) =>
      waitFor(
        async () => {
          const d = await deliveryOf(ref);
          return d?.status === 'delivered' && d;
        },
        { timeoutMs: 20_000, what },
      );

    it('posts a new event signed through the queue, with the poller idle, and posts it once', async () => {
      // Prepare
      const receiver = await startReceiver(nowSeconds, () => 200);
      try {
        // Act
        const ref = await sendOne(receiver.url);
        const delivered = await deliveredOf(ref, `the callback ${ref.eventId} delivered`);
        // A late redelivery of the same ref, or the poller: neither may post a delivered event again.
        const again = await deliverCallback(s.test.container, ref);
        const polled = await deliverDueCallbacks(s.test.container);

        // Assess
        expect(delivered.attempts).toBe(1);
        expect(again).toBe('not-due');
        expect(polled.attempted).toBe(0);
        expect(receiver.received.map((r) => [r.eventId, r.answered])).toEqual([[ref.eventId, 200]]);
        const [post] = receiver.received;
        expect(
          verifyCallbackSignature(
            post?.signature ?? '',
            post?.body ?? '',
            tenant.apiKey.signingSecrets,
            post?.atSeconds ?? 0,
          ),
        ).toBe(true);
        expect(JSON.parse(post?.body ?? '{}')).toMatchObject({ event_id: ref.eventId, event: 'sent' });
      } finally {
        await receiver.close();
      }
    }, 40_000);

    it('leaves a failed first attempt to the poller, which posts it after the backoff', async () => {
      // Prepare: the ERP fails the first try.
      const receiver = await startReceiver(nowSeconds, (tryNumber) => (tryNumber === 1 ? 500 : 200));
      try {
        const ref = await sendOne(receiver.url);
        const failed = await waitFor(
          async () => {
            const d = await deliveryOf(ref);
            return d?.attempts === 1 && d.lastError === 'HTTP 500' && d;
          },
          { timeoutMs: 20_000, what: 'the first attempt recorded as failed' },
        );
        // The poller finds due events through an index, which may lag the attempt just recorded.
        await s.dynamo?.catchUp();
        const tooEarly = await deliverDueCallbacks(s.test.container);

        // Act: the retry delay passes; the poller runs (its timer is off, so the test runs it).
        s.test.clock.advance(CALLBACK_RETRY_DELAYS_MS[0] as number);
        const retried = await deliverDueCallbacks(s.test.container);

        // Assess
        expect(failed.status).toBe('pending');
        expect(Date.parse(String(failed.nextAttemptAt)) - Date.parse(String(failed.lastAttemptAt))).toBe(
          CALLBACK_RETRY_DELAYS_MS[0],
        );
        expect(tooEarly.attempted).toBe(0);
        expect(retried).toMatchObject({ attempted: 1, delivered: 1 });
        expect(await deliveryOf(ref)).toMatchObject({ status: 'delivered', attempts: 2 });
        expect(receiver.received.map((r) => r.answered)).toEqual([500, 200]);
      } finally {
        await receiver.close();
      }
    }, 40_000);

    it('posts, once, an event whose emitter died between announcing and storing it', async () => {
      // Prepare: the store fails the event's put once, right after its announcement went out (the
      // pump dies there); the pump's own retry does not emit it again (the contact is recorded sent).
      const receiver = await startReceiver(nowSeconds, () => 200);
      const store = s.test.container.store;
      const put = store.putCallbackEvent;
      const died: string[] = [];
      store.putCallbackEvent = async (event, expiresAt) => {
        if (event.event === 'sent' && !died.includes(event.eventId)) {
          died.push(event.eventId);
          throw new Error('process died before storing the event');
        }
        return put.call(store, event, expiresAt);
      };
      try {
        // Act
        const ref = await sendOne(receiver.url);
        const delivered = await deliveredOf(
          ref,
          `the callback ${ref.eventId} stored from its announcement and delivered`,
        );
        await s.waitForStatus(tenant, ref.queueId, ['completed']);
        await s.dynamo?.catchUp();
        const polled = await deliverDueCallbacks(s.test.container);

        // Assess: the embedded SQS (with its safety net) has the emitter store the event, and it died
        // there; RabbitMQ, as SQS on AWS, leaves the storing to the consumer: the announcement is
        // the event's only copy until then.
        expect(died).toEqual(driver === 'sqs' ? [ref.eventId] : []);
        expect(delivered.attempts).toBe(1);
        expect(polled.attempted).toBe(0);
        expect(receiver.received.map((r) => r.eventId)).toEqual([ref.eventId]);
        expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
          event: 'sent',
          queue_id: ref.queueId,
        });
      } finally {
        store.putCallbackEvent = put;
        await receiver.close();
      }
    }, 40_000);

    it('tells the ERP that a send behind a proxy 504 has an unknown outcome, when asked', async () => {
      // Prepare: a reverse proxy in front of Evolution answers 504 (the message may have gone out).
      const receiver = await startReceiver(nowSeconds, () => 200);
      s.simulator.injectFailures({ instance: tenant.instance, kind: 'proxy_504', count: 1 });
      try {
        // Act
        const ref = await sendOne(receiver.url, 'unknown');
        const delivered = await deliveredOf(ref, `the callback ${ref.eventId} delivered`);
        const done = await s.waitForStatus(tenant, ref.queueId, ['completed']);

        // Assess
        expect(done).toMatchObject({ contacts_unknown: 1, contacts_sent: 0 });
        expect(delivered.attempts).toBe(1);
        expect(receiver.received.map((r) => r.eventId)).toEqual([ref.eventId]);
        expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
          event: 'unknown',
          message_id: null,
          error: { code: 'UNKNOWN_OUTCOME' },
        });
      } finally {
        await receiver.close();
      }
    }, 40_000);

    it('brings back, not acknowledges, a copy of an announcement whose first attempt is in flight', async () => {
      // Prepare: the ERP holds the first post until released, so the queue's first attempt is in flight.
      let release: () => void = () => undefined;
      const held = new Promise<number>((resolve) => {
        release = () => resolve(200);
      });
      let posts = 0;
      const receiver = await startReceiver(nowSeconds, () => {
        posts += 1;
        return held;
      });
      try {
        const ref = await sendOne(receiver.url);
        await waitFor(() => posts === 1, { timeoutMs: 20_000, what: 'the first attempt posting' });

        // Act: a second copy of the announcement (an SQS duplicate) meets the held attempt.
        const copy = await deliverCallback(s.test.container, ref).then(
          (outcome) => outcome,
          (error: Error) => error.name,
        );
        release();
        const delivered = await deliveredOf(ref, `the callback ${ref.eventId} delivered by the first copy`);
        const late = await deliverCallback(s.test.container, ref);

        // Assess
        expect(copy).toBe('FirstAttemptInFlightError');
        expect(late).toBe('not-due');
        expect(delivered.attempts).toBe(1);
        expect(receiver.received.map((r) => r.eventId)).toEqual([ref.eventId]);
      } finally {
        release();
        await receiver.close();
      }
    }, 40_000);

    it('posts, once, the sent event of a send whose process died before announcing it', async () => {
      // Prepare: the pump records the send, then dies before its emit (the work item comes back).
      const receiver = await startReceiver(nowSeconds, () => 200);
      const events = s.test.container.events;
      const emit = events.emit;
      const died: string[] = [];
      events.emit = async (input) => {
        if (input.name === 'sent' && !died.includes(input.queueId)) {
          died.push(input.queueId);
          throw new Error('process died before emitting the event');
        }
        return emit.call(events, input);
      };
      try {
        // Act
        const ref = await sendOne(receiver.url);
        const delivered = await deliveredOf(ref, `the lost callback ${ref.eventId} emitted at completion`);
        await s.waitForStatus(tenant, ref.queueId, ['completed']);

        // Assess
        expect(died).toEqual([ref.queueId]);
        expect(delivered.attempts).toBe(1);
        const contact = await store().getContact(ref.queueId, 0);
        expect(receiver.received.map((r) => r.eventId)).toEqual([ref.eventId]);
        expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
          event: 'sent',
          occurred_at: contact?.sentAt,
          message_id: contact?.providerMessageId,
        });
        expect(s.sent(tenant).filter((m) => m.id === contact?.providerMessageId)).toHaveLength(1);
      } finally {
        events.emit = emit;
        await receiver.close();
      }
    }, 40_000);

    it('keeps an event whose publish failed due in the index, where the poller finds it', async () => {
      // Prepare: the broker refuses publishes (the stack's BillingEvents calls this very queue).
      const receiver = await startReceiver(nowSeconds, () => 200);
      const queue = s.test.container.callbackQueue;
      const publish = queue.publish;
      queue.publish = async () => {
        throw new Error('broker unavailable');
      };
      try {
        const ref = await sendOne(receiver.url);
        const pending = await waitFor(
          async () => {
            const d = await deliveryOf(ref);
            return d?.status === 'pending' && d;
          },
          { timeoutMs: 20_000, what: 'the event recorded' },
        );

        // Act: the poller (its due index caught up with the event)
        await s.dynamo?.catchUp();
        const polled = await deliverDueCallbacks(s.test.container);

        // Assess
        expect(pending.attempts).toBe(0);
        expect(polled).toMatchObject({ attempted: 1, delivered: 1 });
        expect(receiver.received.map((r) => r.eventId)).toEqual([ref.eventId]);
      } finally {
        queue.publish = publish;
        await receiver.close();
      }
    }, 40_000);
  },
);
