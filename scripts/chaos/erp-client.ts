/**
 * The ERP as chaos plays it: it POSTs a batch and, like a real ERP integration, repeats the very
 * same request (same external_id, same body) until the service answers it: through refused
 * connections while the stack is down, dropped requests when it dies mid-accept, 5xx, and
 * `409 REQUEST_IN_PROGRESS` while an earlier attempt still holds the campaign.
 */

export interface ErpBatch {
  externalId: string;
  /** The route's template type (`/send/<type>`). */
  type: 'overdue' | 'upcoming' | 'notification';
  body: {
    external_id: string;
    contacts: Array<Record<string, string>>;
    callback_url?: string;
    callback_events?: string[];
  };
}

export interface ErpAnswer {
  externalId: string;
  queueId: string;
  accepted: number;
  /** Indexes of the contacts the service refused (none expected from chaos batches). */
  rejected: number[];
  /** How many POSTs it took. */
  attempts: number;
  /** Whether the answer came back as a replay of an earlier attempt (`Idempotent-Replayed`). */
  replayed: boolean;
  /** Duration of the first POST when it was answered, for timing the kills. */
  firstAttemptMs: number | undefined;
}

export interface ErpClient {
  /** Posts the batch until it is answered (or refused for good, or `giveUpAfterMs` passes). */
  submit(batch: ErpBatch): Promise<ErpAnswer>;
  /** Whether a POST of this batch is on the wire right now. */
  inFlight(externalId: string): boolean;
}

/** A 4xx that retrying cannot change: the chaos run itself is wrong (or the service refuses a valid batch). */
export class BatchRefusedError extends Error {
  constructor(
    readonly externalId: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`batch ${externalId} was refused with ${status}: ${body.slice(0, 500)}`);
    this.name = 'BatchRefusedError';
  }
}

/** Answers worth repeating the request for: the service was busy, overloaded or broken for a moment. */
const isRetryable = (status: number, code: string | undefined): boolean =>
  status >= 500 || status === 429 || (status === 409 && code === 'REQUEST_IN_PROGRESS');

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const createErpClient = (options: {
  baseUrl: string;
  apiKey: string;
  /** A request with no answer after this long is abandoned and repeated (an HTTP client timeout). */
  requestTimeoutMs: number;
  giveUpAfterMs: number;
  /** Told about every attempt that did not get an answer (for progress lines). */
  onRetry?: (externalId: string, attempt: number, why: string) => void;
}): ErpClient => {
  const onWire = new Set<string>();

  const attempt = async (batch: ErpBatch) => {
    onWire.add(batch.externalId);
    try {
      const response = await fetch(`${options.baseUrl}/api/v1/billing/send/${batch.type}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-billing-api-key': options.apiKey },
        body: JSON.stringify(batch.body),
        signal: AbortSignal.timeout(options.requestTimeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } finally {
      onWire.delete(batch.externalId);
    }
  };

  const submit = async (batch: ErpBatch): Promise<ErpAnswer> => {
    const deadline = Date.now() + options.giveUpAfterMs;
    let firstAttemptMs: number | undefined;
    for (let attempts = 1; ; attempts++) {
      const startedAt = Date.now();
      let why: string;
      try {
        const { status, headers, text } = await attempt(batch);
        if (attempts === 1) firstAttemptMs = Date.now() - startedAt;
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // A proxy's HTML error page, or nothing: judged by the status alone.
        }
        if (status === 200 && typeof body.queue_id === 'string') {
          return {
            externalId: batch.externalId,
            queueId: body.queue_id,
            accepted: Number(body.accepted),
            rejected: ((body.rejected as Array<{ index: number }> | undefined) ?? []).map((r) => r.index),
            attempts,
            replayed: headers.get('idempotent-replayed') === 'true',
            firstAttemptMs,
          };
        }
        const code = typeof body.code === 'string' ? body.code : undefined;
        if (!isRetryable(status, code)) throw new BatchRefusedError(batch.externalId, status, text);
        why = `${status}${code ? ` ${code}` : ''}`;
      } catch (error) {
        if (error instanceof BatchRefusedError) throw error;
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        why = cause ?? (error as Error).name ?? String(error);
      }
      options.onRetry?.(batch.externalId, attempts, why);
      if (Date.now() > deadline)
        throw new Error(
          `the ERP gave up on batch ${batch.externalId} after ${attempts} attempts (${options.giveUpAfterMs} ms); last: ${why}`,
        );
      // A short, growing pause: the stack comes back within seconds after a kill.
      await pause(Math.min(2000, 200 * attempts));
    }
  };

  return { submit, inFlight: (externalId) => onWire.has(externalId) };
};
