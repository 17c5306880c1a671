import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChildProgram, startProgram } from './child-program.ts';
import { freePort } from './free-port.ts';
import { type StoreProxy, startStoreProxy } from './store-proxy.ts';

/**
 * The chaos run's DynamoDB for `--store-outages`: the embedded DynamoDB in a program of its own (on
 * the data dir's `dynamodb/`, where `npm start` keeps it), behind a proxy the run cuts for an outage.
 */
export const startStoreProcess = async (options: {
  workDir: string;
  dataDir: string;
  startTimeoutMs: number;
}): Promise<{ program: ChildProgram; proxy: StoreProxy }> => {
  const path = join(options.dataDir, 'dynamodb');
  await mkdir(path, { recursive: true });
  const port = await freePort();
  const program = startProgram({
    script: 'scripts/chaos/dynamodb-main.ts',
    args: [path, String(port)],
    env: process.env,
    logFile: join(options.workDir, 'dynamodb.log'),
    label: 'dynamodb',
  });
  try {
    await program.waitForOutput(/dynamodb at (http:\/\/\S+)/, options.startTimeoutMs);
    return { program, proxy: await startStoreProxy({ host: '127.0.0.1', port }) };
  } catch (error) {
    await program.kill('SIGKILL');
    throw error;
  }
};
