import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../lib/app/api-key-secret.ts';
import { DomainError, messageFor } from '../../lib/domain/errors.ts';
import type { ApiKey, Tenant } from '../../lib/domain/tenant-types.ts';
import type { TemplateType } from '../../lib/domain/types.ts';
import {
  type AuthContext,
  type AuthDeps,
  assertScopeAllowed,
  assertTemplateTypeAllowed,
  authenticate,
  queueOwnerOf,
} from '../../lib/http/authenticate.ts';
import { HttpError } from '../../lib/http/http-error.ts';
import { type HttpRequest, type HttpResponse, httpHandler } from '../../lib/http/http-handler.ts';
import { defineOperation, type HttpRoute, type RouteInput } from '../../lib/http/route.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Store } from '../../lib/ports/store.ts';
import { createInMemoryStore } from '../support/in-memory-store.ts';
import { handClock, tenantWith } from '../support/use-case-deps.ts';

/**
 * authenticate against the in-memory Store (the one the store contract suites check) holding a
 * real tenant and API key, and a hand-moved clock: every refusal, the hourly window and its
 * headers, and what the auth middleware (authenticateCaller) adds to an answer through the shared
 * HTTP stack.
 */

const KEY = 'billing_unit-test-key-0123456789abcdef';
const NOW = '2026-12-16T15:20:00.000Z';

/** Tenant acme with the product's defaults and `limit` write requests an hour. */
const tenant = (limit = 3): Tenant => tenantWith({ apiRateLimitPerHour: limit });

/** The key `secret` (KEY by default) of tenant acme, as stored: only its hash. */
const apiKey = (overrides: Partial<ApiKey> = {}, secret = KEY): ApiKey => ({
  id: 'key-1',
  tenantId: 'acme',
  name: 'ERP',
  description: '',
  keyHash: hashApiKey(secret),
  keyPrefix: secret.slice(0, 12),
  allowedTemplateTypes: ['overdue', 'upcoming', 'notification'],
  allowedIps: [],
  expiresAt: null,
  isActive: true,
  usageCount: 0,
  lastUsedAt: null,
  lastUsedIp: null,
  signingSecrets: ['whsec_x'],
  createdAt: NOW,
  ...overrides,
});

/**
 * The in-memory store with `tenant` (acme, 3 writes an hour; `null`: no tenant at all) and its key
 * `KEY` stored, and a clock at `at` (NOW by default) the store and authenticate both read.
 */
const seeded = async (options: { key?: Partial<ApiKey>; tenant?: Tenant | null; at?: string } = {}) => {
  const clock = handClock(options.at ?? NOW);
  const store = createInMemoryStore({ clock });
  if (options.tenant !== null) await store.createTenant(options.tenant ?? tenant());
  await store.createApiKey(apiKey(options.key));
  return { store, clock, deps: { store, clock } satisfies AuthDeps };
};

/** How the store says the key `secret` (KEY by default) was used. */
const usageOf = async (store: Store, secret = KEY) => {
  const key = await store.getApiKeyByHash(hashApiKey(secret));
  return { usageCount: key?.usageCount, lastUsedAt: key?.lastUsedAt, lastUsedIp: key?.lastUsedIp };
};

const UNUSED = { usageCount: 0, lastUsedAt: null, lastUsedIp: null };

const request = (overrides: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'GET',
  path: '/api/v1/billing/queues',
  pathParameters: {},
  query: {},
  headers: { 'x-billing-api-key': KEY },
  body: undefined,
  sourceIp: '127.0.0.1',
  requestId: 'req-1',
  ...overrides,
});

/** Runs `fn` and returns the DomainError it threw (failing the test if it threw nothing or something else). */
const refusal = async (fn: () => Promise<unknown>): Promise<DomainError> => {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
};

describe('authenticate', () => {
  it('returns the key, its tenant and the RateLimit headers for a good key', async () => {
    // Prepare
    const { deps } = await seeded();

    // Act
    const { auth, headers } = await authenticate(deps, request());

    // Assess
    expect(auth.apiKey.id).toBe('key-1');
    expect(auth.tenant.id).toBe('acme');
    expect(headers).toEqual({
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': '2400',
    });
  });

  it.each([
    ['no header', {}, 'API_KEY_MISSING'],
    ['a blank header', { 'x-billing-api-key': '   ' }, 'API_KEY_MISSING'],
    ['an unknown key', { 'x-billing-api-key': 'billing_someone-else-000000000000' }, 'API_KEY_INVALID'],
    ['the key in another header', { authorization: `Bearer ${KEY}` }, 'API_KEY_MISSING'],
  ] as const)('refuses %s with 401', async (_, headers, code) => {
    // Prepare
    const { store, deps } = await seeded();

    // Act
    const error = await refusal(() => authenticate(deps, request({ headers })));

    // Assess
    expect([error.code, error.status, error.message]).toEqual([code, 401, messageFor(code)]);
    expect(await usageOf(store)).toEqual(UNUSED);
  });

  it('accepts the key with surrounding spaces (hash of the trimmed key)', async () => {
    // Prepare
    const { deps } = await seeded();

    // Act
    const result = await authenticate(deps, request({ headers: { 'x-billing-api-key': ` ${KEY} ` } }));

    // Assess
    expect(result.auth.apiKey.id).toBe('key-1');
  });

  it('refuses a revoked key with 401 API_KEY_INACTIVE', async () => {
    // Prepare
    const { store, deps } = await seeded();
    await store.revokeApiKey('acme', 'key-1');

    // Act
    const error = await refusal(() => authenticate(deps, request()));

    // Assess
    expect([error.code, error.status]).toEqual(['API_KEY_INACTIVE', 401]);
  });

  it('refuses a key from the instant it expires, and accepts it just before', async () => {
    // Prepare
    const expiresAt = '2026-12-16T16:00:00.000Z';
    const { clock, deps } = await seeded({ key: { expiresAt }, at: '2026-12-16T15:59:59.999Z' });

    // Act
    const before = await authenticate(deps, request());
    clock.set(expiresAt);
    const at = await refusal(() => authenticate(deps, request()));

    // Assess
    expect(before.auth.apiKey.id).toBe('key-1');
    expect([at.code, at.status]).toEqual(['API_KEY_EXPIRED', 401]);
  });

  it('checks the allow list against the TCP peer only, never X-Forwarded-For', async () => {
    // Prepare
    const { deps } = await seeded({ key: { allowedIps: ['200.1.2.0/24', '2001:db8::/32'] } });
    const forged = { 'x-billing-api-key': KEY, 'x-forwarded-for': '200.1.2.3', 'x-real-ip': '200.1.2.3' };

    // Act
    const outside = await refusal(() => authenticate(deps, request({ headers: forged })));
    const inside = await authenticate(deps, request({ sourceIp: '200.1.2.200' }));
    const mapped = await authenticate(deps, request({ sourceIp: '::ffff:200.1.2.9' }));
    const v6 = await authenticate(deps, request({ sourceIp: '2001:db8::7' }));

    // Assess
    expect([outside.code, outside.status]).toEqual(['IP_NOT_ALLOWED', 403]);
    expect([inside, mapped, v6].map((r) => r.auth.apiKey.id)).toEqual(['key-1', 'key-1', 'key-1']);
  });

  it('refuses a key whose tenant no longer exists as an invalid key', async () => {
    // Prepare: the key is stored, its tenant acme is not
    const { store, deps } = await seeded({ tenant: null });

    // Act
    const error = await refusal(() => authenticate(deps, request()));

    // Assess
    expect(await store.getTenant('acme')).toBeUndefined();
    expect([error.code, error.status]).toEqual(['API_KEY_INVALID', 401]);
  });

  it('lets the hourly limit through, then answers 429 with Retry-After to the end of the UTC hour', async () => {
    // Prepare
    const { store, deps } = await seeded({ tenant: tenant(2) });

    // Act
    const first = await authenticate(deps, request());
    const second = await authenticate(deps, request());
    const third = await refusal(() => authenticate(deps, request()));

    // Assess
    expect([first.headers['RateLimit-Remaining'], second.headers['RateLimit-Remaining']]).toEqual(['1', '0']);
    expect(third).toBeInstanceOf(HttpError);
    expect([third.code, third.status, third.message]).toEqual([
      'RATE_LIMITED',
      429,
      messageFor('RATE_LIMITED'),
    ]);
    expect((third as HttpError).headers).toEqual({
      'RateLimit-Limit': '2',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '2400',
      'Retry-After': '2400',
    });
    // A refused request is not a use of the key.
    expect((await usageOf(store)).usageCount).toBe(2);
  });

  it('counts reads against their own budget, so polling never uses up the hour for sending', async () => {
    // Prepare: 2 writes and 3 reads an hour
    const limited = tenant(2);
    limited.config.apiReadRateLimitPerHour = 3;
    const { deps } = await seeded({ tenant: limited });

    // Act
    const reads = [];
    for (let i = 0; i < 3; i++) reads.push(await authenticate(deps, request(), 'reads'));
    const fourthRead = await refusal(() => authenticate(deps, request(), 'reads'));
    const write = await authenticate(deps, request(), 'writes');

    // Assess
    expect(reads.map((r) => r.headers['RateLimit-Remaining'])).toEqual(['2', '1', '0']);
    expect(reads[0]?.headers['RateLimit-Limit']).toBe('3');
    expect(fourthRead.code).toBe('RATE_LIMITED');
    expect(write.headers).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1' });
  });

  it('opens a new window on the next UTC hour and keeps keys apart', async () => {
    // Prepare
    const { store, clock, deps } = await seeded({ tenant: tenant(1) });
    await store.createApiKey(apiKey({ id: 'key-2' }, `${KEY}-2`));

    // Act
    await authenticate(deps, request());
    const otherKey = await authenticate(deps, request({ headers: { 'x-billing-api-key': `${KEY}-2` } }));
    const limited = await refusal(() => authenticate(deps, request()));
    clock.set('2026-12-16T16:00:00.000Z');
    const nextHour = await authenticate(deps, request());

    // Assess
    expect(otherKey.auth.apiKey.id).toBe('key-2');
    expect(limited.code).toBe('RATE_LIMITED');
    expect(nextHour.headers).toMatchObject({ 'RateLimit-Remaining': '0', 'RateLimit-Reset': '3600' });
  });

  it.each([
    ['2026-12-16T15:00:00.000Z', '3600'],
    ['2026-12-16T15:59:59.000Z', '1'],
    ['2026-12-16T15:59:59.900Z', '1'],
    ['2026-12-16T15:30:00.001Z', '1800'],
  ])('at %s tells %s seconds until the window resets', async (at, seconds) => {
    // Prepare
    const { deps } = await seeded({ at });

    // Act
    const { headers } = await authenticate(deps, request());

    // Assess
    expect(headers['RateLimit-Reset']).toBe(seconds);
  });

  it('records the use with the time and the TCP peer address', async () => {
    // Prepare
    const { store, deps } = await seeded();

    // Act
    const { useRecorded } = await authenticate(
      deps,
      request({ sourceIp: '10.1.2.3', headers: { 'x-billing-api-key': KEY, 'x-forwarded-for': '9.9.9.9' } }),
    );
    await useRecorded;

    // Assess
    expect(await usageOf(store)).toEqual({ usageCount: 1, lastUsedAt: NOW, lastUsedIp: '10.1.2.3' });
  });
});

describe('assertTemplateTypeAllowed', () => {
  it('lets an allowed type through and refuses another with 403', () => {
    // Prepare
    const auth = { apiKey: apiKey({ allowedTemplateTypes: ['upcoming'] }), tenant: tenant() };

    // Act
    const refused = (() => {
      try {
        assertTemplateTypeAllowed(auth, 'overdue');
      } catch (e) {
        return e as DomainError;
      }
    })();

    // Assess
    expect(() => assertTemplateTypeAllowed(auth, 'upcoming')).not.toThrow();
    expect([refused?.code, refused?.status]).toEqual(['TEMPLATE_TYPE_NOT_ALLOWED', 403]);
  });
});

describe('assertScopeAllowed', () => {
  const cases = [
    { scopes: undefined, scope: 'send', allowed: true, why: 'a key made before scopes has all three' },
    { scopes: ['read'], scope: 'read', allowed: true, why: 'the key has it' },
    { scopes: ['read'], scope: 'send', allowed: false, why: 'a read key cannot send' },
    { scopes: ['read'], scope: 'control', allowed: false, why: 'a read key cannot control' },
    { scopes: ['send', 'control'], scope: 'read', allowed: false, why: 'no read scope' },
  ] as const;

  for (const c of cases) {
    it(`${c.allowed ? 'allows' : 'refuses with 403'} ${c.scope} when ${c.why}`, () => {
      // Prepare
      const auth = {
        apiKey: apiKey(c.scopes ? { scopes: [...c.scopes] } : {}),
        tenant: tenant(),
      };
      // Act
      const check = () => assertScopeAllowed(auth, c.scope);
      // Assess
      if (c.allowed) expect(check).not.toThrow();
      else expect(check).toThrow(expect.objectContaining({ code: 'KEY_SCOPE_NOT_ALLOWED', status: 403 }));
    });
  }

  it('limits the queues of a key to its tenant and template types', () => {
    // Act
    const owner = queueOwnerOf({ apiKey: apiKey({ allowedTemplateTypes: ['upcoming'] }), tenant: tenant() });
    // Assess
    expect(owner).toEqual({ tenantId: 'acme', templateTypes: ['upcoming'] });
  });
});

/** The answer of an `apiKey` route whose handler is `handler`, through the shared HTTP stack. */
const throughStack = async (
  deps: AuthDeps,
  handler: (
    deps: AuthDeps,
    input: RouteInput<unknown, unknown, unknown, AuthContext>,
  ) => Promise<HttpResponse>,
  options: { headers?: Record<string, string>; templateType?: TemplateType } = {},
) => {
  const route: HttpRoute<AuthDeps> = {
    name: 'test',
    operations: [
      defineOperation({
        method: 'GET',
        path: '/api/v1/billing/queues',
        auth: 'apiKey',
        templateType: options.templateType,
        responses: {},
        errors: [],
        openapi: { operationId: 'test', tags: [], summary: 'test' },
        handler,
      }),
    ],
  };
  const lambda = httpHandler(route, deps, { logger: createLogger('SILENT'), maxBodyBytes: 1024 });
  const event = {
    version: '2.0',
    routeKey: 'GET /api/v1/billing/queues',
    rawPath: '/api/v1/billing/queues',
    rawQueryString: '',
    headers: options.headers ?? { 'x-billing-api-key': KEY },
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-1',
      http: { method: 'GET', path: '/api/v1/billing/queues', sourceIp: '127.0.0.1' },
    },
  } as unknown as APIGatewayProxyEventV2;
  const result = await lambda(event, {} as Context);
  return { statusCode: result.statusCode, headers: result.headers, body: JSON.parse(String(result.body)) };
};

const JSON_CONTENT_TYPE = { 'content-type': 'application/json; charset=utf-8' };

describe('authenticateCaller middleware', () => {
  it('adds the RateLimit headers to the answer, letting the route set its own', async () => {
    // Prepare
    const { store, deps } = await seeded();

    // Act
    const response = await throughStack(deps, async (_deps, { auth }) => ({
      statusCode: 200,
      body: { tenant: auth.tenant.id },
      headers: { 'Idempotent-Replayed': 'true', 'RateLimit-Limit': 'route' },
    }));

    // Assess
    expect(response).toEqual({
      statusCode: 200,
      body: { tenant: 'acme' },
      headers: {
        ...JSON_CONTENT_TYPE,
        'RateLimit-Limit': 'route',
        'RateLimit-Remaining': '2',
        'RateLimit-Reset': '2400',
        'Idempotent-Replayed': 'true',
      },
    });
    expect((await usageOf(store)).usageCount).toBe(1);
  });

  it('never calls the route for a refused caller', async () => {
    // Prepare
    const { deps } = await seeded();
    let called = false;

    // Act
    const response = await throughStack(
      deps,
      async () => {
        called = true;
        return { statusCode: 200 };
      },
      { headers: {} },
    );

    // Assess
    expect([response.statusCode, response.body.code]).toEqual([401, 'API_KEY_MISSING']);
    expect(called).toBe(false);
  });

  it("refuses a key not allowed the route's template type before the route runs, with the RateLimit headers", async () => {
    // Prepare
    const { deps } = await seeded({ key: { allowedTemplateTypes: ['overdue'] } });
    let called = false;

    // Act
    const response = await throughStack(
      deps,
      async () => {
        called = true;
        return { statusCode: 200 };
      },
      { templateType: 'notification' },
    );

    // Assess
    expect([response.statusCode, response.body.code]).toEqual([403, 'TEMPLATE_TYPE_NOT_ALLOWED']);
    expect(response.headers).toMatchObject({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '2' });
    expect(called).toBe(false);
  });

  it("turns a route's DomainError into an answer carrying the RateLimit headers, keeping code, message and details", async () => {
    // Prepare
    const { deps } = await seeded();
    const details = [{ index: 0, code: 'INVALID_PHONE' }];

    // Act
    const response = await throughStack(deps, async () => {
      throw new DomainError('BATCH_TOO_LARGE', { max: 2, count: 3 }, details);
    });

    // Assess
    expect(response).toEqual({
      statusCode: 400,
      body: {
        success: false,
        code: 'BATCH_TOO_LARGE',
        message: messageFor('BATCH_TOO_LARGE', { max: 2, count: 3 }),
        errors: details,
      },
      headers: {
        ...JSON_CONTENT_TYPE,
        'RateLimit-Limit': '3',
        'RateLimit-Remaining': '2',
        'RateLimit-Reset': '2400',
      },
    });
  });

  it("answers a route's store outage 503 with Retry-After as well as the RateLimit headers", async () => {
    // Prepare: DynamoDB goes down once the caller is authenticated (issue 17).
    const { deps } = await seeded();

    // Act
    const response = await throughStack(deps, async () => {
      throw new DomainError('STORE_UNAVAILABLE');
    });

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(response.headers).toEqual({
      ...JSON_CONTENT_TYPE,
      'Retry-After': '5',
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': '2400',
    });
  });

  it("keeps a route's own HttpError headers and adds the RateLimit ones", async () => {
    // Prepare
    const { deps } = await seeded();

    // Act
    const response = await throughStack(deps, async () => {
      throw new HttpError('DAILY_LIMIT_EXCEEDED', { 'Retry-After': '60', 'RateLimit-Reset': 'route' });
    });

    // Assess
    expect([response.statusCode, response.body.code]).toEqual([429, 'DAILY_LIMIT_EXCEEDED']);
    expect(response.headers).toEqual({
      ...JSON_CONTENT_TYPE,
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': 'route',
      'Retry-After': '60',
    });
  });

  it('lets a bug (a plain Error) through untouched, to the 500 mapping without RateLimit headers', async () => {
    // Prepare
    const { store, deps } = await seeded();

    // Act
    const response = await throughStack(deps, async () => {
      throw new TypeError('boom');
    });

    // Assess
    expect(response).toEqual({
      statusCode: 500,
      body: { success: false, code: 'INTERNAL_ERROR', message: messageFor('INTERNAL_ERROR') },
      headers: JSON_CONTENT_TYPE,
    });
    expect((await usageOf(store)).usageCount).toBe(1);
  });
});
