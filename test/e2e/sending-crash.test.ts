import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runAdmin } from '../../lib/admin/main.ts';
import {
  type EvolutionSimulator,
  startEvolutionSimulator,
} from '../../lib/local/evolution-simulator/index.ts';
import { openBrokerAdmin, uniqueQueueName } from '../support/rabbitmq.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The sender process dies mid-run (SIGKILL: no cleanup, a lease held, maybe a contact claimed
 * and half sent) and comes back on the same DATA_DIR. The simulator runs in this test process, so
 * its log of what reached "WhatsApp" survives the crash.
 */

const KEY = 'billing_crash-test-key-0123456789abcdefABCD';
const TOTAL = 40;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

const startProduct = (env: Record<string, string>): Running => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/local/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, output: () => output, exited };
};

const bannerUrl = (run: Running): Promise<string> =>
  waitFor(() => /running at (http:\/\/\S+)/.exec(run.output())?.[1], {
    timeoutMs: 30_000,
    what: 'the start banner',
  });

const kill = async (run: Running | undefined, signal: NodeJS.Signals): Promise<void> => {
  if (!run || run.child.exitCode !== null || run.child.signalCode !== null) return;
  try {
    process.kill(-(run.child.pid as number), signal);
  } catch {
    // Already gone.
  }
  await run.exited;
};

const quietAdmin = async (env: Record<string, string>, ...argv: string[]): Promise<number> => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return await runAdmin([...argv, '--json'], env);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
};

describe.each(['sqs', 'rabbitmq'] as const)('sending across a crash (%s driver)', (driver) => {
  let simulator: EvolutionSimulator | undefined;
  let current: Running | undefined;
  const dirs: string[] = [];
  const brokerQueues: string[] = [];

  afterEach(async () => {
    await kill(current, 'SIGKILL');
    await simulator?.close();
  });
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    if (brokerQueues.length > 0) {
      const broker = await openBrokerAdmin();
      try {
        await broker.deleteQueues(...brokerQueues);
      } finally {
        await broker.close();
      }
    }
  });

  it('completes after SIGKILL and restart with no number sent twice and none lost', async () => {
    // Prepare
    simulator = await startEvolutionSimulator({ port: 0 });
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-crash-'));
    dirs.push(dataDir);
    const queueName = uniqueQueueName(`e2e-crash-${driver}`);
    if (driver === 'rabbitmq') brokerQueues.push(queueName, `${queueName}.dlq`);
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      DYNAMODB_PORT: '0',
      LOG_LEVEL: 'ERROR',
      QUEUE_DRIVER: driver,
      WORK_QUEUE_NAME: queueName,
      BILLING_DEMO_API_KEY: KEY,
      EVOLUTION_URL: simulator.url,
      EVOLUTION_API_KEY: simulator.apiKey,
      // A stand-in number: no warm-up cap on the demo instance.
      DEMO_INSTANCE_WARMUP: 'off',
      SENDER_BUDGET_SECONDS: '5',
      SENDER_LEASE_SECONDS: '3',
      SWEEPER_GRACE_SECONDS: '4',
      SWEEPER_INTERVAL_SECONDS: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    current = startProduct(env);
    const url = await bannerUrl(current);
    // The demo tenant's pace, set as an operator would, through the running stack.
    const configured = await quietAdmin(
      { DATA_DIR: dataDir },
      'tenant',
      'config',
      '--tenant',
      'demo',
      '--messages-per-minute',
      '120',
      '--min-interval-seconds',
      '0',
      '--jitter-seconds',
      '0',
    );
    const numbers = Array.from({ length: TOTAL }, (_, i) => `1198877${String(1000 + i)}`);
    const accepted = await fetch(`${url}/api/v1/billing/send/notification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-billing-api-key': KEY },
      body: JSON.stringify({
        external_id: `crash-${driver}`,
        contacts: numbers.map((telefone, i) => ({
          nome_cliente: `Cliente ${i}`,
          telefone,
          mensagem: 'Aviso',
        })),
      }),
    });
    const { queue_id: queueId } = (await accepted.json()) as { queue_id: string };
    await waitFor(() => simulator?.sent().length && simulator.sent().length >= 10, {
      timeoutMs: 15_000,
      what: '10 sends before the crash',
    });

    // Act: crash, then start again on the same data
    await kill(current, 'SIGKILL');
    const atCrash = simulator.sent().length;
    current = startProduct(env);
    const url2 = await bannerUrl(current);
    const status = async () =>
      (await (
        await fetch(`${url2}/api/v1/billing/queue/${queueId}/status`, {
          headers: { 'x-billing-api-key': KEY },
        })
      ).json()) as Record<string, unknown>;
    const done = await waitFor(
      async () => {
        const body = await status();
        return body.status === 'completed' ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the queue to complete after the restart' },
    );

    // Assess
    const log = simulator.sent();
    const sentNumbers = log.map((m) => m.number);
    expect(configured).toBe(0);
    expect(accepted.status).toBe(200);
    expect(atCrash).toBeLessThan(TOTAL);
    expect(new Set(sentNumbers).size).toBe(sentNumbers.length);
    // None lost: each contact was sent, or its outcome is unknown (the crash hit it mid-send).
    expect(Number(done.contacts_sent) + Number(done.contacts_unknown)).toBe(TOTAL);
    expect(done.contacts_failed).toBe(0);
    expect(done.contacts_pending).toBe(0);
    // Every contact counted as sent reached the simulator; an unknown one reached it at most once.
    expect(sentNumbers.length).toBeGreaterThanOrEqual(Number(done.contacts_sent));
    expect(sentNumbers.length).toBeLessThanOrEqual(TOTAL);
    expect(sentNumbers.every((n) => numbers.some((own) => `55${own}` === n))).toBe(true);
  }, 120_000);
});
