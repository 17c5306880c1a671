import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CallbackClient, CallbackResponse } from '../../ports/callback-client.ts';
import {
  FORBIDDEN_ADDRESS_ERROR_CODE,
  type LookupAll,
  pinnedLookup,
} from '../network/dns-callback-url-guard.ts';

export interface HttpCallbackClientOptions {
  /** Whole attempt, connect to last byte (default 5 s): a slow ERP must not hold the deliverer. */
  timeoutMs?: number;
  /** DNS resolution (injectable for tests). */
  lookup?: LookupAll;
}

const DEFAULT_TIMEOUT_MS = 5_000;
/** Bytes of the ERP's answer we read before letting it go: its body is not used. */
const MAX_RESPONSE_BYTES = 16 * 1024;

/**
 * ERP callbacks over node's HTTP client. The socket connects only to addresses `pinnedLookup`
 * approves in the same resolution (DNS rebinding cannot slip a private address in after the
 * check), redirects are never followed (node's client does not, and a 3xx counts as a failure),
 * and every attempt ends within the timeout. A fresh connection per post (`agent: false`): a
 * pooled socket could outlive the check of the tenant it was opened for.
 */
export const createHttpCallbackClient = (options: HttpCallbackClientOptions = {}): CallbackClient => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    post: ({ url, body, headers, allowInsecure }) =>
      new Promise<CallbackResponse>((resolve) => {
        let target: URL;
        try {
          target = new URL(url);
        } catch {
          resolve({ ok: false, error: 'invalid callback URL' });
          return;
        }
        if (target.protocol !== 'https:' && !(allowInsecure && target.protocol === 'http:')) {
          resolve({ ok: false, error: `protocol ${target.protocol} not allowed` });
          return;
        }
        const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
        let settled = false;
        const finish = (outcome: CallbackResponse) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(outcome);
        };
        const req = send(target, {
          method: 'POST',
          agent: false,
          headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
          lookup: pinnedLookup({
            allowInsecure,
            timeoutMs,
            ...(options.lookup ? { lookup: options.lookup } : {}),
          }),
        });
        const timer = setTimeout(() => {
          finish({ ok: false, error: `timeout after ${timeoutMs} ms` });
          req.destroy();
        }, timeoutMs);
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_RESPONSE_BYTES) res.destroy();
          });
          // The status decides; the body is only drained so the socket can close cleanly.
          const done = () =>
            finish(
              status >= 200 && status < 300
                ? { ok: true, status }
                : { ok: false, status, error: `HTTP ${status}` },
            );
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          const reason =
            error.code === FORBIDDEN_ADDRESS_ERROR_CODE
              ? 'callback host resolves only to forbidden addresses'
              : `${error.code ?? 'ERROR'}: ${error.message}`;
          finish({ ok: false, error: reason });
        });
        req.end(body);
      }),
  };
};
