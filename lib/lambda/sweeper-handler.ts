import type { ScheduledEvent } from 'aws-lambda';
import { sweep } from '../app/sweep.ts';
import type { Container } from '../composition.ts';

/** Cron: republishes work for stuck queues (design section 5, "Sweeper"). */
export const createSweeperHandler = (c: Container) => async (_event?: ScheduledEvent) =>
  sweep(c, { graceMs: c.config.SWEEPER_GRACE_SECONDS * 1000 });
