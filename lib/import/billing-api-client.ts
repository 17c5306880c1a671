import type { TemplateType } from '../domain/types.ts';
import type { DryRunResponse, SendBillingResponse } from '../http/schemas/billing.ts';
import { API_KEY_HEADER, type FieldIssue, type RejectedContact } from '../http/schemas/common.ts';
import type { MeResponse } from '../http/schemas/overview.ts';

/**
 * The import's HTTP client of the billing API (local or deployed: only a base URL and a key).
 * Posting a batch is idempotent by `external_id`, so every failure that may be temporary (the
 * network, a timeout, a 5xx, a 409 REQUEST_IN_PROGRESS while an identical post is still being
 * stored, a short 429) is retried with the same body until `maxWaitMs` has passed.
 */

/** An answer of the API that ends the import (wrong key, daily limit, conflicting batch...). */
export class BillingApiError extends Error {
  override readonly name = 'BillingApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What posting one batch came to. */
export type SendOutcome =
  | { kind: 'accepted'; accepted: number; rejected: RejectedContact[]; replayed: boolean }
  /** 400 NO_VALID_CONTACTS: every contact refused, one by one; nothing stored. */
  | { kind: 'none_valid'; rejected: RejectedContact[] }
  /** 400 VALIDATION_FAILED: fields the schema refused (`contacts.3.telefone`); nothing stored. */
  | { kind: 'invalid_fields'; issues: FieldIssue[] };

export interface BillingApiClient {
  /** The tenant's largest batch; null when the API does not tell this key (`/me` needs the `read` scope). */
  maxBatchSize(): Promise<number | null>;
  sendBatch(type: TemplateType, body: unknown, options: { dryRun: boolean }): Promise<SendOutcome>;
}

export interface BillingApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** How long one batch may keep failing temporarily before the import gives up (default 2 min). */
  maxWaitMs?: number;
  /** One request's timeout (default 60 s, beyond the API's own 29 s). */
  requestTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Told each time a request is tried again, with why (so a long wait is never silent). */
  onRetry?: (reason: string, delayMs: number) => void;
}

/** A 429 asking to wait longer than this ends the import (run it again later: it resumes). */
const MAX_RETRY_AFTER_SECONDS = 60;
const MAX_BACKOFF_MS = 10_000;

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, read field by field below
  body: any;
}

/** Why an answer is worth waiting for and posting again, and for how long; null when it is not. */
const retryDelayMs = (answer: Answer, backoffMs: number): number | null => {
  if (answer.status >= 500) return backoffMs;
  if (answer.status === 409 && answer.body?.code === 'REQUEST_IN_PROGRESS') return backoffMs;
  if (answer.status === 429 && answer.body?.code === 'RATE_LIMITED') {
    const seconds = Number(answer.headers.get('Retry-After'));
    return Number.isFinite(seconds) && seconds <= MAX_RETRY_AFTER_SECONDS ? seconds * 1000 : null;
  }
  return null;
};

const apiError = (answer: Answer): BillingApiError =>
  new BillingApiError(
    answer.status,
    String(answer.body?.code ?? `HTTP_${answer.status}`),
    String(answer.body?.message ?? (typeof answer.body === 'string' ? answer.body.slice(0, 200) : '')),
  );

export const createBillingApiClient = (options: BillingApiClientOptions): BillingApiClient => {
  const fetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const base = options.baseUrl.replace(/\/+$/, '');

  const request = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${base}/api/v1/billing${path}`, {
      method,
      headers: {
        [API_KEY_HEADER]: options.apiKey,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 60_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's HTML page): kept as text for the error message.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  /** Sends until the answer is final; network failures count as temporary. */
  const requestPatiently = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const deadline = Date.now() + maxWaitMs;
    let backoffMs = 500;
    for (;;) {
      let answer: Answer | undefined;
      let failure: unknown;
      try {
        answer = await request(method, path, body);
      } catch (error) {
        failure = error;
      }
      const delay = answer ? retryDelayMs(answer, backoffMs) : backoffMs;
      if (delay === null && answer) return answer;
      if (Date.now() + (delay ?? 0) > deadline) {
        if (answer) throw apiError(answer);
        throw new BillingApiError(0, 'NETWORK_ERROR', `${base} did not answer: ${String(failure)}`);
      }
      const reason = answer
        ? `${answer.status} ${String(answer.body?.code ?? '')}`.trim()
        : `no answer (${String((failure as Error)?.cause ?? failure)})`;
      options.onRetry?.(`${method} ${path}: ${reason}`, delay ?? backoffMs);
      await sleep(delay ?? backoffMs);
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  };

  return {
    maxBatchSize: async () => {
      const answer = await requestPatiently('GET', '/me');
      if (answer.status === 403 && answer.body?.code === 'KEY_SCOPE_NOT_ALLOWED') return null;
      if (answer.status !== 200) throw apiError(answer);
      // A deployment older than `limits` in /me tells nothing: the caller falls back as for a send-only key.
      return (answer.body as Partial<MeResponse>).limits?.max_batch_size ?? null;
    },

    sendBatch: async (type, body, { dryRun }) => {
      const answer = await requestPatiently('POST', `/send/${type}${dryRun ? '?dry_run=true' : ''}`, body);
      if (answer.status === 200) {
        const ok = answer.body as SendBillingResponse | DryRunResponse;
        return {
          kind: 'accepted',
          accepted: ok.accepted,
          rejected: ok.rejected,
          replayed: answer.headers.get('Idempotent-Replayed') === 'true',
        };
      }
      if (answer.status === 400 && answer.body?.code === 'NO_VALID_CONTACTS')
        return { kind: 'none_valid', rejected: answer.body.errors ?? [] };
      if (answer.status === 400 && answer.body?.code === 'VALIDATION_FAILED')
        return { kind: 'invalid_fields', issues: answer.body.errors ?? [] };
      throw apiError(answer);
    },
  };
};
