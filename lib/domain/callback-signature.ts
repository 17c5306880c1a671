import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Callback signatures in Stripe's scheme, so ERP integrators can reuse code they already have:
 * header `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is inside
 * the signed text, so a captured callback cannot be replayed outside the tolerance window.
 * During a secret rotation the header carries one `v1=` per active secret; the receiver accepts
 * the callback when any of them matches any secret it knows, so both sides can rotate at their
 * own pace. Other schemes (`v0=`) and unknown keys are ignored, as Stripe's libraries do.
 */

/** Suggested header name for the signature (the integrator may choose another; keep it documented). */
export const CALLBACK_SIGNATURE_HEADER = 'X-Billing-Signature';

/** Five minutes either way: enough for clock skew and retries in flight, short for replays. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

const hmacHex = (secret: string, timestampSeconds: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');

/**
 * The signature header value for `body` sent at `timestampSeconds`, with one `v1=` per secret
 * (pass several during a rotation). Throws on an empty secret or a non-integer timestamp: bugs.
 */
export const signCallback = (
  secret: string | readonly string[],
  body: string,
  timestampSeconds: number,
): string => {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0 || secrets.some((s) => s.length === 0))
    throw new Error('signCallback needs at least one non-empty secret');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0)
    throw new Error(`signCallback needs whole unix seconds, got ${timestampSeconds}`);
  const signatures = secrets.map((s) => `v1=${hmacHex(s, timestampSeconds, body)}`);
  return [`t=${timestampSeconds}`, ...signatures].join(',');
};

/** The timestamp and v1 signatures of a header, or null when it is not well formed. */
const parseHeader = (header: string): { timestamp: number; signatures: Buffer[] } | null => {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      // Two timestamps would let a forger pick which one a lenient parser reads.
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      const hex = value.toLowerCase();
      if (!SIGNATURE_HEX.test(hex)) return null;
      signatures.push(Buffer.from(hex, 'hex'));
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
};

/**
 * True when `header` signs `body` with any of `secrets` and its timestamp is within
 * `toleranceSeconds` of `nowSeconds` (either way). Compares in constant time; a malformed header,
 * an empty secret list, a tampered body or a stale timestamp is simply false.
 */
export const verifyCallbackSignature = (
  header: string,
  body: string,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean => {
  const parsed = parseHeader(header);
  if (!parsed) return false;
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) return false;
  let matched = false;
  // Every pair is compared (no early exit) so timing does not tell which secret or slot matched.
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const expected = Buffer.from(hmacHex(secret, parsed.timestamp, body), 'hex');
    for (const candidate of parsed.signatures) {
      if (timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  return matched;
};
