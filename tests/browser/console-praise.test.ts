/**
 * The console's Listening page in a real browser, against a real Sportello listening on the fake X
 * API: heard praise is listed newest first with its author's reach; one click on "Ringrazia" sends
 * the public thank-you to X under the post (signed ^MR) and the row says who thanked; a post heard
 * without a mention has no button but a link to open it on X; an author is marked and unmarked as
 * an advocate; every class is listed with "load more"; the page passes axe-core and speaks English
 * too. Screenshots in test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { BRAND } from '../channels/twitter/helpers.js';
import { PRAISE_PASSWORDS, startPraiseApp, thankYouTexts, type PraiseApp } from '../helpers/praise-app.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');

jest.setTimeout(120_000);

describeInBrowser()('the Listening page of the console', () => {
  let t: PraiseApp;
  let browser: Browser;
  let mention: { id: string };
  let unaddressed: { id: string };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startPraiseApp();
    browser = await launchChromium();
    t.x.addUser({ id: '8100', username: 'giulia_f', followers: 12_400 });
    t.x.addUser({ id: '8101', username: 'piero_v', followers: 85 });
    t.x.addUser({ id: '8102', username: 'carla_n', followers: 40 });
    t.clock.advance(60_000);
    t.x.post('8102', 'Bottega Rossi: il mio ordine non è arrivato, potete aiutarmi?');
    t.clock.advance(60_000);
    mention = t.x.post('8100', `@${BRAND.username} adoro le sciarpe di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi, grazie!`);
    t.clock.advance(60_000);
    unaddressed = t.x.post('8101', 'Adoro i guanti di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi!');
    await t.settle();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function operatorPage(locale: string, options: { bypassCSP?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ locale, timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 900 }, ...options });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${t.base}/console`);
    await page.locator('#login-name').fill('Marta');
    await page.locator('#login-password').fill(PRAISE_PASSWORDS.marta);
    await page.locator('#login-submit').click();
    await page.locator('#desk-view').waitFor({ state: 'visible' });
    return page;
  }

  const row = (page: Page, postId: string) => page.locator(`#heard-list li[data-heard="twitter:${postId}"]`);

  it('thanks a praise post with one click (a signed reply on X under the post), links a post heard without a mention to X, and marks an advocate', async () => {
    const page = await operatorPage('it-IT');
    await page.getByRole('button', { name: 'Ascolto' }).click();
    await row(page, mention.id).waitFor();
    // Praise only at first, newest first, with the author's reach.
    expect(await page.locator('#heard-list li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.heard))).toEqual([`twitter:${unaddressed.id}`, `twitter:${mention.id}`]);
    const giulia = row(page, mention.id);
    expect(await giulia.textContent()).toContain('@giulia_f');
    expect(await giulia.textContent()).toContain('12.400 follower');
    expect(await giulia.textContent()).toContain('elogio');

    // A post without a mention: no button, the link to open it on X.
    const piero = row(page, unaddressed.id);
    expect(await piero.getByRole('button', { name: 'Ringrazia' }).count()).toBe(0);
    expect(await piero.getByRole('link', { name: 'Apri il post per rispondere da lì' }).getAttribute('href')).toBe(`https://x.com/piero_v/status/${unaddressed.id}`);

    await giulia.getByRole('button', { name: 'Ringrazia' }).click();
    await giulia.locator('.thanked').filter({ hasText: 'Ringraziato da Marta (MR)' }).waitFor();
    await page.locator('.toast.ok').filter({ hasText: 'Ringraziamento inviato.' }).waitFor();
    await t.app.sender.drain();
    const replies = t.repliesTo(mention.id);
    expect(replies).toHaveLength(1);
    expect(thankYouTexts('it', 'giulia_f', 'MR')).toContain(replies[0]!.text);
    expect(t.repliesTo(unaddressed.id)).toHaveLength(0);

    // Advocate: marked, shown, unmarked.
    await piero.getByRole('button', { name: 'Segna come sostenitore' }).click();
    await piero.locator('.pill.advocate').filter({ hasText: 'Sostenitore' }).waitFor();
    expect(await t.app.store.customerFiles.withTag('advocate')).toEqual(['twitter:8101']);
    await page.screenshot({ path: join(SHOTS, 'console-praise.png') });
    await piero.getByRole('button', { name: 'Togli sostenitore' }).click();
    await piero.getByRole('button', { name: 'Segna come sostenitore' }).waitFor();
    expect(await piero.locator('.pill.advocate').count()).toBe(0);
    expect(await t.app.store.customerFiles.withTag('advocate')).toEqual([]);
    await piero.getByRole('button', { name: 'Segna come sostenitore' }).click();
    await piero.locator('.pill.advocate').waitFor();

    // Opened again: what the server holds (thanked by Marta, the advocate).
    await page.reload();
    await page.locator('#desk-view').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Ascolto' }).click();
    await row(page, mention.id).locator('.thanked').filter({ hasText: 'Ringraziato da Marta (MR)' }).waitFor();
    expect(await row(page, mention.id).getByRole('button', { name: 'Ringrazia' }).count()).toBe(0);
    expect(await row(page, unaddressed.id).locator('.pill.advocate').count()).toBe(1);
    await page.context().close();
  });

  it('lists every class newest first with "load more", and passes axe-core', async () => {
    // 25 more posts heard: opinions.
    for (let i = 0; i < 25; i++) {
      t.clock.advance(30_000);
      t.x.addUser({ id: String(8200 + i), username: `passante${i}`, followers: i });
      t.x.post(String(8200 + i), `Passato davanti al negozio di Bottega Rossi in centro oggi (${i})`);
    }
    await t.settle();
    const heard = await t.app.store.heard.list({ limit: 100 });
    expect(heard).toHaveLength(28);
    const page = await operatorPage('it-IT', { bypassCSP: true });
    await page.getByRole('button', { name: 'Ascolto' }).click();
    await row(page, mention.id).waitFor();
    await page.getByLabel('Tipo').selectOption('');
    await page.locator('#heard-list li').nth(19).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#heard-list li').length === 20);
    expect(await page.locator('#heard-list li').first().getAttribute('data-heard')).toBe(heard[0]!.id);
    await page.getByRole('button', { name: 'Carica altri' }).click();
    await page.waitForFunction(() => document.querySelectorAll('#heard-list li').length === 28);
    expect(await page.locator('#heard-list li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.heard))).toEqual(heard.map((h) => h.id));
    expect(await page.getByRole('button', { name: 'Carica altri' }).isHidden()).toBe(true);
    expect(await row(page, heard.at(-1)!.platformId).textContent()).toContain('richiesta di assistenza');

    // A click on a post's topic shows only that topic's posts; the chip shows them all again.
    const topic = heard.find((h) => h.platformId === mention.id)!.topic!;
    const ofTopic = heard.filter((h) => h.topic === topic).map((h) => h.id);
    expect(ofTopic.length).toBeLessThan(heard.length);
    await row(page, mention.id).getByRole('button', { name: `Tema: ${topic}` }).click();
    await page.waitForFunction((n) => document.querySelectorAll('#heard-list li').length === n, ofTopic.length);
    expect(await page.locator('#heard-list li').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.heard))).toEqual(ofTopic);
    await page.getByRole('button', { name: `Tema «${topic}» ✕ (mostra tutti)` }).click();
    await page.waitForFunction(() => document.querySelectorAll('#heard-list li').length === 20);

    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.addScriptTag({ content: axe });
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(ctx: Document, options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.context().close();
  });

  it('speaks English', async () => {
    const page = await operatorPage('en-GB');
    await page.getByRole('button', { name: 'Listening' }).click();
    const giulia = row(page, mention.id);
    await giulia.locator('.thanked').filter({ hasText: 'Thanked by Marta (MR)' }).waitFor();
    expect(await giulia.textContent()).toContain('12,400 followers');
    await row(page, unaddressed.id).getByRole('link', { name: 'Open the post to answer it there' }).waitFor();
    expect(await row(page, unaddressed.id).getByRole('button', { name: 'Unmark advocate' }).count()).toBe(1);
    await page.context().close();
  });
});
