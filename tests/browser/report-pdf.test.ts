/**
 * The stakeholders' HTML report (src/reports/html.ts) in a real browser (Debian's Chromium driven
 * by playwright-core): it renders its charts with nothing fetched, and prints to PDF. The PDF and a
 * screenshot go to test-output/reports/.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createBusinessHours } from '../../src/handoff/business-hours.js';
import { computeReport } from '../../src/reports/report.js';
import { reportHtml } from '../../src/reports/html.js';
import type { History } from '../../src/core/ports.js';
import type { Case, Conversation, OutboxItem, StoredMessage } from '../../src/core/types.js';

const OUT = join(ROOT, 'test-output', 'reports');
jest.setTimeout(120_000);

/** A week of history: per day and channel a few cases answered by the bot, some escalated and answered by an operator. */
function week(): History {
  const cases: Case[] = [];
  const conversations: Conversation[] = [];
  const messages: StoredMessage[] = [];
  const replies: OutboxItem[] = [];
  const faq = ['orari-apertura', 'metodi-pagamento', 'resi', 'tempi-spedizione'];
  let n = 0;
  for (let day = 0; day < 7; day++) {
    for (const channel of ['messenger', 'twitter', 'webchat']) {
      for (let k = 0; k < 2 + ((day * 3 + channel.length) % 4); k++) {
        n += 1;
        const at = Date.parse('2026-11-23T09:00:00+01:00') + day * 86_400_000 + k * 1_800_000;
        const iso = (ms: number) => new Date(at + ms).toISOString();
        const escalated = n % 3 === 0;
        const conversation: Conversation = { id: `cv${n}`, key: `${channel}:private:u${n}`, channel, visibility: 'private', customerId: `${channel}:u${n}`, caseId: `cs${n}`, state: 'resolved', language: n % 4 === 0 ? 'en' : 'it', missStreak: 0, flags: [], createdAt: iso(0), updatedAt: iso(0) };
        conversations.push(conversation);
        cases.push({ id: `cs${n}`, customerId: conversation.customerId, status: 'resolved', conversationIds: [conversation.id], openedAt: iso(0), resolvedAt: iso(escalated ? 5_400_000 : 600_000), resolvedBy: escalated ? 'op1' : 'bot', ...(n % 2 === 0 ? { survey: { sentAt: iso(7_200_000), score: ((n % 5) + 1) as 1 | 2 | 3 | 4 | 5 } } : {}) });
        messages.push({ id: `in${n}`, conversationId: conversation.id, caseId: `cs${n}`, direction: 'in', author: { kind: 'customer' }, text: 'question', visibility: 'private', at: iso(0), action: escalated ? 'escalate' : 'answer', ...(escalated ? { escalation: { reason: n % 2 ? 'human_request' : 'negative_sentiment', priority: 2, slaDueAt: iso(3_600_000) } } : { faqId: faq[n % faq.length]! }) });
        const reply = (id: string, ms: number, author: OutboxItem['author']) => {
          messages.push({ id, conversationId: conversation.id, caseId: `cs${n}`, direction: 'out', author, text: 'answer', visibility: 'private', at: iso(ms) });
          replies.push({ id, conversationId: conversation.id, channel, visibility: 'private', recipient: 'u', reply: { kind: 'text', text: 'answer' }, author, seq: 1, status: 'sent', attempts: 1, notBefore: 0, createdAt: iso(ms), sentAt: iso(ms + 1500) });
        };
        reply(`b${n}`, 0, { kind: 'bot' });
        if (escalated) reply(`o${n}`, (n % 7) * 900_000, { kind: 'operator', operatorId: 'op1', name: 'Marta Rossi', initials: 'MR' });
      }
    }
  }
  return { cases, conversations, messages, replies };
}

const browserTest = describeInBrowser();

browserTest('the HTML report in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws its charts from the page alone and prints to PDF, in Italian and English', async () => {
    const config = loadConfig({});
    const hours = createBusinessHours({ timezone: 'Europe/Rome', schedule: config.handoff.businessHours, holidays: [] });
    const report = computeReport({ history: week(), from: new Date('2026-11-22T23:00:00Z'), to: new Date('2026-11-29T23:00:00Z'), now: new Date('2026-12-01T08:00:00Z'), hours, operators: [] });
    for (const language of ['it', 'en'] as const) {
      const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
      const fetched: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('data:') && r.url() !== 'about:blank') fetched.push(r.url());
      });
      await page.setContent(reportHtml(report, language), { waitUntil: 'load' });
      expect(fetched).toEqual([]);
      expect(await page.locator('h1').textContent()).toBe(language === 'it' ? 'Report del servizio clienti' : 'Customer care report');
      // The daily chart: one bar per day and series (7 × 3), one per day for people's response times.
      expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(5);
      expect(await page.locator('svg.chart').first().locator('rect').count()).toBe(21);
      const boxes = await page.locator('svg.chart').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
      for (const w of boxes) expect(w).toBeGreaterThan(300);
      await page.screenshot({ path: join(OUT, `report-${language}.png`), fullPage: true });
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      writeFileSync(join(OUT, `report-${language}.pdf`), pdf);
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) ?? []).length;
      expect(pages).toBeGreaterThanOrEqual(1);
      expect(pages).toBeLessThanOrEqual(4);
      await page.close();
    }
    expect(report.inbound).toBe(report.by_channel.messenger!.inbound + report.by_channel.twitter!.inbound + report.by_channel.webchat!.inbound);
  });
});
