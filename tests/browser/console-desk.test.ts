/**
 * The operator desk of issue 21 in a real browser (Debian's Chromium driven by playwright-core):
 * alerts (a sound through WebAudio and an opt-in desktop notification, checked by instrumenting
 * the page's Notification and AudioContext; the unread count in the tab title), the history
 * updated in place with the bot's FAQ, times in the team's time zone, keyboard shortcuts, a phone
 * layout with every control on screen, and axe-core's accessibility check. Screenshots go to
 * test-output/screenshots/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { describeInBrowser, launchChromium, signInToConsole } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from '../server/operator-api-helpers.js';

const SHOTS = join(ROOT, 'test-output', 'screenshots');
jest.setTimeout(180_000);

const browserTest = describeInBrowser();

/** What the page's instrumented Notification and AudioContext saw. */
interface Seen {
  permissionAsked: number;
  notifications: Array<{ title: string; body: string; tag: string }>;
  tones: number;
}

/**
 * Replaces the page's Notification with a recorder whose permission the "user" grants, and counts
 * the oscillators WebAudio starts (each note of a chime), before the console's scripts run.
 */
function instrumentAlerts(): void {
  const seen = { permissionAsked: 0, notifications: [] as Array<{ title: string; body: string; tag: string }>, tones: 0 };
  (window as unknown as { __seen: typeof seen }).__seen = seen;
  let permission: NotificationPermission = 'default';
  class RecordingNotification {
    static get permission() {
      return permission;
    }
    static async requestPermission() {
      seen.permissionAsked += 1;
      permission = 'granted';
      return permission;
    }
    onclick: (() => void) | null = null;
    constructor(title: string, options: { body?: string; tag?: string } = {}) {
      seen.notifications.push({ title, body: options.body ?? '', tag: options.tag ?? '' });
      (window as unknown as { __lastNotification: RecordingNotification }).__lastNotification = this;
    }
    close() {}
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (this: OscillatorNode, ...args: [number?]) {
    seen.tones += 1;
    return start.apply(this, args);
  };
}

/** The ids (or words) of the page's visible controls that are, even partly, left or right of the window. */
function offScreenControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const controls = Array.from(document.querySelectorAll('button, select, textarea, input, a[href]')) as HTMLElement[];
    return controls
      // (the skip link waits off screen until focused)
      .filter((el) => el.offsetParent !== null && !el.closest('[hidden]') && !el.closest('dialog') && !el.classList.contains('skip'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.left < 0 || r.right > width + 0.5;
      })
      .map((el) => el.id || (el.textContent ?? ''));
  });
}

browserTest('the operator desk in a browser (issue 21)', () => {
  let t: ApiApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // The team works in New York; the browsers below are in Rome: the console shows New York's times.
    t = await startApiApp({ TIMEZONE: 'America/New_York', BUSINESS_HOURS: 'sun-sat=00:00-24:00' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await closeSharedKnowledge();
  });

  async function signIn(name: string, password: string, options: BrowserContextOptions & { instrument?: boolean } = {}): Promise<Page> {
    const { instrument, ...contextOptions } = options;
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 900 }, ...contextOptions });
    if (instrument) await context.addInitScript(instrumentAlerts);
    return signInToConsole(context, t.base, name, password);
  }

  const seen = (page: Page) => page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);

  it('asks for desktop notifications when turned on, then alerts with a sound and a notification on a new case, counted in the tab title', async () => {
    const page = await signIn('Marta', PASSWORDS.marta, { instrument: true });
    expect(await page.title()).toBe('Sportello · Operator console');
    expect((await seen(page)).permissionAsked).toBe(0); // never asked unprompted
    await page.getByRole('button', { name: 'Notifications: off' }).click();
    await page.getByRole('button', { name: 'Notifications: on' }).waitFor();
    expect((await seen(page)).permissionAsked).toBe(1);

    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person please', { customer: { platformId: 'cust-alert', name: 'Gina Alert' } }));
    const id = outcome.conversation!.id;
    await page.waitForFunction(() => (window as unknown as { __seen: Seen }).__seen.notifications.length > 0);
    const after = await seen(page);
    expect(after.notifications[0]).toMatchObject({ title: 'New case in the queue', body: 'asked for a person', tag: `new:${id}` });
    expect(after.tones).toBeGreaterThanOrEqual(2); // the two notes of the new-case chime
    await page.waitForFunction(() => document.title === '(1) Sportello · Operator console');
    const row = page.locator(`.queue-row.unread[data-conversation="${id}"]`);
    await row.waitFor();

    // Clicking the notification opens the conversation, which reads it.
    await page.evaluate(() => (window as unknown as { __lastNotification: { onclick: () => void } }).__lastNotification.onclick());
    await page.locator(`.queue-row.current[data-conversation="${id}"]`).waitFor();
    await page.waitForFunction(() => document.title === 'Sportello · Operator console');

    // A reply on the case Marta holds alerts too (a single note), and a case given to her.
    await page.getByRole('button', { name: 'Claim', exact: true }).click();
    await page.locator('.queue-row .holder.mine').waitFor();
    const before = (await seen(page)).tones;
    await t.app.pipeline.receive(t.message('are you there?', { customer: { platformId: 'cust-alert', name: 'Gina Alert' } }));
    await page.waitForFunction(() => (window as unknown as { __seen: Seen }).__seen.notifications.some((n) => n.tag.startsWith('reply:')));
    expect((await seen(page)).notifications.find((n) => n.tag.startsWith('reply:'))).toMatchObject({ title: 'Gina Alert replied', tag: `reply:${id}` });
    expect((await seen(page)).tones).toBeGreaterThan(before);
    await page.context().close();
  });

  it('warns once when a queued case is about to breach its SLA', async () => {
    const page = await signIn('Luca', PASSWORDS.luca, { instrument: true });
    await page.getByRole('button', { name: 'Notifications: off' }).click();
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person', { customer: { platformId: 'cust-sla', name: 'Sal Slow' } }));
    const id = outcome.conversation!.id;
    await page.locator(`.queue-row[data-conversation="${id}"]`).waitFor();
    // Priority 2 has a 60-minute SLA: 57 minutes later, 3 are left.
    t.clock.advance(57 * 60_000);
    await t.app.bus.publish({ type: 'conversation.updated', conversationId: id, at: t.clock.now().toISOString() });
    await page.waitForFunction(() => (window as unknown as { __seen: Seen }).__seen.notifications.some((n) => n.tag.startsWith('sla:')));
    const warnings = (await seen(page)).notifications.filter((n) => n.tag === `sla:${id}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.title).toBe('SLA about to breach: Sal Slow');
    await t.app.bus.publish({ type: 'conversation.updated', conversationId: id, at: t.clock.now().toISOString() });
    await page.waitForTimeout(1500); // a second tick and refresh: still one warning
    expect((await seen(page)).notifications.filter((n) => n.tag === `sla:${id}`)).toHaveLength(1);
    await page.context().close();
  });

  it("updates the history in place, shows the FAQ the bot used and the options it offered, and shows times in the team's time zone", async () => {
    t.clock.set('2026-11-25T16:00:00+01:00'); // 10:00 in New York
    const customer = { platformId: 'cust-hist', name: 'Hugo History' };
    const unsure = await t.app.pipeline.receive(t.message('costi', { customer }));
    expect(unsure.action).toBe('clarify');
    const asked = await t.app.pipeline.receive(t.message('what are your opening hours?', { customer }));
    expect(asked.action).toBe('answer');
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person', { customer }));
    const id = outcome.conversation!.id;
    const page = await signIn('Anna', PASSWORDS.anna);
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    const first = page.locator('#messages .msg').first();
    await first.waitFor();
    expect(await page.locator('#messages-log').getAttribute('role')).toBe('log');
    expect(await page.locator('#messages-log').getAttribute('aria-live')).toBe('polite');
    // The bot asked which one the customer meant, offering options: they are in the history.
    const offered = page.locator('#messages .msg.bot').first().locator('.options li');
    expect(await offered.count()).toBeGreaterThan(0);
    expect(await page.locator('#messages .msg.bot').first().locator('.offered').textContent()).toMatch(/^The bot offered:/);
    // Its answer came from a FAQ entry: the bot's reply says which (once: not also on the question).
    const answered = page.locator('#messages .msg.bot').filter({ has: page.locator('.chip.faq') });
    expect(await answered.locator('.chip.faq').allTextContents()).toEqual([`FAQ “${asked.faqId}”`]);
    expect(await page.locator('#messages .msg.in .chip.faq').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'console-history-bot-trace.png') });
    // 25 November 2026, 16:00 in Rome (the browser's zone) is 10:00 in New York (the team's).
    expect(await first.locator('time').textContent()).toBe('25 Nov, 10:00');
    expect(await page.locator('#timezone').textContent()).toBe('Times in America/New_York');
    // Mark the items shown; a new message must leave them alone and add one item.
    await page.evaluate(() => document.querySelectorAll('#messages .msg').forEach((li) => ((li as HTMLElement & { __kept?: boolean }).__kept = true)));
    const count = await page.locator('#messages .msg').count();
    await t.app.pipeline.receive(t.message('my order is late', { customer }));
    await page.locator('#messages .msg.in').filter({ hasText: 'my order is late' }).waitFor();
    const kept = await page.evaluate(() => Array.from(document.querySelectorAll('#messages .msg')).map((li) => (li as HTMLElement & { __kept?: boolean }).__kept === true));
    expect(kept).toEqual([...Array(count).fill(true), false]);
    await page.context().close();
  });

  it('works from the keyboard: ? lists the shortcuts, j opens the next case, c claims, r replies, Shift+R resolves', async () => {
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person', { customer: { platformId: 'cust-keys', name: 'Kay Keys' } }));
    const id = outcome.conversation!.id;
    const page = await signIn('Luca', PASSWORDS.luca);
    await page.locator(`.queue-row[data-conversation="${id}"]`).waitFor();
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor();
    const listed = await dialog.locator('dd').allTextContents();
    expect(listed).toEqual(expect.arrayContaining(['Next conversation', 'Claim', 'Write a reply', 'Write an internal note', 'Resolve the case']));
    await page.screenshot({ path: join(SHOTS, 'console-shortcuts.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    // j until Kay's case is open (other tests' cases are in the queue too).
    // Each j is followed by waiting for the highlight to move (a fast loop could read the old row and
    // press past the case on a slow machine); a j that moves nothing is the end of the list.
    const current = () => page.evaluate(() => document.querySelector('.queue-row.current')?.getAttribute('data-conversation') ?? null);
    for (let i = 0; i < 40; i++) {
      const before = await current();
      if (before === id) break;
      await page.keyboard.press('j');
      const moved = await page
        .waitForFunction((b) => (document.querySelector('.queue-row.current')?.getAttribute('data-conversation') ?? null) !== b, before, { timeout: 15_000 })
        .then(() => true, () => false);
      if (!moved) break;
    }
    await page.locator(`.queue-row.current[data-conversation="${id}"]`).waitFor();
    await page.locator('#conversation-body').waitFor();
    await page.keyboard.press('c');
    await page.locator('.toast.ok').filter({ hasText: 'Conversation claimed' }).waitFor();
    await page.keyboard.press('r');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reply-text');
    await page.keyboard.type('Hello Kay, I am on it.');
    await page.keyboard.press('Control+Enter');
    await page.locator('#messages .msg.operator').filter({ hasText: 'Hello Kay' }).waitFor();
    // n switches the composer to a note. The reply's own refresh may redraw the conversation just
    // then (the composer is hidden for a moment on a slow machine, and a key does nothing): press
    // again until it takes, leaving the text box first each time (Escape outside it does nothing).
    let noted = false;
    for (let i = 0; i < 5 && !noted; i++) {
      await page.keyboard.press('Escape'); // out of the text box
      await page.keyboard.press('n');
      noted = await page
        .waitForFunction(() => (document.getElementById('as-note') as HTMLInputElement | null)?.checked === true && document.activeElement?.id === 'reply-text', undefined, { timeout: 5_000 })
        .then(() => true, () => false);
    }
    expect(await page.locator('#as-note').isChecked()).toBe(true);
    // Shift+R, like n above, may land while the conversation is redrawn: press again until it takes.
    let resolved = false;
    for (let i = 0; i < 5 && !resolved; i++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Shift+R');
      resolved = await page
        .locator('.toast.ok')
        .filter({ hasText: 'Case resolved' })
        .waitFor({ timeout: 5_000 })
        .then(() => true, () => false);
    }
    expect(resolved).toBe(true);
    expect((await t.app.store.conversations.get(id))!.state).toBe('resolved');
    await page.context().close();
  });

  it('fits a phone: every control of the top bar and of a conversation is on screen at 390 px', async () => {
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person about my order', { customer: { platformId: 'cust-phone', name: 'Pia Phone' } }));
    const id = outcome.conversation!.id;
    await t.app.desk.claim(id, t.anna);
    const page = await signIn('Anna', PASSWORDS.anna, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    await page.locator('#conversation-body').waitFor();
    await page.locator('#resolve').waitFor();
    expect(await offScreenControls(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
    await expect(page.getByRole('button', { name: 'Sign out' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(SHOTS, 'console-phone.png'), fullPage: true });
    await page.context().close();
  });

  it.each([
    [1024, 768],
    [1280, 720],
  ])('fits a laptop %i px wide in Italian: nothing of a conversation is cut off at the right', async (width, height) => {
    const outcome = await t.app.pipeline.receive(t.message('voglio parlare con una persona del mio ordine', { customer: { platformId: `cust-laptop-${width}`, name: 'Lia Laptop' } }));
    const id = outcome.conversation!.id;
    const page = await signIn('Anna', PASSWORDS.anna, { locale: 'it-IT', viewport: { width, height } });
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    await page.locator('#conversation-body').waitFor();
    await page.locator('#customer-panel').waitFor();
    expect(await offScreenControls(page)).toEqual([]);
    // The conversation pane does not scroll sideways either (its side column is not hidden past its edge).
    expect(await page.evaluate(() => { const c = document.getElementById('conversation')!; return c.scrollWidth <= c.clientWidth; })).toBe(true);
    await page.screenshot({ path: join(SHOTS, `console-laptop-${width}.png`) });
    await page.context().close();
  });

  it('finds a resolved conversation by a word in it, and opens it', async () => {
    const customer = { platformId: 'cust-bike', name: 'Bruno Bici' };
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person: my orange bicycle arrived broken', { customer }));
    const id = outcome.conversation!.id;
    await t.app.desk.claim(id, t.marta);
    await t.app.desk.reply(id, t.marta, 'Sorry Bruno, a new one leaves today.');
    await t.app.desk.resolve(id, t.marta, {});
    const page = await signIn('Luca', PASSWORDS.luca);
    // Resolved: not in the live queue.
    expect(await page.locator(`#queue-list .queue-row[data-conversation="${id}"]`).count()).toBe(0);
    await page.getByRole('combobox', { name: 'View' }).selectOption('all');
    await page.getByRole('searchbox', { name: 'Search' }).fill('bicycle');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const found = page.locator(`#queue-list .result-row[data-conversation="${id}"]`);
    await found.waitFor();
    // The "all" view lists every conversation as result rows too: count once the search's own count shows.
    await page.waitForFunction(() => document.getElementById('search-count')?.textContent === '1–1 of 1');
    expect(await page.locator('#queue-list .result-row').count()).toBe(1);
    expect(await found.textContent()).toContain('resolved');
    expect(await found.textContent()).toContain('Bruno Bici');
    // The row shows the customer's message that matched, the word marked, not the operator's later reply.
    expect(await found.locator('.row-match').textContent()).toContain('my orange bicycle arrived broken');
    expect(await found.locator('mark').allTextContents()).toEqual(['bicycle']);
    expect(await page.locator('#search-count').textContent()).toBe('1–1 of 1');
    await page.screenshot({ path: join(SHOTS, 'console-search.png') });
    await found.click();
    await page.locator('#messages .msg.in').filter({ hasText: 'orange bicycle' }).waitFor();
    await page.locator('#conv-closed').waitFor({ state: 'visible' });
    // Many results come a page at a time.
    for (let i = 0; i < 27; i++) await t.app.pipeline.receive(t.message(`do you sell marzipan lemons, number ${i}?`, { customer: { platformId: `cust-marzipan-${i}` } }));
    await page.getByRole('searchbox', { name: 'Search' }).fill('marzipan');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#search-count').filter({ hasText: '1–25 of 27' }).waitFor();
    expect(await page.locator('#queue-list .result-row').count()).toBe(25);
    await page.getByRole('button', { name: 'Next ›' }).click();
    await page.locator('#search-count').filter({ hasText: '26–27 of 27' }).waitFor();
    expect(await page.locator('#queue-list .result-row').count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Next ›' }).isDisabled()).toBe(true);
    // Back to the live queue.
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
    await page.getByRole('combobox', { name: 'View' }).selectOption('queue');
    await page.waitForFunction(() => document.getElementById('queue-list')?.dataset.mode === 'queue');
    await page.context().close();
  });

  it('inserts a saved reply with a variable through "/", and sends it', async () => {
    const outcome = await t.app.pipeline.receive(t.message('I want to talk to a person about a refund', { customer: { platformId: 'cust-saved', name: 'Olivia Saved' } }));
    const id = outcome.conversation!.id;
    // An admin writes the saved reply on the console's page for it.
    const page = await signIn('Anna', PASSWORDS.anna);
    await page.getByRole('button', { name: 'Saved replies', exact: true }).click();
    const form = page.locator('#saved-form');
    await form.getByLabel('Language').selectOption('en');
    await form.getByLabel('Shortcut').fill('refund');
    await form.getByLabel('Title').fill('Refund on its way');
    // A variable written as another tool spells it would reach customers as written: refused, saying which ones exist.
    await form.getByLabel('Text').fill('Hello {{customer.name}}, your refund is on its way. {operator_name}');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.locator('#toast.error').filter({ hasText: 'Unknown variable: {{customer.name}}. The variables are {customer_name}, {operator_name}' }).waitFor();
    expect(await t.app.store.savedReplies.list({})).toEqual([]);
    await form.getByLabel('Text').fill('Hello {customer_name}, your refund is on its way. {operator_name}');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.locator('#saved-admin-list .saved-item').filter({ hasText: '/refund' }).waitFor();
    // Another reply whose text also has a word starting "refu" (and whose shortcut sorts first).
    await form.getByLabel('Language').selectOption('en');
    await form.getByLabel('Shortcut').fill('delay');
    await form.getByLabel('Title').fill('Parcel late');
    await form.getByLabel('Text').fill('Sorry, your parcel is late: if it is not there by Friday, ask us for a refund.');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.locator('#saved-admin-list .saved-item').filter({ hasText: '/delay' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'console-saved-replies-admin.png') });
    await page.getByRole('button', { name: 'Saved replies', exact: true }).click();

    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    await page.getByRole('button', { name: 'Claim', exact: true }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Conversation claimed' }).waitFor();
    await page.locator('#reply-text').click();
    await page.keyboard.type('/');
    const search = page.getByRole('combobox', { name: 'Search the saved replies' });
    await search.waitFor();
    await page.keyboard.type('refu');
    await page.getByRole('option').filter({ hasText: '/refund' }).waitFor();
    // The reply whose shortcut starts with what was typed comes first: Enter inserts /refund, not /delay.
    expect(await page.locator('#saved-list .saved-shortcut').allTextContents()).toEqual(['/refund', '/delay']);
    await page.screenshot({ path: join(SHOTS, 'console-saved-reply-picker.png') });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.getElementById('reply-text') as HTMLTextAreaElement).value.length > 0);
    expect(await page.locator('#reply-text').inputValue()).toBe('Hello Olivia Saved, your refund is on its way. Anna');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#messages .msg.operator').filter({ hasText: 'your refund is on its way' }).waitFor();
    await t.app.sender.drain();
    const sent = t.channel.sent.filter((item) => item.conversationId === id).map((item) => (item.reply as { text?: string }).text ?? '');
    expect(sent.some((text) => text.includes('Hello Olivia Saved, your refund is on its way. Anna'))).toBe(true);
    // Agents insert saved replies but do not manage them.
    const agent = await signIn('Marta', PASSWORDS.marta);
    expect(await agent.locator('#saved-toggle').isHidden()).toBe(true);
    await agent.context().close();
    await page.context().close();
  });

  it('links two records of one person: the panel shows one history, and unlinking splits it again', async () => {
    // Lina wrote last week from one record (a resolved case about tulips) and today from another.
    const before = await t.app.pipeline.receive(t.message('I want to talk to a person: the tulips I ordered are wilted', { customer: { platformId: 'cust-lina-1', name: 'Lina Link' } }));
    const old = before.conversation!.id;
    await t.app.desk.claim(old, t.luca);
    await t.app.desk.reply(old, t.luca, 'We will send new tulips.');
    await t.app.desk.resolve(old, t.luca, {});
    const today = await t.app.pipeline.receive(t.message('I want to talk to a person about my order', { customer: { platformId: 'cust-lina-2', name: 'Lina L.' } }));
    const id = today.conversation!.id;

    const page = await signIn('Marta', PASSWORDS.marta);
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    const panel = page.locator('#customer-panel');
    await panel.waitFor();
    await panel.locator('#customer-card').filter({ hasText: 'Lina L.' }).waitFor();
    expect(await page.locator('#earlier').textContent()).not.toContain('tulips');

    // Tags and a note that outlive the case.
    await panel.getByLabel('Tags (comma-separated)').fill('Florist, vip');
    await panel.getByRole('button', { name: 'Save tags' }).click();
    await panel.locator('#customer-tags .tag').filter({ hasText: 'florist' }).waitFor();
    await panel.getByLabel('New note (it stays across cases)').fill('Prefers to be called in the afternoon.');
    await panel.getByRole('button', { name: 'Save note' }).click();
    await panel.locator('.customer-note').filter({ hasText: 'afternoon' }).waitFor();

    await panel.getByLabel('Find the record to link').fill('Lina');
    await panel.getByRole('button', { name: 'Find', exact: true }).click();
    await panel.getByRole('button', { name: 'Link: Lina Link · chat' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Records linked' }).waitFor();
    // One history: both records, and the other record's case with its first message.
    await panel.locator('.handles li').nth(1).waitFor();
    expect(await panel.locator('.handles li').allTextContents()).toEqual([expect.stringContaining('Lina L.'), expect.stringContaining('Lina Link')]);
    const tulips = page.locator('#earlier li').filter({ hasText: 'tulips' });
    await tulips.waitFor();
    expect(await tulips.textContent()).toContain('resolved by an operator');
    await page.screenshot({ path: join(SHOTS, 'console-customer-linked.png'), fullPage: true });
    // The other record's case opens from there.
    await tulips.getByRole('button', { name: 'Open' }).click();
    await page.locator('#messages .msg.in').filter({ hasText: 'tulips I ordered' }).waitFor();
    expect(await page.locator('#messages').textContent()).toContain('We will send new tulips.');
    // The note is on the person, whichever record is open.
    expect(await panel.locator('.customer-note').allTextContents()).toEqual([expect.stringContaining('afternoon')]);

    await panel.getByRole('button', { name: 'Unlink Lina L.' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Records unlinked' }).waitFor();
    await panel.locator('.handles li').nth(1).waitFor({ state: 'detached' });
    expect(await page.locator('#earlier').textContent()).not.toContain('about my order');
    await page.context().close();
  });

  it("lets an admin export and erase a customer's data from the panel (typed confirmation); an agent sees neither", async () => {
    const msg = await t.app.pipeline.receive(t.message('I want to talk to a person about order 77441122', { customer: { platformId: 'cust-rita-1', name: 'Rita Rights' } }));
    const id = msg.conversation!.id;
    const agent = await signIn('Marta', PASSWORDS.marta);
    await agent.locator(`.queue-row[data-conversation="${id}"]`).click();
    await agent.locator('#customer-card').filter({ hasText: 'Rita Rights' }).waitFor();
    expect(await agent.locator('#customer-erase').isVisible()).toBe(false);
    await agent.context().close();

    const page = await signIn('Anna', PASSWORDS.anna);
    await page.locator(`.queue-row[data-conversation="${id}"]`).click();
    const panel = page.locator('#customer-panel');
    await panel.locator('#customer-card').filter({ hasText: 'Rita Rights' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export data' }).click()]);
    const saved = await download.path();
    expect(readFileSync(saved!, 'utf8')).toContain('order 77441122');
    // A wrong word erases nothing.
    page.once('dialog', (d) => void d.accept('no'));
    await panel.getByRole('button', { name: 'Erase data' }).click();
    await page.locator('.toast').filter({ hasText: 'Not confirmed' }).waitFor();
    expect(await t.app.store.directory.getCustomer('chat:cust-rita-1')).toBeDefined();
    page.once('dialog', (d) => void d.accept('ERASE'));
    await panel.getByRole('button', { name: 'Erase data' }).click();
    await page.locator('.toast.ok').filter({ hasText: 'Customer data erased' }).waitFor();
    expect(await t.app.store.directory.getCustomer('chat:cust-rita-1')).toBeUndefined();
    expect((await t.app.store.audit.list({ limit: 500, operatorId: t.anna.id })).map((a) => a.action).filter((a) => a.startsWith('customer.e'))).toEqual(['customer.export', 'customer.erase']);
    await page.context().close();
  });

  it('has no serious accessibility violations (axe-core) on the login, queue, conversation and reports pages', async () => {
    const customer = { platformId: 'cust-axe', name: 'Alma Axe' };
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?', { customer }));
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer }));
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    // axe is injected as a script: the console's CSP allows only its own, so this context bypasses it.
    const context = await browser.newContext({ locale: 'it-IT', timezoneId: 'Europe/Rome', viewport: { width: 1360, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    const check = async (name: string) => {
      if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe });
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: { run(ctx: Document, options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
          resultTypes: ['violations'],
        });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
      });
      const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect({ page: name, serious }).toEqual({ page: name, serious: [] });
    };
    await page.goto(`${t.base}/console`);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    await check('login');
    await page.locator('#login-name').fill('Anna');
    await page.locator('#login-password').fill(PASSWORDS.anna);
    await page.locator('#login-submit').click();
    await page.locator('#desk-view').waitFor({ state: 'visible' });
    await page.locator('#queue-list .queue-row').first().waitFor();
    await check('queue');
    await page.locator('#queue-list .queue-row').first().click();
    await page.locator('#conversation-body').waitFor();
    await page.locator('#suggestions li').first().waitFor();
    await check('conversation');
    await page.getByRole('button', { name: 'Report' }).click();
    await page.locator('#reports[data-loaded]').waitFor();
    await check('reports');
    await page.getByRole('button', { name: 'Report' }).click();
    // The admins' pages of the desk, and the shortcuts' dialog.
    await page.getByRole('button', { name: 'Risposte salvate', exact: true }).click();
    await page.locator('#saved-admin-list li').first().waitFor();
    await check('saved replies');
    await page.getByRole('button', { name: 'Risposte salvate', exact: true }).click();
    await page.getByRole('button', { name: 'Team e assegnazione' }).click();
    await page.locator('#assign-operators tr').first().waitFor();
    await check('teams and assignment');
    await page.keyboard.press('Escape');
    await page.locator('body').press('?');
    await page.getByRole('dialog').waitFor();
    await check('shortcuts');
    await context.close();
  });
});
