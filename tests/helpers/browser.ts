/**
 * Test helper: Debian's Chromium driven by playwright-core, started as this machine needs it
 * (headless, no sandbox as root, no background networking on a closed network).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** `describe` when Chromium is installed, else `describe.skip` with a warning saying how to get it. */
export function describeInBrowser(): jest.Describe {
  if (existsSync(CHROMIUM)) return describe;
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return describe.skip;
}

/** Starts a headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Opens the console in `context` (a script error on the page fails the test), signs `name` in and
 * waits until the desk shows with its event stream open.
 */
export async function signInToConsole(context: BrowserContext, base: string, name: string, password: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => {
    throw err;
  });
  await page.goto(`${base}/console`);
  await page.locator('#login-name').fill(name);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-submit').click();
  await page.locator('#desk-view').waitFor({ state: 'visible' });
  await page.locator('#live-status.live').waitFor(); // the event stream is open
  return page;
}
