import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where `npm start` keeps the demo tenant's API key (shown once, then read back on later starts). */
export const DEMO_KEY_FILE = 'demo-api-key.txt';

/** The demo key of the local stack whose data dir is `dataDir`, if it has one. */
export const readDemoApiKey = async (dataDir: string): Promise<string | undefined> =>
  (await readFile(join(dataDir, DEMO_KEY_FILE), 'utf8').catch(() => '')).trim() || undefined;
