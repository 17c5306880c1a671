import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it, vi } from 'vitest';

/**
 * The dashboard as infra/dashboard.ts builds it for its AWS static site (`--base /`, VITE_API_URL
 * set), and as `npm start` builds it (neither): real Vite builds of dashboard/ into temporary folders.
 */

const ROOT = join(import.meta.dirname, '../..');
const CONFIG = join(ROOT, 'dashboard/vite.config.ts');
const API_URL = 'https://abc123.execute-api.sa-east-1.amazonaws.com';

const outDirs: string[] = [];

/** Builds the dashboard with `base` (and VITE_API_URL when given); answers index.html and the JS. */
const buildDashboard = async (base: string, apiUrl?: string) => {
  await mkdir(join(ROOT, 'dist'), { recursive: true });
  const outDir = await mkdtemp(join(ROOT, 'dist', 'dashboard-site-'));
  outDirs.push(outDir);
  if (apiUrl) vi.stubEnv('VITE_API_URL', apiUrl);
  try {
    await build({ configFile: CONFIG, base, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  } finally {
    vi.unstubAllEnvs();
  }
  const script = (await readdir(join(outDir, 'assets'))).find((name) => name.endsWith('.js'));
  return {
    // The page as a browser reads its attributes (Vite writes quotes in them as entities).
    html: (await readFile(join(outDir, 'index.html'), 'utf8')).replaceAll('&#39;', "'"),
    js: await readFile(join(outDir, 'assets', script ?? 'missing.js'), 'utf8'),
  };
};

describe('dashboard build for its AWS static site', () => {
  afterAll(async () => {
    await Promise.all(outDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('loads from the root of its own origin, calls the API at VITE_API_URL, and names it in its policy', async () => {
    // Act
    const { html, js } = await buildDashboard('/', `${API_URL}/`);

    // Assess
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'self'; connect-src 'self' ${API_URL}; ` +
        `img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'">`,
    );
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
    expect(js).toContain(API_URL);
  });

  it('stays same-origin under /dashboard, with the policy left to the server, when built for npm start', async () => {
    // Act
    const { html, js } = await buildDashboard('/dashboard/');

    // Assess
    expect(html).toMatch(/src="\/dashboard\/assets\/index-[\w-]+\.js"/);
    expect(html).not.toContain('Content-Security-Policy');
    expect(js).not.toContain('execute-api');
  });
});
