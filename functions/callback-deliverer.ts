import type { ScheduledEvent } from 'aws-lambda';
import { deliverDueCallbacks } from '../lib/app/deliver-callbacks.ts';
import { type Container, createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';

/** Cron (every minute): posts the ERP callbacks that are due, retrying with backoff (design section 5). */
export const createCallbackDelivererHandler = (c: Container) => async (_event?: ScheduledEvent) => {
  const summary = await deliverDueCallbacks(c);
  if (summary.attempted > 0) c.logger.info('callbacks delivered', { ...summary });
  return summary;
};

let built: ReturnType<typeof createCallbackDelivererHandler> | undefined;
export const handler = (event: ScheduledEvent) => {
  built ??= createCallbackDelivererHandler(createContainer(loadConfig()));
  return built(event);
};
