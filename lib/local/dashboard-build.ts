import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DASHBOARD_DIST } from '../http/routes/dashboard.ts';

/**
 * Builds the dashboard (dashboard/ -> dashboard/dist, Vite) when the build is missing or older than
 * a source file, so `npm start` on a fresh clone serves it at /dashboard with no extra step.
 * Vite is a development dependency: a machine without it keeps whatever build it has.
 */

const DASHBOARD_DIR = join(DASHBOARD_DIST, '..');

/** The newest modification time under `dir` (recursively), 0 when it does not exist. */
const newest = async (dir: string): Promise<number> => {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const times = await Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => (await stat(join(e.parentPath, e.name))).mtimeMs),
  );
  return Math.max(0, ...times);
};

/**
 * `fresh` when the build is newer than every source, `built` after building, `no-vite` when it
 * should be built but Vite is not installed (an install without development dependencies).
 */
export const ensureDashboardBuilt = async (): Promise<'fresh' | 'built' | 'no-vite'> => {
  const builtAt = await stat(join(DASHBOARD_DIST, 'index.html')).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const sources = Math.max(
    await newest(join(DASHBOARD_DIR, 'src')),
    (await stat(join(DASHBOARD_DIR, 'index.html'))).mtimeMs,
  );
  if (builtAt > sources) return 'fresh';
  const vite = await import('vite').catch(() => undefined);
  if (!vite) return 'no-vite';
  await vite.build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'warn' });
  return 'built';
};
