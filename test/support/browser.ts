import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * A real browser for test/browser: Debian's Chromium (`apt-get install chromium`), driven by
 * playwright-core. No browser download: a machine without /usr/bin/chromium fails here, loudly,
 * rather than skipping the dashboard's tests.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const launchChromium = async (): Promise<Browser> => {
  await access(CHROMIUM).catch(() => {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  });
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
};

/**
 * Runs an expression in the page and answers its value. Text, not a function: the tests'
 * TypeScript program has no DOM types (adding them would change Node's globals for every file).
 */
export const inPage = <T>(page: Page, expression: string): Promise<T> =>
  page.evaluate(expression) as Promise<T>;

/** Whether the page scrolls sideways (wider content than the viewport). */
export const scrollsSideways = (page: Page): Promise<boolean> =>
  inPage(page, 'document.documentElement.scrollWidth > window.innerWidth');

/** An axe-core violation as the tests report it. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

const requireHere = createRequire(import.meta.url);
let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is, and answers its serious and critical
 * violations. The engine goes in through the DevTools protocol, which the page's CSP does not govern.
 */
export const seriousAccessibilityViolations = async (page: Page): Promise<AxeViolation[]> => {
  axeSource ??= await readFile(requireHere.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await inPage<AxeViolation[]>(
    page,
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }).then((r) =>
      r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) })))`,
  );
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
};
