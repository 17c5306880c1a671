import { METRICS_NAMESPACE } from '../lib/observability/metric-names.ts';
import { callbackDeadLetterQueue, callbackQueue, workQueue } from './queues.ts';
import { secretReadPermission } from './secrets.ts';
import { allowInsecureCallbacks, isProduction, logRetention } from './stage.ts';
import { type TABLE_LAYOUT, table } from './storage.ts';

/**
 * What every function of the product shares: runtime, logging and the environment lib/config.ts
 * reads; and what each one may touch, declared next to it (`access`) and turned here into IAM
 * statements. Nothing is granted through SST's `link`: linking the table or a queue grants
 * `dynamodb:*` / `sqs:*` (DeleteTable, PurgeQueue included). The names reach the code as plain
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

/** Environment of every function (names of resources; no secret ever goes here). */
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
  // lib/config.ts refuses to start a production stage's function with insecure callbacks on.
  PRODUCTION_STAGE: String(isProduction),
  ALLOW_INSECURE_CALLBACKS: String(allowInsecureCallbacks),
};

/** One IAM statement of a function's role (SST's FunctionPermissionArgs). */
export type Permission = sst.aws.FunctionPermissionArgs;

/**
 * Item-level DynamoDB actions, in the groups the store adapters use them (lib/adapters/store):
 * `apiKey` is what authentication does on every `apiKey` route (key lookup, hourly counter, last
 * use), `read` and `write` the rest. No table-level action (DescribeTable, DeleteTable, Scan) is
 * ever granted.
 */
export const TABLE_ACTIONS = {
  apiKey: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
} as const;

export type TableAction = (typeof TABLE_ACTIONS)[keyof typeof TABLE_ACTIONS][number];
export type IndexName = (typeof TABLE_LAYOUT.indexes)[number]['name'];

/** What one function may touch. Consumers get their queue's receive/delete from SST's `subscribe`. */
export interface FunctionAccess {
  /** Item actions on the base table (compose TABLE_ACTIONS groups). */
  table: readonly TableAction[];
  /** Indexes it queries (dynamodb:Query on the index ARN only). */
  indexes?: readonly IndexName[];
  /** Queues it publishes to (sqs:SendMessage). */
  publishes?: readonly ('work' | 'callbacks')[];
  /** sqs:GetQueueAttributes on the work queue: the health probe. */
  probesWorkQueue?: boolean;
  /**
   * Puts the callbacks queue's dead letters back on it (lib/app/callback-dead-letters.ts): reads the
   * callbacks queue's redrive policy, finds, reads, hides and deletes letters on its DLQ. Publishing
   * them is `publishes: ['callbacks']`.
   */
  redrivesCallbackDeadLetters?: boolean;
  /** Resolves `ssm:` gateway credentials of instances (ssm:GetParameter under the stage prefix). */
  readsGatewayCredentials?: boolean;
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** The IAM statements of an access declaration. */
export const accessPermissions = (access: FunctionAccess): Permission[] => {
  const queues = { work: workQueue.arn, callbacks: callbackQueue.arn };
  const statements: Permission[] = [];
  if (access.table.length > 0) statements.push({ actions: unique(access.table), resources: [table.arn] });
  if (access.indexes?.length) {
    statements.push({
      actions: ['dynamodb:Query'],
      resources: access.indexes.map((index) => $interpolate`${table.arn}/index/${index}`),
    });
  }
  if (access.publishes?.length) {
    statements.push({ actions: ['sqs:SendMessage'], resources: access.publishes.map((q) => queues[q]) });
  }
  if (access.probesWorkQueue) {
    statements.push({ actions: ['sqs:GetQueueAttributes'], resources: [workQueue.arn] });
  }
  if (access.redrivesCallbackDeadLetters) {
    statements.push({ actions: ['sqs:GetQueueAttributes'], resources: [callbackQueue.arn] });
    statements.push({
      actions: [
        'sqs:GetQueueUrl',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
      ],
      resources: [callbackDeadLetterQueue.arn],
    });
  }
  if (access.readsGatewayCredentials) statements.push(secretReadPermission);
  return statements;
};

export interface AppFunctionOptions {
  timeout: `${number} seconds`;
  memory: `${number} MB`;
  /** What the function may touch (see FunctionAccess). */
  access: FunctionAccess;
  environment?: Record<string, unknown>;
  /** Statements beyond `access`: scheduling (infra/scheduler.ts), a destination queue. */
  permissions?: Permission[];
  concurrency?: { reserved: number };
  /** A Lambda function URL of its own (infra/api.ts: the Evolution webhook). */
  url?: sst.aws.FunctionArgs['url'];
  /** Packages installed next to the bundle instead of inlined (files read from node_modules at run time). */
  install?: string[];
}

/** The sst.aws.Function arguments of one entry point of functions/ (`handler` is `functions/<name>.handler`). */
export const appFunctionArgs = (handler: string, options: AppFunctionOptions): sst.aws.FunctionArgs => ({
  ...functionDefaults,
  handler,
  timeout: options.timeout,
  memory: options.memory,
  environment: { ...appEnvironment, ...options.environment },
  permissions: [...accessPermissions(options.access), ...(options.permissions ?? [])],
  ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  ...(options.url ? { url: options.url } : {}),
  ...(options.install ? { nodejs: { install: options.install } } : {}),
});
