import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { ensureDashboardBuilt } from './dashboard-build.ts';
import { DEMO_SIGNING_SECRET_FILE } from './demo-key-file.ts';
import { releaseMemoryWhenIdle } from './idle-memory.ts';
import { type LocalRoles, LocalStartError, readStackInfo, startLocalStack } from './local-stack.ts';

/** Signals this close together are one Ctrl-C delivered twice (see `stop`). */
const SAME_KEYPRESS_MS = 1000;

/**
 * `npm start` (API + worker), `npm run api` (API only, owns the local data) and `npm run worker`
 * (a sender that joins the running stack; several may run at once), until Ctrl-C.
 */
const main = async (): Promise<void> => {
  const mode = process.argv[2] ?? 'all';
  const config = loadConfig();
  let roles: LocalRoles;
  if (mode === 'worker') {
    const owner = await readStackInfo(config.DATA_DIR);
    if (!owner)
      throw new LocalStartError(
        `no running stack in ${config.DATA_DIR}: start it first (npm run api or npm start)`,
      );
    if (owner.queueDriver && owner.queueDriver !== config.QUEUE_DRIVER)
      throw new LocalStartError(
        `the stack of pid ${owner.pid} uses QUEUE_DRIVER=${owner.queueDriver}, this worker ${config.QUEUE_DRIVER}: start the worker with QUEUE_DRIVER=${owner.queueDriver}`,
      );
    roles = { api: false, worker: true, attachTo: owner };
  } else {
    roles = { api: true, worker: mode !== 'api' };
  }
  const dashboard = roles.api ? await ensureDashboardBuilt() : 'fresh';
  const stack = await startLocalStack(config, {}, roles);
  releaseMemoryWhenIdle();
  const line = '-'.repeat(72);
  const lines = [line];
  if (roles.api) {
    lines.push(
      `Billing reminders running at ${stack.url}`,
      `  health:    ${stack.url}/health`,
      `  API docs:  ${stack.url}/api/v1/billing/docs`,
      dashboard === 'no-vite'
        ? '  dashboard: not built and Vite is not installed (npm install, then npm run build:dashboard)'
        : `  dashboard: ${stack.url}/dashboard (log in with the demo key)`,
    );
  } else {
    lines.push(`Billing worker ${process.pid} joined the stack of pid ${roles.attachTo?.pid}`);
  }
  lines.push(
    `  DynamoDB:  ${stack.dynamodbEndpoint} (table ${config.TABLE_NAME}, data in ${config.DATA_DIR})`,
    `  queue:     ${config.QUEUE_DRIVER === 'rabbitmq' ? `RabbitMQ ${config.AMQP_URL.replace(/\/\/[^@]*@/, '//')}` : 'SQS FIFO (embedded emulator)'}`,
    `  sender:    ${roles.worker ? 'running in this process' : 'not in this process (npm run worker)'}`,
  );
  if (stack.simulator) lines.push(`  WhatsApp:  Evolution simulator at ${stack.simulator.url}`);
  if (roles.api) {
    lines.push(
      stack.demoApiKey
        ? `  demo key:  ${stack.demoApiKey}`
        : '  demo key:  (created earlier and not saved; make a new one: npm run admin -- key create --tenant demo)',
      stack.demoSigningSecret
        ? `  signing:   ${stack.demoSigningSecret} (signs the demo's callbacks; also in ${join(config.DATA_DIR, DEMO_SIGNING_SECRET_FILE)})`
        : '  signing:   (not saved; new one: npm run admin -- key rotate-secret --tenant demo --id <id from key list>)',
    );
  }
  lines.push(line);
  console.log(lines.join('\n'));

  let stopping = false;
  let stoppingSince = 0;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      // One Ctrl-C can arrive twice (the terminal signals npm and this process, and npm forwards
      // it): only a press a moment later is a second Ctrl-C, from a user who will not wait.
      if (Date.now() - stoppingSince < SAME_KEYPRESS_MS) return;
      console.log(`\n${signal} received again, exiting now`);
      process.exit(130);
    }
    stopping = true;
    stoppingSince = Date.now();
    console.log(`\n${signal} received, stopping (Ctrl-C again to exit at once)...`);
    await stack.close();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError || error instanceof LocalStartError ? error.message : error);
  process.exit(1);
});
