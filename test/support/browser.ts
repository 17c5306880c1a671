import { access } from 'node:fs/promises';
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
