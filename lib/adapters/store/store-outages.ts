import { DomainError } from '../../domain/errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../ports/metrics.ts';
import type { Store } from '../../ports/store.ts';

/**
 * DynamoDB answers that mean "the store is unavailable right now", after the SDK's own retries:
 * throttling, its 5xx, or no answer at all (connection refused or reset, a timeout). Anything else
 * (a failed condition, a validation error) is a bug or an expected value, not an outage.
 */
const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

export const isStoreUnavailable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const details = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  if (UNAVAILABLE_NAMES.has(error.name)) return true;
  if ((details.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (details.code && NETWORK_CODES.has(details.code)) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isStoreUnavailable(cause);
};

/**
 * The store with its outages made visible and answerable: a call that fails because DynamoDB is
 * unreachable or throttling past the SDK's retries throws DomainError `STORE_UNAVAILABLE` (an HTTP
 * 503 with Retry-After, never a 500), after a WARN naming the dependency and a `DependencyFailures`
 * metric. Every other error passes unchanged. Each method stays one atomic write or read, so a
 * request refused this way has changed nothing it cannot finish on a retry.
 */
export const withStoreOutages = (store: Store, deps: { metrics: Metrics; logger: Logger }): Store =>
  new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const operation = String(property);
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (error) {
          if (!isStoreUnavailable(error)) throw error;
          deps.metrics.dependencyFailed({ dependency: 'store', operation });
          deps.logger.warn('store unavailable', { dependency: 'store', operation, error: error as Error });
          throw new DomainError('STORE_UNAVAILABLE');
        }
      };
    },
  });
