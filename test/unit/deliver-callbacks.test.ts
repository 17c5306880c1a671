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
import type { ApiKey, Tenant } from '../../lib/domain/types.ts';
import type { CallbackRequest, CallbackResponse } from '../../lib/ports/callback-client.ts';
import type { Store, StoredCallbackEvent } from '../../lib/ports/store.ts';

const START = '2025-01-10T13:00:00.000Z';
const EVENT_ID = 'q-1:0:sent';

/** The store's callback methods over a map, with the same conditions as the DynamoDB adapter. */
const memoryStore = (events: StoredCallbackEvent[], secrets: string[]) => {
  const byId = new Map(events.map((e) => [e.eventId, structuredClone(e)]));
  const store: DeliverCallbacksDeps['store'] & Pick<Store, 'getCallbackEvent'> = {
    getCallbackEvent: async (_q, eventId) => structuredClone(byId.get(eventId)),
    listDueCallbacks: async (now, limit) =>
      [...byId.values()]
        .filter((e) => e.delivery.status === 'pending' && (e.delivery.nextAttemptAt ?? '') <= now)
        .slice(0, limit)
        .map((e) => structuredClone(e)),
    claimCallback: async (_q, eventId, now, leaseUntil) => {
      const e = byId.get(eventId);
      if (e?.delivery.status !== 'pending' || (e.delivery.nextAttemptAt ?? '') > now) return undefined;
      e.delivery = { ...e.delivery, attempts: e.delivery.attempts + 1, nextAttemptAt: leaseUntil };
      return structuredClone(e);
    },
    finishCallbackAttempt: async (_q, eventId, attempt, result) => {
      const e = byId.get(eventId);
      if (e?.delivery.status !== 'pending' || e.delivery.attempts !== attempt) return false;
      e.delivery.lastAttemptAt = result.at;
      e.delivery =
        result.status === 'delivered'
          ? {
              ...e.delivery,
              status: 'delivered',
              nextAttemptAt: null,
              lastError: null,
              deliveredAt: result.at,
            }
          : result.status === 'pending'
            ? { ...e.delivery, nextAttemptAt: result.nextAttemptAt, lastError: result.error }
            : { ...e.delivery, status: 'dead', nextAttemptAt: null, lastError: result.error };
      return true;
    },
    getApiKeyById: async () => ({ id: 'key-1', tenantId: 'acme', signingSecrets: secrets }) as ApiKey,
    getTenant: async () => ({ id: 'acme', config: { allowInsecureCallbacks: false } }) as Tenant,
  };
  return { store, get: (id: string) => byId.get(id) };
};

const pending = (url = 'https://erp.example.com/hook'): StoredCallbackEvent => ({
  eventId: EVENT_ID,
  tenantId: 'acme',
  queueId: 'q-1',
  event: 'sent',
  occurredAt: START,
  callbackUrl: url,
  apiKeyId: 'key-1',
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

/** A world whose clock the test moves, a client answering from a script, and DNS from a table. */
const world = (options: {
  secrets?: string[];
  answers?: (n: number) => CallbackResponse;
  dns?: Record<string, string>;
  event?: StoredCallbackEvent;
  events?: StoredCallbackEvent[];
}) => {
  let now = new Date(START).getTime();
  const posts: Array<CallbackRequest & { at: number }> = [];
  const mem = memoryStore(options.events ?? [options.event ?? pending()], options.secrets ?? ['whsec_one']);
  const dns = options.dns ?? { 'erp.example.com': '203.0.113.10' };
  const lookup: LookupAll = async (host) => {
    const address = dns[host];
    if (!address) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  };
  const deps: DeliverCallbacksDeps & CallbackSenderDeps = {
    store: mem.store,
    clock: { now: () => new Date(now) },
    callbackClient: {
      post: async (request) => {
        posts.push({ ...request, at: now });
        return (options.answers ?? (() => ({ ok: true, status: 200 })))(posts.length);
      },
    },
    callbackUrlGuard: createDnsCallbackUrlGuard({ lookup }),
    logger: { warn: () => undefined },
  };
  return {
    deps,
    posts,
    event: () => mem.get(EVENT_ID),
    advance: (ms: number) => {
      now += ms;
    },
  };
};

describe('deliverDueCallbacks', () => {
  it('posts the body signed with every current secret and the documented headers', async () => {
    // Prepare
    const w = world({ secrets: ['whsec_new', 'whsec_old'] });

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
    expect(w.event()?.delivery.status).toBe('delivered');
  });

  it('retries on the backoff schedule and ends dead after the last attempt', async () => {
    // Prepare
    const w = world({ answers: () => ({ ok: false, status: 500, error: 'HTTP 500' }) });

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
    expect(w.event()?.delivery).toMatchObject({ status: 'dead', attempts: 12, lastError: 'HTTP 500' });
    expect(after.attempted).toBe(0);
  });

  it('never posts again once an attempt succeeded', async () => {
    // Prepare
    const w = world({
      answers: (n) => (n <= 2 ? { ok: false, status: 500, error: 'HTTP 500' } : { ok: true, status: 204 }),
    });

    // Act
    for (let i = 0; i < 6; i++) {
      await deliverDueCallbacks(w.deps);
      w.advance(3_600_000);
    }

    // Assess
    expect(w.posts).toHaveLength(3);
    expect(w.event()?.delivery).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('does not post when the host resolves to a private address at delivery time', async () => {
    // Prepare
    const w = world({ dns: { 'erp.example.com': '10.0.0.5' } });

    // Act
    const summary = await deliverDueCallbacks(w.deps);

    // Assess
    expect(w.posts).toHaveLength(0);
    expect(summary.retried).toBe(1);
    expect(w.event()?.delivery.lastError).toMatch(/privado/);
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
  it('reads a tenant and a key once per settings period, so a rotated secret signs within it', async () => {
    // Prepare: three events of one key, posted by one warm sender; the key's secret rotates
    const secrets = ['whsec_one'];
    const ids = [0, 1, 2].map((i) => `q-1:${i}:sent`);
    const w = world({
      secrets,
      events: ids.map((eventId) => ({
        ...pending(),
        eventId,
        payload: { ...pending().payload, event_id: eventId },
      })),
    });
    const reads = { tenant: 0, key: 0 };
    const store = {
      ...w.deps.store,
      getTenant: (id: string) => {
        reads.tenant += 1;
        return w.deps.store.getTenant(id);
      },
      getApiKeyById: (tenantId: string, keyId: string) => {
        reads.key += 1;
        return w.deps.store.getApiKeyById(tenantId, keyId);
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
    secrets.splice(0, 1, 'whsec_two');
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
