import type { MiddlewareObj } from '@middy/core';
import { hashApiKey } from '../app/api-key-secret.ts';
import { DomainError } from '../domain/errors.ts';
import { isIpAllowed } from '../domain/ip-allow-list.ts';
import { type ApiKey, KEY_SCOPES, type KeyScope, type Tenant } from '../domain/tenant-types.ts';
import type { TemplateType } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiKeyStore, CounterStore, RequestBudget, TenantStore } from '../ports/store.ts';
import { HttpError } from './http-error.ts';
import type { HttpRequest, HttpResponse, StackEvent } from './http-handler.ts';

export const API_KEY_HEADER = 'x-billing-api-key';

/** The ports authentication reads: the key and tenant records, and now (key expiry). */
export interface AuthDeps {
  store: ApiKeyStore & CounterStore & TenantStore;
  clock: Clock;
}

/** Who is calling: the key and its tenant. */
export interface AuthContext {
  apiKey: ApiKey;
  tenant: Tenant;
}

const HOUR_MS = 3_600_000;

/**
 * The key's hourly window, fixed on the UTC hour. The counter lives a little past the window
 * (its TTL) so a late reader still sees the right count.
 */
const rateWindow = (now: Date) => {
  const start = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const end = new Date(start + HOUR_MS);
  return {
    start: new Date(start),
    end,
    secondsLeft: Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000)),
  };
};

/**
 * Authenticates a request (design section 5, first steps): key hash lookup, active, not expired,
 * caller IP allowed (the TCP peer from the request context, never X-Forwarded-For), tenant exists;
 * then the per-key hourly limit, atomic in the store. Returns the caller and the RateLimit headers.
 */
export const authenticate = async (
  c: AuthDeps,
  request: HttpRequest,
  budget: RequestBudget = 'writes',
): Promise<{ auth: AuthContext; headers: Record<string, string>; useRecorded: Promise<void> }> => {
  const presented = request.headers[API_KEY_HEADER]?.trim();
  if (!presented) throw new DomainError('API_KEY_MISSING');
  const now = c.clock.now();
  const apiKey = await c.store.getApiKeyByHash(hashApiKey(presented));
  if (!apiKey) throw new DomainError('API_KEY_INVALID');
  if (!apiKey.isActive) throw new DomainError('API_KEY_INACTIVE');
  if (apiKey.expiresAt && new Date(apiKey.expiresAt) <= now) throw new DomainError('API_KEY_EXPIRED');
  if (!isIpAllowed(apiKey.allowedIps, request.sourceIp)) throw new DomainError('IP_NOT_ALLOWED');
  const tenant = await c.store.getTenant(apiKey.tenantId);
  if (!tenant) throw new DomainError('API_KEY_INVALID');

  // Counted before the use is recorded: a refused request is not a use.
  const limit =
    budget === 'reads' ? tenant.config.apiReadRateLimitPerHour : tenant.config.apiRateLimitPerHour;
  const window = rateWindow(now);
  const counted = await c.store.countKeyRequest(
    apiKey.id,
    budget,
    window.start,
    limit,
    new Date(window.end.getTime() + HOUR_MS),
  );
  const headers = {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, limit - counted.value)),
    'RateLimit-Reset': String(window.secondsLeft),
  };
  if (!counted.ok)
    throw new HttpError('RATE_LIMITED', { ...headers, 'Retry-After': String(window.secondsLeft) });

  // Runs while the route works, so it does not slow the request (the store never rejects it);
  // the caller awaits it before answering so no write outlives the invocation.
  const useRecorded = c.store.recordApiKeyUse(apiKey.keyHash, now.toISOString(), request.sourceIp);
  return { auth: { apiKey, tenant }, headers, useRecorded };
};

/** Refuses a key that lacks the scope an operation declares (403); a key without scopes has all. */
export const assertScopeAllowed = (auth: AuthContext, scope: KeyScope): void => {
  if (!(auth.apiKey.scopes ?? KEY_SCOPES).includes(scope)) throw new DomainError('KEY_SCOPE_NOT_ALLOWED');
};

/**
 * The queues a caller may see and control: its tenant's, of the template types its key allows. Any
 * other queue is the same 404 as an unknown one (lib/app/get-queue-for-tenant.ts).
 */
export const queueOwnerOf = (auth: AuthContext) => ({
  tenantId: auth.tenant.id,
  templateTypes: auth.apiKey.allowedTemplateTypes,
});

/** Refuses a key that may not use this template type (403). */
export const assertTemplateTypeAllowed = (auth: AuthContext, type: TemplateType): void => {
  if (!auth.apiKey.allowedTemplateTypes.includes(type)) throw new DomainError('TEMPLATE_TYPE_NOT_ALLOWED');
};

/**
 * The auth middleware of `apiKey` operations (design section 5): authenticates before validation
 * and the handler, refuses a key without the operation's scope or template type, and adds the RateLimit
 * headers to every answer after it, success or DomainError (a bug stays a plain Error for the 500
 * mapping). The key's use is recorded while the handler works and awaited before answering.
 */
export const authenticateCaller = (c: AuthDeps): MiddlewareObj<StackEvent> => ({
  name: 'authenticateCaller',
  before: async (request) => {
    const event = request.event;
    if (event.operation?.auth !== 'apiKey' || !event.parsedRequest) return;
    // Reads count against their own budget, so a dashboard polling every few seconds never uses up
    // the hour the ERP needs to send.
    const budget = event.operation.scope === 'read' ? 'reads' : 'writes';
    const { auth, headers, useRecorded } = await authenticate(c, event.parsedRequest, budget);
    event.input = { ...event.input, auth };
    event.rateLimit = { headers, useRecorded };
    if (event.operation.scope) assertScopeAllowed(auth, event.operation.scope);
    if (event.operation.templateType) assertTemplateTypeAllowed(auth, event.operation.templateType);
  },
  after: async (request) => {
    const rateLimit = request.event.rateLimit;
    if (!rateLimit) return;
    await rateLimit.useRecorded;
    const response = request.response as HttpResponse;
    request.response = { ...response, headers: { ...rateLimit.headers, ...response.headers } };
  },
  onError: async (request) => {
    const rateLimit = request.event.rateLimit;
    if (!rateLimit) return;
    await rateLimit.useRecorded;
    const error = request.error;
    if (error instanceof HttpError) Object.assign(error.headers, { ...rateLimit.headers, ...error.headers });
    else if (error instanceof DomainError)
      request.error = new HttpError(error.code, rateLimit.headers, error.params, error.details);
  },
});
