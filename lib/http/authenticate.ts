import { hashApiKey } from '../app/api-key-secret.ts';
import { DomainError } from '../domain/errors.ts';
import { isIpAllowed } from '../domain/ip-allow-list.ts';
import type { ApiKey, TemplateType, Tenant } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { ApiKeyStore, CounterStore, TenantStore } from '../ports/store.ts';
import { HttpError, type HttpRequest, type HttpResponse, type Route } from './http-handler.ts';

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
  const limit = tenant.config.apiRateLimitPerHour;
  const window = rateWindow(now);
  const counted = await c.store.countKeyRequest(
    apiKey.id,
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

/** Refuses a key that may not use this template type (403). */
export const assertTemplateTypeAllowed = (auth: AuthContext, type: TemplateType): void => {
  if (!auth.apiKey.allowedTemplateTypes.includes(type)) throw new DomainError('TEMPLATE_TYPE_NOT_ALLOWED');
};

/** A route that needs a caller: authenticates first and adds the RateLimit headers to the answer. */
export const withAuth =
  (c: AuthDeps, route: (request: HttpRequest, auth: AuthContext) => Promise<HttpResponse>): Route =>
  async (request) => {
    const { auth, headers, useRecorded } = await authenticate(c, request);
    try {
      const response = await route(request, auth);
      return { ...response, headers: { ...headers, ...response.headers } };
    } catch (error) {
      if (error instanceof HttpError) Object.assign(error.headers, { ...headers, ...error.headers });
      else if (error instanceof DomainError)
        throw new HttpError(error.code, headers, error.params, error.details);
      throw error;
    } finally {
      await useRecorded;
    }
  };
