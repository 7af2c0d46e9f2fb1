/**
 * Presence, teams and auto-assignment in the console, in a real browser (Debian's Chromium driven
 * by playwright-core): an admin turns auto-assignment on with a cap of one case per operator and
 * makes a team; an operator goes online from the top bar and is given the next case (told with a
 * notification), while an operator who is away is not; at the cap, the next case waits in the
 * queue. Screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, signInToConsole } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
jest.setTimeout(180_000);

const browserTest = describeInBrowser();

browserTest('presence and auto-assignment in the console', () => {
  let t: ApiApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startApiApp({ BUSINESS_HOURS: 'sun-sat=00:00-24:00' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
  });

  async function signIn(name: string, password: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 900 } });
    // Desktop notifications recorded (the "user" grants them when asked).
    await context.addInitScript(() => {
      const seen: Array<{ title: string; tag: string }> = [];
      (window as unknown as { __notes: typeof seen }).__notes = seen;
      let permission: NotificationPermission = 'default';
      class RecordingNotification {
        static get permission() {
          return permission;
        }
        static async requestPermission() {
          permission = 'granted';
          return permission;
        }
        onclick: (() => void) | null = null;
        constructor(title: string, options: { tag?: string } = {}) {
          seen.push({ title, tag: options.tag ?? '' });
        }
        close() {}
      }
      Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
    });
    return signInToConsole(context, t.base, name, password);
  }

  it('gives a new case to the online operator with capacity, not to one who is away, and keeps the next one queued at the cap', async () => {
    // The admin turns auto-assignment on (one case each) and makes a team with its own view.
    const admin = await signIn('Anna', PASSWORDS.anna);
    await admin.getByRole('button', { name: 'Teams & assignment' }).click();
    await admin.getByLabel('Give new cases to the online operators, in turn').check();
    await admin.getByLabel('Most cases per operator').fill('1');
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    await admin.locator('.toast.ok').filter({ hasText: 'Settings saved' }).waitFor();
    await admin.getByLabel('Team', { exact: true }).fill('Italian desk');
    await admin.getByLabel('Languages', { exact: true }).fill('it');
    await admin.locator('#team-members').getByLabel('Marta').check();
    await admin.getByRole('button', { name: 'Create the team' }).click();
    await admin.locator('#team-list li').filter({ hasText: 'Italian desk' }).waitFor();
    await admin.screenshot({ path: join(SHOTS, 'console-teams-assignment.png'), fullPage: true });
    // Anna is away: she takes no case herself.
    expect(await admin.locator('#presence').textContent()).toBe('○ Away');

    // Marta goes online and turns desktop notifications on; Luca signs in and stays away.
    const marta = await signIn('Marta', PASSWORDS.marta);
    await marta.getByRole('button', { name: 'Notifications: off' }).click();
    await marta.getByRole('button', { name: '○ Away' }).click();
    await marta.getByRole('button', { name: '● Online' }).waitFor();
    const luca = await signIn('Luca', PASSWORDS.luca);
    expect(await luca.locator('#presence').textContent()).toBe('○ Away');
    // The team's view is in everyone's list of views.
    expect(await luca.locator('#view option').allTextContents()).toContain('Team: Italian desk');

    const first = await t.app.pipeline.receive(t.message('vorrei parlare con un operatore, per favore', { customer: { platformId: 'cust-a1', name: 'Aldo Primo' } }));
    const firstId = first.conversation!.id;
    await marta.locator(`.queue-row[data-conversation="${firstId}"] .holder.mine`).waitFor();
    expect((await t.app.store.conversations.get(firstId))!).toMatchObject({ state: 'assigned', assignee: t.marta.id });
    // Told twice: a new case in the queue, then that it is hers.
    await marta.waitForFunction(
      (id) => (window as unknown as { __notes: Array<{ title: string; tag: string }> }).__notes.some((n) => n.tag === `new:${id}` && n.title.startsWith('A case was given to you')),
      firstId,
    );
    // Luca's console hears of it through its own event stream: waited for, on a loaded machine.
    await luca.locator(`.queue-row[data-conversation="${firstId}"]`).filter({ hasText: 'with Marta' }).waitFor();
    await marta.screenshot({ path: join(SHOTS, 'console-auto-assigned.png') });

    // Marta is at her cap and Luca is away: the next case waits in the queue.
    const second = await t.app.pipeline.receive(t.message('voglio parlare con una persona', { customer: { platformId: 'cust-a2', name: 'Bea Seconda' } }));
    const secondId = second.conversation!.id;
    await luca.locator(`.queue-row[data-conversation="${secondId}"]`).waitFor();
    expect((await t.app.store.conversations.get(secondId))!.state).toBe('queued');

    // The team's view lists the Italian conversations.
    await luca.locator('#view').selectOption({ label: 'Team: Italian desk' });
    await luca.locator(`#queue-list .result-row[data-conversation="${secondId}"]`).waitFor();
    await luca.locator('#view').selectOption('queue');

    // Luca goes online: the waiting case is his.
    await luca.getByRole('button', { name: '○ Away' }).click();
    await luca.getByRole('button', { name: '● Online' }).waitFor();
    await luca.locator(`.queue-row[data-conversation="${secondId}"] .holder.mine`).waitFor();
    expect((await t.app.store.conversations.get(secondId))!).toMatchObject({ state: 'assigned', assignee: t.luca.id });
    for (const page of [admin, marta, luca]) await page.context().close();
  });
});
