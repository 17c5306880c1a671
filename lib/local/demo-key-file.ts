import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where `npm start` keeps the demo tenant's API key (shown once, then read back on later starts). */
export const DEMO_KEY_FILE = 'demo-api-key.txt';
/** Where `npm start` keeps the secret that signs the demo tenant's callbacks (README, callbacks). */
export const DEMO_SIGNING_SECRET_FILE = 'demo-signing-secret.txt';

/** A file of the local stack's data dir, trimmed; undefined when it is missing or empty. */
const readDataFile = async (dataDir: string, file: string): Promise<string | undefined> =>
  (await readFile(join(dataDir, file), 'utf8').catch(() => '')).trim() || undefined;

/** The demo key of the local stack whose data dir is `dataDir`, if it has one. */
export const readDemoApiKey = (dataDir: string): Promise<string | undefined> =>
  readDataFile(dataDir, DEMO_KEY_FILE);

/** The secret signing the demo tenant's callbacks, of the local stack whose data dir is `dataDir`. */
export const readDemoSigningSecret = (dataDir: string): Promise<string | undefined> =>
  readDataFile(dataDir, DEMO_SIGNING_SECRET_FILE);
