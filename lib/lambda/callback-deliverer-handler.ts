import type { ScheduledEvent } from 'aws-lambda';
import { deliverDueCallbacks } from '../app/deliver-callbacks.ts';
import type { Container } from '../composition.ts';

/** Cron (every minute): posts the ERP callbacks that are due, retrying with backoff (design section 5). */
export const createCallbackDelivererHandler = (c: Container) => async (_event?: ScheduledEvent) => {
  const summary = await deliverDueCallbacks(c);
  if (summary.attempted > 0) c.logger.info('callbacks delivered', { ...summary });
  return summary;
};
