/**
 * A crisis opened by a rule of the listening file, in a real browser: posts heard by listening
 * spike on one topic, the alert reaches the console, and the rule opens the crisis by itself: the
 * crisis bar appears live (no operator clicked), saying which rule opened it, in Italian and in
 * English after a reload; an operator closes it as any crisis, and both are in the audit trail.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, signInToConsole } from '../helpers/browser.js';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

jest.setTimeout(120_000);

describeInBrowser()('a crisis opened by a rule, in the console', () => {
  let t: ApiApp;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'sportello-crisis-rule-'));

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'listening.yaml'),
      ['brand: [Bottega Rossi]', 'detector:', '  cold_start_hours: 0', 'crisis_rules:', '  - name: guasto app', '    min_ratio: 3', '    min_negative_share: 0.6', ''].join('\n'),
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

  it('shows the crisis the rule opened live, names the rule, and an operator closes it', async () => {
    const page = await operatorPage('it-IT');
    const bar = page.locator('#crisis-mode');
    expect(await bar.isVisible()).toBe(false);
    for (let i = 0; i < 8; i++) {
      t.clock.advance(60_000);
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
    const crisis = t.app.crisis.current();
    expect(crisis).toMatchObject({ openedBy: 'system', rule: 'guasto app' });
    await bar.filter({ hasText: `Crisi aperta su «${crisis!.topic}»` }).waitFor({ timeout: 15_000 });
    expect(await bar.textContent()).toContain('Aperta automaticamente dalla regola «guasto app».');
    await page.locator('#crisis-banner').waitFor({ state: 'visible', timeout: 15_000 });

    // In English, after a reload (read from GET /crisis).
    const english = await operatorPage('en-GB');
    const barEn = english.locator('#crisis-mode');
    await barEn.filter({ hasText: 'Opened automatically by the rule “guasto app”.' }).waitFor({ timeout: 15_000 });

    // Closed by an operator, as any crisis; both in the audit trail.
    await page.getByRole('button', { name: 'Chiudi la crisi' }).click();
    await bar.waitFor({ state: 'hidden', timeout: 15_000 });
    expect(t.app.crisis.current()).toBeUndefined();
    const audit = await t.app.store.audit.list({ limit: 100 });
    expect(audit.filter((a) => a.action.startsWith('crisis.'))).toEqual([
      expect.objectContaining({ action: 'crisis.open', operatorId: 'system', target: crisis!.topic, from: 'rule:guasto app' }),
      expect.objectContaining({ action: 'crisis.close', operatorId: 'op-marta', target: crisis!.topic }),
    ]);
  });
});
