import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { type EmbeddedSqs, startEmbeddedSqs } from '../../lib/local/embedded-sqs.ts';
import { assertLoopbackEndpoint } from './dynalite.ts';

/**
 * One in-process SQS emulator for the test file, started before its tests and stopped after them;
 * `onClient` receives the SQS client on it (loopback only, dummy credentials).
 */
export function useEmbeddedSqs(onClient: (client: SQSClient) => void): void {
  let sqs: EmbeddedSqs | undefined;
  let client: SQSClient | undefined;
  beforeAll(async () => {
    sqs = await startEmbeddedSqs();
    assertLoopbackEndpoint(sqs.endpoint);
    client = new SQSClient({
      endpoint: sqs.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    onClient(client);
  });
  afterAll(async () => {
    client?.destroy();
    await sqs?.close();
  });
}
