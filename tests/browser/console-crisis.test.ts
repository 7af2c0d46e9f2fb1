/**
 * The console's crisis banner and crisis mode in a real browser: posts heard by listening spike on
 * one topic, the alert reaches the console live (banner with the topic, volume, samples and top
 * authors), an update of the same spike replaces it; the operator opens a crisis on its topic, a
 * new message on that topic gets the approved holding statement (tagged, queued first), an
 * unrelated one its FAQ answer; closing the crisis ends it. Screenshots in test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, signInToConsole } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');

jest.setTimeout(120_000);

describeInBrowser()('the crisis banner in the console', () => {
  let t: ApiApp;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'sportello-crisis-'));

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // No cold start: the stream here is minutes long (the detector's own tests cover the rule).
    writeFileSync(
      join(dir, 'listening.yaml'),
      [
        'brand: [Bottega Rossi]',
        'detector:',
        '  cold_start_hours: 0',
        'holding_statements:',
        '  - language: it',
        '    text: "Sappiamo del problema e ci stiamo lavorando: aggiornamenti qui appena possibile. Ci scusiamo per il disagio."',
        '  - language: en',
        '    text: "We know about the problem and are working on it: updates here as soon as we can. Sorry for the trouble."',
        '',
      ].join('\n'),
    );
    t = await startApiApp({ LISTENING_FILE: join(dir, 'listening.yaml') });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
    rmSync(dir, { recursive: true, force: true });
  });

  async function operatorPage(locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 860 } });
    return signInToConsole(context, t.base, 'Marta', PASSWORDS.marta);
  }

  /** `n` negative posts about the app heard in the next minutes, `gapMs` apart. */
  async function hear(n: number, from: number, gapMs: number): Promise<void> {
    for (let i = from; i < from + n; i++) {
      t.clock.advance(gapMs);
      await t.app.listening.hear({
        channel: 'chat',
        id: `heard-${i}`,
        visibility: 'public',
        customer: { platformId: `fan${i}`, handle: `fan${i}`, followers: 100 * i },
        text: `La app di Bottega Rossi è bloccata di nuovo, vergogna (${i})`,
        sentAt: t.clock.now().toISOString(),
        listening: true,
        heard: true,
      });
    }
  }

  it('shows the alert live, in Italian, and replaces it when the spike grows', async () => {
    const page = await operatorPage('it-IT');
    const banner = page.locator('#crisis-banner');
    expect(await banner.isVisible()).toBe(false);

    await hear(10, 0, 60_000);
    await banner.waitFor({ state: 'visible', timeout: 15_000 });
    const text = (await banner.textContent()) ?? '';
    // The topic: the spiking words most of the posts share ("app bloccata", and "nuovo" here: every post has it).
    expect(text).toMatch(/^Picco su «app bloccata[^»]*»: 6 post in 20 minuti \(di solito 0\.?\d*\), 100% negativi/);
    expect(text).toContain('La app di Bottega Rossi è bloccata di nuovo');
    expect(text).toContain('Autori più seguiti: @fan5 (500 follower)');
    await page.screenshot({ path: join(SHOTS, 'console-crisis-banner.png') });

    // Many more posts a minute: the same spike grows, the banner says so.
    await hear(60, 10, 5_000);
    await banner.filter({ hasText: 'cresce' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('#crisis-banner').count()).toBe(1);

    await page.getByRole('button', { name: 'Chiudi', exact: true }).click();
    await banner.waitFor({ state: 'hidden' });
  });

  it('opens a crisis on the alert’s topic: a message on it gets the holding statement, an unrelated one its FAQ answer; closing ends it', async () => {
    const page = await operatorPage('it-IT');
    // A new spike on another topic, an hour later (the first one has ended).
    t.clock.advance(2 * 3_600_000);
    for (let i = 0; i < 10; i++) {
      t.clock.advance(60_000);
      await t.app.listening.hear({
        channel: 'chat',
        id: `pay-${i}`,
        visibility: 'public',
        customer: { platformId: `payer${i}`, followers: 10 },
        text: `Pagamento rifiutato di nuovo sul sito, vergogna (${i})`,
        sentAt: t.clock.now().toISOString(),
        listening: true,
        heard: true,
      });
    }
    const banner = page.locator('#crisis-banner');
    await banner.waitFor({ state: 'visible', timeout: 15_000 });
    const topic = (await banner.textContent())!.match(/«([^»]+)»/)![1]!;
    expect(topic).toMatch(/pagamento|rifiutato/);

    await page.getByRole('button', { name: `Apri una crisi su «${topic}»` }).click();
    const bar = page.locator('#crisis-mode');
    await bar.filter({ hasText: `Crisi aperta su «${topic}»` }).waitFor({ timeout: 15_000 });
    expect(t.app.crisis.current()).toMatchObject({ topic, openedBy: 'op-marta' });
    await page.screenshot({ path: join(SHOTS, 'console-crisis-open.png') });

    // A customer writes about it: the holding statement, tagged, queued with a crisis's priority.
    const onTopic = await t.app.pipeline.receive(t.message('Il pagamento mi viene rifiutato sul sito, cosa succede?', { customer: { platformId: 'cliente-crisi' } }));
    expect(onTopic).toMatchObject({ action: 'escalate', reason: 'crisis' });
    expect(onTopic.replies.map((r) => r.reply.kind === 'text' && r.reply.text)).toEqual([expect.stringMatching(/^Sappiamo del problema e ci stiamo lavorando/)]);
    expect(onTopic.conversation).toMatchObject({ state: 'queued', queue: { reason: 'crisis', priority: 1 } });
    expect(onTopic.conversation!.flags).toContain(`crisis:${topic}`);
    // The queue shows it live.
    await page.locator('.queue-row').first().waitFor({ timeout: 15_000 });

    // Another customer asks something else: the FAQ answers as usual.
    const unrelated = await t.app.pipeline.receive(t.message('Quali sono gli orari del negozio?', { customer: { platformId: 'cliente-orari' } }));
    expect(unrelated).toMatchObject({ action: 'answer', faqId: expect.any(String) });
    expect(unrelated.replies[0]!.reply.kind === 'text' && unrelated.replies[0]!.reply.text).toMatch(/luned|sabato/i);

    // Closed: the same question is no longer part of a crisis.
    await page.getByRole('button', { name: 'Chiudi la crisi' }).click();
    await bar.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(t.app.crisis.current()).toBeUndefined();
    const after = await t.app.pipeline.receive(t.message('Il pagamento mi viene rifiutato sul sito, cosa succede?', { customer: { platformId: 'cliente-dopo' } }));
    expect(after.replies.some((r) => r.reply.kind === 'text' && r.reply.text.startsWith('Sappiamo del problema'))).toBe(false);
  });
});
