import { channel } from 'node:diagnostics_channel';
import type {
  GatewayConnectionState,
  GatewayTarget,
  SendOutcome,
  WhatsAppGateway,
} from '../../ports/whatsapp-gateway.ts';

/**
 * WhatsAppGateway over Evolution API v2 (see shared/evolution-contract.md).
 *
 * Classification of a sendText answer (the retry rules depend on it):
 *
 * | answer                                                   | outcome                                  |
 * |----------------------------------------------------------|------------------------------------------|
 * | 2xx with `key.id`                                        | sent (messageId = key.id, remoteJid)     |
 * | 2xx without `key.id` or with an unreadable body          | unknown: it may have been sent           |
 * | 400 `[{exists:false,...}]`                               | permanent 'not on WhatsApp'              |
 * | 400 `["Error: rate-overlimit"]`                          | transient, rateLimited                   |
 * | 400 `["Error: <anything else>"]` (a Baileys send error)  | transient: Baileys throws before the     |
 * |                                                          | stanza is written (closed socket, usync  |
 * |                                                          | or prekey query timed out), so a retry   |
 * |                                                          | cannot duplicate; a ban or logout shows  |
 * |                                                          | as `close` and pauses the instance       |
 * | 400 schema errors, `["Text is required"]`, other 400     | permanent: the same request fails again  |
 * | 401                                                      | transient 'unauthorized': a wrong key is |
 * |                                                          | configuration, not the contact's fault;  |
 * |                                                          | the sender pauses the instance after     |
 * |                                                          | consecutive failures instead of burning  |
 * |                                                          | the queue                                |
 * | 403                                                      | transient 'forbidden' (same reasoning)   |
 * | 404 `The "x" instance does not exist`                    | transient 'instance not found'           |
 * | other 404                                                | transient 'not found (404)': a wrong     |
 * |                                                          | base URL is configuration as well        |
 * | 413                                                      | permanent 'text too large'               |
 * | 429                                                      | transient, rateLimited (a proxy limit)   |
 * | other 4xx                                                | transient 'http <status>'                |
 * | 5xx with Evolution's envelope `{status, error,          | transient: Evolution answered itself, so |
 * |   response: {message}}` (500 "Connection Closed"), and   | the send failed inside it                |
 * |   503 LICENSE_REQUIRED                                   |                                          |
 * | 502, 504, or any 5xx without Evolution's envelope (an    | unknown: a reverse proxy (nginx,         |
 * |   nginx or Cloudflare HTML page, an empty body)          | Cloudflare) answered, maybe after        |
 * |                                                          | Evolution sent; the tenant's             |
 * |                                                          | ambiguous-send policy decides            |
 * | fetch fails before the request left (ECONNREFUSED,       | transient: nothing reached the gateway   |
 * |   ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, connect timeout)   |                                          |
 * | timeout, ECONNRESET, socket closed, anything else thrown | unknown: the gateway may have sent it    |
 *
 * The apikey only ever travels in the `apikey` header; no reason string contains it.
 */

export interface EvolutionGatewayOptions {
  /** Client timeout for one call, in ms. Must exceed `delayMs` + 5000 when a delay is sent. */
  timeoutMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Typing delay Evolution waits before sending (the HTTP call itself waits that long). */
  delayMs?: number;
  /**
   * Told which URL could not answer a connection check, and why (refused, timeout, a 401 for a
   * wrong apikey...): an operator pointing a tenant at a new server needs to see it.
   */
  onUnreachable?: (problem: { url: string; reason: string }) => void;
}

/** Headroom for the send itself on top of the typing delay: Baileys resolves devices and encrypts first. */
const SEND_HEADROOM_MS = 5000;
const DEFAULT_TIMEOUT_MS = 15_000;
/** Longest gateway text kept in a reason: reasons are stored on contacts and shown to people. */
const MAX_REASON_CHARS = 200;

/** Error codes that mean the TCP connection was never made, so the request cannot have been seen. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
]);

const DIGITS = /^\d+$/;

const trimBaseUrl = (baseUrl: string): string => baseUrl.replace(/\/+$/, '');

const routeUrl = (target: GatewayTarget, group: string, action: string): string =>
  `${trimBaseUrl(target.baseUrl)}/${group}/${action}/${encodeURIComponent(target.instanceName)}`;

const clip = (text: string): string =>
  text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}...` : text;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `response.message` of Evolution's error envelope (or a top-level `message`), whatever its shape. */
const envelopeMessage = (body: unknown): unknown => {
  if (!isRecord(body)) return undefined;
  if (isRecord(body.response) && 'message' in body.response) return body.response.message;
  return body.message;
};

/**
 * Evolution's own error answers always carry this shape (its global error handler builds it); a
 * proxy's answers never do.
 */
const isEvolutionEnvelope = (body: unknown): boolean =>
  isRecord(body) &&
  typeof body.status === 'number' &&
  typeof body.error === 'string' &&
  isRecord(body.response) &&
  'message' in body.response;

/** Flattens a message of any shape (string, nested arrays, objects) into readable strings. */
const messageTexts = (message: unknown): string[] => {
  if (typeof message === 'string') return [message];
  if (Array.isArray(message)) return message.flatMap(messageTexts);
  if (isRecord(message)) return [JSON.stringify(message)];
  return [];
};

const hasNotOnWhatsApp = (message: unknown): boolean =>
  Array.isArray(message) && message.some((m) => isRecord(m) && m.exists === false);

const transient = (reason: string, rateLimited = false): SendOutcome => ({
  kind: 'transient',
  reason: clip(reason),
  rateLimited,
});
const permanent = (reason: string): SendOutcome => ({ kind: 'permanent', reason: clip(reason) });
const unknown = (reason: string): SendOutcome => ({ kind: 'unknown', reason: clip(reason) });

const classify400 = (body: unknown): SendOutcome => {
  const message = envelopeMessage(body);
  if (hasNotOnWhatsApp(message)) return permanent('not on WhatsApp');
  const texts = messageTexts(message);
  const baileys = texts.find((t) => t.startsWith('Error: '));
  if (baileys !== undefined) {
    if (baileys.includes('rate-overlimit')) return transient('rate-overlimit', true);
    return transient(`send failed: ${baileys.slice('Error: '.length)}`);
  }
  return permanent(texts.length > 0 ? `rejected: ${texts.join('; ')}` : 'rejected (400)');
};

/** Maps a non-2xx answer to an outcome. Exported for the unit table; adapters call `sendText`. */
export const classifyErrorAnswer = (status: number, body: unknown): SendOutcome => {
  const texts = messageTexts(envelopeMessage(body));
  if (status === 400) return classify400(body);
  if (status === 401) return transient('unauthorized');
  if (status === 403) return transient('forbidden');
  if (status === 404) {
    return texts.some((t) => t.includes('does not exist'))
      ? transient('instance not found')
      : transient('not found (404)');
  }
  if (status === 413) return permanent('text too large');
  if (status === 429) return transient('rate limited (429)', true);
  if (status >= 500) {
    if (isRecord(body) && body.code === 'LICENSE_REQUIRED') return transient('license required');
    // Evolution never answers 502/504 itself: a proxy did, possibly after Evolution sent the message.
    if (status === 502 || status === 504) return unknown(`proxy error ${status}`);
    if (!isEvolutionEnvelope(body)) return unknown(`gateway error ${status} without Evolution's envelope`);
    if (texts.some((t) => t.includes('Connection Closed'))) return transient('connection closed');
    return transient(
      texts.length > 0 ? `gateway error ${status}: ${texts.join('; ')}` : `gateway error ${status}`,
    );
  }
  return transient(`http ${status}`);
};

const errorCode = (error: unknown): string | undefined => {
  // undici wraps socket errors as `TypeError('fetch failed', { cause })`, sometimes two levels deep.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    current = cause;
  }
  return undefined;
};

/** Maps a thrown fetch error: transient only when the request provably never left this process. */
export const classifyFetchError = (error: unknown): SendOutcome => {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return unknown('timeout');
  const code = errorCode(error);
  if (code !== undefined && NOT_SENT_CODES.has(code)) return transient(`gateway unreachable (${code})`);
  return unknown(code !== undefined ? `connection lost (${code})` : 'connection lost');
};

const readJson = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
};

/**
 * Who waits to hear that their request to a URL (origin + path) left, oldest first. Node's fetch
 * (undici) publishes on `undici:client:sendHeaders` as it writes a request's headers to the socket;
 * the body follows at once. One pump per instance sends at a time, so a URL rarely has two waiters.
 */
const requestsLeaving = new Map<string, Array<() => void>>();
let watchingRequests = false;

/** undici gives the origin as a string (`http://host:port`) or, in some versions, a URL. */
const requestKey = (origin: unknown, path: unknown): string =>
  `${origin instanceof URL ? origin.origin : String(origin).replace(/\/+$/, '')}${String(path)}`;

/**
 * Calls `onLeft` when the next request to `url` is written out; returns the function that stops
 * waiting (after the call, whatever happened). A fetch that is not Node's never publishes: the
 * waiter is simply dropped.
 */
const whenRequestLeaves = (url: string, onLeft: () => void): (() => void) => {
  if (!watchingRequests) {
    watchingRequests = true;
    channel('undici:client:sendHeaders').subscribe((message) => {
      const { request } = message as { request?: { origin?: unknown; path?: unknown } };
      const key = requestKey(request?.origin, request?.path);
      const waiters = requestsLeaving.get(key);
      const next = waiters?.shift();
      if (waiters?.length === 0) requestsLeaving.delete(key);
      next?.();
    });
  }
  const { origin, pathname } = new URL(url);
  const key = requestKey(origin, pathname);
  let called = false;
  const waiter = () => {
    called = true;
    onLeft();
  };
  const waiters = requestsLeaving.get(key) ?? [];
  waiters.push(waiter);
  requestsLeaving.set(key, waiters);
  return () => {
    if (called) return;
    const left = requestsLeaving.get(key)?.filter((w) => w !== waiter) ?? [];
    if (left.length > 0) requestsLeaving.set(key, left);
    else requestsLeaving.delete(key);
  };
};

/** Builds the Evolution API v2 adapter of the WhatsAppGateway port. */
export const createEvolutionGateway = (options: EvolutionGatewayOptions = {}): WhatsAppGateway => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  const { delayMs } = options;
  if (delayMs !== undefined && (!Number.isInteger(delayMs) || delayMs < 0)) {
    throw new Error(`delayMs must be a non-negative integer, got ${delayMs}`);
  }
  if (!(timeoutMs > 0)) throw new Error(`timeoutMs must be positive, got ${timeoutMs}`);
  // Evolution holds the HTTP call open during the typing delay: a shorter client timeout would turn
  // every send into an "unknown" outcome although it went out.
  if (delayMs !== undefined && timeoutMs <= delayMs + SEND_HEADROOM_MS) {
    throw new Error(
      `timeoutMs (${timeoutMs}) must exceed delayMs + ${SEND_HEADROOM_MS} (${delayMs + SEND_HEADROOM_MS})`,
    );
  }

  const sendText = async (
    target: GatewayTarget,
    number: string,
    text: string,
    onRequestLeft?: () => void,
  ): Promise<SendOutcome> => {
    // Evolution would "fix" a malformed number into some JID; refusing here keeps a caller bug visible.
    if (!DIGITS.test(number)) return permanent('invalid number: digits only');
    const body: Record<string, unknown> = { number, text };
    if (delayMs !== undefined && delayMs > 0) body.delay = delayMs;

    const url = routeUrl(target, 'message', 'sendText');
    let response: Response;
    let stopWaiting: (() => void) | undefined;
    try {
      // Inside the try: a malformed base URL fails here as it would in fetch (transient, never sent).
      stopWaiting = onRequestLeft ? whenRequestLeaves(url, onRequestLeft) : undefined;
      response = await doFetch(url, {
        method: 'POST',
        headers: { apikey: target.apiKey, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return classifyFetchError(error);
    } finally {
      stopWaiting?.();
    }

    let answer: unknown;
    try {
      answer = await readJson(response);
    } catch (error) {
      // The status line arrived but the body did not: for a 2xx the message may be out (for a
      // 5xx, the missing envelope makes it unknown as well).
      if (response.ok) return classifyFetchError(error);
      return classifyErrorAnswer(response.status, undefined);
    }

    if (response.ok) {
      const key = isRecord(answer) && isRecord(answer.key) ? answer.key : undefined;
      if (key && typeof key.id === 'string' && key.id !== '') {
        const remoteJid = typeof key.remoteJid === 'string' ? key.remoteJid : `${number}@s.whatsapp.net`;
        return { kind: 'sent', messageId: key.id, remoteJid };
      }
      return unknown(`accepted without a message id (${response.status})`);
    }
    return classifyErrorAnswer(response.status, answer);
  };

  const unreachable = (url: string, reason: string): 'unknown' => {
    options.onUnreachable?.({ url, reason });
    return 'unknown';
  };

  const connectionState = async (target: GatewayTarget): Promise<GatewayConnectionState> => {
    const url = routeUrl(target, 'instance', 'connectionState');
    try {
      const response = await doFetch(url, {
        method: 'GET',
        headers: { apikey: target.apiKey, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return unreachable(url, `HTTP ${response.status}`);
      }
      const answer = await readJson(response);
      const state = isRecord(answer) && isRecord(answer.instance) ? answer.instance.state : undefined;
      return state === 'open' || state === 'connecting' || state === 'close'
        ? state
        : unreachable(url, 'no connection state in the answer');
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return unreachable(url, cause ?? (error as Error).name ?? 'request failed');
    }
  };

  return { sendText, connectionState };
};
