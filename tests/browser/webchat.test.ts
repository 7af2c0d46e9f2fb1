/**
 * The web chat in a real browser (Debian's Chromium driven by playwright-core): the visitor sees
 * the welcome, sends a message, sees the typing indicator while the bot works and then the
 * reply with its time, gets quick replies for a question the FAQ does not settle, uses one with
 * the keyboard and sees them gone. The instance shows typing at once (typingDelayMs 0), so the
 * indicator comes from the server too, not only from the page. Screenshots go to
 * test-output/screenshots/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT, startTestApp, type TestApp } from '../helpers/app.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
/** A question near several FAQ entries and answered by none: the bot asks "did you mean one of these?". */
const UNCLEAR = 'vorrei informazioni su pagamento e spedizione';

jest.setTimeout(120_000);

const browserTest = describeInBrowser();

browserTest('the web chat in a browser', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({}, undefined, undefined, { typingDelayMs: 0 });
    base = await t.app.listen(0, '127.0.0.1');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Errors the pages reported (script errors, CSP violations): none expected. */
  let problems: string[] = [];
  afterEach(() => {
    expect(problems).toEqual([]);
    problems = [];
  });

  /** A visitor's page on /chat; `clock`: its time is the test clock's (and the test can stop it). */
  async function visitor(locale: string, clock = false): Promise<Page> {
    const context = await browser.newContext({ locale, timezoneId: 'Europe/Rome', viewport: { width: 480, height: 760 } });
    const page = await context.newPage();
    if (clock) await page.clock.install({ time: t.clock.now() });
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text()); // a CSP violation is reported here
    });
    await page.goto(`${base}/chat`);
    return page;
  }

  it('welcomes the visitor, shows the bot typing, then its reply with the time', async () => {
    const page = await visitor('it-IT', true);
    const welcome = page.locator('#log .welcome');
    await welcome.waitFor();
    expect(await welcome.textContent()).toContain('Ciao! Come posso aiutarti?');
    expect(await page.locator('#typing').isHidden()).toBe(true);
    // the input is labelled and has the focus
    const input = page.getByLabel('Messaggio');
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'webchat-welcome.png') });

    // The page's time stands still: the indicator, once shown, stays its minimum time (0.7 s),
    // which passes only when the test says so; the reply, however fast, waits under it.
    await page.clock.pauseAt(new Date(t.clock.now().getTime() + 60_000));
    await input.fill('quali sono i vostri orari di apertura?');
    await page.getByRole('button', { name: 'Invia' }).click();
    const typing = page.locator('#typing');
    await typing.waitFor({ state: 'visible' });
    expect(await page.getByRole('status').textContent()).toBe('L’assistente sta scrivendo…');
    await page.screenshot({ path: join(SHOTS, 'webchat-typing.png') });
    await t.app.pipeline.idle();
    await t.app.sender.drain(); // the reply is sent: the page holds it under the indicator
    expect(await page.locator('#log .bot').count()).toBe(0);
    await page.clock.runFor(1000);

    const reply = page.locator('#log .bot').filter({ hasText: /luned|sabato/i });
    await reply.waitFor();
    await typing.waitFor({ state: 'hidden' });
    // the bot's reply carries the time it was sent (the test clock: 24 November, 10:00 in Rome)
    expect(await reply.locator('time').getAttribute('datetime')).toBe(t.clock.now().toISOString());
    expect(await reply.locator('time').textContent()).toBe('10:00');
    expect(await page.locator('#log .me time').first().textContent()).toBe('10:01'); // sent at the page's 10:01
    // the conversation is a live log for screen readers
    expect(await page.locator('#log').getAttribute('role')).toBe('log');
    expect(await page.locator('#log').getAttribute('aria-live')).toBe('polite');
    await page.screenshot({ path: join(SHOTS, 'webchat-reply.png') });
    await page.close();
  });

  it('offers quick replies as buttons, and removes them once one is used (with the keyboard) or the visitor writes', async () => {
    const page = await visitor('it-IT');
    await page.locator('#log .welcome').waitFor();
    const input = page.locator('#text');
    await input.fill(UNCLEAR);
    await input.press('Enter');
    const options = page.getByRole('group', { name: 'Risposte rapide' });
    await options.waitFor();
    const titles = await options.getByRole('button').allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    expect(await page.locator('#log .bot').last().textContent()).toContain('intendevi una di queste?');
    await page.screenshot({ path: join(SHOTS, 'webchat-quick-replies.png') });

    // From the message box, Shift+Tab reaches the last option; Enter uses it.
    await input.focus();
    await page.keyboard.press('Shift+Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    expect(focused).toBe(titles.at(-1));
    await page.keyboard.press('Enter');
    await options.waitFor({ state: 'detached' });
    expect(await page.locator('#log .options').count()).toBe(0);
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true); // the focus went back to the message box
    await page.locator('#log .me').filter({ hasText: titles.at(-1)! }).waitFor();
    const answered = page.locator('#log .bot').last();
    await page.waitForFunction(() => (document.querySelectorAll('#log .bot').length ?? 0) >= 2 && document.getElementById('typing')!.hidden);
    expect(await answered.textContent()).not.toContain('intendevi');
    expect(await page.locator('#log .options').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'webchat-quick-replies-used.png') });

    // Offered again, then the visitor writes instead: they go too.
    await input.fill(UNCLEAR);
    await input.press('Enter');
    await options.waitFor();
    await input.fill('quali sono i vostri orari di apertura?');
    await input.press('Enter');
    await options.waitFor({ state: 'detached' });
    await page.locator('#log .bot').filter({ hasText: /luned|sabato/i }).waitFor();
    expect(await page.locator('#log .options').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'webchat-quick-replies-gone.png') });
    await page.close();
  });

  it('speaks English to an English browser and keeps the conversation across a reload', async () => {
    const page = await visitor('en-GB');
    const welcome = page.locator('#log .welcome');
    await welcome.waitFor();
    expect(await welcome.textContent()).toContain('Hi! How can I help you?');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByLabel('Message').fill('what are your opening hours?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#log .bot').first().waitFor();
    await page.reload();
    await page.locator('#log .me').filter({ hasText: 'what are your opening hours?' }).waitFor();
    await page.locator('#log .bot').first().waitFor();
    expect(await page.locator('#typing').isHidden()).toBe(true);
    await page.close();
  });

  // Last: it moves the server's clock a month on.
  it('keeps chatting when the session has expired: the page starts a new one and sends the message again', async () => {
    const page = await visitor('it-IT');
    await page.locator('#log .welcome').waitFor();
    const input = page.locator('#text');
    await input.fill('come posso pagare?');
    await input.press('Enter');
    await page.locator('#log .bot').filter({ hasText: /PayPal/ }).waitFor();
    const first = await page.evaluate(() => localStorage.getItem('sportello.session'));
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);

    t.clock.advance(31 * 86_400_000); // past WEBCHAT_RETENTION_DAYS: the server removes the session
    await input.fill('quali sono i vostri orari di apertura?');
    await input.press('Enter');
    await page.locator('#log .bot').filter({ hasText: /luned|sabato/i }).waitFor();
    expect(await page.locator('#log .notice').count()).toBe(0); // nothing failed for the visitor
    const second = await page.evaluate(() => localStorage.getItem('sportello.session'));
    expect(second).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    // The browser reports the refused message (401) it was told: that one, and nothing else, went wrong.
    expect(problems.filter((p) => /status of 401/.test(p)).length).toBeGreaterThan(0);
    problems = problems.filter((p) => !/status of 401/.test(p));
    await page.close();
  });
});
