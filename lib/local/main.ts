import { ConfigError, loadConfig } from '../config.ts';
import { startLocalStack } from './local-stack.ts';

/** `npm start`: the whole product on this machine, until Ctrl-C. */
const main = async (): Promise<void> => {
  const config = loadConfig();
  const stack = await startLocalStack(config);
  const line = '-'.repeat(72);
  console.log(
    [
      line,
      `Billing reminders running at ${stack.url}`,
      `  health:    ${stack.url}/health`,
      `  DynamoDB:  ${stack.dynamodbEndpoint} (table ${config.TABLE_NAME}, data in ${config.DATA_DIR})`,
      stack.demoApiKey
        ? `  demo key:  ${stack.demoApiKey}`
        : '  demo key:  (created earlier and not saved; make a new one: npm run admin -- key create --tenant demo)',
      line,
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, stopping...`);
    await stack.close();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
