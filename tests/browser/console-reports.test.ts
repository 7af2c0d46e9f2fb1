/**
 * The console's reports page in a real browser (Debian's Chromium driven by playwright-core): an
 * admin opens it on a known history, sees the figures and the charts (Chart.js served by
 * Sportello: nothing fetched from elsewhere), changes the period and the channel, downloads the
 * CSV. Agents may not read it. Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, login, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
jest.setTimeout(120_000);

const browserTest = describeInBrowser();

browserTest('the console reports page', () => {
  let t: ApiApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Monday 23 November 2026 in Rome; the history runs to Wednesday, and "today" is Thursday.
    t = await startApiApp({}, '2026-11-23T10:00:00+01:00');
    const say = async (customer: string, text: string, at: string) => {
      t.clock.set(at);
      const outcome = await t.app.pipeline.receive(t.message(text, { customer: { platformId: customer } }));
      await t.app.sender.drain();
      return outcome;
    };
    await say('c1', 'come faccio un reso?', '2026-11-23T10:00:00+01:00');
    await say('c2', 'si può pagare con satispay?', '2026-11-24T11:00:00+01:00');
    const asked = await say('c3', 'vorrei parlare con un operatore per favore', '2026-11-25T15:00:00+01:00');
    t.clock.set('2026-11-25T15:20:00+01:00');
    await t.app.desk.claim(asked.conversation!.id, t.marta);
    await t.app.desk.reply(asked.conversation!.id, t.marta, 'Ciao, sono Marta.');
    await t.app.sender.drain();
    t.clock.set('2026-11-26T09:00:00+01:00');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
  });

  it('answers admins only, and refuses a wrong period', async () => {
    const agent = await login(t.base, 'Marta', PASSWORDS.marta);
    expect((await agent.get('/reports')).status).toBe(403);
    const admin = await login(t.base, 'Anna', PASSWORDS.anna);
    const bad = await admin.get('/reports?from=2026-02-30');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not a calendar date/);
    expect((await admin.get('/reports?from=2026-11-26&to=2026-11-20')).body.error).toMatch(/the period is empty/);
    const ok = await admin.get('/reports?from=2026-11-23&to=2026-11-26');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ channels: ['chat'], sla_minutes: [15, 60, 240], report: { inbound: 3, answered_by_bot: 2, escalated: 1, response_rate: 1 } });
    expect((ok.body.report as { first_response_seconds: { human: unknown } }).first_response_seconds.human).toEqual({ p50: 1200, p90: 1200 });
  });

  it('shows the figures and charts, follows the period and the channel, and downloads the CSV', async () => {
    const context = await browser.newContext({ locale: 'it-IT', timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    // (The console's own "not logged in yet" 401 and the missing favicon are not the page's errors.)
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
    });
    const elsewhere: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(t.base)) elsewhere.push(r.url());
    });
    await page.goto(`${t.base}/console`);
    await page.getByLabel('Nome').fill('Anna');
    await page.getByLabel('Password').fill(PASSWORDS.anna);
    await page.locator('#login-submit').click();
    await page.locator('#desk-view').waitFor({ state: 'visible' });

    await page.getByRole('button', { name: 'Report' }).click();
    // The default period is the last 7 days of the browser's calendar (the real one): set ours.
    await page.locator('#reports-from').fill('2026-11-23');
    await page.locator('#reports-to').fill('2026-11-26');
    await page.locator('#reports-to').dispatchEvent('change');
    await page.locator('#reports[data-loaded="2026-11-23/2026-11-26/"]').waitFor();
    const tiles = await page.locator('#reports-tiles').innerText();
    expect(tiles).toMatch(/3\s+Messaggi dei clienti/);
    expect(tiles).toMatch(/2\s+Risposti dal bot/);
    expect(tiles).toMatch(/1\s+Passati agli operatori/);
    expect(tiles).toMatch(/100,0%\s+Tasso di risposta/); // Italian numbers
    // Six charts drawn by Chart.js on their canvases.
    const drawn = await page.evaluate(() => Array.from(document.querySelectorAll('#reports canvas')).map((c) => Boolean((globalThis as unknown as { Chart: { getChart(c: Element): unknown } }).Chart.getChart(c))));
    expect(drawn).toEqual([true, true, true, true, true, true]);
    const daily = await page.evaluate(() => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[]; datasets: Array<{ data: number[] }> } } } }).Chart.getChart('reports-daily')!.data);
    // Days as Italians read them (not "11-23", which reads as the 11th of a 23rd month), reasons in words.
    expect(daily.labels).toEqual(['23 nov', '24 nov', '25 nov']);
    expect(daily.datasets[0]!.data).toEqual([1, 1, 1]);
    const reasons = await page.evaluate(() => (globalThis as unknown as { Chart: { getChart(id: string): { data: { labels: string[] } } } }).Chart.getChart('reports-reasons')!.data.labels);
    expect(reasons).toEqual(['chiede una persona']);
    await page.screenshot({ path: join(SHOTS, 'console-reports.png'), fullPage: true });

    // A shorter period: the figures follow.
    await page.locator('#reports-from').fill('2026-11-25');
    await page.locator('#reports-from').dispatchEvent('change');
    await page.locator('#reports[data-loaded="2026-11-25/2026-11-26/"]').waitFor();
    expect(await page.locator('#reports-tiles').innerText()).toMatch(/1\s+Messaggi dei clienti/);
    await page.screenshot({ path: join(SHOTS, 'console-reports-one-day.png'), fullPage: true });

    // The channel filter lists the channels seen; the CSV link downloads the same period and channel.
    await page.locator('#reports-channel').selectOption('chat');
    await page.locator('#reports[data-loaded="2026-11-25/2026-11-26/chat"]').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#reports-csv').click()]);
    const csv = await (await download.createReadStream()).toArray();
    expect(Buffer.concat(csv).toString('utf8').split('\n')).toEqual([
      'date,channel,inbound,answered_by_bot,escalated,response_rate,first_response_bot_p50,first_response_human_p50,resolution_p50,csat_average',
      '2026-11-25,chat,1,0,1,1,0,1200,,',
      '',
    ]);
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
