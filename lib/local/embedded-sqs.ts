import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

export interface EmbeddedSqs {
  /** Give this to the SQS client as its explicit `endpoint` (see the note on queue URLs below). */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * SQS emulator (fauxqs 1.x, the line that runs on Node 20) in this process, on 127.0.0.1 by default.
 *
 * Built with fauxqs's `buildApp` rather than `startFauxqs`, because `startFauxqs` always listens on
 * 0.0.0.0 and the local stack must not be reachable from the network.
 *
 * What fauxqs 1.9.2 does and does not do (checked in its dist/sqs code):
 * - FIFO: per-group ordering, one message per group per receive, the group locked while a message of
 *   it is in flight, explicit MessageDeduplicationId with a 5-minute window: all as SQS.
 * - RedrivePolicy: honoured; like SQS, the move to the DLQ happens on the receive after the
 *   `maxReceiveCount`-th one, so someone has to keep polling (the consumer does).
 * - ChangeMessageVisibility (including 0 = visible now) and VisibilityTimeout on receive: supported.
 * - State is in memory only: messages do not survive a restart of the process (the sweeper
 *   republishes work for queues whose pump is gone, so nothing is lost for good).
 * - Queue URLs look like `http://sqs.<region>.localhost:<port>/000000000000/<name>` and are looked up
 *   by exact string. `sqs.<region>.localhost` does not resolve on every machine, and an SQS client
 *   without an explicit `endpoint` (e.g. one that only has AWS_ENDPOINT_URL_SQS in the environment)
 *   dials the queue URL's host; so build the client with `endpoint` set (or
 *   `useQueueUrlAsEndpoint: false`).
 */
export const startEmbeddedSqs = async (
  options: { port?: number; host?: string } = {},
): Promise<EmbeddedSqs> => {
  const host = options.host ?? '127.0.0.1';
  const app = buildApp({ logger: false });
  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: async () => {
      await app.close();
    },
  };
};

export interface WorkQueueUrls {
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * Creates (or finds, CreateQueue is idempotent for equal attributes) the work queue `<name>.fifo`
 * and its dead-letter queue `<name>-dlq.fifo`, with a redrive policy after `maxReceiveCount`
 * receives. SDK calls only, so it works the same against fauxqs, LocalStack or AWS.
 */
export const ensureWorkQueues = async (
  client: SQSClient,
  options: { name: string; maxReceiveCount?: number; visibilityTimeoutSeconds?: number },
): Promise<WorkQueueUrls> => {
  const fifo: Partial<Record<QueueAttributeName, string>> = {
    FifoQueue: 'true',
    // Deduplication is by (queueId, generation), never by body: two generations of a queue carry
    // different bodies only by their generation number, and a content hash would hide that intent.
    ContentBasedDeduplication: 'false',
  };
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${options.name}-dlq.fifo`,
      // Longest retention, so a dead item is still there when someone looks.
      Attributes: { ...fifo, MessageRetentionPeriod: '1209600' },
    }),
  );
  const deadLetterQueueUrl = required(dlq.QueueUrl, 'dead-letter queue URL');
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const deadLetterTargetArn = required(Attributes?.QueueArn, 'dead-letter queue ARN');
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: `${options.name}.fifo`,
      Attributes: {
        ...fifo,
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 60),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn, maxReceiveCount: options.maxReceiveCount ?? 5 }),
      },
    }),
  );
  return { queueUrl: required(main.QueueUrl, 'queue URL'), deadLetterQueueUrl };
};

const required = (value: string | undefined, what: string): string => {
  if (!value) throw new Error(`SQS returned no ${what}`);
  return value;
};

/**
 * Creates (or finds: CreateQueue is idempotent for equal attributes) the standard queue `<name>`
 * and its dead-letter queue `<name>-dlq`, redriven after 5 receives like infra/queues.ts.
 */
export const ensureCallbackQueue = async (client: SQSClient, name: string): Promise<string> => {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: '60',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 5 }),
      },
    }),
  );
  if (!main.QueueUrl) throw new Error(`SQS returned no URL for the callbacks queue ${name}`);
  return main.QueueUrl;
};
