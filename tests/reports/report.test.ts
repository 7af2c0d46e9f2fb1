/**
 * `sportello report` on a known history, on both stores: customers write through the real
 * pipeline (project FAQ, classifier), operators answer through the real desk, the bot-close job
 * closes the cases the bot answered, the survey job surveys those people resolved and two customers
 * answer in the dialogue, all at known times on a fake clock across a weekend. Every figure of the JSON
 * report is checked exactly; the CSV row by row. On the embedded store the report runs first in
 * the live server (its admin socket, as `sportello start` serves it) and again after a restart;
 * on PostgreSQL from a separate CLI connection while the instance runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { createSportello, type Sportello } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, systemClock, type ChannelAdapter, type FakeClock } from '../../src/core/ports.js';
import { ChannelApiError } from '../../src/core/errors.js';
import type { Operator } from '../../src/core/types.js';
import { createRecordingChannel } from '../../src/channels/console/index.js';
import { runCli } from '../../src/cli/run.js';
import { serveStoreCommands } from '../../src/cli/store-commands.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createTestDatabase, type TestDatabase } from '../e2e/harness.js';
import { privateChatCapabilities, projectKnowledge, TEST_ENV } from '../helpers/app.js';
import type { Figures, Report } from '../../src/reports/report.js';



/** Rome is UTC+1 from late October to late March: local 2026-11-27 10:00 is 09:00Z. */
const rome = (local: string) => new Date(`${local}+01:00`);

const ENV = {
  ...TEST_ENV,
  TIMEZONE: 'Europe/Rome',
  BUSINESS_HOURS: 'mon-fri=09:00-18:00,sat=09:00-13:00',
  HOLIDAYS: '',
  SLA_MINUTES: '30',
  DEFAULT_LOCALE: 'it',
  BOT_CLOSE_HOURS: '24',
  SURVEYS: 'true',
  SURVEY_DELAY: '1h',
  SURVEY_LOW_SCORE: '1',
};

interface World {
  app: Sportello;
  clock: FakeClock;
  marta: Operator;
  luca: Operator;
}

/** Two channels that record what they send; `shop` refuses its next send once when told to (a 429). */
function channels() {
  const chat = createRecordingChannel('chat', { ...privateChatCapabilities, surveys: {} });
  const shopRecorder = createRecordingChannel('shop', { ...privateChatCapabilities, surveys: {} });
  let refuseNext = false;
  const shop: ChannelAdapter & { refuseNextSend(): void } = {
    ...shopRecorder,
    refuseNextSend: () => void (refuseNext = true),
    async send(item) {
      if (refuseNext) {
        refuseNext = false;
        throw new ChannelApiError('rate limited', { channel: 'shop', status: 429, retryable: true });
      }
      return shopRecorder.send(item);
    },
  };
  return { chat, shop };
}

async function start(env: Record<string, string>, clock: FakeClock): Promise<{ app: Sportello; shop: ReturnType<typeof channels>['shop'] }> {
  const { chat, shop } = channels();
  const app = await createSportello({
    config: loadConfig({ ...ENV, ...env }),
    clock,
    logger: createSilentLogger(),
    channels: [chat, shop],
    outboxPollMs: 3_600_000,
    knowledge: await projectKnowledge(),
  });
  return { app, shop };
}

let counter = 0;
async function say(w: World, channel: string, customer: string, text: string, at: Date) {
  w.clock.set(at);
  counter += 1;
  const outcome = await w.app.pipeline.receive({
    channel,
    id: `rep-${counter}`,
    visibility: 'private',
    customer: { platformId: customer },
    text,
    sentAt: at.toISOString(),
  });
  await w.app.sender.drain();
  return outcome;
}

/** Builds the known history; returns the conversation ids. */
async function buildHistory(w: World, shop: { refuseNextSend(): void }): Promise<void> {
  const { app } = w;
  const expectAction = (o: { action: string; faqId?: string; reason?: string }, action: string, extra: Record<string, string> = {}) =>
    expect({ action: o.action, ...(extra.faqId ? { faqId: o.faqId } : {}), ...(extra.reason ? { reason: o.reason } : {}) }).toEqual({ action, ...extra });

  // H: the evening before the period (not counted).
  expectAction(await say(w, 'chat', 'cust-h', 'come faccio un reso?', rome('2026-11-26T23:59:00')), 'answer', { faqId: 'resi' });
  // F: exactly at the period's start (counted).
  expectAction(await say(w, 'chat', 'cust-f', 'come faccio un reso?', rome('2026-11-27T00:00:00')), 'answer', { faqId: 'resi' });
  // A: answered by the bot; the bot closes the case a day later.
  const a = await say(w, 'chat', 'cust-a', 'si può pagare con satispay?', rome('2026-11-27T10:00:00'));
  expectAction(a, 'answer', { faqId: 'metodi-pagamento' });
  // B: asks for a person on Friday ten minutes before closing; answered on Monday.
  const b = await say(w, 'chat', 'cust-b', 'vorrei parlare con un operatore per favore', rome('2026-11-27T17:50:00'));
  expectAction(b, 'escalate', { reason: 'human_request' });

  // A day after A's answer the bot-close job closes A, and F and H (answered, quiet since): resolved by the bot.
  w.clock.set(rome('2026-11-28T10:00:00'));
  expect(await app.followUps.runOnce()).toEqual({ closedByBot: 3, closedIdle: 0, surveysSent: 0, surveysSkipped: 0, followUpsOpened: 0 });
  expect((await app.store.conversations.getCase(a.conversation!.caseId))).toMatchObject({ status: 'resolved', resolvedBy: 'bot', resolvedAt: rome('2026-11-28T10:00:00').toISOString() });

  // C (English, shop): the bot's answer is rate limited once and goes out 30 s later.
  shop.refuseNextSend();
  const c = await say(w, 'shop', 'cust-c', 'can i pay with paypal', rome('2026-11-28T11:00:00'));
  expectAction(c, 'answer', { faqId: 'payment-methods' });
  w.clock.set(rome('2026-11-28T11:00:30'));
  await app.sender.drain();
  expectAction(await say(w, 'shop', 'cust-c', 'can I speak to a human', rome('2026-11-28T11:05:00')), 'escalate', { reason: 'human_request' });
  w.clock.set(rome('2026-11-28T11:15:00'));
  await app.desk.claim(c.conversation!.id, w.luca);
  await app.desk.reply(c.conversation!.id, w.luca, 'Hi, Luca here: yes, PayPal works.');
  await app.sender.drain();
  w.clock.set(rome('2026-11-28T11:20:00'));
  await app.desk.resolve(c.conversation!.id, w.luca);

  // D: two misses on Sunday: the second goes to the queue; nobody answers.
  expectAction(await say(w, 'chat', 'cust-d', 'la lavatrice del mio vicino fa un rumore strano quando centrifuga', rome('2026-11-29T12:00:00')), 'clarify');
  expectAction(await say(w, 'chat', 'cust-d', 'il vicino dice che è colpa del pavimento storto', rome('2026-11-29T12:01:00')), 'escalate', { reason: 'low_confidence' });

  // B on Monday: Marta answers at 09:30, the customer writes again, Marta resolves without answering that.
  w.clock.set(rome('2026-11-30T09:30:00'));
  await app.desk.claim(b.conversation!.id, w.marta);
  await app.desk.reply(b.conversation!.id, w.marta, 'Ciao, sono Marta: come posso aiutarti?');
  await app.sender.drain();
  expectAction(await say(w, 'chat', 'cust-b', 'ok, aspetto', rome('2026-11-30T09:40:00')), 'silent');
  w.clock.set(rome('2026-11-30T10:00:00'));
  await app.desk.resolve(b.conversation!.id, w.marta);

  // Surveys an hour after B's resolution (C's is due since Saturday): the cases people resolved get
  // one each, those the bot closed none. B scores 2, C scores 4, answering in the dialogue (neither
  // answers nor surveys count as customer messages or replies).
  w.clock.set(rome('2026-11-30T11:00:00'));
  expect(await app.followUps.runOnce()).toEqual({ closedByBot: 0, closedIdle: 0, surveysSent: 2, surveysSkipped: 3, followUpsOpened: 0 });
  await app.sender.drain();
  expect(await app.followUps.runOnce()).toEqual({ closedByBot: 0, closedIdle: 0, surveysSent: 0, surveysSkipped: 0, followUpsOpened: 0 });
  expectAction(await say(w, 'chat', 'cust-b', '2', rome('2026-11-30T11:05:00')), 'survey_answer');
  expectAction(await say(w, 'shop', 'cust-c', '4 thanks', rome('2026-11-30T11:06:00')), 'survey_answer');
  expect((await app.store.conversations.getCase(c.conversation!.caseId))?.survey).toEqual({
    channel: 'shop',
    sentAt: rome('2026-11-30T11:00:00').toISOString(),
    answeredAt: rome('2026-11-30T11:06:00').toISOString(),
    score: 4,
    comment: 'thanks',
  });

  // G: exactly at the period's end (not counted).
  expectAction(await say(w, 'chat', 'cust-g', 'come faccio un reso?', rome('2026-12-01T00:00:00')), 'answer', { faqId: 'resi' });
}

const none = { p50: null, p90: null };
const p = (p50: number, p90 = p50) => ({ p50, p90 });
const noCsat = { responses: 0, average: null, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 0 } };
/** Figures with nothing in them, changed by `over`. */
function fig(over: Partial<Figures>): Figures {
  return {
    inbound: 0,
    answered_by_bot: 0,
    escalated: 0,
    response_rate: null,
    cases: 0,
    resolved: 0,
    resolved_by_bot: 0,
    first_response_seconds: { bot: none, human: none },
    first_response_business_seconds: { bot: none, human: none },
    resolution_seconds: none,
    deflection_rate: null,
    escalation_reasons: {},
    sla_breaches: 0,
    csat: noCsat,
    ...over,
  };
}

const chatFigures = fig({
  inbound: 6,
  answered_by_bot: 2,
  escalated: 2,
  response_rate: 0.8333,
  cases: 4,
  resolved: 3,
  resolved_by_bot: 2,
  first_response_seconds: { bot: p(0), human: p(229_200) },
  // Friday 17:50–18:00, Saturday 09:00–13:00, Monday 09:00–09:30: 600 + 14,400 + 1,800 s.
  first_response_business_seconds: { bot: p(0), human: p(16_800) },
  // A 86,400, F 122,400 (closed by the bot 34 h after it opened), B 231,000.
  resolution_seconds: p(122_400, 231_000),
  deflection_rate: 0.5,
  escalation_reasons: { human_request: 1, low_confidence: 1 },
  sla_breaches: 2,
  csat: { responses: 1, average: 2, distribution: { '1': 0, '2': 1, '3': 0, '4': 0, '5': 0 } },
});
const shopFigures = fig({
  inbound: 2,
  answered_by_bot: 1,
  escalated: 1,
  response_rate: 1,
  cases: 1,
  resolved: 1,
  first_response_seconds: { bot: p(30), human: p(600) },
  first_response_business_seconds: { bot: p(30), human: p(600) },
  resolution_seconds: p(1200),
  deflection_rate: 0,
  escalation_reasons: { human_request: 1 },
  csat: { responses: 1, average: 4, distribution: { '1': 0, '2': 0, '3': 0, '4': 1, '5': 0 } },
});

const EXPECTED: Omit<Report, 'generated_at'> = {
  from: '2026-11-26T23:00:00.000Z',
  to: '2026-11-30T23:00:00.000Z',
  timezone: 'Europe/Rome',
  ...fig({
    inbound: 8,
    answered_by_bot: 3,
    escalated: 3,
    response_rate: 0.875,
    cases: 5,
    resolved: 4,
    resolved_by_bot: 2,
    // Per case opened: F 0, A 0, B 0, C 30 (the retry), D 0; nearest rank: p50 = 3rd, p90 = 5th.
    first_response_seconds: { bot: p(0, 30), human: p(600, 229_200) },
    first_response_business_seconds: { bot: p(0, 30), human: p(600, 16_800) },
    // C 1,200, A 86,400, F 122,400, B 231,000.
    resolution_seconds: p(86_400, 231_000),
    deflection_rate: 0.4,
    escalation_reasons: { human_request: 2, low_confidence: 1 },
    // B answered after its due time (Saturday 09:20), D never answered (due Monday 09:30).
    sla_breaches: 2,
    csat: { responses: 2, average: 3, distribution: { '1': 0, '2': 1, '3': 0, '4': 1, '5': 0 } },
  }),
  by_channel: { chat: chatFigures, shop: shopFigures },
  by_language: { en: shopFigures, it: chatFigures },
  by_day: {
    '2026-11-27': fig({
      inbound: 3,
      answered_by_bot: 2,
      escalated: 1,
      response_rate: 1,
      cases: 3,
      resolved: 3,
      resolved_by_bot: 2,
      first_response_seconds: { bot: p(0), human: p(229_200) },
      first_response_business_seconds: { bot: p(0), human: p(16_800) },
      resolution_seconds: p(122_400, 231_000),
      deflection_rate: 0.6667,
      escalation_reasons: { human_request: 1 },
      sla_breaches: 1,
      csat: chatFigures.csat,
    }),
    '2026-11-28': shopFigures,
    '2026-11-29': fig({
      inbound: 2,
      escalated: 1,
      response_rate: 1,
      cases: 1,
      first_response_seconds: { bot: p(0), human: none },
      first_response_business_seconds: { bot: p(0), human: none },
      deflection_rate: 0,
      escalation_reasons: { low_confidence: 1 },
      sla_breaches: 1,
    }),
    '2026-11-30': fig({ inbound: 1, response_rate: 0 }),
  },
  by_faq: {
    'metodi-pagamento': { inbound: 1, answered_by_bot: 1, escalated: 0, response_rate: 1 },
    'payment-methods': { inbound: 1, answered_by_bot: 1, escalated: 0, response_rate: 1 },
    resi: { inbound: 1, answered_by_bot: 1, escalated: 0, response_rate: 1 },
  },
  by_operator: {
    Luca: {
      replies: 1,
      first_responses: 1,
      first_response_seconds: p(600),
      first_response_business_seconds: p(600),
      resolved: 1,
      resolution_seconds: p(1200),
      sla_breaches: 0,
      csat: shopFigures.csat,
    },
    Marta: {
      replies: 1,
      first_responses: 1,
      first_response_seconds: p(229_200),
      first_response_business_seconds: p(16_800),
      resolved: 1,
      resolution_seconds: p(231_000),
      sla_breaches: 1,
      csat: chatFigures.csat,
    },
  },
};

const EXPECTED_CSV = [
  'date,channel,inbound,answered_by_bot,escalated,response_rate,first_response_bot_p50,first_response_human_p50,resolution_p50,csat_average',
  '2026-11-27,chat,3,2,1,1,0,229200,122400,2',
  '2026-11-27,shop,0,0,0,,,,,',
  '2026-11-28,chat,0,0,0,,,,,',
  '2026-11-28,shop,2,1,1,1,30,600,1200,4',
  '2026-11-29,chat,2,0,1,1,0,,,',
  '2026-11-29,shop,0,0,0,,,,,',
  '2026-11-30,chat,1,0,0,0,,,,',
  '2026-11-30,shop,0,0,0,,,,,',
  '',
].join('\n');

/** Runs the CLI with `env` as the process environment; returns exit code, stdout, stderr. */
async function cli(argv: string[], env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, ENV, env);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  try {
    const code = await runCli(argv, { stdin: Readable.from([]), stdout, stderr });
    return { code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const PERIOD = ['--from', '2026-11-27', '--to', '2026-12-01'];

async function jsonReport(env: Record<string, string>): Promise<Omit<Report, 'generated_at'>> {
  const r = await cli(['report', ...PERIOD, '--format', 'json'], env);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const { generated_at, ...rest } = JSON.parse(r.out) as Report;
  expect(Date.parse(generated_at)).toBeGreaterThan(Date.parse('2026-12-01T00:00:00Z'));
  return rest;
}

async function operators(app: Sportello): Promise<{ marta: Operator; luca: Operator }> {
  const make = (id: string, name: string, initials: string): Operator => ({ id, name, initials, role: 'agent', passwordHash: 'x', createdAt: '2026-11-01T00:00:00.000Z' });
  const marta = make('op-marta', 'Marta', 'MR');
  const luca = make('op-luca', 'Luca', 'LB');
  await app.store.directory.addOperator(marta);
  await app.store.directory.addOperator(luca);
  return { marta, luca };
}

describe('sportello report on the embedded store', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-report-'));
    env = { SPORTELLO_DATA: join(dir, 'store.json'), DATABASE_URL: '' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every figure of a known history, in the running server and after a restart; CSV and HTML too', async () => {
    const clock = createFakeClock(rome('2026-11-26T12:00:00'));
    const { app, shop } = await start(env, clock);
    let admin: Awaited<ReturnType<typeof serveStoreCommands>> | undefined;
    try {
      await buildHistory({ app, clock, ...(await operators(app)) }, shop);
      // As `sportello start` does: CLI store commands go to the server holding the file.
      admin = await serveStoreCommands({ store: app.store, dataFile: env.SPORTELLO_DATA!, faqDir: ENV.FAQ_DIR, intentsDir: ENV.INTENTS_DIR, clock: systemClock, recorder: app.recorder, logger: createSilentLogger(), hours: app.hours, locale: 'it' });
      expect(await jsonReport(env)).toEqual(EXPECTED);
      const csv = await cli(['report', ...PERIOD, '--format', 'csv', '--out', join(dir, 'report.csv')], env);
      expect(csv.code).toBe(0);
      expect(readFileSync(join(dir, 'report.csv'), 'utf8')).toBe(EXPECTED_CSV);
    } finally {
      await admin?.close();
      await app.close();
    }
    // Restarted (the file read back): the same figures, read by the CLI itself.
    expect(await jsonReport(env)).toEqual(EXPECTED);
    const html = await cli(['report', ...PERIOD, '--format', 'html'], env);
    expect(html.code).toBe(0);
    expect(html.out).toMatch(/^<!doctype html>/);
    expect(html.out).toContain('Report del servizio clienti');
    expect(html.out).not.toMatch(/<script|src="http|href="http/);
  });

  it('refuses wrong options with a clear message, touching nothing', async () => {
    for (const [args, message] of [
      [['--from', '2026-13-01'], /--from: not a calendar date/],
      [['--from', '27/11/2026'], /--from: a date is YYYY-MM-DD/],
      [['--format', 'pdf'], /--format/],
      [['--from', '2026-12-01', '--to', '2026-11-27'], /the period is empty/],
      [['--since', 'x'], /unknown option "--since"/],
    ] as const) {
      const r = await cli(['report', ...args], env);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });
});

describe('sportello report on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sportello_report');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('gives the same figures from another connection while the instance runs, and after it stops', async () => {
    const env = { DATABASE_URL: db.url };
    const clock = createFakeClock(rome('2026-11-26T12:00:00'));
    const { app, shop } = await start(env, clock);
    try {
      await buildHistory({ app, clock, ...(await operators(app)) }, shop);
      expect(await jsonReport(env)).toEqual(EXPECTED);
      const csv = await cli(['report', ...PERIOD, '--format', 'csv'], env);
      expect(csv.out).toBe(EXPECTED_CSV);
    } finally {
      await app.close();
    }
    expect(await jsonReport(env)).toEqual(EXPECTED);
  });
});
