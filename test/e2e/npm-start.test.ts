import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.ts';

/** Runs `npm start` as a user would, with its own data dir and free ports. */
const startStack = (dataDir: string, env: Record<string, string> = {}, script = 'start') => {
  const child: ChildProcess = spawn('npm', ['run', script, '--silent'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', DYNAMODB_PORT: '0', LOG_LEVEL: 'WARN', ...env },
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
  // npm itself dies of the SIGINT; what matters is that our process finishes its shutdown.
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, output: () => output, exited };
};

/** A port some other program holds, as a user's machine has. */
const occupyPort = async (): Promise<{ port: number; server: Server }> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
};

const STACK_TRACE = /^\s+at \S+/m;

describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints the demo key, answers /health, serves /dashboard, stops on SIGINT and keeps its data across restarts', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-start-'));
    dirs.push(dataDir);

    // Act: first start
    const first = startStack(dataDir);
    const url = await waitFor(() => /running at (http:\/\/\S+)/.exec(first.output())?.[1], {
      timeoutMs: 20_000,
      what: 'the start banner',
    });
    const key = /demo key:\s+(billing_\S+)/.exec(first.output())?.[1];
    const health = await fetch(`${url}/health`);
    const dashboard = await fetch(`${url}/dashboard`);
    const dashboardPage = await dashboard.text();
    process.kill(-(first.child.pid as number), 'SIGINT'); // Ctrl-C reaches the whole process group
    await first.exited;

    // Assess
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'ok' });
    expect(key).toMatch(/^billing_[A-Za-z0-9_-]{40,}$/);
    // The dashboard is built on start when missing or stale, and served under a strict CSP.
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    expect(dashboardPage).toMatch(
      /<script type="module" crossorigin src="\/dashboard\/assets\/index-[\w-]+\.js">/,
    );
    expect(first.output()).toMatch(
      /SIGINT received, stopping \(Ctrl-C again to exit at once\)\.\.\.\s+stopped/,
    );

    // Act: second start on the same data dir
    const second = startStack(dataDir);
    const url2 = await waitFor(() => /running at (http:\/\/\S+)/.exec(second.output())?.[1], {
      timeoutMs: 20_000,
      what: 'the second start banner',
    });
    const key2 = /demo key:\s+(billing_\S+)/.exec(second.output())?.[1];
    const signing = /signing:\s+(\S+)/.exec(first.output())?.[1];
    const signing2 = /signing:\s+(\S+)/.exec(second.output())?.[1];
    const health2 = await fetch(`${url2}/health`);
    process.kill(-(second.child.pid as number), 'SIGINT');

    // Assess: same key, still healthy, clean stop
    expect(key2).toBe(key);
    expect(signing).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(signing2).toBe(signing);
    expect(health2.status).toBe(200);
    await second.exited;
    expect(second.output()).toMatch(/stopped/);
  }, 60_000);

  it('takes a free port for DynamoDB when DYNAMODB_PORT is busy, and says in one line that PORT is', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-start-'));
    dirs.push(dataDir);
    const busy = await occupyPort();

    try {
      // Act: DynamoDB's port taken
      const first = startStack(dataDir, { DYNAMODB_PORT: String(busy.port) });
      const url = await waitFor(() => /running at (http:\/\/\S+)/.exec(first.output())?.[1], {
        timeoutMs: 20_000,
        what: 'the start banner',
      });
      const health = await fetch(`${url}/health`);
      process.kill(-(first.child.pid as number), 'SIGINT');
      await first.exited;

      // Act: the API's port taken
      const second = startStack(dataDir, { PORT: String(busy.port) });
      await second.exited;

      // Assess
      expect(health.status).toBe(200);
      expect(first.output()).not.toContain(`127.0.0.1:${busy.port} `);
      expect(second.output()).toContain(`port ${busy.port} on 127.0.0.1 is already in use`);
      expect(second.output()).toContain('set PORT');
      expect(second.output()).not.toMatch(STACK_TRACE);
      expect(second.child.exitCode).not.toBe(0);
    } finally {
      busy.server.close();
    }
  }, 60_000);

  it('refuses a second stack on the same data dir, naming the pid, and a worker on another queue driver', async () => {
    // Prepare
    const dataDir = await mkdtemp(join(tmpdir(), 'billing-start-'));
    dirs.push(dataDir);
    const first = startStack(dataDir);
    await waitFor(() => /running at (http:\/\/\S+)/.exec(first.output())?.[1], {
      timeoutMs: 20_000,
      what: 'the start banner',
    });

    try {
      // Act
      const second = startStack(dataDir);
      await second.exited;
      const worker = startStack(dataDir, { QUEUE_DRIVER: 'rabbitmq' }, 'worker');
      await worker.exited;

      // Assess
      const ownerPid = /"pid": (\d+)/.exec(await readFile(join(dataDir, 'local-stack.json'), 'utf8'))?.[1];
      expect(second.output()).toContain(`is already used by pid ${ownerPid}`);
      expect(second.output()).not.toMatch(STACK_TRACE);
      expect(second.output()).not.toContain('Database is closed');
      expect(worker.output()).toContain('uses QUEUE_DRIVER=sqs, this worker rabbitmq');
      expect(worker.output()).not.toMatch(STACK_TRACE);
    } finally {
      process.kill(-(first.child.pid as number), 'SIGINT');
      await first.exited;
    }
  }, 60_000);
});
