import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { callbackRefCodec } from '../adapters/queue/callback-ref-schema.ts';
import {
  type CallbackSenderDeps,
  createCallbackSender,
  FirstAttemptInFlightError,
} from '../app/deliver-callbacks.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * The callbacks queue's consumer (SQS standard, partial batch responses): each record names one
 * stored event, posted now with the poller's own claim. A failed post is recorded for the poller to
 * retry and the record succeeds; a store error, or a copy of a message whose first attempt is in
 * flight elsewhere (`FirstAttemptInFlightError`), fails the record, which then comes back. Each
 * failed record is logged here, with why: an error, or (a copy coming back) a line at INFO, since a
 * duplicate announcement is normal operation, not a fault.
 */
export const createCallbackSenderHandler = (
  c: CallbackSenderDeps & { logger: Pick<Logger, 'info' | 'error'> },
) => {
  // One per container: a warm one reads a tenant's and a key's settings once a minute, not per event.
  const deliver = createCallbackSender(c);
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      try {
        const ref = callbackRefCodec.decode(record.body);
        // Thrown, not dropped: after maxReceiveCount a poison message lands in the DLQ, visible.
        if (!ref) throw new Error(`malformed callback ref ${record.messageId}`);
        await deliver(ref);
      } catch (error) {
        if (error instanceof FirstAttemptInFlightError)
          c.logger.info('callback copy comes back later', {
            messageId: record.messageId,
            reason: error.message,
          });
        else c.logger.error('callback ref failed', { messageId: record.messageId, error: error as Error });
        throw error;
      }
    };
    return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  };
};
