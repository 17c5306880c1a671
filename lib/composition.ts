import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbStore } from './adapters/store/dynamodb-store.ts';
import { type Config, loadConfig } from './config.ts';
import { type HttpLambdaHandler, httpHandler, type Route } from './http/http-handler.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { type Clock, systemClock } from './ports/clock.ts';
import type { Store } from './ports/store.ts';

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
}

export const createDynamoDocumentClient = (config: Config, client?: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(
    client ??
      new DynamoDBClient({
        region: config.AWS_REGION,
        ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
      }),
    { marshallOptions: { removeUndefinedValues: true } },
  );

export const createContainer = (config: Config, overrides: Partial<Container> = {}): Container => {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL);
  const dynamo = overrides.dynamo ?? createDynamoDocumentClient(config);
  const clock = overrides.clock ?? systemClock;
  return {
    config,
    logger,
    clock,
    random: overrides.random ?? Math.random,
    dynamo,
    store:
      overrides.store ??
      createDynamoDbStore({
        client: dynamo,
        tableName: config.TABLE_NAME,
        clock,
        onBackgroundError: (error) => logger.warn('background store write failed', { error: error as Error }),
      }),
  };
};

/** A route that needs dependencies; the same factory serves Lambda, the local stack and tests. */
export type RouteFactory = (container: Container) => Route;

/** Wraps a route factory in the shared HTTP middleware stack. */
export const buildHttpHandler = (factory: RouteFactory, container: Container): HttpLambdaHandler =>
  httpHandler(factory(container), {
    logger: container.logger,
    maxBodyBytes: container.config.MAX_BODY_BYTES,
  });

/**
 * The Lambda entry point of a route: the container is built on the first invocation (cold start)
 * from the function's environment, then reused by warm invocations.
 */
export const lambdaHttpHandler = (factory: RouteFactory): HttpLambdaHandler => {
  let built: HttpLambdaHandler | undefined;
  return (event, context) => {
    built ??= buildHttpHandler(factory, createContainer(loadConfig()));
    return built(event, context);
  };
};
