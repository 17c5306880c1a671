import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WEBHOOK_SECRET_HEADER } from '../adapters/gateway/evolution-webhook-auth.ts';
import { evolutionWebhookUrl } from '../adapters/gateway/evolution-webhook-events.ts';
import { ensureTable } from '../adapters/store/table-schema.ts';
import { DEMO_TENANT_ID, seedDemoTenant } from '../app/seed-demo-tenant.ts';
import { sweep } from '../app/sweep.ts';
import { callbackQueueName, createSqsClient, openCallbackDeadLetters } from '../composition/queues.ts';
import {
  buildHttpHandler,
  type Container,
  createDynamoDbClient,
  createDynamoDocumentClient,
  openContainer,
} from '../composition.ts';
import type { Config } from '../config.ts';
import { pathVariants } from '../http/route.ts';
import { ROUTES } from '../http/routes/index.ts';
import { type ApiGatewayServer, type LocalRoute, startApiGatewayServer } from './api-gateway-server.ts';
import { DEMO_KEY_FILE, DEMO_SIGNING_SECRET_FILE } from './demo-key-file.ts';
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from './embedded-dynamodb.ts';
import { type EmbeddedSqs, ensureCallbackQueue, ensureWorkQueues, startEmbeddedSqs } from './embedded-sqs.ts';
import { type EvolutionSimulator, startEvolutionSimulator } from './evolution-simulator/index.ts';
import { startWorker, type Worker } from './worker.ts';

/** What a running stack tells other local processes (admin CLI, extra workers) about itself. */
export interface StackInfo {
  pid: number;
  url: string | null;
  dynamodbEndpoint: string;
  sqsEndpoint: string | null;
  tableName: string;
  simulatorUrl: string | null;
  /** The owner's QUEUE_DRIVER: a worker on another driver would wait on a queue nobody publishes to. */
  queueDriver: Config['QUEUE_DRIVER'];
  /**
   * The owner's CALLBACK_SAFETY_NET_SECONDS (set when its callbacks queue is its embedded SQS, in
   * memory, or RabbitMQ), so that a joined worker's announcements have the same net; absent in
   * older files.
   */
  callbackSafetyNetSeconds?: number | null;
}

export const STACK_INFO_FILE = 'local-stack.json';
/** The simulator's apikey; the demo instance's credential reference points at it. */
const SIMULATOR_CREDENTIAL = 'plain:simulator-api-key';

export interface LocalStack {
  /** The HTTP API, when this process serves it. */
  url: string;
  dynamodbEndpoint: string;
  container: Container;
  /** The built-in Evolution simulator, when this process runs it. */
  simulator: EvolutionSimulator | undefined;
  /** The demo tenant's API key when known (first start, BILLING_DEMO_API_KEY, or saved by the first start). */
  demoApiKey: string | undefined;
  /** The sender of this process, when it runs one (close() stops it first). */
  worker: Worker | undefined;
  /** The demo key's callback signing secret, when known (first start, or saved by it). */
  demoSigningSecret: string | undefined;
  close(): Promise<void>;
}

export interface LocalRoles {
  /** Serve the HTTP API. */
  api: boolean;
  /** Consume work items and fire schedules (the sender). */
  worker: boolean;
  /** Join the stack another process owns (its emulators and data) instead of owning DATA_DIR. */
  attachTo?: StackInfo;
}

/**
 * The local stack cannot start for a reason the user fixes (a port in use, a data dir in use): its
 * message is one line saying what is wrong and what to set, printed without a stack trace.
 */
export class LocalStartError extends Error {
  override name = 'LocalStartError';
}

/** Every route of the list, wrapped once in the shared HTTP stack, at each operation's paths. */
export const loadRoutes = (container: Container): LocalRoute[] =>
  ROUTES.flatMap((route) => {
    const handler = buildHttpHandler(route, container);
    return route.operations.flatMap((op) =>
      pathVariants(op.path).map((path) => ({ method: op.method, path, handler })),
    );
  });

/** Listens on the configured port, or on a free one when it is taken (the info file tells the real one). */
const onPreferredPort = async <T>(start: (port: number) => Promise<T>, port: number): Promise<T> => {
  try {
    return await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return start(0);
  }
};

/**
 * Creates the emulated queues (fauxqs `<WORK_QUEUE_NAME>.fifo` with its DLQ, `<WORK_QUEUE_NAME>-callbacks`)
 * and names them in the config, as the infra names the deployed ones. Nothing to do with RabbitMQ
 * (its queues declare themselves) or with a work queue already named by URL.
 */
const withEmulatedQueues = async (config: Config): Promise<Config> => {
  if (config.QUEUE_DRIVER !== 'sqs' || config.WORK_QUEUE_URL) return config;
  const client = createSqsClient(config);
  try {
    const { queueUrl } = await ensureWorkQueues(client, { name: config.WORK_QUEUE_NAME });
    const callbackUrl =
      config.CALLBACK_QUEUE_URL ??
      (await ensureCallbackQueue(client, callbackQueueName(config.WORK_QUEUE_NAME)));
    return { ...config, WORK_QUEUE_URL: queueUrl, CALLBACK_QUEUE_URL: callbackUrl };
  } finally {
    client.destroy();
  }
};

/**
 * The whole product on one machine (design section 9). The process that owns DATA_DIR runs the
 * DynamoDB emulator (persisted there), the SQS emulator (QUEUE_DRIVER=sqs) and the Evolution
 * simulator, unless endpoints name others; then the API and/or the worker. At first start it
 * seeds the demo tenant.
 */
export const startLocalStack = async (
  config: Config,
  overrides: Partial<Container> = {},
  roles: LocalRoles = { api: true, worker: true },
): Promise<LocalStack> => {
  const dataDir = resolve(config.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  if (!roles.attachTo) await refuseDataDirInUse(dataDir);
  if (roles.attachTo) {
    const owner = roles.attachTo;
    config = {
      ...config,
      EVOLUTION_URL: owner.simulatorUrl ?? config.EVOLUTION_URL,
      endpoints: {
        ...config.endpoints,
        dynamodb: owner.dynamodbEndpoint,
        sqs: owner.sqsEndpoint ?? config.endpoints.sqs,
      },
      CALLBACK_SAFETY_NET_SECONDS:
        config.CALLBACK_SAFETY_NET_SECONDS ?? owner.callbackSafetyNetSeconds ?? undefined,
    };
  }
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    let dynamodb: EmbeddedDynamoDb | undefined;
    if (!config.endpoints.dynamodb) {
      await mkdir(join(dataDir, 'dynamodb'), { recursive: true });
      const path = join(dataDir, 'dynamodb');
      dynamodb = await startEmbeddedDynamoDb({ path, port: config.DYNAMODB_PORT, anyPortIfTaken: true });
      closers.push(() => dynamodb?.close());
    }
    let sqs: EmbeddedSqs | undefined;
    if (config.QUEUE_DRIVER === 'sqs' && !config.endpoints.sqs && !config.WORK_QUEUE_URL) {
      sqs = await startEmbeddedSqs();
      closers.push(() => sqs?.close());
    }
    let simulator: EvolutionSimulator | undefined;
    if (!config.EVOLUTION_URL) {
      simulator = await onPreferredPort(
        (port) => startEvolutionSimulator({ port, host: config.HOST }),
        config.SIMULATOR_PORT,
      );
      closers.push(() => simulator?.close());
    }

    const dynamodbEndpoint = config.endpoints.dynamodb ?? (dynamodb?.endpoint as string);
    const sqsEndpoint = config.endpoints.sqs ?? sqs?.endpoint;
    const effective = await withEmulatedQueues({
      ...config,
      endpoints: { ...config.endpoints, dynamodb: dynamodbEndpoint, sqs: sqsEndpoint },
      // The embedded SQS keeps its messages in memory (a restart takes them): an announced callback
      // is also due a minute after it was stored, and the worker's poller posts what the queue lost.
      // Not with RabbitMQ (a message a few killed consumers held is dead-lettered, and the worker
      // puts it back, as the callback deliverer does on AWS) nor SQS at an endpoint (AWS,
      // LocalStack): they keep their messages, and the callbacks run as on AWS.
      ...(sqs ? { CALLBACK_SAFETY_NET_SECONDS: config.CALLBACK_SAFETY_NET_SECONDS ?? 60 } : {}),
    });
    const raw = createDynamoDbClient(effective);
    await ensureTable(raw, config.TABLE_NAME);
    // The same root as the other processes: config chooses the queues (QUEUE_DRIVER), the metrics
    // (Prometheus locally) and the scheduler (the store-backed one locally, SCHEDULER_DRIVER).
    const container = await openContainer(effective, {
      dynamo: createDynamoDocumentClient(effective, raw),
      ...overrides,
    });
    closers.push(() => container.workQueue.close());
    closers.push(() => container.callbackQueue.close());
    closers.push(() => container.dynamo.destroy());
    const seeded = await seedDemoTenant(container, {
      evolutionUrl: config.EVOLUTION_URL ?? (simulator?.url as string),
      credentialRef: config.EVOLUTION_URL ? 'env:EVOLUTION_API_KEY' : SIMULATOR_CREDENTIAL,
      warmup: config.DEMO_INSTANCE_WARMUP
        ? config.DEMO_INSTANCE_WARMUP === 'on'
        : config.EVOLUTION_URL !== undefined,
      ...(config.BILLING_DEMO_API_KEY ? { apiKey: config.BILLING_DEMO_API_KEY } : {}),
    });
    const demo = await pointDemoInstance(container, config.EVOLUTION_URL, simulator);
    // Local convenience only: the demo key and its callback signing secret are kept in the data dir
    // so a restart can print them again.
    const demoApiKey =
      config.BILLING_DEMO_API_KEY ??
      (await remembered(join(dataDir, DEMO_KEY_FILE), seeded.created ? seeded.key : undefined));
    const demoSigningSecret = await remembered(
      join(dataDir, DEMO_SIGNING_SECRET_FILE),
      seeded.created ? seeded.signingSecret : undefined,
    );

    let server: ApiGatewayServer | undefined;
    if (roles.api) {
      server = await startApiGatewayServer({
        routes: loadRoutes(container),
        port: config.PORT,
        host: config.HOST,
        onError: (error) => container.logger.error('local gateway error', { error: error as Error }),
      }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        throw new LocalStartError(
          `port ${config.PORT} on ${config.HOST} is already in use (another npm start?): stop that process or set PORT to a free port (PORT=0 picks one)`,
        );
      });
      closers.push(() => server?.close());
      // The simulator posts the demo instance's receipts and replies to this API, as Evolution would.
      if (simulator && demo)
        simulator.upsertInstance('demo', {
          webhookUrl: evolutionWebhookUrl(server.url, DEMO_TENANT_ID, 'demo'),
          webhookHeaders: { [WEBHOOK_SECRET_HEADER]: demo.webhookSecret },
        });
    }
    // The embedded SQS lived in the last run's memory: the work items of queues it was sending (or
    // about to) went with it. This process owns the data dir, so no one else is sending them: resume
    // them now instead of after the sweeper's grace.
    if (sqs) await resumeInterruptedQueues(container);
    let worker: Worker | undefined;
    if (roles.worker) {
      const callbackDeadLetters = openCallbackDeadLetters(container.config);
      if (callbackDeadLetters) closers.push(() => callbackDeadLetters.close());
      worker = await startWorker(container, callbackDeadLetters ? { callbackDeadLetters } : {});
      closers.push(() => worker?.stop());
    }

    const stack: LocalStack = {
      url: server?.url ?? '',
      dynamodbEndpoint,
      container,
      simulator,
      worker,
      demoApiKey,
      demoSigningSecret,
      close,
    };
    if (roles.attachTo) return stack;
    const infoFile = join(dataDir, STACK_INFO_FILE);
    const info: StackInfo = {
      pid: process.pid,
      url: server?.url ?? null,
      dynamodbEndpoint,
      sqsEndpoint: sqsEndpoint ?? null,
      tableName: config.TABLE_NAME,
      simulatorUrl: simulator?.url ?? null,
      queueDriver: config.QUEUE_DRIVER,
      callbackSafetyNetSeconds: effective.CALLBACK_SAFETY_NET_SECONDS ?? null,
    };
    await writeFile(infoFile, JSON.stringify(info, null, 2));
    closers.push(() => rm(infoFile, { force: true }));
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
};

/**
 * One stack owns a data dir: its embedded DynamoDB locks the folder, and a second one would die on
 * the lock with an obscure error. A running owner is named; a stale info file (its process is gone)
 * is ignored.
 */
const refuseDataDirInUse = async (dataDir: string): Promise<void> => {
  const owner = await readStackInfo(dataDir);
  if (owner && owner.pid !== process.pid)
    throw new LocalStartError(
      `DATA_DIR ${dataDir} is already used by pid ${owner.pid} (${owner.url ?? 'a running stack'}): stop it, run \`npm run worker\` to join it, or set DATA_DIR to another folder`,
    );
};

/**
 * The demo instance follows the gateway this start uses: `EVOLUTION_URL` (with `EVOLUTION_API_KEY`)
 * when set, also for a demo tenant made earlier against the simulator; else the simulator, which
 * may have taken another port than last time. A demo instance pointed elsewhere by hand is kept.
 */
const pointDemoInstance = async (
  container: Container,
  evolutionUrl: string | undefined,
  simulator: EvolutionSimulator | undefined,
) => {
  const demo = await container.store.getInstance(DEMO_TENANT_ID, 'demo');
  if (!demo) return demo;
  const wanted = evolutionUrl
    ? { baseUrl: evolutionUrl.replace(/\/$/, ''), credentialRef: 'env:EVOLUTION_API_KEY' }
    : simulator && demo.credentialRef === SIMULATOR_CREDENTIAL
      ? { baseUrl: simulator.url, credentialRef: SIMULATOR_CREDENTIAL }
      : undefined;
  if (!wanted || (wanted.baseUrl === demo.baseUrl && wanted.credentialRef === demo.credentialRef))
    return demo;
  const pointed = { ...demo, ...wanted, connectionState: 'unknown' as const };
  await container.store.putInstance(pointed);
  return pointed;
};

/** A secret shown once: written to `file` when fresh, read back from it on later starts. */
const remembered = async (file: string, fresh: string | undefined): Promise<string | undefined> => {
  if (fresh) {
    await writeFile(file, `${fresh}\n`, { mode: 0o600 });
    return fresh;
  }
  return (await readFile(file, 'utf8').catch(() => '')).trim() || undefined;
};

const resumeInterruptedQueues = async (container: Container): Promise<void> => {
  const { republished } = await sweep(container, { graceMs: 0 });
  if (republished.length > 0)
    container.logger.info('resumed queues interrupted by the last stop', { queues: republished.length });
};

/** The stack another local process runs (for `npm run worker` and the admin CLI), if it is alive. */
export const readStackInfo = async (dataDir: string): Promise<StackInfo | undefined> => {
  const info = await readFile(join(resolve(dataDir), STACK_INFO_FILE), 'utf8')
    .then((text) => JSON.parse(text) as StackInfo)
    .catch(() => undefined);
  if (!info) return undefined;
  try {
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
};
