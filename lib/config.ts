import { z } from 'zod';

/**
 * The only reader of `process.env`. Parsed once, at start; every missing or bad key is named
 * in one error so a misconfigured deployment fails loudly instead of half-working.
 */

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.url().optional();

const envSchema = z.object({
  /** Single DynamoDB table of the product. Set by the deployment (linked resource name). */
  TABLE_NAME: z.string().min(1).default('billing'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** One endpoint for every AWS service (e.g. LocalStack); per-service variables win over it. */
  AWS_ENDPOINT_URL: optionalUrl,
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_ENDPOINT_URL_SCHEDULER: optionalUrl,
  AWS_ENDPOINT_URL_SSM: optionalUrl,

  /** The FIFO work queue (SQS) of the sender; set by the deployment. */
  WORK_QUEUE_URL: optionalUrl,
  /** The standard queue (SQS) announcing callback events to deliver now; set by the deployment. */
  CALLBACK_QUEUE_URL: optionalUrl,
  /**
   * Which scheduler defers work (business hours, resume at): `eventbridge` (deployed; needs the four
   * settings below), `store` (schedules in the table, fired by the local worker's poll) or `none`
   * (functions that never schedule; using it throws). Default: `eventbridge` in Lambda, else `store`.
   */
  SCHEDULER_DRIVER: z.enum(['eventbridge', 'store', 'none']).optional(),
  /** EventBridge Scheduler (deployed): the group, the role it assumes, the release function, the DLQ. */
  SCHEDULE_GROUP_NAME: z.string().min(1).optional(),
  SCHEDULER_ROLE_ARN: z.string().min(1).optional(),
  SCHEDULER_TARGET_ARN: z.string().min(1).optional(),
  SCHEDULER_DLQ_ARN: z.string().min(1).optional(),
  /** Name of the local work queue (fauxqs `<name>.fifo`, or the RabbitMQ queue). */
  WORK_QUEUE_NAME: z
    .string()
    .regex(/^[\w-]{1,70}$/)
    .default('billing-work'),
  /** How long one sender run may send before it hands over with a continuation. */
  SENDER_BUDGET_SECONDS: z.coerce.number().positive().default(240),
  /** Instance lease length (renewed every third of it); a dead pump's lease frees after this. */
  SENDER_LEASE_SECONDS: z.coerce.number().positive().default(60),
  /** Work items one local worker handles at once. */
  SENDER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /** A queue without progress for this long is republished by the sweeper (keep it above the lease). */
  SWEEPER_GRACE_SECONDS: z.coerce.number().positive().default(120),
  /** How often the local worker sweeps (the deployed sweeper runs on a schedule). */
  SWEEPER_INTERVAL_SECONDS: z.coerce.number().positive().default(30),
  /**
   * How often the local worker deletes a page of expired items (retention; dynalite has no TTL). On
   * AWS, DynamoDB's TTL deletes them and nothing sweeps.
   */
  RETENTION_SWEEP_SECONDS: z.coerce.number().positive().default(60),
  /** How often the local worker polls for due callbacks (retries, and events the queue missed). */
  CALLBACK_POLL_SECONDS: z.coerce.number().positive().default(1),
  /**
   * For a callbacks queue that may lose what it holds (the embedded SQS emulator keeps its messages
   * in memory): every announced event is also made due this long after it is stored, so the poller
   * posts what a lost announcement left behind. `npm start` sets 60 with its embedded SQS or
   * RabbitMQ unless told otherwise; unset (or 0: none) on AWS, whose queue keeps its messages (and
   * where each due entry costs index writes).
   */
  CALLBACK_SAFETY_NET_SECONDS: z.coerce.number().int().min(0).optional(),
  /** How long a send to the gateway may take before its outcome counts as unknown. */
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(15_000),

  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  /** Largest request body the API accepts; bigger gets a 413 before any parsing. */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),

  // Clients of the HTTP API (`npm run import`): where the API is and the key that sends.
  /** The API's base URL; unset: the local stack (`npm start`) at 127.0.0.1:3000. */
  BILLING_API_URL: optionalUrl,
  /** Unset with BILLING_API_URL unset: the demo key of the `npm start` in DATA_DIR. */
  BILLING_API_KEY: z.string().min(1).optional(),

  // Local mode (design section 9)
  PORT: port.default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Port on which `npm start` serves its embedded DynamoDB, so the admin CLI can share it. */
  DYNAMODB_PORT: port.default(8000),
  SIMULATOR_PORT: port.default(8081),
  QUEUE_DRIVER: z.enum(['sqs', 'rabbitmq']).default('sqs'),
  /** Metrics: CloudWatch EMF lines (`emf`) or Prometheus text at GET /metrics (`prometheus`). Default: `emf` in Lambda, else `prometheus`. */
  METRICS_DRIVER: z.enum(['emf', 'prometheus']).optional(),
  AMQP_URL: z.string().min(1).default('amqp://guest:guest@127.0.0.1:5672'),
  EVOLUTION_URL: optionalUrl,
  EVOLUTION_API_KEY: z.string().min(1).optional(),
  /**
   * Whether the demo instance, created at the first start, warms up (a new number's ramp). Default:
   * on with EVOLUTION_URL (a real number), off on the built-in simulator. `off` for a stand-in
   * Evolution that is no number either (the chaos harness, crash tests, benches).
   */
  DEMO_INSTANCE_WARMUP: z.enum(['on', 'off']).optional(),
  /**
   * Whether a tenant's `allowInsecureCallbacks` may take effect in this process (local development).
   * Default: yes outside Lambda, no in Lambda; refused on a production stage (PRODUCTION_STAGE).
   */
  ALLOW_INSECURE_CALLBACKS: z.enum(['true', 'false']).optional(),
  /** Set by the deployment (infra/runtime.ts) on the functions of a production stage. */
  PRODUCTION_STAGE: z.enum(['true', 'false']).default('false'),
  /** Set by Lambda: the runtime API a callback must never reach (lib/domain/callback-url.ts). */
  AWS_LAMBDA_RUNTIME_API: z.string().min(1).optional(),
  /**
   * Comma-separated name prefixes an `env:` credential reference may read (default `EVOLUTION_`).
   * None may reach the AWS credentials the runtime puts in the environment.
   */
  CREDENTIAL_ENV_PREFIXES: z
    .string()
    .default('EVOLUTION_')
    .transform((list) =>
      list
        .split(',')
        .map((prefix) => prefix.trim())
        .filter((prefix) => prefix !== ''),
    )
    .refine(
      (prefixes) => prefixes.every((prefix) => !'AWS_'.startsWith(prefix) && !prefix.startsWith('AWS_')),
      {
        message: 'a prefix may not match the AWS_ variables (credentials of the runtime)',
      },
    ),
  BILLING_DEMO_API_KEY: z
    .string()
    .regex(
      /^billing_[A-Za-z0-9_-]{16,}$/,
      'must look like billing_ followed by at least 16 letters, digits, _ or -',
    )
    .optional(),
});

/** The EventBridge settings the `eventbridge` scheduler driver needs. */
export const EVENTBRIDGE_SCHEDULER_KEYS = [
  'SCHEDULE_GROUP_NAME',
  'SCHEDULER_ROLE_ARN',
  'SCHEDULER_TARGET_ARN',
  'SCHEDULER_DLQ_ARN',
] as const;

type Env = z.infer<typeof envSchema>;

export type Config = Omit<Env, 'SCHEDULER_DRIVER' | 'METRICS_DRIVER' | 'ALLOW_INSECURE_CALLBACKS'> & {
  /** Whether tenants' insecure callbacks may take effect here (never on a production stage). */
  allowInsecureCallbacks: boolean;
  SCHEDULER_DRIVER: NonNullable<Env['SCHEDULER_DRIVER']>;
  METRICS_DRIVER: NonNullable<Env['METRICS_DRIVER']>;
  /** Resolved per-service endpoints (undefined = the real AWS endpoint). */
  endpoints: { dynamodb?: string; sqs?: string; scheduler?: string; ssm?: string };
  /** The environment, for `env:NAME` credential references only (never logged). */
  credentialEnv: Readonly<Record<string, string | undefined>>;
};

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the given environment (default: the process's) into a typed config, or throws ConfigError naming every bad key. */
export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  // Empty strings mean "unset" (a `FOO=` line in a .env file), not "set to nothing".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const c = parsed.data;
  // Lambda sets AWS_LAMBDA_FUNCTION_NAME in every function; anywhere else is a local process.
  const inLambda = !!cleaned.AWS_LAMBDA_FUNCTION_NAME;
  const SCHEDULER_DRIVER = c.SCHEDULER_DRIVER ?? (inLambda ? 'eventbridge' : 'store');
  // No silent fallback: an EventBridge scheduler without its settings stops the start, naming them.
  const missing =
    SCHEDULER_DRIVER === 'eventbridge' ? EVENTBRIDGE_SCHEDULER_KEYS.filter((key) => !c[key]) : [];
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map(
        (key) => `${key}: required by SCHEDULER_DRIVER=eventbridge (or set SCHEDULER_DRIVER=store|none)`,
      ),
    );
  }
  const allowInsecureCallbacks = c.ALLOW_INSECURE_CALLBACKS
    ? c.ALLOW_INSECURE_CALLBACKS === 'true'
    : !inLambda;
  if (allowInsecureCallbacks && c.PRODUCTION_STAGE === 'true') {
    throw new ConfigError([
      'ALLOW_INSECURE_CALLBACKS: insecure callbacks are for local development, never on a production stage',
    ]);
  }
  const { ALLOW_INSECURE_CALLBACKS: _flag, ...settings } = c;
  return {
    ...settings,
    allowInsecureCallbacks,
    SCHEDULER_DRIVER,
    METRICS_DRIVER: c.METRICS_DRIVER ?? (inLambda ? 'emf' : 'prometheus'),
    credentialEnv: { ...env },
    endpoints: {
      dynamodb: c.AWS_ENDPOINT_URL_DYNAMODB ?? c.AWS_ENDPOINT_URL,
      sqs: c.AWS_ENDPOINT_URL_SQS ?? c.AWS_ENDPOINT_URL,
      scheduler: c.AWS_ENDPOINT_URL_SCHEDULER ?? c.AWS_ENDPOINT_URL,
      ssm: c.AWS_ENDPOINT_URL_SSM ?? c.AWS_ENDPOINT_URL,
    },
  };
};
