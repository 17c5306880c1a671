import type { ScheduledEvent } from 'aws-lambda';
import { type CallbackRedrive, redriveCallbackDeadLetters } from '../app/callback-dead-letters.ts';
import { deliverDueCallbacks } from '../app/deliver-callbacks.ts';
import type { Container } from '../composition.ts';
import type { CallbackRef } from '../ports/callback-queue.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';

/**
 * Cron (every minute): posts the ERP callbacks that are due, retrying with backoff (design section
 * 5); then, the store having answered, puts the callbacks queue's dead letters back on it (refs a
 * store outage killed: callback-dead-letters.ts). A failed redrive is logged and tried next minute.
 */
export const createCallbackDelivererHandler =
  (c: Container, callbackDeadLetters?: DeadLetters<CallbackRef>) => async (_event?: ScheduledEvent) => {
    const summary = await deliverDueCallbacks(c);
    if (summary.attempted > 0) c.logger.info('callbacks delivered', { ...summary });
    const redrive = callbackDeadLetters
      ? await redriveDeadCallbacks(c, callbackDeadLetters)
      : { redriven: 0, kept: 0 };
    return { ...summary, ...redrive };
  };

/** `redriveCallbackDeadLetters`, logged: a redrive at WARN (it follows an outage), a failure at ERROR. */
export const redriveDeadCallbacks = async (
  c: Pick<Container, 'callbackQueue' | 'logger'>,
  deadLetters: DeadLetters<CallbackRef>,
): Promise<CallbackRedrive> => {
  try {
    const redrive = await redriveCallbackDeadLetters({ deadLetters, callbackQueue: c.callbackQueue });
    if (redrive.redriven > 0 || redrive.kept > 0)
      c.logger.warn('callback dead letters put back on the callbacks queue', { ...redrive });
    return redrive;
  } catch (error) {
    c.logger.error('callback dead letters could not be put back', { error: error as Error });
    return { redriven: 0, kept: 0 };
  }
};
