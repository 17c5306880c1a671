import type { AmbiguousSendPolicy } from './tenant-types.ts';
import type { ContactSendResult, QueueCounter, SendFailureCode } from './types.ts';

/** A send attempt's outcome as the gateway port classifies it. */
export type AttemptOutcome =
  | { kind: 'sent'; messageId: string; remoteJid: string }
  | { kind: 'permanent'; reason: string }
  | { kind: 'transient'; reason: string; rateLimited: boolean }
  | { kind: 'unknown'; reason: string };

/** The code of a permanent refusal: the gateway's reason says whether the number is on WhatsApp. */
const permanentFailureCode = (reason: string): SendFailureCode =>
  /whatsapp|exists/i.test(reason) ? 'NOT_ON_WHATSAPP' : 'GATEWAY_REJECTED';

export interface RetryPolicy {
  maxRetries: number;
  retryBackoffSeconds: number;
  ambiguousSendPolicy: AmbiguousSendPolicy;
}

export interface AttemptDecision {
  result: ContactSendResult;
  /** Counter changes of the queue for this attempt. */
  deltas: Partial<Record<QueueCounter, number>>;
}

const MAX_BACKOFF_MS = 15 * 60_000;

/** Wait before retry number `attempt` (1-based): base, doubling, capped at 15 minutes. */
export const retryDelayMs = (attempt: number, baseSeconds: number): number =>
  Math.min(MAX_BACKOFF_MS, baseSeconds * 1000 * 2 ** Math.max(0, attempt - 1));

/**
 * What a finished attempt means for the contact and the queue's counters.
 * `attempts` counts tries including this one; a contact gets 1 + maxRetries tries in all.
 * `wasRetry`: the contact was waiting in `retry` (counted in contactsPendingRetry) when claimed.
 */
export const decideAfterAttempt = (
  outcome: AttemptOutcome,
  attempts: number,
  wasRetry: boolean,
  policy: RetryPolicy,
  now: Date,
): AttemptDecision => {
  const at = now.toISOString();
  const leaveRetry: Partial<Record<QueueCounter, number>> = wasRetry ? { contactsPendingRetry: -1 } : {};
  const retryOrFail = (reason: string, code: SendFailureCode): AttemptDecision => {
    if (attempts > policy.maxRetries) {
      return {
        result: { status: 'failed', error: reason, code, at },
        deltas: { ...leaveRetry, contactsFailed: 1 },
      };
    }
    const retryAt = new Date(
      now.getTime() + retryDelayMs(attempts, policy.retryBackoffSeconds),
    ).toISOString();
    return {
      result: { status: 'retry', error: reason, at, retryAt },
      deltas: wasRetry ? {} : { contactsPendingRetry: 1 },
    };
  };
  switch (outcome.kind) {
    case 'sent':
      return {
        result: { status: 'sent', providerMessageId: outcome.messageId, at },
        deltas: { ...leaveRetry, contactsSent: 1 },
      };
    case 'permanent':
      return {
        result: { status: 'failed', error: outcome.reason, code: permanentFailureCode(outcome.reason), at },
        deltas: { ...leaveRetry, contactsFailed: 1 },
      };
    case 'transient':
      return retryOrFail(outcome.reason, 'RETRIES_EXHAUSTED');
    case 'unknown':
      // The gateway may have sent it: resending could message the debtor twice.
      if (policy.ambiguousSendPolicy === 'retry')
        return retryOrFail(`resultado desconhecido: ${outcome.reason}`, 'UNKNOWN_OUTCOME');
      return {
        result: { status: 'unknown', error: outcome.reason, code: 'UNKNOWN_OUTCOME', at },
        deltas: { ...leaveRetry, contactsUnknown: 1 },
      };
  }
};
