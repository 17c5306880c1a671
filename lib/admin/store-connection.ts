import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ensureTable } from '../adapters/store/table-schema.ts';
import { createSqsClient, openDeadLetters, openWorkQueue } from '../composition/queues.ts';
import { createContainer, createDynamoDbClient, createDynamoDocumentClient } from '../composition.ts';
import type { Config } from '../config.ts';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb.ts';
import { ensureWorkQueues } from '../local/embedded-sqs.ts';
import { STACK_INFO_FILE, type StackInfo } from '../local/local-stack.ts';
import { noCallbackQueue } from '../ports/callback-queue.ts';
import type { DeadLetters } from '../ports/dead-letters.ts';
import type { WorkQueue } from '../ports/work-queue.ts';
import type { AdminContainer } from './commands.ts';
import { UsageError } from './flags.ts';

export interface AdminConnection {
  container: AdminContainer & { deadLetters: DeadLetters };
  /** Where the CLI is writing, for the operator to see. */
  description: string;
  close(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `config` with its DynamoDB endpoint set to the one the CLI found. */
const atEndpoint = (config: Config, dynamodb: string): Config => ({
  ...config,
  endpoints: { ...config.endpoints, dynamodb },
});

const answers = async (client: DynamoDBClient): Promise<boolean> => {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  }
};

/**
 * A work queue that connects on first publish: most commands never publish, and they must not
 * need a broker (or fail when it is down) to list tenants.
 */
const lazyWorkQueue = (open: () => Promise<WorkQueue>): WorkQueue => {
  let opened: Promise<WorkQueue> | undefined;
  return {
    publish: async (item) => {
      opened ??= open();
      await (await opened).publish(item);
    },
    consume: async () => {
      throw new Error('the admin CLI does not consume work');
    },
    reachability: async () => {
      opened ??= open();
      return (await opened).reachability();
    },
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
};

/**
 * The config naming the SQS queue the CLI uses: WORK_QUEUE_URL, or the running stack's emulated
 * queue (ensured, as the stack does), with its SQS client from the composition root.
 */
const adminSqsQueue = async (
  config: Config,
  endpoint: string | undefined,
): Promise<{ client: SQSClient; queueUrl: string; config: Config }> => {
  const sqsConfig: Config = { ...config, endpoints: { ...config.endpoints, sqs: endpoint } };
  const client = createSqsClient(sqsConfig);
  const queueUrl =
    config.WORK_QUEUE_URL ?? (await ensureWorkQueues(client, { name: config.WORK_QUEUE_NAME })).queueUrl;
  return { client, queueUrl, config: { ...sqsConfig, WORK_QUEUE_URL: queueUrl } };
};

/** The admin's SQS client, made when something is opened on it and destroyed with what it opened. */
const onAdminSqs = (config: Config, endpoint: string | undefined) => {
  let client: SQSClient | undefined;
  return {
    open: async <T>(open: (sqs: Awaited<ReturnType<typeof adminSqsQueue>>) => T | Promise<T>): Promise<T> => {
      const sqs = await adminSqsQueue(config, endpoint);
      client = sqs.client;
      return open(sqs);
    },
    destroy: () => client?.destroy(),
  };
};

/**
 * Where a resumed queue's work item goes when the CLI works on local data: the running stack's
 * queue (its SQS emulator, named in the info file, or the RabbitMQ broker). With no stack running,
 * the embedded SQS is gone (it lives in memory): nothing is published and the next start's sweeper
 * republishes the queue, which is `pending` again.
 */
const localWorkQueue = (config: Config, info: StackInfo | undefined): WorkQueue => {
  if (config.QUEUE_DRIVER === 'rabbitmq') {
    return lazyWorkQueue(() =>
      openWorkQueue(config, { connectionName: 'billing-admin', publishTimeoutMs: 10_000 }),
    );
  }
  const endpoint = config.endpoints.sqs ?? info?.sqsEndpoint ?? undefined;
  if (!endpoint && !config.WORK_QUEUE_URL) {
    const idle = lazyWorkQueue(async () => {
      throw new Error('no work queue');
    });
    return { ...idle, publish: async () => undefined };
  }
  const sqs = onAdminSqs(config, endpoint);
  const queue = lazyWorkQueue(() =>
    sqs.open((opened) => openWorkQueue(opened.config, { sqsClient: opened.client })),
  );
  return { ...queue, close: () => queue.close().finally(sqs.destroy) };
};

/** Dead letters reached on first use, so commands that never look at them need no broker. */
const lazyDeadLetters = (open: () => Promise<DeadLetters>): DeadLetters => {
  let opened: Promise<DeadLetters> | undefined;
  const use = () => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };
  return {
    list: async (limit) => (await use()).list(limit),
    count: async () => (await use()).count(),
    settle: async (decide, limit) => (await use()).settle(decide, limit),
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
};

/**
 * The work queue's dead letters, found like `localWorkQueue` finds the queue: the RabbitMQ broker's
 * `<WORK_QUEUE_NAME>.dlq`, or the SQS DLQ named by the redrive policy of WORK_QUEUE_URL (AWS) or of
 * the running stack's emulated queue. With the SQS driver and no stack running there is nothing to
 * look at: the embedded SQS lived in that process's memory.
 */
const localDeadLetters = (config: Config, info: StackInfo | undefined): DeadLetters => {
  if (config.QUEUE_DRIVER === 'rabbitmq') {
    return lazyDeadLetters(async () => openDeadLetters(config, { connectionName: 'billing-admin-dlq' }));
  }
  const endpoint = config.endpoints.sqs ?? info?.sqsEndpoint ?? undefined;
  const sqs = onAdminSqs(config, endpoint);
  const deadLetters = lazyDeadLetters(async () => {
    if (!endpoint && !config.WORK_QUEUE_URL) {
      throw new UsageError(
        'no SQS to look at: the embedded SQS lives in the `npm start` process, which is not running ' +
          '(start it, or set WORK_QUEUE_URL / AWS_ENDPOINT_URL_SQS, or QUEUE_DRIVER=rabbitmq)',
      );
    }
    return sqs.open((opened) => openDeadLetters(opened.config, { sqsClient: opened.client }));
  });
  return { ...deadLetters, close: () => deadLetters.close().finally(sqs.destroy) };
};

/**
 * Which DynamoDB the CLI talks to, in order: the endpoint named by env (AWS_ENDPOINT_URL or
 * AWS_ENDPOINT_URL_DYNAMODB), or real AWS with `--aws`; else the running `npm start` stack (its
 * data dir is locked by that process, so the CLI goes through the endpoint it serves); else it
 * opens the data dir itself.
 */
export const connectAdminStore = async (
  config: Config,
  options: { useAws: boolean },
): Promise<AdminConnection> => {
  const build = (
    client: DynamoDBClient,
    endpoint: string | undefined,
    deadLetters: DeadLetters,
    workQueue?: WorkQueue,
  ): AdminConnection['container'] => ({
    ...createContainer(
      { ...config, LOG_LEVEL: 'SILENT', endpoints: { ...config.endpoints, dynamodb: endpoint } },
      {
        dynamo: createDynamoDocumentClient(config, client),
        // Queues connect on first use (listing tenants needs no broker); the CLI announces no
        // callbacks on RabbitMQ (the stack's due-index poller delivers them).
        ...(workQueue ? { workQueue } : {}),
        ...(config.QUEUE_DRIVER === 'rabbitmq' ? { callbackQueue: noCallbackQueue } : {}),
      },
    ),
    deadLetters,
  });

  if (config.endpoints.dynamodb || options.useAws) {
    const client = createDynamoDbClient(config);
    const deadLetters = localDeadLetters(config, undefined);
    // The deployed work queue is SQS (WORK_QUEUE_URL); with the RabbitMQ driver it is the broker's.
    const workQueue = config.QUEUE_DRIVER === 'rabbitmq' ? localWorkQueue(config, undefined) : undefined;
    return {
      container: build(client, config.endpoints.dynamodb, deadLetters, workQueue),
      description: `${config.endpoints.dynamodb ?? `AWS DynamoDB (${config.AWS_REGION})`}, table ${config.TABLE_NAME}`,
      close: async () => {
        await workQueue?.close();
        await deadLetters.close();
        client.destroy();
      },
    };
  }

  const dataDir = resolve(config.DATA_DIR);
  const info = await readFile(join(dataDir, STACK_INFO_FILE), 'utf8')
    .then((text) => JSON.parse(text) as StackInfo)
    .catch(() => undefined);
  if (info && isAlive(info.pid)) {
    const client = createDynamoDbClient(atEndpoint(config, info.dynamodbEndpoint));
    if (await answers(client)) {
      const workQueue = localWorkQueue(config, info);
      const deadLetters = localDeadLetters(config, info);
      return {
        container: build(client, info.dynamodbEndpoint, deadLetters, workQueue),
        description: `running local stack (pid ${info.pid}, ${info.dynamodbEndpoint}), table ${info.tableName}`,
        close: async () => {
          await workQueue.close();
          await deadLetters.close();
          client.destroy();
        },
      };
    }
    client.destroy();
  }

  const embedded = await startEmbeddedDynamoDb({ path: join(dataDir, 'dynamodb') });
  const client = createDynamoDbClient(atEndpoint(config, embedded.endpoint));
  await ensureTable(client, config.TABLE_NAME);
  const workQueue = localWorkQueue(config, undefined);
  const deadLetters = localDeadLetters(config, undefined);
  return {
    container: build(client, embedded.endpoint, deadLetters, workQueue),
    description: `local data dir ${dataDir} (stack not running), table ${config.TABLE_NAME}`,
    close: async () => {
      await workQueue.close();
      await deadLetters.close();
      client.destroy();
      await embedded.close();
    },
  };
};
