import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHttpCallbackClient } from './adapters/callbacks/http-callback-client.ts';
import { createEvolutionGateway } from './adapters/gateway/evolution-gateway.ts';
import { createEmfMetrics } from './adapters/metrics/emf-metrics.ts';
import { createPrometheusMetrics } from './adapters/metrics/prometheus-metrics.ts';
import { createDnsCallbackUrlGuard } from './adapters/network/dns-callback-url-guard.ts';
import { createEventBridgeScheduler } from './adapters/scheduler/eventbridge-scheduler.ts';
import { createStoreBackedScheduler } from './adapters/scheduler/store-backed-scheduler.ts';
import { createReferenceSecretResolver } from './adapters/secrets/reference-secret-resolver.ts';
import { createSsmParameterReader } from './adapters/secrets/ssm-parameter-reader.ts';
import { createDynamoDbStore } from './adapters/store/dynamodb-store.ts';
import { withStoreOutages } from './adapters/store/store-outages.ts';
import { createBillingEvents } from './app/billing-events.ts';
import { createDeliveryWatchArmer, type DeliveryWatchArmer } from './app/delivery-watch.ts';
import { createInstancePaceMemory, type InstancePaceMemory } from './app/instance-pace-memory.ts';
import { createTakingTurnsMemo, type TakingTurnsMemo } from './app/queue-eta.ts';
import { releaserOf } from './app/release-work.ts';
import {
  DYNAMODB_TIMEOUTS,
  PARAMETER_STORE_TIMEOUTS,
  QUEUE_AND_SCHEDULER_TIMEOUTS,
} from './composition/aws-timeouts.ts';
import { awsClientOptions } from './composition/local-endpoints.ts';
import {
  createSqsCallbackQueueOf,
  createSqsWorkQueueOf,
  openCallbackQueue,
  openWorkQueue,
  type QueueOptions,
} from './composition/queues.ts';
import { type Config, EVENTBRIDGE_SCHEDULER_KEYS, loadConfig } from './config.ts';
import { type HttpLambdaHandler, httpHandler } from './http/http-handler.ts';
import type { HttpRoute } from './http/route.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import type { BillingEvents } from './ports/billing-events.ts';
import type { CallbackClient } from './ports/callback-client.ts';
import { type CallbackQueue, noCallbackQueue } from './ports/callback-queue.ts';
import type { CallbackUrlGuard } from './ports/callback-url-guard.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { Metrics } from './ports/metrics.ts';
import type { Scheduler } from './ports/scheduler.ts';
import type { SecretResolver } from './ports/secrets.ts';
import type { ScheduleStore, Store } from './ports/store.ts';
import type { WhatsAppGateway } from './ports/whatsapp-gateway.ts';
import type { WorkQueue } from './ports/work-queue.ts';

/**
 * The one composition root: builds every dependency of every entry point from config.
 * Lambda, the local stack and the tests all call it; tests pass overrides.
 */
export interface Container {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** Uniform in [0, 1); injectable so rotation and jitter are reproducible in tests. */
  random: () => number;
  dynamo: DynamoDBDocumentClient;
  store: Store;
  workQueue: WorkQueue;
  scheduler: Scheduler;
  gateway: WhatsAppGateway;
  secrets: SecretResolver;
  /** Waits (the pump's pacing); tests may replace it. */
  sleep: (ms: number) => Promise<void>;
  /**
   * Events for the ERP's callbacks (sent, delivered, read, failed, replied, queue.completed,
   * delivery_stalled).
   */
  events: BillingEvents;
  /** Arms a queue's delivery watch after a send (stalled deliveries); one per process. */
  deliveryWatch: DeliveryWatchArmer;
  /** Each tenant's queues taking turns on its numbers, remembered briefly for ETAs; one per process. */
  takingTurns: TakingTurnsMemo;
  /** The exact hand-over of each instance between runs of this process (pacing); one per process. */
  paceMemory: InstancePaceMemory;
  /** Announces new callback events for delivery now (SQS standard / RabbitMQ); no-op without one. */
  callbackQueue: CallbackQueue;
  /** Posts signed callbacks to ERPs (5 s timeout, no redirects, pinned to checked addresses). */
  callbackClient: CallbackClient;
  /** SSRF check of callback URLs (syntax and DNS), at accept time and before each delivery. */
  callbackUrlGuard: CallbackUrlGuard;
  /** CloudWatch EMF in Lambda; Prometheus text (`render`) in local mode. */
  metrics: Metrics & { render?(): string };
}

/** What a scheduler of the `none` driver does: functions that never defer work say so if they try. */
const refusingScheduler: Scheduler = {
  schedule: async () => {
    throw new Error('SCHEDULER_DRIVER=none: this function cannot schedule work');
  },
  cancel: async () => {
    throw new Error('SCHEDULER_DRIVER=none: this function cannot cancel schedules');
  },
};

/** The SSM client that reads `ssm:` credentials: its timeouts (aws-timeouts.ts), and local credentials for an emulator. */
export const createSsmClient = (config: Config): SSMClient =>
  new SSMClient(awsClientOptions(config.AWS_REGION, config.endpoints.ssm, PARAMETER_STORE_TIMEOUTS));

/**
 * The scheduler SCHEDULER_DRIVER names: EventBridge Scheduler (deployed), the store-backed one
 * (local; its worker polls it) or none. An `eventbridge` driver without its four settings fails
 * here (and in loadConfig) instead of quietly scheduling into the table.
 */
export const createConfiguredScheduler = (
  config: Config,
  deps: Parameters<typeof releaserOf>[0] & { store: ScheduleStore; clock: Clock },
): Scheduler => {
  if (config.SCHEDULER_DRIVER === 'none') return refusingScheduler;
  if (config.SCHEDULER_DRIVER === 'store') {
    return createStoreBackedScheduler({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      release: releaserOf(deps),
    });
  }
  const { SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN, SCHEDULER_TARGET_ARN, SCHEDULER_DLQ_ARN } = config;
  if (!SCHEDULE_GROUP_NAME || !SCHEDULER_ROLE_ARN || !SCHEDULER_TARGET_ARN || !SCHEDULER_DLQ_ARN) {
    const missing = EVENTBRIDGE_SCHEDULER_KEYS.filter((key) => !config[key]);
    throw new Error(`SCHEDULER_DRIVER=eventbridge needs ${missing.join(', ')}`);
  }
  return createEventBridgeScheduler({
    client: new SchedulerClient(
      awsClientOptions(config.AWS_REGION, config.endpoints.scheduler, QUEUE_AND_SCHEDULER_TIMEOUTS),
    ),
    groupName: SCHEDULE_GROUP_NAME,
    roleArn: SCHEDULER_ROLE_ARN,
    targetArn: SCHEDULER_TARGET_ARN,
    deadLetterArn: SCHEDULER_DLQ_ARN,
    clock: deps.clock,
  });
};

/**
 * The DynamoDB client of `config`'s endpoint (real AWS without one): the timeouts every process
 * uses, and local credentials for an emulator on a loopback address. The one place clients are made.
 */
export const createDynamoDbClient = (config: Config): DynamoDBClient =>
  new DynamoDBClient(awsClientOptions(config.AWS_REGION, config.endpoints.dynamodb, DYNAMODB_TIMEOUTS));

export const createDynamoDocumentClient = (config: Config, client?: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client ?? createDynamoDbClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });

/**
 * Where insecure callbacks may not take effect (Lambda by default, never a production stage), every
 * tenant read has `allowInsecureCallbacks` off: accepting a campaign (through authentication) and
 * delivering a callback both read the tenant, so one gate covers both.
 */
const withInsecureCallbacksGate = <S extends Pick<Store, 'getTenant'>>(store: S, allowed: boolean): S =>
  allowed
    ? store
    : new Proxy(store, {
        get(target, property, receiver) {
          if (property !== 'getTenant') return Reflect.get(target, property, receiver);
          return async (tenantId: string) => {
            const tenant = await target.getTenant(tenantId);
            return tenant && { ...tenant, config: { ...tenant.config, allowInsecureCallbacks: false } };
          };
        },
      });

export const createContainer = (config: Config, overrides: Partial<Container> = {}): Container => {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL);
  const dynamo = overrides.dynamo ?? createDynamoDocumentClient(config);
  const clock = overrides.clock ?? systemClock;
  // The service name is the alarms' dimension (infra/runtime.ts SERVICE_NAME).
  // Locally (METRICS_DRIVER=prometheus) the guide's Prometheus text is served at GET /metrics.
  const metrics =
    overrides.metrics ??
    (config.METRICS_DRIVER === 'prometheus'
      ? createPrometheusMetrics()
      : createEmfMetrics({ serviceName: 'billing' }));
  // An unreachable or throttling DynamoDB is a 503 STORE_UNAVAILABLE with a WARN and a metric.
  const store = withInsecureCallbacksGate(
    overrides.store ??
      withStoreOutages(
        createDynamoDbStore({
          client: dynamo,
          tableName: config.TABLE_NAME,
          clock,
          onBackgroundError: (error) =>
            logger.warn('background store write failed', { error: error as Error }),
        }),
        { metrics, logger },
      ),
    config.allowInsecureCallbacks,
  );
  // RabbitMQ connects before it is usable: a process on that driver opens its queues with
  // openContainer, which passes them in here.
  if (config.QUEUE_DRIVER === 'rabbitmq' && (!overrides.workQueue || !overrides.callbackQueue)) {
    throw new Error('QUEUE_DRIVER=rabbitmq: build the container with openContainer (it connects the queues)');
  }
  const workQueue = overrides.workQueue ?? createSqsWorkQueueOf(config);
  const callbackQueue = overrides.callbackQueue ?? createSqsCallbackQueueOf(config);
  let ssmReader: ((name: string) => Promise<string>) | undefined;
  return {
    config,
    logger,
    clock,
    random: overrides.random ?? Math.random,
    dynamo,
    store,
    workQueue,
    scheduler: overrides.scheduler ?? createConfiguredScheduler(config, { store, workQueue, clock, logger }),
    gateway:
      overrides.gateway ??
      createEvolutionGateway({
        timeoutMs: config.GATEWAY_TIMEOUT_MS,
        onUnreachable: (problem) => logger.warn('WhatsApp instance unreachable', problem),
      }),
    secrets:
      overrides.secrets ??
      createReferenceSecretResolver({
        env: config.credentialEnv,
        envPrefixes: config.CREDENTIAL_ENV_PREFIXES,
        // Created lazily: only instances with `ssm:` credentials need it.
        ssm: (name) => {
          ssmReader ??= createSsmParameterReader(createSsmClient(config));
          return ssmReader(name);
        },
      }),
    sleep: overrides.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    events:
      overrides.events ??
      createBillingEvents({
        store,
        clock,
        logger,
        // Without a real callbacks queue nobody would take an announcement: events are due at once.
        callbackQueue: callbackQueue === noCallbackQueue ? undefined : callbackQueue,
        ...(config.CALLBACK_SAFETY_NET_SECONDS
          ? { announcementSafetyNetMs: config.CALLBACK_SAFETY_NET_SECONDS * 1000 }
          : {}),
      }),
    deliveryWatch: overrides.deliveryWatch ?? createDeliveryWatchArmer({ store, clock }),
    takingTurns: overrides.takingTurns ?? createTakingTurnsMemo(clock),
    paceMemory: overrides.paceMemory ?? createInstancePaceMemory(),
    callbackQueue,
    callbackClient: overrides.callbackClient ?? createHttpCallbackClient(),
    callbackUrlGuard:
      overrides.callbackUrlGuard ??
      createDnsCallbackUrlGuard({
        forbiddenEndpoints: config.AWS_LAMBDA_RUNTIME_API ? [config.AWS_LAMBDA_RUNTIME_API] : [],
      }),
    metrics,
  };
};

/**
 * The root for every process that may use RabbitMQ (the local stack, the admin CLI, the benches):
 * opens the queues QUEUE_DRIVER names (unless overridden), then builds the container as
 * createContainer does. Lambda, always on SQS, calls createContainer directly.
 */
export const openContainer = async (
  config: Config,
  overrides: Partial<Container> = {},
  queueOptions: QueueOptions = {},
): Promise<Container> => {
  const workQueue = overrides.workQueue ?? (await openWorkQueue(config, queueOptions));
  try {
    const callbackQueue = overrides.callbackQueue ?? (await openCallbackQueue(config));
    return createContainer(config, { ...overrides, workQueue, callbackQueue });
  } catch (error) {
    if (!overrides.workQueue) await workQueue.close();
    throw error;
  }
};

/** Wraps a route in the shared HTTP middleware stack, its handlers served by the container. */
export const buildHttpHandler = (route: HttpRoute<Container>, container: Container): HttpLambdaHandler => {
  const handler = httpHandler(route, container, {
    logger: container.logger,
    maxBodyBytes: container.config.MAX_BODY_BYTES,
  });
  return async (event, context) => {
    try {
      return await handler(event, context);
    } finally {
      // EMF lines reach CloudWatch only when flushed; every HTTP invocation flushes its own.
      await container.metrics.flush();
    }
  };
};

/**
 * The Lambda entry point of a route: the container is built on the first invocation (cold start)
 * from the function's environment, then reused by warm invocations.
 */
export const lambdaHttpHandler = (
  route: HttpRoute<Container>,
): HttpLambdaHandler & { route: HttpRoute<Container> } => {
  let built: HttpLambdaHandler | undefined;
  const handler: HttpLambdaHandler = (event, context) => {
    built ??= buildHttpHandler(route, createContainer(loadConfig()));
    return built(event, context);
  };
  // Named on the handler so a test can prove each entry point serves its route of the list.
  return Object.assign(handler, { route });
};
