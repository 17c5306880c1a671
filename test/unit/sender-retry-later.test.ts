import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqsQueue } from '../../lib/adapters/queue/sqs-queue.ts';
import { workItemCodec } from '../../lib/adapters/queue/work-item-schema.ts';
import { createContainer } from '../../lib/composition.ts';
import { loadConfig } from '../../lib/config.ts';
import { createSenderHandler, type SenderHandlerOptions } from '../../lib/lambda/sender-handler.ts';
import { toSqsEvent } from '../../lib/local/worker.ts';
import { createLogger } from '../../lib/observability/logger.ts';
import type { Store } from '../../lib/ports/store.ts';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/billing-work.fifo';
const context = { getRemainingTimeInMillis: () => 300_000 } as Context;

/** A sender whose store fails: the run throws before any send. */
const failingSender = (retryFailuresSoon: boolean, options: Partial<SenderHandlerOptions> = {}) => {
  const broken = new Proxy({} as Store, {
    get: () => async () => {
      throw new Error('store unavailable');
    },
  });
  const c = createContainer(loadConfig({ LOG_LEVEL: 'SILENT' }), {
    store: broken,
    logger: createLogger('SILENT'),
    workQueue: createSqsQueue({
      client: new SQSClient({ region: 'us-east-1' }),
      queueUrl: QUEUE_URL,
      codec: workItemCodec,
    }),
  });
  return createSenderHandler(c, { retryFailuresSoon, ...options });
};

const event = () => {
  const e = toSqsEvent(
    {
      item: { queueId: 'q-1', tenantId: 't', instanceId: 'i', generation: 0 },
      messageId: 'm-1',
      receiveCount: 1,
    },
    'billing-work',
  );
  (e.Records[0] as { receiptHandle: string }).receiptHandle = 'receipt-123';
  return e;
};

describe('createSenderHandler', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());

  it('reports a failed run and brings its item back in 30 s instead of the visibility timeout', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    const result = await failingSender(true)(event(), context);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'receipt-123', VisibilityTimeout: 30 },
    ]);
  });

  it('brings back soon the records held behind a failure in the same group, not only the failed one', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const [first] = event().Records;
    if (!first) throw new Error('no record');
    const second = { ...first, messageId: 'm-2', receiptHandle: 'receipt-456' };

    const result = await failingSender(true)({ Records: [first, second] }, context);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }]);
    expect(
      sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.ReceiptHandle),
    ).toEqual(['receipt-123', 'receipt-456']);
  });

  it('leaves retries to the broker when it is not the Lambda runtime (local worker)', async () => {
    const result = await failingSender(false)(event(), context);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it('runs each record inside aroundRecord (the cost bench meters each pump), failures passing through', async () => {
    // Arrange: two groups; g1's first record fails, so its second one is never run.
    const [first] = event().Records;
    if (!first) throw new Error('no record');
    const inGroup = (messageId: string, group: string) => ({
      ...first,
      messageId,
      attributes: { ...first.attributes, MessageGroupId: group },
    });
    const wrapped: string[] = [];
    const sender = failingSender(false, {
      aroundRecord: async (record, run) => {
        wrapped.push(record.messageId);
        await run();
      },
    });

    // Act
    const result = await sender(
      { Records: [inGroup('m-1', 'g1'), inGroup('m-2', 'g1'), inGroup('m-3', 'g2')] },
      context,
    );

    // Assess
    expect(wrapped.sort()).toEqual(['m-1', 'm-3']);
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: 'm-1' },
      { itemIdentifier: 'm-2' },
      { itemIdentifier: 'm-3' },
    ]);
  });
});
