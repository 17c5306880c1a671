import { appFunctionArgs, TABLE_ACTIONS } from './runtime.ts';
import { schedulerEnvironment, schedulerPermissions } from './scheduler.ts';

/**
 * The sweeper (design section 5): every minute it republishes work for queues whose pump died and for
 * due schedules, so no queue stays stuck. It must finish before the next run starts.
 */
export const sweeper = new sst.aws.Cron('Sweeper', {
  schedule: 'rate(1 minute)',
  job: appFunctionArgs('functions/sweeper.handler', {
    timeout: '50 seconds',
    memory: '256 MB',
    // Due queues, delivery watches and receipt recounts (gsi2); republishes work, emits
    // stalled-delivery callbacks.
    access: {
      table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write],
      indexes: ['gsi2'],
      publishes: ['work', 'callbacks'],
    },
    environment: schedulerEnvironment,
    permissions: schedulerPermissions,
  }),
});

/** The sweeper's Lambda function (for alarms). */
export const sweeperFunction = sweeper.nodes.job;

/**
 * ERP callbacks (design section 5): every minute, posts the callbacks that are due from the table's
 * due index and reschedules failures with backoff (functions/callback-deliverer.ts), then puts the
 * callbacks queue's dead letters (refs a store outage killed) back on it. Callback URLs are the
 * ERPs' own; a minute leaves room for a few slow endpoints under the client's timeout.
 */
export const callbackDeliverer = new sst.aws.Cron('CallbackDeliverer', {
  schedule: 'rate(1 minute)',
  job: appFunctionArgs('functions/callback-deliverer.handler', {
    timeout: '55 seconds',
    memory: '256 MB',
    // Due callbacks (gsi2), the key's signing secrets by key id (gsi1); the callbacks DLQ's refs go
    // back on the callbacks queue.
    access: {
      table: [...TABLE_ACTIONS.read, ...TABLE_ACTIONS.write],
      indexes: ['gsi1', 'gsi2'],
      publishes: ['callbacks'],
      redrivesCallbackDeadLetters: true,
    },
  }),
});

/** The callback deliverer's Lambda function (for alarms). */
export const callbackDelivererFunction = callbackDeliverer.nodes.job;
