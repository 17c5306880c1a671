import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../adapters/store/table-schema.ts';
import { seedDemoTenant } from '../app/seed-demo-tenant.ts';
import {
  buildHttpHandler,
  type Container,
  createContainer,
  createDynamoDocumentClient,
  type RouteFactory,
} from '../composition.ts';
import type { Config } from '../config.ts';
import { pathVariants, ROUTES } from '../http/route-table.ts';
import { type ApiGatewayServer, type LocalRoute, startApiGatewayServer } from './api-gateway-server.ts';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from './embedded-dynamodb.ts';

/** What a running stack tells other local processes (the admin CLI) about itself. */
export interface StackInfo {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  tableName: string;
}

export const STACK_INFO_FILE = 'local-stack.json';
const DEMO_KEY_FILE = 'demo-api-key.txt';

export interface LocalStack {
  url: string;
  dynamodbEndpoint: string;
  container: Container;
  /** The demo tenant's API key when known (first start, BILLING_DEMO_API_KEY, or saved by the first start). */
  demoApiKey: string | undefined;
  close(): Promise<void>;
}

/** Imports every route's entry point from `functions/` and wraps it with the shared HTTP stack. */
export const loadRoutes = async (container: Container): Promise<LocalRoute[]> => {
  const routes: LocalRoute[] = [];
  for (const spec of ROUTES) {
    const mod = (await import(`../../functions/${spec.fn}.ts`)) as { route: RouteFactory };
    const handler = buildHttpHandler(mod.route, container);
    for (const path of pathVariants(spec.path)) routes.push({ method: spec.method, path, handler });
  }
  return routes;
};

const startDynamoDb = async (config: Config, dataDir: string): Promise<EmbeddedDynamoDb> => {
  const path = join(dataDir, 'dynamodb');
  await mkdir(path, { recursive: true });
  try {
    return await startEmbeddedDynamoDb({ path, port: config.DYNAMODB_PORT });
  } catch (error) {
    // The port is only a convenience for the CLI (which reads the real one from the info file).
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startEmbeddedDynamoDb({ path, port: 0 });
  }
};

/**
 * The whole product on one machine (design section 9): DynamoDB emulator persisted under
 * DATA_DIR (unless AWS_ENDPOINT_URL points elsewhere), the API behind a local API Gateway,
 * and the demo tenant seeded at first start.
 */
export const startLocalStack = async (
  config: Config,
  overrides: Partial<Container> = {},
): Promise<LocalStack> => {
  const dataDir = resolve(config.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const dynamodb = config.endpoints.dynamodb ? undefined : await startDynamoDb(config, dataDir);
  const endpoint = config.endpoints.dynamodb ?? dynamodb?.endpoint;
  const effective: Config = { ...config, endpoints: { ...config.endpoints, dynamodb: endpoint } };
  // The emulator accepts any credentials; the SDK still wants some to sign with.
  const dummyCredentials = dynamodb
    ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
    : {};
  const raw = new DynamoDBClient({ region: config.AWS_REGION, endpoint, ...dummyCredentials });
  await ensureTable(raw, config.TABLE_NAME);
  const container = createContainer(effective, {
    dynamo: createDynamoDocumentClient(effective, raw),
    ...overrides,
  });

  const simulatorUrl = config.EVOLUTION_URL ?? `http://127.0.0.1:${config.SIMULATOR_PORT}`;
  const seeded = await seedDemoTenant(container, {
    evolutionUrl: simulatorUrl,
    credentialRef: config.EVOLUTION_URL ? 'env:EVOLUTION_API_KEY' : 'plain:simulator-api-key',
    ...(config.BILLING_DEMO_API_KEY ? { apiKey: config.BILLING_DEMO_API_KEY } : {}),
  });
  const keyFile = join(dataDir, DEMO_KEY_FILE);
  // Local convenience only: the demo key is kept in the data dir so a restart can print it again.
  if (seeded.created) await writeFile(keyFile, `${seeded.key}\n`, { mode: 0o600 });
  const demoApiKey =
    config.BILLING_DEMO_API_KEY ??
    (seeded.created ? seeded.key : (await readFile(keyFile, 'utf8').catch(() => '')).trim() || undefined);

  const server: ApiGatewayServer = await startApiGatewayServer({
    routes: await loadRoutes(container),
    port: config.PORT,
    host: config.HOST,
    onError: (error) => container.logger.error('local gateway error', { error: error as Error }),
  });

  const infoFile = join(dataDir, STACK_INFO_FILE);
  const info: StackInfo = {
    pid: process.pid,
    url: server.url,
    dynamodbEndpoint: endpoint ?? '',
    tableName: config.TABLE_NAME,
  };
  await writeFile(infoFile, JSON.stringify(info, null, 2));

  return {
    url: server.url,
    dynamodbEndpoint: endpoint ?? '',
    container,
    demoApiKey,
    close: async () => {
      await server.close();
      await rm(infoFile, { force: true });
      container.dynamo.destroy();
      await dynamodb?.close();
    },
  };
};
