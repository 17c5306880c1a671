import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../lib/admin/commands.ts';
import { CALLBACK_RETRY_DELAYS_MS, deliverDueCallbacks } from '../../lib/app/deliver-callbacks.ts';
import { verifyCallbackSignature } from '../../lib/domain/callback-signature.ts';
import type { CallbackDelivery } from '../../lib/ports/store.ts';
import {
  FAST_PACE,
  type SendingStack,
  type SendingTenant,
  startSendingStack,
} from '../support/sending-stack.ts';
import { waitFor } from '../support/wait-for.ts';

interface Received {
  eventId: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The stack's clock (driven by the test) when the callback arrived, in unix seconds. */
  atSeconds: number;
  answered: number;
}

/** A real ERP endpoint on 127.0.0.1 that records every callback and answers what `answer` says. */
const startReceiver = async (
  nowSeconds: () => number,
  answer: (eventId: string, tryNumber: number) => number,
) => {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const eventId = String(req.headers['x-billing-event-id'] ?? '');
      const tries = received.filter((r) => r.eventId === eventId).length + 1;
      const status = answer(eventId, tries);
      received.push({
        eventId,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        atSeconds: nowSeconds(),
        answered: status,
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

const API = '/api/v1/billing';

describe('ERP callbacks (local stack over HTTP)', () => {
  let s: SendingStack;
  let tenant: SendingTenant;
  const nowSeconds = () => Math.floor(s.test.clock.now().getTime() / 1000);

  beforeAll(async () => {
    s = await startSendingStack('sqs');
    tenant = await s.tenant({ ...FAST_PACE, allowInsecureCallbacks: true });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  }, 30_000);

  /** Posts a notification batch asking for callbacks; returns the queue id. */
  const sendWithCallback = async (callbackUrl: string, count: number, events: string[]) => {
    const response = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `cb-${randomUUID()}`,
        callback_url: callbackUrl,
        callback_events: events,
        contacts: Array.from({ length: count }, (_, i) => ({
          nome_cliente: `Cliente ${i}`,
          telefone: `1197${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`,
          mensagem: 'Aviso de teste',
          numero_fatura: `F-${i}`,
        })),
      },
      { key: tenant.key },
    );
    expect(response.status).toBe(200);
    return response.body.queue_id as string;
  };

  const eventsOf = async (queueId: string) => {
    const response = await s.test.get(`${API}/events?queue_id=${queueId}&limit=100`, { key: tenant.key });
    expect(response.status).toBe(200);
    return response.body.events as Array<{
      event_id: string;
      delivery: {
        status: string;
        attempts: number;
        last_error: string | null;
        last_attempt_at: string | null;
        next_attempt_at: string | null;
      };
    }>;
  };

  it('retries failed callbacks and delivers each event exactly once, every one signed', async () => {
    // Prepare: the ERP answers 500 to the first two tries of every event.
    const receiver = await startReceiver(nowSeconds, (_id, tries) => (tries <= 2 ? 500 : 200));
    try {
      // Act
      const queueId = await sendWithCallback(receiver.url, 3, ['sent', 'queue.completed']);
      await s.waitForStatus(tenant, queueId, ['completed']);
      const ids = [0, 1, 2].map((p) => `${queueId}:${p}:sent`).concat(`${queueId}:queue.completed`);
      const triesOf = (id: string) => receiver.received.filter((r) => r.eventId === id).length;
      // The clock moves only once every failure is recorded with its next attempt (else the
      // schedule would start from the moved clock): next_attempt_at = end of the attempt + delay.
      const retryRecorded = async (attempt: number) => {
        const delay = CALLBACK_RETRY_DELAYS_MS[attempt - 1] as number;
        const events = (await eventsOf(queueId)).filter((e) => ids.includes(e.event_id));
        return (
          events.length === ids.length &&
          events.every(
            (e) =>
              e.delivery.attempts === attempt &&
              e.delivery.last_error === 'HTTP 500' &&
              Date.parse(String(e.delivery.next_attempt_at)) -
                Date.parse(String(e.delivery.last_attempt_at)) ===
                delay,
          )
        );
      };
      await waitFor(() => ids.every((id) => triesOf(id) === 1), { timeoutMs: 15_000, what: 'first tries' });
      await waitFor(() => retryRecorded(1), { timeoutMs: 10_000, what: 'first failures recorded' });
      s.test.clock.advance(CALLBACK_RETRY_DELAYS_MS[0] as number);
      await waitFor(() => ids.every((id) => triesOf(id) === 2), { timeoutMs: 15_000, what: 'second tries' });
      await waitFor(() => retryRecorded(2), { timeoutMs: 10_000, what: 'second failures recorded' });
      s.test.clock.advance(CALLBACK_RETRY_DELAYS_MS[1] as number);
      await waitFor(() => ids.every((id) => triesOf(id) === 3), { timeoutMs: 15_000, what: 'third tries' });
      const listed = await waitFor(
        async () => {
          const events = await eventsOf(queueId);
          return (
            events.filter((e) => ids.includes(e.event_id)).every((e) => e.delivery.status === 'delivered') &&
            events
          );
        },
        { timeoutMs: 10_000, what: 'delivered in the events API' },
      );
      // Long after: nothing is due any more, so nothing is posted again.
      s.test.clock.advance(2 * 86_400_000);
      const later = await deliverDueCallbacks(s.test.container);

      // Assess
      expect(later.attempted).toBe(0);
      expect(receiver.received).toHaveLength(ids.length * 3);
      for (const id of ids) {
        expect(receiver.received.filter((r) => r.eventId === id).map((r) => r.answered)).toEqual([
          500, 500, 200,
        ]);
      }
      const secrets = tenant.apiKey.signingSecrets;
      for (const r of receiver.received) {
        expect(
          verifyCallbackSignature(String(r.headers['x-billing-signature']), r.body, secrets, r.atSeconds),
        ).toBe(true);
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['user-agent']).toBe('billing-reminders/1');
        expect(JSON.parse(r.body).event_id).toBe(r.eventId);
      }
      const sent = JSON.parse(receiver.received.find((r) => r.eventId === ids[0])?.body ?? '{}');
      expect(sent).toMatchObject({
        event: 'sent',
        queue_id: queueId,
        contact: { nome_cliente: 'Cliente 0' },
      });
      expect(typeof sent.message_id).toBe('string');
      expect(listed.find((e) => e.event_id === ids[0])?.delivery.attempts).toBe(3);
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('signs with both secrets during a key rotation, each v1 verifying with its own secret', async () => {
    // Prepare
    const receiver = await startReceiver(nowSeconds, () => 200);
    const oldSecret = tenant.apiKey.signingSecrets[0] as string;
    const rotated = (await COMMANDS['key rotate-secret']?.run(s.test.container, {
      tenant: tenant.tenantId,
      id: tenant.apiKey.id,
    })) as { signing_secret: string };
    try {
      // Act
      const queueId = await sendWithCallback(receiver.url, 1, ['sent']);
      const [callback] = await waitFor(() => receiver.received.length > 0 && receiver.received, {
        timeoutMs: 20_000,
        what: `the callback of ${queueId}`,
      });

      // Assess
      const [t, ...v1s] = String(callback?.headers['x-billing-signature']).split(',');
      expect(v1s).toHaveLength(2);
      const at = callback?.atSeconds ?? 0;
      expect(
        verifyCallbackSignature(`${t},${v1s[0]}`, callback?.body ?? '', [rotated.signing_secret], at),
      ).toBe(true);
      expect(verifyCallbackSignature(`${t},${v1s[1]}`, callback?.body ?? '', [oldSecret], at)).toBe(true);
      expect(verifyCallbackSignature(`${t},${v1s[0]}`, callback?.body ?? '', [oldSecret], at)).toBe(false);
    } finally {
      await COMMANDS['key drop-old-secret']?.run(s.test.container, {
        tenant: tenant.tenantId,
        id: tenant.apiKey.id,
      });
      tenant.apiKey.signingSecrets = [rotated.signing_secret];
      await receiver.close();
    }
  }, 60_000);

  it('ends dead after the whole retry schedule when the receiver is unreachable', async () => {
    // Prepare: a port that was just free, now closed (connection refused).
    const gone = await startReceiver(nowSeconds, () => 200);
    await gone.close();
    const queueId = await sendWithCallback(gone.url, 1, ['sent']);
    const eventId = `${queueId}:0:sent`;
    const attempts = async () => (await s.test.container.store.getCallbackEvent(queueId, eventId))?.delivery;

    // Act
    // Each step waits for the attempt's result (its end time changes) before moving the clock, so
    // the next attempt is due exactly after the scheduled delay.
    let lastEnded: string | null = null;
    for (const [i, delay] of [0, ...CALLBACK_RETRY_DELAYS_MS].entries()) {
      s.test.clock.advance(delay);
      const seen: string | null = lastEnded;
      const recorded: CallbackDelivery = await waitFor(
        async (): Promise<CallbackDelivery | false | undefined> => {
          const d = await attempts();
          return d?.attempts === i + 1 && d.lastAttemptAt !== null && d.lastAttemptAt !== seen && d;
        },
        { timeoutMs: 20_000, what: `attempt ${i + 1}` },
      );
      lastEnded = recorded.lastAttemptAt;
    }
    const final = await waitFor(
      async () => {
        const d = await attempts();
        return d?.status === 'dead' && d;
      },
      { timeoutMs: 10_000, what: 'dead' },
    );

    // Assess
    expect(final.attempts).toBe(CALLBACK_RETRY_DELAYS_MS.length + 1);
    expect(final.lastError).toMatch(/ECONNREFUSED/);
    const listed = await eventsOf(queueId);
    expect(listed.find((e) => e.event_id === eventId)?.delivery.status).toBe('dead');
  }, 120_000);

  it('refuses a private callback_url at accept time for a tenant without insecure callbacks', async () => {
    // Prepare
    const strict = await s.test.createTenant();

    // Act
    const response = await s.test.post(
      `${API}/send/notification`,
      {
        external_id: `cb-${randomUUID()}`,
        callback_url: 'https://10.0.0.5/x',
        contacts: [{ nome_cliente: 'Ana', telefone: '11987654321', mensagem: 'Aviso' }],
      },
      { key: strict.key },
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('INVALID_CALLBACK_URL');
    expect(await s.test.allQueues(strict.tenantId)).toEqual([]);
  });
});
