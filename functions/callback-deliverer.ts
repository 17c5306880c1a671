import type { ScheduledEvent } from 'aws-lambda';
import { openCallbackDeadLetters } from '../lib/composition/queues.ts';
import { createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import { createCallbackDelivererHandler } from '../lib/lambda/callback-deliverer-handler.ts';

/** Lambda entry point of the callback deliverer cron (lib/lambda/callback-deliverer-handler.ts); the container is built at cold start. */
let built: ReturnType<typeof createCallbackDelivererHandler> | undefined;
export const handler = (event: ScheduledEvent) => {
  if (!built) {
    const config = loadConfig();
    built = createCallbackDelivererHandler(createContainer(config), openCallbackDeadLetters(config));
  }
  return built(event);
};
