import { describe, expect, it } from 'vitest';
import {
  createDnsCallbackUrlGuard,
  type LookupAll,
} from '../../lib/adapters/network/dns-callback-url-guard.ts';
import {
  CALLBACK_RETRY_DELAYS_MS,
  CALLBACK_SETTINGS_TTL_MS,
  type CallbackSenderDeps,
  createCallbackSender,
  type DeliverCallbacksDeps,
  deliverDueCallbacks,
  nextCallbackAttempt,
} from '../../lib/app/deliver-callbacks.ts';
import { verifyCallbackSignature } from '../../lib/domain/callback-signature.ts';
import { createCallbackSenderHandler } from '../../lib/lambda/callback-sender-handler.ts';
import { toCallbackSqsEvent } from '../../lib/local/worker.ts';
import type { CallbackRequest, CallbackResponse } from '../../lib/ports/callback-client.ts';
import type { StoredCallbackEvent } from '../../lib/ports/store.ts';
import { apiKey } from '../integration/store-contract/tenant-store-contract.ts';
import { KEPT_UNTIL } from '../support/acme-queue.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';
import { handClock, tenantWith } from '../support/use-case-deps.ts';

const START = '2025-01-10T13:00:00.000Z';
const EVENT_ID = 'q-1:0:sent';
const KEY_ID = 'key-1';

const pending = (url = 'https://erp.example.com/hook'): StoredCallbackEvent => ({
  eventId: EVENT_ID,
  tenantId: 'acme',
  queueId: 'q-1',
  event: 'sent',
  occurredAt: START,
  callbackUrl: url,
  apiKeyId: KEY_ID,
  payload: {
    event_id: EVENT_ID,
    event: 'sent',
    occurred_at: START,
    external_id: 'fatura-1',
    billing_campaign_id: 'c-1',
    queue_id: 'q-1',
    contact: { telefone: '+5511999990000', nome_cliente: 'João', numero_fatura: null },
    message_id: '3EB0',
    error: null,
    reply: null,
  },
  delivery: {
    status: 'pending',
    attempts: 0,
    nextAttemptAt: START,
    lastAttemptAt: null,
    lastError: null,
    deliveredAt: null,
  },
  createdAt: START,
});

/**
 * A world on the in-memory store (the one the store contract suites check): tenant acme (no
 * insecure callback URLs), its API key `key-1` with `secrets`, and the events stored; a clock the
 * test moves, a client answering from a script, and DNS from a table.
 */
const world = async (options: {
  secrets?: string[];
  answers?: (n: number) => CallbackResponse;
  dns?: Record<string, string>;
  event?: StoredCallbackEvent;
  events?: StoredCallbackEvent[];
}) => {
  const clock = handClock(START);
  const store = createInMemoryStore({ clock });
  await store.createTenant(tenantWith({ allowInsecureCallbacks: false }));
  await store.createApiKey(
    apiKey({ id: KEY_ID, tenantId: 'acme', signingSecrets: options.secrets ?? ['whsec_one'] }),
  );
  for (const event of options.events ?? [options.event ?? pending()]) {
    await store.putCallbackEvent(event, KEPT_UNTIL);
  }
  const posts: Array<CallbackRequest & { at: number }> = [];
  const dns = options.dns ?? { 'erp.example.com': '203.0.113.10' };
  const lookup: LookupAll = async (host) => {
    const address = dns[host];
    if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  };
  const deps: DeliverCallbacksDeps & CallbackSenderDeps = {
    store,
    clock,
    callbackClient: {
      post: async (request) => {
        posts.push({ ...request, at: clock.now().getTime() });
        return (options.answers ?? (() => ({ ok: true, status: 200 })))(posts.length);
      },
    },
    callbackUrlGuard: createDnsCallbackUrlGuard({ lookup }),
    logger: { warn: () => undefined },
  };
  return {
    deps,
    store,
    posts,
    event: () => store.getCallbackEvent('q-1', EVENT_ID),
    advance: (ms: number) => clock.set(new Date(clock.now().getTime() + ms).toISOString()),
  };
};

describe('deliverDueCallbacks', () => {
  it('posts the body signed with every current secret and the documented headers', async () => {
    // Prepare
    const w = await world({ secrets: ['whsec_new', 'whsec_old'] });

    // Act
    const summary = await deliverDueCallbacks(w.deps);

    // Assess
    expect(summary).toEqual({ attempted: 1, delivered: 1, retried: 0, dead: 0 });
    const [post] = w.posts;
    expect(post?.headers['Content-Type']).toBe('application/json');
    expect(post?.headers['X-Billing-Event-Id']).toBe(EVENT_ID);
    expect(post?.headers['User-Agent']).toBe('billing-reminders/1');
    const signature = post?.headers['X-Billing-Signature'] ?? '';
    const [t, ...v1s] = signature.split(',');
    expect(v1s).toHaveLength(2);
    const nowSeconds = Math.floor(Date.parse(START) / 1000);
    expect(t).toBe(`t=${nowSeconds}`);
    expect(verifyCallbackSignature(`${t},${v1s[0]}`, post?.body ?? '', ['whsec_new'], nowSeconds)).toBe(true);
    expect(verifyCallbackSignature(`${t},${v1s[1]}`, post?.body ?? '', ['whsec_old'], nowSeconds)).toBe(true);
    expect(JSON.parse(post?.body ?? '{}')).toMatchObject({
      event_id: EVENT_ID,
      event: 'sent',
      message_id: '3EB0',
    });
    expect((await w.event())?.delivery.status).toBe('delivered');
  });

  it('retries on the backoff schedule and ends dead after the last attempt', async () => {
    // Prepare
    const w = await world({ answers: () => ({ ok: false, status: 500, error: 'HTTP 500' }) });

    // Act
    await deliverDueCallbacks(w.deps);
    for (const delay of CALLBACK_RETRY_DELAYS_MS) {
      w.advance(delay - 1);
      await deliverDueCallbacks(w.deps); // one millisecond early: nothing is due
      w.advance(1);
      await deliverDueCallbacks(w.deps);
    }
    w.advance(7 * 86_400_000);
    const after = await deliverDueCallbacks(w.deps);

    // Assess
    expect(w.posts).toHaveLength(CALLBACK_RETRY_DELAYS_MS.length + 1);
    const gaps = w.posts.slice(1).map((p, i) => p.at - (w.posts[i]?.at ?? 0));
    expect(gaps).toEqual([...CALLBACK_RETRY_DELAYS_MS]);
    expect((await w.event())?.delivery).toMatchObject({
      status: 'dead',
      attempts: 12,
      lastError: 'HTTP 500',
    });
    expect(after.attempted).toBe(0);
  });

  it('never posts again once an attempt succeeded', async () => {
    // Prepare
    const w = await world({
      answers: (n) => (n <= 2 ? { ok: false, status: 500, error: 'HTTP 500' } : { ok: true, status: 204 }),
    });

    // Act
    for (let i = 0; i < 6; i++) {
      await deliverDueCallbacks(w.deps);
      w.advance(3_600_000);
    }

    // Assess
    expect(w.posts).toHaveLength(3);
    expect((await w.event())?.delivery).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('does not post when the host resolves to a private address at delivery time', async () => {
    // Prepare
    const w = await world({ dns: { 'erp.example.com': '10.0.0.5' } });

    // Act
    const summary = await deliverDueCallbacks(w.deps);

    // Assess
    expect(w.posts).toHaveLength(0);
    expect(summary.retried).toBe(1);
    expect((await w.event())?.delivery.lastError).toMatch(/privado/);
  });

  it('gives the next attempt time for each failure and dead after the twelfth', () => {
    // Act
    const first = nextCallbackAttempt(1, new Date(START));
    const last = nextCallbackAttempt(12, new Date(START));

    // Assess
    expect(first).toEqual({ status: 'pending', nextAttemptAt: '2025-01-10T13:00:30.000Z' });
    expect(last).toEqual({ status: 'dead' });
    expect(CALLBACK_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) / 3_600_000).toBeGreaterThan(23);
  });
});

describe('createCallbackSender', () => {
  it('posts an attempt once when the poller and a queue copy take it at once: the claim decides', async () => {
    // Prepare: the ERP holds the first post until released.
    let release: (response: CallbackResponse) => void = () => undefined;
    const held = new Promise<CallbackResponse>((resolve) => {
      release = resolve;
    });
    const w = await world({ answers: () => held as unknown as CallbackResponse });
    const settle = async () => {
      for (let tick = 0; tick < 20; tick++) await new Promise((r) => setImmediate(r));
    };
    const poller = deliverDueCallbacks(w.deps);
    await settle();
    expect(w.posts).toHaveLength(1);

    // Act: a copy of the announcement arrives while the poller's post is in flight.
    const copy = createCallbackSender(w.deps)({ queueId: 'q-1', eventId: EVENT_ID }).then(
      (outcome) => outcome,
      (error: Error) => error.name,
    );
    await settle();
    const postsWhileHeld = w.posts.length;
    release({ ok: true, status: 200 });
    const summary = await poller;

    // Assess
    expect(postsWhileHeld).toBe(1);
    expect(await copy).toBe('FirstAttemptInFlightError');
    expect(summary).toMatchObject({ attempted: 1, delivered: 1 });
    expect(w.posts).toHaveLength(1);
    expect((await w.event())?.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('reads a tenant and a key once per settings period, so a rotated secret signs within it', async () => {
    // Prepare: three events of one key, posted by one warm sender; the key's secret rotates
    const ids = [0, 1, 2].map((i) => `q-1:${i}:sent`);
    const w = await world({
      secrets: ['whsec_one'],
      events: ids.map((eventId) => ({
        ...pending(),
        eventId,
        payload: { ...pending().payload, event_id: eventId },
      })),
    });
    const reads = { tenant: 0, key: 0 };
    const store: CallbackSenderDeps['store'] = {
      ...w.deps.store,
      getTenant: (id) => {
        reads.tenant += 1;
        return w.store.getTenant(id);
      },
      getApiKeyById: (tenantId, keyId) => {
        reads.key += 1;
        return w.store.getApiKeyById(tenantId, keyId);
      },
    };
    const send = createCallbackSender({ ...w.deps, store });
    const signedWith = (n: number, secret: string) => {
      const post = w.posts[n];
      const t = Math.floor((post?.at ?? 0) / 1000);
      return verifyCallbackSignature(
        post?.headers['X-Billing-Signature'] ?? '',
        post?.body ?? '',
        [secret],
        t,
      );
    };

    // Act
    await send({ queueId: 'q-1', eventId: ids[0] as string });
    await w.store.setApiKeySigningSecrets('acme', KEY_ID, ['whsec_two']);
    w.advance(CALLBACK_SETTINGS_TTL_MS - 1);
    await send({ queueId: 'q-1', eventId: ids[1] as string });
    w.advance(1);
    await send({ queueId: 'q-1', eventId: ids[2] as string });

    // Assess
    expect(w.posts).toHaveLength(3);
    expect([signedWith(0, 'whsec_one'), signedWith(1, 'whsec_one'), signedWith(2, 'whsec_two')]).toEqual([
      true,
      true,
      true,
    ]);
    expect(reads).toEqual({ tenant: 2, key: 2 });
  });
});

describe('the callbacks queue consumer (Lambda handler)', () => {
  /** The handler over the world's ports, logging into arrays; one SQS record per ref. */
  const consumer = (w: Awaited<ReturnType<typeof world>>) => {
    const logged = { info: [] as string[], error: [] as string[] };
    const handler = createCallbackSenderHandler({
      ...w.deps,
      logger: {
        ...w.deps.logger,
        info: (message: string) => void logged.info.push(message),
        error: (message: string) => void logged.error.push(message),
      },
    });
    const receive = (messageId: string, ref: { queueId: string; eventId: string }, body?: string) => {
      const event = toCallbackSqsEvent({ item: ref, messageId, receiveCount: 1 }, 'billing-work-callbacks');
      for (const record of event.Records) if (body !== undefined) record.body = body;
      return handler(event);
    };
    return { logged, receive };
  };

  it('fails the record of a copy meeting the first attempt in flight, logged at INFO as normal operation', async () => {
    // Prepare: another consumer holds the event's first attempt (claimed, no result yet).
    const w = await world({});
    const held = await w.store.claimCallback('q-1', EVENT_ID, START, '2025-01-10T13:00:30.000Z');
    expect(held?.delivery.attempts).toBe(1);
    const c = consumer(w);

    // Act
    const answer = await c.receive('copy-1', { queueId: 'q-1', eventId: EVENT_ID });

    // Assess
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'copy-1' }]);
    expect(c.logged).toEqual({ info: ['callback copy comes back later'], error: [] });
    expect(w.posts).toHaveLength(0);
  });

  it('logs as an error, and fails, a record the store could not serve or a body that is not a ref', async () => {
    // Prepare: the store refuses the claim.
    const w = await world({});
    w.deps.store = {
      ...w.deps.store,
      claimCallback: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const c = consumer(w);

    // Act
    const refused = await c.receive('m-1', { queueId: 'q-1', eventId: EVENT_ID });
    const poison = await c.receive('m-2', { queueId: 'q-1', eventId: EVENT_ID }, '{"not":"a ref"}');

    // Assess
    expect(refused.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(poison.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(c.logged).toEqual({ info: [], error: ['callback ref failed', 'callback ref failed'] });
  });

  it('delivers a ref and logs nothing', async () => {
    // Prepare
    const w = await world({});
    const c = consumer(w);

    // Act
    const answer = await c.receive('m-1', { queueId: 'q-1', eventId: EVENT_ID });

    // Assess
    expect(answer.batchItemFailures).toEqual([]);
    expect(w.posts).toHaveLength(1);
    expect((await w.event())?.delivery.status).toBe('delivered');
    expect(c.logged).toEqual({ info: [], error: [] });
  });
});
