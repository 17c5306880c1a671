import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { isDomainError } from '../domain/errors.ts';
import { COMMANDS } from './commands.ts';
import { CONFIG_FLAG_NAMES, type Flags, HOURS_FLAG_NAMES, UsageError } from './flags.ts';
import { formatHuman } from './human-output.ts';
import { connectAdminStore } from './store-connection.ts';

const STRING_FLAGS = [
  ...CONFIG_FLAG_NAMES,
  ...HOURS_FLAG_NAMES,
  'id',
  'name',
  'tenant',
  'description',
  'types',
  'scopes',
  'ips',
  'expires',
  'type',
  'file',
  'timezone',
  'region',
  'closed',
  'url',
  'credential',
  'webhook-secret',
  'status',
  'instance',
  'limit',
  'warmup-first-day',
  'warmup-growth',
  'phone',
];
const BOOLEAN_FLAGS = [
  'json',
  'aws',
  'help',
  'no-national-holidays',
  'national-holidays',
  'replace',
  'jwt',
  'strict',
  'no-warmup',
  'on',
  'off',
  'restart',
];

const help = (): string =>
  [
    'Usage: npm run admin -- <resource> <verb> [flags]   (or: billing-admin <resource> <verb> [flags])',
    '',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
    '',
    'Global flags: --json (machine-readable output), --aws (use real AWS DynamoDB with the usual credentials).',
    'Target: AWS_ENDPOINT_URL[_DYNAMODB] + TABLE_NAME when set; else the running `npm start`; else DATA_DIR.',
    "Queues (dlq): QUEUE_DRIVER=rabbitmq -> AMQP_URL + WORK_QUEUE_NAME; sqs -> WORK_QUEUE_URL, or the running stack's SQS.",
  ].join('\n');

/** Runs one admin command; returns the process exit code (0 ok, 1 refused, 2 usage). */
export const runAdmin = async (argv: string[], env?: Record<string, string | undefined>): Promise<number> => {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries([
        ...STRING_FLAGS.map((f) => [f, { type: 'string' as const }]),
        ...BOOLEAN_FLAGS.map((f) => [f, { type: 'boolean' as const }]),
      ]),
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${help()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const name = positionals.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (values.help || !command || positionals.length !== 2) {
    if (!values.help)
      console.error(name ? `unknown command: ${positionals.join(' ')}\n` : 'no command given\n');
    console.error(help());
    return values.help ? 0 : 2;
  }

  let connection: Awaited<ReturnType<typeof connectAdminStore>> | undefined;
  try {
    const config = loadConfig(env);
    connection = await connectAdminStore(config, { useAws: values.aws === true });
    const result = await command.run(connection.container, values as Flags);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else console.log(`${(command.human ?? formatHuman)(result)}\n(${connection.description})`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (isDomainError(error)) {
      console.error(`erro ${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  } finally {
    await connection?.close();
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  runAdmin(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
