/**
 * The console's audit trail page in a real browser (Debian's Chromium driven by playwright-core):
 * an admin sees the actions just done (labels in Italian, times in the team's zone, operators by
 * name, a conversation linked to the desk), filters by operator and day, loads more, and the page
 * passes axe-core; an agent has no such page. Screenshot in test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, login, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
jest.setTimeout(120_000);

describeInBrowser()('the console audit trail page', () => {
  let t: ApiApp;
  let browser: Browser;
  let conversationId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Tuesday 24 November 2026, 10:00 in Rome. The day before: 60 logins of Luca's (more than a page).
    t = await startApiApp({}, '2026-11-23T08:00:00+01:00');
    for (let i = 0; i < 60; i++) {
      t.clock.advance(60_000);
      await login(t.base, 'Luca', PASSWORDS.luca);
    }
    t.clock.set('2026-11-24T10:00:00+01:00');
    // Marta's work today, through the API as the console does it.
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: 'cliente-1', name: 'Piera Bianchi' } }));
    conversationId = escalated.conversation!.id;
    expect((await marta.get(`/conversations/${conversationId}`)).status).toBe(200);
    expect((await marta.post(`/conversations/${conversationId}/claim`, {})).status).toBe(200);
    t.clock.advance(120_000);
    expect((await marta.post(`/conversations/${conversationId}/reply`, { text: 'Eccomi, sono Marta.' })).status).toBe(200);
    expect((await marta.post(`/conversations/${conversationId}/note`, { text: 'cliente abituale' })).status).toBe(200);
    t.clock.advance(60_000);
    expect((await marta.post('/crisis', { topic: 'consegne in ritardo' })).status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
  });

  async function signIn(name: 'Anna' | 'Marta', options: { bypassCSP?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ locale: 'it-IT', timezoneId: 'America/New_York', viewport: { width: 1360, height: 1000 }, ...options });
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    await page.goto(`${t.base}/console`);
    await page.getByLabel('Nome').fill(name);
    await page.getByLabel('Password').fill(name === 'Anna' ? PASSWORDS.anna : PASSWORDS.marta);
    await page.locator('#login-submit').click();
    await page.locator('#desk-view').waitFor({ state: 'visible' });
    return page;
  }

  /** The table's rows as text cells. */
  const rows = (page: Page) => page.locator('#audit-rows tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));

  it('shows an admin the actions just done, newest first, filters them and loads more', async () => {
    const page = await signIn('Anna');
    await page.getByRole('button', { name: 'Registro', exact: true }).click();
    const table = page.locator('#audit-rows');
    await table.locator('tr').first().waitFor();
    const first = await rows(page);
    // Newest first: Anna's login (through this page), Marta's crisis, note, reply, claim, opening, login.
    expect(first.slice(0, 7).map(([, who, what, target]) => [who, what, target])).toEqual([
      ['Anna', 'accesso', '–'],
      ['Marta', 'crisi aperta', 'consegne in ritardo'],
      ['Marta', 'nota interna', conversationId],
      ['Marta', 'risposta', conversationId],
      ['Marta', 'presa in carico', conversationId],
      ['Marta', 'conversazione aperta', conversationId],
      ['Marta', 'accesso', '–'],
    ]);
    // Times in the team's zone (Europe/Rome), not the browser's (New York): the reply at 10:02.
    expect(first[3]![0]).toContain('10:02');
    expect(first[3]![4]).toBe('127.0.0.1');
    expect(await page.locator('#audit-rows time').nth(3).getAttribute('title')).toMatch(/Europe\/Rome/);
    // Texts written are not shown (nor stored).
    expect(await page.locator('#audit').textContent()).not.toMatch(/Eccomi|abituale|Piera/);
    await page.screenshot({ path: join(SHOTS, 'console-audit.png') });
    // A page of 50: Luca's older logins follow with "load more".
    expect(first).toHaveLength(50);
    await page.getByRole('button', { name: 'Carica altre' }).click();
    await page.locator('#audit-rows tr').nth(66).waitFor();
    expect(await page.locator('#audit-rows tr').count()).toBe(67);
    expect(await page.getByRole('button', { name: 'Carica altre' }).isHidden()).toBe(true);

    // By operator: Marta's only.
    await page.locator('#audit-operator').selectOption({ label: 'Marta' });
    await page.locator('#audit-status').filter({ hasText: '6 azioni mostrate' }).waitFor();
    expect(new Set((await rows(page)).map((r) => r[1]))).toEqual(new Set(['Marta']));
    // By day: on 23 November (Rome) Marta did nothing; Luca logged in 60 times.
    await page.locator('#audit-from').fill('2026-11-23');
    await page.locator('#audit-to').fill('2026-11-23');
    await page.locator('#audit-status').filter({ hasText: 'Nessuna azione registrata' }).waitFor();
    await page.locator('#audit-operator').selectOption({ label: 'Luca' });
    await page.locator('#audit-status').filter({ hasText: '50 azioni mostrate' }).waitFor();
    await page.locator('#audit-operator').selectOption({ label: 'Tutti' });
    await page.locator('#audit-from').fill('2026-11-24');
    await page.locator('#audit-to').fill('2026-11-24');
    await page.locator('#audit-action').selectOption({ label: 'risposta' });
    await page.locator('#audit-status').filter({ hasText: '1 azione mostrata' }).waitFor();

    // The conversation named opens in the desk.
    await page.locator(`#audit-rows a[data-conversation="${conversationId}"]`).click();
    await page.locator('#conversation-body').filter({ hasText: 'Eccomi, sono Marta.' }).waitFor();
    await page.context().close();
  });

  it('passes axe-core on the audit page', async () => {
    const page = await signIn('Anna', { bypassCSP: true });
    await page.getByRole('button', { name: 'Registro', exact: true }).click();
    await page.locator('#audit-rows tr').first().waitFor();
    // axe is injected as a script: the console's CSP allows only its own, so this context bypasses it.
    await page.addScriptTag({ content: readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8') });
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(ctx: Document, options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await page.context().close();
  });

  it('has no audit page for an agent, whose API answer is 403', async () => {
    const page = await signIn('Marta');
    expect(await page.locator('#audit-toggle').isHidden()).toBe(true);
    expect(await page.locator('#audit').isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Registro', exact: true }).count()).toBe(0);
    const status = await page.evaluate(async () => (await fetch('/api/operator/audit', { credentials: 'same-origin' })).status);
    expect(status).toBe(403);
    await page.context().close();
  });
});
