export type DeliveryFailureKind = 'invalid-body' | 'handler-failed' | 'dead-lettered';

/**
 * What every queue adapter hands to `ConsumeOptions.onError`, so logs and metrics can tell a poison
 * body, a failed attempt (it will come back) and a final failure (it went to the dead-letter queue) apart.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly kind: DeliveryFailureKind,
    /** The codec's name of the message, e.g. `work item`. */
    readonly messageName: string,
    readonly messageId: string,
    readonly receiveCount: number,
    options: { cause?: unknown } = {},
  ) {
    super(`${messageName} ${messageId} ${kind} (receive ${receiveCount})`, options);
  }
}
