/**
 * The operator console in a real browser (Debian's Chromium driven by playwright-core): a
 * customer writes in the web chat, the escalation appears live in the console, an operator
 * claims it, uses a FAQ suggestion, replies (delivered to the customer's web chat), adds a note
 * and resolves with "add to FAQ". Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');

jest.setTimeout(120_000);

const browserTest = describeInBrowser();

browserTest('the operator console in a browser', () => {
  let t: ApiApp;
  let browser: Browser;
  // A copy of the FAQ: approving a suggestion writes into it.
  const corpus = mkdtempSync(join(tmpdir(), 'sportello-console-faq-'));

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    cpSync(join(ROOT, 'faq'), join(corpus, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(corpus, 'intents'), { recursive: true });
    t = await startApiApp({ FAQ_DIR: join(corpus, 'faq'), INTENTS_DIR: join(corpus, 'intents') });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
    rmSync(corpus, { recursive: true, force: true });
  });

  async function operatorPage(name: string, password: string, locale = 'it-IT'): Promise<Page> {
    const context = await browser.newContext({ locale, timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 860 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${t.base}/console`);
    await page.getByLabel(locale.startsWith('it') ? 'Nome' : 'Name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.locator('#login-submit').click();
    await page.locator('#desk-view').waitFor({ state: 'visible' });
    return page;
  }

  it('refuses a wrong password with a clear message', async () => {
    const context = await browser.newContext({ locale: 'it-IT' });
    const page = await context.newPage();
    await page.goto(`${t.base}/console`);
    await page.getByLabel('Nome').fill('Marta');
    await page.getByLabel('Password').fill('not-her-password');
    await page.getByRole('button', { name: 'Accedi' }).click();
    await page.locator('#login-error').waitFor({ state: 'visible' });
    expect(await page.locator('#login-error').textContent()).toBe('Nome o password errati.');
    await page.screenshot({ path: join(SHOTS, 'console-login-error.png') });
    await context.close();
  });

  it('takes an escalated web chat conversation from the live queue to a resolved case', async () => {
    const console_ = await operatorPage('Marta', PASSWORDS.marta);
    await console_.locator('#queue-empty').waitFor({ state: 'visible' });

    // The customer asks for a person in the web chat.
    const customer = await (await browser.newContext({ locale: 'it-IT' })).newPage();
    await customer.goto(`${t.base}/chat`);
    await customer.locator('#text').fill('voglio parlare con un operatore, il mio ordine è in ritardo');
    await customer.locator('#text').press('Enter');
    await customer.locator('#log .bot').first().waitFor();

    // It appears in the console without a reload.
    const row = console_.locator('.queue-row').first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.textContent()).toContain('chiede una persona');
    expect(await row.textContent()).toMatch(/SLA (1 h|\d+ min)$/);
    await console_.screenshot({ path: join(SHOTS, 'console-queue.png') });

    // Claim it.
    await row.click();
    await console_.getByRole('button', { name: 'Prendi in carico' }).click();
    await console_.locator('.toast.ok').filter({ hasText: 'presa in carico' }).waitFor();
    await console_.locator('.queue-row .holder.mine').waitFor();

    // A new customer message arrives live, with FAQ suggestions for it.
    await customer.locator('#text').fill('intanto, quali sono i vostri orari di apertura?');
    await customer.locator('#text').press('Enter');
    await console_.locator('#messages .msg.in').filter({ hasText: 'orari di apertura' }).waitFor({ timeout: 60_000 });
    // the suggestions follow the newest message: the opening hours
    const suggestion = console_.locator('.suggestion').filter({ hasText: /luned|sabato/i }).first();
    await suggestion.waitFor({ timeout: 60_000 });
    await suggestion.getByRole('button').click();
    expect(await console_.locator('#reply-text').inputValue()).toMatch(/luned|sabato/i);

    // Reply: while Marta writes, the customer sees her typing; delivered signed with her name.
    await console_.locator('#reply-text').fill('Ciao, sono Marta: ho sollecitato il corriere, l’ordine arriva domani.');
    const typing = customer.getByRole('status').filter({ hasText: 'Marta sta scrivendo…' });
    await typing.waitFor();
    await customer.screenshot({ path: join(SHOTS, 'webchat-operator-typing.png') });
    await console_.getByRole('button', { name: 'Invia' }).click();
    const delivered = customer.locator('#log .operator').filter({ hasText: 'ho sollecitato il corriere' });
    await delivered.waitFor({ timeout: 60_000 });
    expect(await delivered.textContent()).toContain('Marta');
    await typing.waitFor({ state: 'hidden' }); // the reply ends it

    // An internal note: shown differently, never sent.
    await console_.getByLabel('Nota interna', { exact: true }).check();
    await console_.locator('#reply-text').fill('Corriere sollecitato alle 10:15, ricontrollare domani.');
    await console_.getByRole('button', { name: 'Aggiungi nota' }).click();
    await console_.locator('#messages .msg.note').filter({ hasText: 'Corriere sollecitato' }).waitFor();
    await console_.getByLabel('Nota interna', { exact: true }).uncheck();
    await console_.screenshot({ path: join(SHOTS, 'console-conversation.png'), fullPage: true });
    await customer.screenshot({ path: join(SHOTS, 'webchat-customer.png') });
    expect(await customer.locator('#log').textContent()).not.toContain('Corriere sollecitato');

    // Resolve, proposing the answer for the FAQ.
    await console_.getByLabel('Proponi come FAQ').check();
    await console_.getByRole('button', { name: 'Risolvi' }).click();
    await console_.locator('.toast.ok').filter({ hasText: 'proposta di FAQ' }).waitFor();
    await console_.locator('#queue-empty').waitFor({ state: 'visible' });
    const suggestions = await t.app.store.suggestions.list({ status: 'pending' });
    expect(suggestions).toHaveLength(1);
    const conversations = await t.app.store.conversations.list({ states: ['resolved'] });
    expect(conversations).toHaveLength(1);
    await console_.screenshot({ path: join(SHOTS, 'console-resolved.png') });
  });

  it('tells a second operator who already holds a conversation, and shows a breached SLA in red', async () => {
    const outcome = await t.app.pipeline.receive(t.message('voglio parlare con una persona, subito', { customer: { platformId: 'cust-9', name: 'Giulia Bianchi' } }));
    const id = outcome.conversation!.id;
    t.clock.advance(2 * 3_600_000); // two business hours: past the 60-minute SLA
    const luca = await operatorPage('Luca', PASSWORDS.luca, 'en-GB');
    const row = luca.locator(`.queue-row[data-conversation="${id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('class')).toContain('breached');
    expect(await row.locator('.sla').textContent()).toMatch(/SLA breached by 1 h/);
    await row.click();
    await luca.getByRole('button', { name: 'Claim', exact: true }).waitFor();
    // Marta claims first (from another place); Luca's click then loses, and he is told who won.
    await t.app.desk.claim(id, t.marta);
    await luca.evaluate(() => {
      // the live update would hide the button; click it at once as a racing operator would
      const button = document.getElementById('claim') as HTMLButtonElement;
      button.hidden = false;
      button.click();
    });
    await luca.locator('.toast.error').filter({ hasText: 'Already claimed by Marta' }).waitFor();
    await luca.screenshot({ path: join(SHOTS, 'console-claim-conflict.png') });
  });

  it('says in Italian why an action was not done: the server not answering, a refusal of the desk', async () => {
    const outcome = await t.app.pipeline.receive(t.message('voglio parlare con una persona per un reso', { customer: { platformId: 'cust-err', name: 'Sara Neri' } }));
    const id = outcome.conversation!.id;
    const page = await operatorPage('Marta', PASSWORDS.marta);
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    await page.getByRole('button', { name: 'Prendi in carico' }).click();
    await page.locator('.queue-row .holder.mine').waitFor();
    const error = page.locator('#toast.error');

    // "Proponi come FAQ" before any answer: the desk refuses, said in Italian.
    await page.getByLabel('Proponi come FAQ').check();
    // After the refusal the console reads the conversation and the queue again.
    const queueReadAgain = page.waitForResponse((r) => r.url().endsWith('/api/operator/queue') && r.request().method() === 'GET');
    await page.getByRole('button', { name: 'Risolvi' }).click();
    await error.filter({ hasText: 'Per proporla come FAQ serve la tua risposta: rispondi al cliente, poi risolvi.' }).waitFor();
    // The refusal keeps her choice for her next try (it used to be cleared once the console had read
    // everything again, which also raced with her own click on the box).
    await queueReadAgain;
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50))));
    expect(await page.getByLabel('Proponi come FAQ').isChecked()).toBe(true);
    await page.getByLabel('Proponi come FAQ').uncheck();

    // The server does not answer (restarting, network down): said so, and the reply stays in the box.
    await page.route('**/api/operator/conversations/*/reply', (route) => route.abort('connectionrefused'));
    await page.locator('#reply-text').fill('Ciao Sara, ti mando subito l’etichetta per il reso.');
    await page.getByRole('button', { name: 'Invia' }).click();
    await error.filter({ hasText: 'Il server non risponde' }).waitFor();
    expect(await page.locator('#reply-text').inputValue()).toBe('Ciao Sara, ti mando subito l’etichetta per il reso.');
    await page.unroute('**/api/operator/conversations/*/reply');

    // A colleague returned it to the bot meanwhile: a reply sent before the page caught up is refused, in Italian.
    await t.app.desk.returnToBot(id, t.anna);
    await page.evaluate(() => (document.getElementById('composer') as HTMLFormElement).requestSubmit());
    await error.filter({ hasText: 'Prima prendi in carico la conversazione.' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'console-refusal-italian.png') });
    await page.context().close();
  });

  it('shows one case across public and private conversations, highlighting private data posted in public', async () => {
    const customer = { platformId: 'cust-7', handle: 'paolo_v', name: 'Paolo Verdi', followers: 1200 };
    await t.app.pipeline.receive(
      t.message('il mio ordine BR-1234567 non è arrivato, scrivetemi a paolo.verdi@example.com', { visibility: 'public', threadId: 'post-7', customer }),
    );
    const outcome = await t.app.pipeline.receive(t.message('voglio parlare con un operatore per il mio ordine', { customer }));
    const page = await operatorPage('Anna', PASSWORDS.anna);
    await page.locator(`.queue-row[data-conversation="${outcome.conversation!.id}"]`).click();
    const flagged = page.locator('#messages .msg.flagged');
    await flagged.waitFor();
    expect(await flagged.textContent()).toContain('Dati privati scritti in pubblico');
    expect(await flagged.locator('.chip').textContent()).toMatch(/^Pubblico/);
    expect(await page.locator('#messages .msg.in .chip').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^Privato/)]));
    await page.screenshot({ path: join(SHOTS, 'console-public-private-case.png'), fullPage: true });
  });

  it('lets an admin approve a FAQ suggestion, writing it into the FAQ', async () => {
    const outcome = await t.app.pipeline.receive(
      t.message('voglio parlare con un operatore: fate confezioni regalo per i matrimoni?', { customer: { platformId: 'cust-5', name: 'Elena' } }),
    );
    const id = outcome.conversation!.id;
    await t.app.desk.claim(id, t.luca);
    await t.app.desk.reply(id, t.luca, 'Sì, per i matrimoni prepariamo confezioni regalo su misura: scrivici quante ne servono.');
    const { suggestionId } = await t.app.desk.resolve(id, t.luca, { addToFaq: true });
    expect(suggestionId).toEqual(expect.any(String));
    const page = await operatorPage('Anna', PASSWORDS.anna);
    const toggle = page.getByRole('button', { name: /^Proposte FAQ \(\d+\)$/ });
    await toggle.click();
    const item = page.locator(`.review-item[data-suggestion="${suggestionId}"]`);
    await item.waitFor();
    expect(await item.textContent()).toContain('confezioni regalo su misura');
    await page.screenshot({ path: join(SHOTS, 'console-faq-review.png') });
    await item.getByRole('button', { name: 'Approva' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Proposta approvata' }).waitFor();
    await item.waitFor({ state: 'detached' });
    const approved = (await t.app.store.suggestions.list({ status: 'approved' })).map((s) => s.id);
    expect(approved).toContain(suggestionId);
    const faq = ['negozio.yaml', 'shop.yaml'].map((f) => readFileSync(join(corpus, 'faq', f), 'utf8')).join('\n');
    expect(faq).toContain('confezioni regalo su misura');
    // agents do not see the review
    const agent = await operatorPage('Marta', PASSWORDS.marta);
    expect(await agent.locator('#review-toggle').isHidden()).toBe(true);
  });

  it('lets an admin edit a suggestion before approving it, and the bot answers with the edited text', async () => {
    const outcome = await t.app.pipeline.receive(
      t.message('voglio parlare con un operatore: fate incisioni sulle tazze?', { customer: { platformId: 'cust-engraving-1', name: 'Paolo' } }),
    );
    const id = outcome.conversation!.id;
    await t.app.desk.claim(id, t.luca);
    await t.app.desk.reply(id, t.luca, 'Sì, certo.');
    const { suggestionId } = await t.app.desk.resolve(id, t.luca, { addToFaq: true });
    const [made] = (await t.app.store.suggestions.list()).filter((s) => s.id === suggestionId);
    expect(made).toMatchObject({ kind: 'new_entry', questions: [expect.stringContaining('incisioni sulle tazze')], operatorAnswer: 'Sì, certo.' });

    const page = await operatorPage('Anna', PASSWORDS.anna);
    await page.getByRole('button', { name: /^Proposte FAQ \(\d+\)$/ }).click();
    const item = page.locator(`.review-item[data-suggestion="${suggestionId}"]`);
    await item.getByRole('button', { name: 'Modifica' }).click();
    await item.getByLabel('Domande (una per riga)').fill('fate incisioni sulle tazze?\nposso far incidere il nome su una tazza?');
    await item.getByLabel('Risposta', { exact: true }).fill('Sì: incidiamo nomi e date sulle tazze in ceramica, 5 euro in più.');
    await item.getByLabel('Risposta breve (answer_short)').fill('Sì, 5 euro in più.');
    await item.getByLabel('Voce (id)').fill('incisioni-tazze');
    await page.screenshot({ path: join(SHOTS, 'console-faq-edit.png') });
    await item.getByRole('button', { name: 'Salva' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Proposta modificata' }).waitFor();
    const edited = page.locator(`.review-item[data-suggestion="${suggestionId}"]`);
    await edited.filter({ hasText: 'incidiamo nomi e date' }).waitFor();
    expect(await edited.locator('.chip').textContent()).toContain('incisioni-tazze');
    expect(await edited.textContent()).toContain('posso far incidere il nome su una tazza?');
    const [stored] = (await t.app.store.suggestions.list()).filter((s) => s.id === suggestionId);
    expect(stored).toMatchObject({
      entryId: 'incisioni-tazze',
      questions: ['fate incisioni sulle tazze?', 'posso far incidere il nome su una tazza?'],
      answer: 'Sì: incidiamo nomi e date sulle tazze in ceramica, 5 euro in più.',
      answerShort: 'Sì, 5 euro in più.',
    });

    await edited.getByRole('button', { name: 'Approva' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Proposta approvata' }).waitFor();
    await edited.waitFor({ state: 'detached' });
    const answered = await t.app.pipeline.receive(t.message('posso far incidere il nome su una tazza?', { customer: { platformId: 'cust-engraving-2' } }));
    expect(answered).toMatchObject({ action: 'answer', faqId: 'incisioni-tazze' });
    expect(answered.replies.map((r) => r.reply.text).join(' ')).toMatch(/incidiamo nomi e date sulle tazze|5 euro in più/);
  });

  it('shows what approving into an existing entry changes: the answer before and after', async () => {
    const outcome = await t.app.pipeline.receive(
      t.message('voglio parlare con un operatore', { customer: { platformId: 'cust-hours', name: 'Sara' } }),
    );
    const id = outcome.conversation!.id;
    await t.app.pipeline.receive(t.message('Quali sono i vostri orari?', { customer: { platformId: 'cust-hours', name: 'Sara' } }));
    await t.app.desk.claim(id, t.luca);
    await t.app.desk.reply(id, t.luca, 'Da dicembre siamo aperti anche la domenica, dalle 10 alle 18.');
    const { suggestionId } = await t.app.desk.resolve(id, t.luca, { addToFaq: true });
    const page = await operatorPage('Anna', PASSWORDS.anna);
    await page.getByRole('button', { name: /^Proposte FAQ \(\d+\)$/ }).click();
    const item = page.locator(`.review-item[data-suggestion="${suggestionId}"]`);
    await item.waitFor();
    expect(await item.locator('.chip').textContent()).toContain('Nuova risposta per «orari-apertura»');
    expect(await item.locator('del.review-before').first().textContent()).toMatch(/^Il negozio di Milano/);
    expect(await item.locator('ins.review-after').first().textContent()).toBe('Da dicembre siamo aperti anche la domenica, dalle 10 alle 18.');
    expect(await item.textContent()).toContain('La risposta breve resta «Lun-ven 9-18, sabato 9-13, domenica chiusi.»');
    await item.screenshot({ path: join(SHOTS, 'console-faq-before-after.png') });
    await item.getByRole('button', { name: 'Rifiuta' }).click();
    await item.waitFor({ state: 'detached' });
  });

  it('shows a banner when the FAQ failed to reload', async () => {
    const page = await operatorPage('Anna', PASSWORDS.anna);
    await page.locator('#live-status.live').waitFor(); // the event stream is open
    await t.app.bus.publish({ type: 'corpus.failed', problems: ['faq/shop.yaml:12:3: answer is required'], at: t.clock.now().toISOString() });
    const banner = page.locator('#corpus-banner');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.textContent()).toContain('faq/shop.yaml:12:3');
    await t.app.bus.publish({ type: 'corpus.reloaded', version: 'v2', at: t.clock.now().toISOString() });
    await banner.waitFor({ state: 'hidden' });
  });

  it('says which channel refuses our credentials, apart from one that is not answering', async () => {
    const page = await operatorPage('Anna', PASSWORDS.anna);
    await page.locator('#live-status.live').waitFor(); // the event stream is open
    const at = t.clock.now().toISOString();
    const retryAt = new Date(t.clock.now().getTime() + 5000).toISOString();
    const banner = page.locator('#channel-banner');
    // The page reads /healthz when its stream opens (nothing degraded here): published until the banner shows it, in case that read lands after.
    for (let i = 0; ; i++) {
      await t.app.bus.publish({ type: 'channel.degraded', channel: 'messenger', reason: 'credentials', retryAt, at });
      await t.app.bus.publish({ type: 'channel.degraded', channel: 'twitter', reason: 'timeout', retryAt, at });
      const shown = await banner
        .filter({ hasText: 'messenger: la piattaforma non accetta più le credenziali' })
        .waitFor({ timeout: 2000 })
        .then(() => true, () => false);
      if (shown || i >= 5) break;
    }
    expect(await banner.textContent()).toBe(
      'twitter: la piattaforma non risponde. Le risposte restano in attesa e partono appena torna. messenger: la piattaforma non accetta più le credenziali (token scaduto o revocato). Le risposte restano in attesa: chiedi a chi amministra Sportello di rinnovarle.',
    );
    await t.app.bus.publish({ type: 'channel.recovered', channel: 'twitter', at });
    await banner.filter({ hasNotText: 'non risponde' }).waitFor();
    await t.app.bus.publish({ type: 'channel.recovered', channel: 'messenger', at });
    await banner.waitFor({ state: 'hidden' });
  });
});

