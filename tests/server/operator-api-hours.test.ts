import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/util/logger.js';
import { ROOT } from '../helpers/app.js';
import { anonymous, closeSharedKnowledge, login, PASSWORDS, startApiApp, type ApiApp } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

type Row = { conversationId: string; breached: boolean; slaRemainingMs: number; slaDueAt: string; waitingBusinessMs: number };

describe('operator API out of business hours', () => {
  let t: ApiApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('on a Saturday afternoon says the team is back on Monday and starts the SLA then', async () => {
    t = await startApiApp({}, '2026-11-28T14:00:00+01:00');
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    expect(escalated.action).toBe('escalate');
    let marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const queue = await marta.get('/queue');
    expect(queue.body.open).toBe(false);
    expect(queue.body.nextOpening).toBe('2026-11-30T08:00:00.000Z');
    expect(queue.body.reopens).toEqual({ it: 'lunedì alle 9:00', en: 'on Monday at 9:00 AM' });
    const row = (queue.body.rows as Row[])[0]!;
    // priority 2: 60 business minutes from Monday 09:00
    expect(row.slaDueAt).toBe('2026-11-30T09:00:00.000Z');
    // Sunday evening: a day later, still nothing counts
    t.clock.set('2026-11-29T20:00:00+01:00');
    marta = await login(t.base, 'Marta', PASSWORDS.marta); // sessions last 12 hours
    const sunday = ((await marta.get('/queue')).body.rows as Row[])[0]!;
    expect(sunday).toMatchObject({ breached: false, slaRemainingMs: 3_600_000, waitingBusinessMs: 0 });
    // Monday 10:30: half an hour late
    t.clock.set('2026-11-30T10:30:00+01:00');
    marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const monday = ((await marta.get('/queue')).body.rows as Row[])[0]!;
    expect(monday).toMatchObject({ breached: true, slaRemainingMs: -1_800_000 });
  });

  it('skips a holiday: on the evening before 8 December the team is back on the 9th', async () => {
    t = await startApiApp({ HOLIDAYS: '2026-12-08' }, '2026-12-07T19:00:00+01:00');
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const queue = await marta.get('/queue');
    expect(queue.body.reopens).toEqual({ it: 'mercoledì alle 9:00', en: 'on Wednesday at 9:00 AM' });
    expect((queue.body.rows as Row[])[0]!.slaDueAt).toBe('2026-12-09T09:00:00.000Z');
  });
});

describe('operator API secrets', () => {
  let t: ApiApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('never writes a password to the log or the store, whether the login succeeds or fails', async () => {
    const sink = new PassThrough();
    let logged = '';
    sink.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    t = await startApiApp({}, undefined, { logger: createLogger({ level: 'trace', destination: sink }) });
    const wrong = 'sbagliata-ma-lunga-123';
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: wrong })).status).toBe(401);
    expect((await anonymous(t.base).post('/login', { name: 'Nessuno', password: wrong })).status).toBe(401);
    await login(t.base, 'Marta', PASSWORDS.marta);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toMatch(/operator login failed/);
    expect(logged).toMatch(/operator logged in/);
    const stored = readFileSync(join(t.dir, 'store.json'), 'utf8');
    for (const secret of [wrong, PASSWORDS.marta, PASSWORDS.luca, PASSWORDS.anna]) {
      expect(logged).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }
    expect(stored).toContain('scrypt$');
  });

  it('marks the cookie Secure and accepts the public origin when PUBLIC_URL is https', async () => {
    t = await startApiApp({ PUBLIC_URL: 'https://care.example.com' });
    const res = await anonymous(t.base).post('/login', { name: 'Anna', password: PASSWORDS.anna }, { origin: 'https://care.example.com' });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  it('signs sessions with SESSION_SECRET when set, so a cookie from elsewhere does not fit', async () => {
    t = await startApiApp({ SESSION_SECRET: 'a'.repeat(40) });
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);
    expect((await anna.get('/me')).status).toBe(200);
    const other = await startApiApp({ SESSION_SECRET: 'b'.repeat(40) });
    try {
      const stranger = anonymous(other.base);
      stranger.cookie = anna.cookie;
      expect((await stranger.get('/me')).status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('operator API FAQ review', () => {
  let t: ApiApp | undefined;
  let dir: string;
  afterEach(async () => {
    await t?.close();
    t = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets an admin approve a suggestion from a resolved case, writing it into the FAQ', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-faq-'));
    cpSync(join(ROOT, 'faq'), join(dir, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
    t = await startApiApp({ FAQ_DIR: join(dir, 'faq'), INTENTS_DIR: join(dir, 'intents') });
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore: fate anche incisioni personalizzate sulle tazze?'));
    const id = escalated.conversation!.id;
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);
    await marta.post(`/conversations/${id}/claim`, {});
    await marta.post(`/conversations/${id}/reply`, { text: 'Sì, incidiamo nomi e date sulle tazze in ceramica, in 3 giorni lavorativi.' });
    const resolved = await marta.post(`/conversations/${id}/resolve`, { addToFaq: true });
    const suggestionId = resolved.body.suggestionId as string;
    expect(suggestionId).toEqual(expect.any(String));
    expect((await marta.post(`/suggestions/${suggestionId}/approve`, {})).status).toBe(403);
    const approved = await anna.post(`/suggestions/${suggestionId}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.body.suggestion).toMatchObject({ status: 'approved', reviewedBy: 'op-anna' });
    const written = readFileSync(approved.body.file as string, 'utf8');
    expect(written).toMatch(/incidiamo nomi e date|incisioni personalizzate/);
    expect((await anna.post(`/suggestions/${suggestionId}/approve`, {})).status).toBe(409);
  });

  it('lets an admin edit a suggestion before approving it, showing what changes in an existing entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-faq-'));
    cpSync(join(ROOT, 'faq'), join(dir, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
    t = await startApiApp({ FAQ_DIR: join(dir, 'faq'), INTENTS_DIR: join(dir, 'intents') });
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore: fate incisioni sulle tazze?'));
    const id = escalated.conversation!.id;
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);
    await marta.post(`/conversations/${id}/claim`, {});
    // "Add to FAQ" without any answer is refused, and the case stays open.
    const refused = await marta.post(`/conversations/${id}/resolve`, { addToFaq: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/needs your answer/);
    expect((await t.app.store.conversations.get(id))!.state).toBe('assigned');
    await marta.post(`/conversations/${id}/reply`, { text: 'Sì, sulle tazze in ceramica.' });
    const suggestionId = (await marta.post(`/conversations/${id}/resolve`, { addToFaq: true })).body.suggestionId as string;

    expect((await marta.post(`/suggestions/${suggestionId}/edit`, { answer: 'x' })).status).toBe(403);
    const bad = await anna.post(`/suggestions/${suggestionId}/edit`, { entryId: 'Not Kebab', questions: [] });
    expect(bad.status).toBe(400);
    const noCsrf = await anna.post(`/suggestions/${suggestionId}/edit`, { answer: 'x' }, { csrf: null });
    expect(noCsrf.status).toBe(403);
    const edited = await anna.post(`/suggestions/${suggestionId}/edit`, { entryId: 'orari-apertura', questions: ['aprite anche a Natale?'], answer: 'A Natale siamo chiusi.' });
    expect(edited.status).toBe(200);
    expect(edited.body.suggestion).toMatchObject({
      kind: 'update_answer',
      entryId: 'orari-apertura',
      questions: ['aprite anche a Natale?'],
      answer: 'A Natale siamo chiusi.',
      operatorAnswer: 'Sì, sulle tazze in ceramica.',
      change: { existing: true, addedQuestions: ['aprite anche a Natale?'], answer: { before: expect.stringContaining('Il negozio di Milano'), after: 'A Natale siamo chiusi.' } },
    });
    const listed = (await anna.get('/suggestions?status=pending')).body.suggestions as Array<{ id: string; change?: unknown }>;
    expect(listed.find((s) => s.id === suggestionId)?.change).toEqual((edited.body.suggestion as { change: unknown }).change);
    const approved = await anna.post(`/suggestions/${suggestionId}/approve`, {});
    expect(approved.status).toBe(200);
    const answered = await t.app.pipeline.receive(t.message('aprite anche a Natale?', { customer: { platformId: 'cust-natale' } }));
    expect(answered).toMatchObject({ action: 'answer', faqId: 'orari-apertura' });
    expect(answered.replies.map((r) => r.reply.text).join(' ')).toContain('A Natale siamo chiusi.');
  });
});
