import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import { createCallbackSenderHandler } from '../lib/lambda/callback-sender-handler.ts';

/** Lambda entry point of the callbacks queue consumer (lib/lambda/callback-sender-handler.ts); the container is built at cold start. */
let built: ReturnType<typeof createCallbackSenderHandler> | undefined;
export const handler = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  built ??= createCallbackSenderHandler(createContainer(loadConfig()));
  return built(event, context);
};
