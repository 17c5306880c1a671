import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How an Evolution webhook proves it comes from one of our instances: Evolution is configured
 * (`npm run admin -- instance webhook`) to send the instance's secret in a static header, or, with
 * its `jwt_key` option, an HS256 JWT signed with that secret in `Authorization: Bearer`.
 */

/** The static header Evolution is configured to send (webhook `headers`), holding the instance's secret. */
export const WEBHOOK_SECRET_HEADER = 'x-webhook-secret';

/** JWT clock skew tolerated on `exp` and `nbf`. */
const JWT_LEEWAY_SECONDS = 60;
/**
 * How far ahead a webhook JWT's `exp` may be: a token that never expires (or in a year) is a
 * password that leaks through every proxy log. Evolution's `jwt_key` tokens expire in 10 minutes.
 */
const JWT_MAX_LIFETIME_SECONDS = 3600;

const digest = (value: string): Buffer => createHmac('sha256', 'webhook-compare').update(value).digest();

/** Constant-time string equality (compares fixed-length digests, so length leaks nothing either). */
const safeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

const decodeJson = (part: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/** Signs claims as an HS256 JWT (what Evolution does with the `jwt_key` webhook option). */
export const signHs256Jwt = (claims: Record<string, unknown>, secret: string): string => {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
};

/**
 * Verifies an HS256 JWT signed with `secret`: the algorithm must be HS256 (never `none` or another
 * one the header asks for), the signature must match, `exp` must be present, not past and at most an
 * hour ahead (plus the leeway), and `nbf`, when present, must hold at `now`.
 */
export const verifyHs256Jwt = (token: string, secret: string, now: Date): boolean => {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  if (decodeJson(header)?.alg !== 'HS256') return false;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const presented = Buffer.from(signature, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return false;
  const claims = decodeJson(payload);
  if (!claims) return false;
  const seconds = now.getTime() / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return false;
  if (seconds >= claims.exp + JWT_LEEWAY_SECONDS) return false;
  if (claims.exp > seconds + JWT_MAX_LIFETIME_SECONDS + JWT_LEEWAY_SECONDS) return false;
  if (typeof claims.nbf === 'number' && seconds < claims.nbf - JWT_LEEWAY_SECONDS) return false;
  return true;
};

/**
 * Whether a webhook request proves it knows the instance's secret: the static `x-webhook-secret`
 * header, or `Authorization: Bearer <HS256 JWT signed with the secret>` (Evolution's `jwt_key`).
 * Header names are lower-case (as the HTTP layer gives them). An empty secret proves nothing.
 */
export const isWebhookAuthentic = (secret: string, headers: Record<string, string>, now: Date): boolean => {
  if (secret === '') return false;
  const presented = headers[WEBHOOK_SECRET_HEADER];
  if (presented !== undefined && safeEqual(presented, secret)) return true;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return bearer?.[1] !== undefined && verifyHs256Jwt(bearer[1], secret, now);
};
