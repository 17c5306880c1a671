import { METRICS_NAMESPACE } from '../lib/observability/metric-names.ts';
import { callbackQueue, workQueue } from './queues.ts';
import { secretReadPermission } from './secrets.ts';
import { logRetention } from './stage.ts';
import { table } from './storage.ts';

/**
 * What every function of the product shares: runtime, logging, the linked resources and the
 * environment lib/config.ts reads. Linking grants the IAM access; the names reach the code as plain
 * environment variables because lib/config.ts, not SST's `Resource` SDK, is the reader of settings.
 */

/** The `service` dimension of the EMF metrics and the logger's service name; alarms select on it. */
export const SERVICE_NAME = 'billing';

/** Node 22 on Graviton (design section 8): arm64 is ~20% cheaper per GB-second for the same work. */
export const functionDefaults = {
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  logging: { retention: logRetention, format: 'json' },
} as const satisfies Partial<sst.aws.FunctionArgs>;

/** Environment of every function (names of linked resources; no secret ever goes here). */
export const appEnvironment = {
  TABLE_NAME: table.name,
  WORK_QUEUE_URL: workQueue.url,
  CALLBACK_QUEUE_URL: callbackQueue.url,
  // Functions that defer work override this with `eventbridge` (schedulerEnvironment).
  SCHEDULER_DRIVER: 'none',
  METRICS_DRIVER: 'emf',
  LOG_LEVEL: 'INFO',
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
};

/** One IAM statement of a function's role (SST's FunctionPermissionArgs). */
export type Permission = sst.aws.FunctionPermissionArgs;

export interface AppFunctionOptions {
  timeout: `${number} seconds`;
  memory: `${number} MB`;
  environment?: Record<string, unknown>;
  permissions?: Permission[];
  concurrency?: { reserved: number };
  /** Packages installed next to the bundle instead of inlined (files read from node_modules at run time). */
  install?: string[];
}

/** The sst.aws.Function arguments of one entry point of functions/ (`handler` is `functions/<name>.handler`). */
export const appFunctionArgs = (handler: string, options: AppFunctionOptions): sst.aws.FunctionArgs => ({
  ...functionDefaults,
  handler,
  timeout: options.timeout,
  memory: options.memory,
  link: [table, workQueue, callbackQueue],
  environment: { ...appEnvironment, ...options.environment },
  permissions: [secretReadPermission, ...(options.permissions ?? [])],
  ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  ...(options.install ? { nodejs: { install: options.install } } : {}),
});
