import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { workItemCodec } from '../adapters/queue/work-item-schema.ts';
import { runQueue } from '../app/run-queue.ts';
import type { Container } from '../composition.ts';
import { runFifoGroups } from './fifo-groups.ts';

/** Time kept back from the Lambda timeout to publish the continuation and release the lease. */
const SAFETY_MARGIN_MS = 30_000;

/** How soon a work item whose run failed comes back (instead of the whole visibility timeout). */
const RETRY_AFTER_FAILURE_SECONDS = 30;

/**
 * The sender: an SQS FIFO consumer with partial batch responses. Each record is one queue's work
 * item, its message group the queue's WhatsApp instance. The groups of a batch run at once (one
 * pump each), each group's records in order; a failed record and the ones after it in its group
 * come back later, the other groups are not held (fifo-groups.ts).
 */
export interface SenderHandlerOptions {
  /** Bring a failed item back in 30 s instead of after its visibility timeout (Lambda). */
  retryFailuresSoon: boolean;
  /** The local worker is stopping: runs hand their queues back at once (PumpOptions.stopSignal). */
  stopSignal?: AbortSignal;
  /**
   * Wraps each record's run; none in production. The cost bench (bench/cost/metering.ts) runs each
   * group's pump in a scope of its own, so it can tell when every pump of a batch is waiting.
   */
  aroundRecord?: (record: SQSRecord, run: () => Promise<void>) => Promise<void>;
}

export const createSenderHandler =
  (c: Container, options: SenderHandlerOptions = { retryFailuresSoon: false }) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const runRecord = async (record: SQSRecord): Promise<void> => {
      const item = workItemCodec.decode(record.body);
      // Thrown, not dropped: after maxReceiveCount a poison message lands in the DLQ, visible.
      if (!item) throw new Error(`malformed work item ${record.messageId}`);
      const budgetMs = Math.min(
        c.config.SENDER_BUDGET_SECONDS * 1000,
        context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS,
      );
      await runQueue(c, item, {
        budgetMs: Math.max(budgetMs, 1000),
        leaseMs: c.config.SENDER_LEASE_SECONDS * 1000,
        gatewayTimeoutMs: c.config.GATEWAY_TIMEOUT_MS,
        ...(options.stopSignal ? { stopSignal: options.stopSignal } : {}),
      });
    };
    const { aroundRecord } = options;
    try {
      const { failed, errors } = await runFifoGroups(
        event.Records,
        (record) => record.attributes.MessageGroupId,
        aroundRecord ? (record) => aroundRecord(record, () => runRecord(record)) : runRecord,
      );
      for (const { record, error } of errors)
        c.logger.error('sender run failed', { messageId: record.messageId, error: error as Error });
      // Every failed record, run or not: the ones held behind a failure would otherwise block
      // their instance for the whole visibility timeout once the failed one is done.
      if (options.retryFailuresSoon && c.workQueue.retryLater) {
        const retryLater = c.workQueue.retryLater.bind(c.workQueue);
        await Promise.all(
          failed.map((record) =>
            retryLater(record.receiptHandle, RETRY_AFTER_FAILURE_SECONDS).catch((cause: unknown) =>
              c.logger.warn("could not shorten a failed item's wait", { error: cause as Error }),
            ),
          ),
        );
      }
      return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
    } finally {
      await c.metrics.flush();
    }
  };
