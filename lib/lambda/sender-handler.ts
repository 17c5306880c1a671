import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { workItemCodec } from '../adapters/queue/work-item-schema.ts';
import { runQueue } from '../app/run-queue.ts';
import type { Container } from '../composition.ts';

/** Time kept back from the Lambda timeout to publish the continuation and release the lease. */
const SAFETY_MARGIN_MS = 30_000;

/** How soon a work item whose run failed comes back (instead of the whole visibility timeout). */
const RETRY_AFTER_FAILURE_SECONDS = 30;

/**
 * The sender: an SQS FIFO consumer with partial batch responses. Each record is one queue's work
 * item; a failed record (and, FIFO, the ones after it in its group) comes back later.
 */
export const createSenderHandler =
  (c: Container, options: { retryFailuresSoon: boolean } = { retryFailuresSoon: false }) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      try {
        await runRecord(record);
      } catch (error) {
        if (options.retryFailuresSoon && c.workQueue.retryLater) {
          await c.workQueue
            .retryLater(record.receiptHandle, RETRY_AFTER_FAILURE_SECONDS)
            .catch((cause: unknown) =>
              c.logger.warn("could not shorten a failed item's wait", { error: cause as Error }),
            );
        }
        throw error;
      }
    };
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
      });
    };
    try {
      return await processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
        context,
        throwOnFullBatchFailure: false,
      });
    } finally {
      await c.metrics.flush();
    }
  };
