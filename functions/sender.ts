import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import { createSenderHandler } from '../lib/lambda/sender-handler.ts';

/** The sender Lambda: SQS FIFO work items, partial batch responses (see lib/lambda/sender-handler.ts). */
let built: ReturnType<typeof createSenderHandler> | undefined;
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // In Lambda the runtime holds the receipt: a failed item is brought back soon, not after the
  // 30-minute visibility timeout (the local worker retries failed items itself).
  built ??= createSenderHandler(createContainer(loadConfig()), { retryFailuresSoon: true });
  return built(event, context);
};
