import type { ScheduledEvent } from 'aws-lambda';
import { sweep } from '../lib/app/sweep.ts';
import { type Container, createContainer } from '../lib/composition.ts';
import { loadConfig } from '../lib/config.ts';

/** Cron: republishes work for stuck queues (design section 5, "Sweeper"). */
export const createSweeperHandler = (c: Container) => async (_event?: ScheduledEvent) =>
  sweep(c, { graceMs: c.config.SWEEPER_GRACE_SECONDS * 1000 });

let built: ReturnType<typeof createSweeperHandler> | undefined;
export const handler = (event: ScheduledEvent) => {
  built ??= createSweeperHandler(createContainer(loadConfig()));
  return built(event);
};
