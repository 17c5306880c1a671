import type { ScheduledEvent } from 'aws-lambda';
import { createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';
import { createSweeperHandler } from '../lib/lambda/sweeper-handler.ts';

/** Lambda entry point of the sweeper cron (lib/lambda/sweeper-handler.ts); the container is built at cold start. */
let built: ReturnType<typeof createSweeperHandler> | undefined;
export const handler = (event: ScheduledEvent) => {
  built ??= createSweeperHandler(createContainer(loadConfig()));
  return built(event);
};
