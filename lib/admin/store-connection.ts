import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../adapters/store/table-schema.ts';
import { type Container, createContainer, createDynamoDocumentClient } from '../composition.ts';
import type { Config } from '../config.ts';
import { startEmbeddedDynamoDb } from '../local/embedded-dynamodb.ts';
import { STACK_INFO_FILE, type StackInfo } from '../local/local-stack.ts';

export interface AdminConnection {
  container: Container;
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

const localCredentials = { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

const answers = async (client: DynamoDBClient): Promise<boolean> => {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  }
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
  const build = (client: DynamoDBClient, endpoint: string | undefined) =>
    createContainer(
      { ...config, LOG_LEVEL: 'SILENT', endpoints: { ...config.endpoints, dynamodb: endpoint } },
      { dynamo: createDynamoDocumentClient(config, client) },
    );

  if (config.endpoints.dynamodb || options.useAws) {
    const client = new DynamoDBClient({
      region: config.AWS_REGION,
      ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
    });
    return {
      container: build(client, config.endpoints.dynamodb),
      description: `${config.endpoints.dynamodb ?? `AWS DynamoDB (${config.AWS_REGION})`}, table ${config.TABLE_NAME}`,
      close: async () => client.destroy(),
    };
  }

  const dataDir = resolve(config.DATA_DIR);
  const info = await readFile(join(dataDir, STACK_INFO_FILE), 'utf8')
    .then((text) => JSON.parse(text) as StackInfo)
    .catch(() => undefined);
  if (info && isAlive(info.pid)) {
    const client = new DynamoDBClient({
      region: config.AWS_REGION,
      endpoint: info.dynamodbEndpoint,
      ...localCredentials,
    });
    if (await answers(client)) {
      return {
        container: build(client, info.dynamodbEndpoint),
        description: `running local stack (pid ${info.pid}, ${info.dynamodbEndpoint}), table ${info.tableName}`,
        close: async () => client.destroy(),
      };
    }
    client.destroy();
  }

  const embedded = await startEmbeddedDynamoDb({ path: join(dataDir, 'dynamodb') });
  const client = new DynamoDBClient({
    region: config.AWS_REGION,
    endpoint: embedded.endpoint,
    ...localCredentials,
  });
  await ensureTable(client, config.TABLE_NAME);
  return {
    container: build(client, embedded.endpoint),
    description: `local data dir ${dataDir} (stack not running), table ${config.TABLE_NAME}`,
    close: async () => {
      client.destroy();
      await embedded.close();
    },
  };
};
