import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { startLocalStack } from '../../lib/local/local-stack.ts';
import type { WorkItem } from '../../lib/ports/work-queue.ts';
import { acmeQueue } from '../support/acme-queue.ts';
import { startCallbackReceiver } from '../support/callback-receiver.ts';
import { emitSentWithoutWorker, localStackEnv } from '../support/local-stack-env.ts';
import { waitFor } from '../support/wait-for.ts';

describe('local stack restart', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('resumes at start the queues whose work items the embedded SQS lost with the last process', async () => {
    // Prepare: a queue the last run was sending when it stopped, and one already finished
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-restart-'));
    dirs.push(dataDir);
    const config = loadConfig(localStackEnv(dataDir));
    const first = await startLocalStack(config, {}, { api: false, worker: false });
    const now = new Date().toISOString();
    await first.container.store.createQueue({
      ...acmeQueue({ totalContacts: 3, createdAt: now }),
      status: 'running',
    });
    await first.container.store.createQueue({
      ...acmeQueue({ totalContacts: 1, createdAt: now }),
      id: 'queue-done',
      status: 'completed',
    });
    await first.close();

    // Act: start again on the same data dir, recording what is published
    const published: WorkItem[] = [];
    const second = await startLocalStack(config, {}, { api: false, worker: false });
    try {
      const consumer = await second.container.workQueue.consume(
        async (delivery) => {
          published.push(delivery.item);
        },
        { concurrency: 1 },
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await consumer.stop();
    } finally {
      await second.close();
    }

    // Assess
    expect(published.map((item) => item.queueId)).toEqual(['queue-1']);
  });

  it('posts after its safety net a callback whose announcement the embedded SQS lost with the last process', async () => {
    // Prepare: a paused batch asking for `sent` callbacks, and its first contact's `sent` announced
    // while no worker runs (the announcement sits in the embedded SQS's memory); the process stops
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-restart-'));
    dirs.push(dataDir);
    const receiver = await startCallbackReceiver();
    const env = localStackEnv(dataDir, { CALLBACK_SAFETY_NET_SECONDS: '1' });
    const first = await startLocalStack(loadConfig(env), {}, { api: true, worker: false });
    let eventId = '';
    try {
      eventId = await emitSentWithoutWorker(first, {
        externalId: 'lost-announcement',
        callbackUrl: receiver.url,
      });
    } finally {
      await first.close();
    }

    // Act: start again on the same data dir, with the worker and its poller of due callbacks
    const second = await startLocalStack(loadConfig(env), {}, { api: false, worker: true });
    try {
      await waitFor(() => receiver.received.length > 0, { timeoutMs: 15_000, what: 'the lost callback' });
    } finally {
      await second.close();
      await receiver.close();
    }

    // Assess
    expect(receiver.received.map((r) => r.eventId)).toEqual([eventId]);
  });

  it('points the demo instance at EVOLUTION_URL on a later start, not only at the first one', async () => {
    // Prepare: a first start against the built-in simulator
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-restart-'));
    dirs.push(dataDir);
    const env = localStackEnv(dataDir);
    const first = await startLocalStack(loadConfig(env), {}, { api: false, worker: false });
    const before = await first.container.store.getInstance('demo', 'demo');
    await first.close();

    // Act: start again with a real Evolution server named
    const second = await startLocalStack(
      loadConfig({ ...env, EVOLUTION_URL: 'https://evo.example.com/' }),
      {},
      { api: false, worker: false },
    );
    const after = await second.container.store.getInstance('demo', 'demo');
    await second.close();

    // Assess
    expect(before?.credentialRef).toBe('plain:simulator-api-key');
    expect(after).toMatchObject({
      baseUrl: 'https://evo.example.com',
      credentialRef: 'env:EVOLUTION_API_KEY',
    });
    expect(after?.webhookSecret).toBe(before?.webhookSecret);
  });
});
