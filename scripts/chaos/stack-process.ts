import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ChildProgram, REPO_ROOT, startProgram } from './child-program.ts';

const run = promisify(execFile);

/**
 * The stack's timings for a chaos run. The defaults fit Lambda (a dead pump's instance lease frees
 * after 60 s, the sweeper republishes after 120 s); with them, each kill would cost minutes of
 * waiting. These keep the same order (sweeper grace above the lease, the gateway timeout well
 * above the simulator's latency) on a scale of seconds.
 */
export const STACK_TIMINGS = {
  SENDER_BUDGET_SECONDS: 10,
  SENDER_LEASE_SECONDS: 4,
  SWEEPER_GRACE_SECONDS: 6,
  SWEEPER_INTERVAL_SECONDS: 1,
  GATEWAY_TIMEOUT_MS: 3000,
};

/**
 * The environment of `npm start`'s program for a chaos run: its own data dir, ports and queue
 * name, the separate simulator as its Evolution server, a chosen demo key. Nothing inherited may
 * point it at another table or queue (an empty value is unset to lib/config.ts).
 */
export const stackEnvironment = (options: {
  inherited: NodeJS.ProcessEnv;
  dataDir: string;
  port: number;
  dynamodbPort: number;
  driver: 'sqs' | 'rabbitmq';
  amqpUrl: string;
  workQueueName: string;
  evolutionUrl: string;
  evolutionApiKey: string;
  demoApiKey: string;
}): NodeJS.ProcessEnv => ({
  ...options.inherited,
  DATA_DIR: options.dataDir,
  HOST: '127.0.0.1',
  PORT: String(options.port),
  DYNAMODB_PORT: String(options.dynamodbPort),
  QUEUE_DRIVER: options.driver,
  AMQP_URL: options.amqpUrl,
  WORK_QUEUE_NAME: options.workQueueName,
  EVOLUTION_URL: options.evolutionUrl,
  EVOLUTION_API_KEY: options.evolutionApiKey,
  // The harness's simulator is no number to warm up: its queues must run to the end.
  DEMO_INSTANCE_WARMUP: 'off',
  BILLING_DEMO_API_KEY: options.demoApiKey,
  LOG_LEVEL: 'INFO',
  TABLE_NAME: '',
  AWS_ENDPOINT_URL: '',
  AWS_ENDPOINT_URL_DYNAMODB: '',
  AWS_ENDPOINT_URL_SQS: '',
  AWS_ENDPOINT_URL_SCHEDULER: '',
  WORK_QUEUE_URL: '',
  CALLBACK_QUEUE_URL: '',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...Object.fromEntries(Object.entries(STACK_TIMINGS).map(([k, v]) => [k, String(v)])),
});

/** Starts `npm start`'s program (start number `n`) and resolves once its banner is printed. */
export const startStackProcess = async (options: {
  env: NodeJS.ProcessEnv;
  workDir: string;
  n: number;
  startTimeoutMs: number;
}): Promise<ChildProgram> => {
  const program = startProgram({
    script: 'lib/local/main.ts',
    env: options.env,
    logFile: join(options.workDir, 'stack.log'),
    label: `stack start ${options.n}`,
  });
  try {
    await program.waitForOutput(/running at (http:\/\/\S+)/, options.startTimeoutMs);
  } catch (error) {
    await program.kill('SIGKILL');
    throw error;
  }
  return program;
};

/** Runs the admin CLI (`npm run admin`'s program) against the running stack; fails with its output. */
export const runAdmin = async (env: NodeJS.ProcessEnv, args: string[]): Promise<void> => {
  try {
    await run(process.execPath, ['--import', 'tsx', 'lib/admin/main.ts', ...args, '--json'], {
      cwd: REPO_ROOT,
      env,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`admin ${args.join(' ')} failed: ${stderr || stdout || String(error)}`);
  }
};
