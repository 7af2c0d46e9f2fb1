/**
 * Issue 22, the audit trail, on a real instance (lowdb store, HTTP on 127.0.0.1): every action of
 * the list leaves one entry with who, when, what and from where — login (and a wrong
 * password for an existing operator), opening a conversation, reply, note, transfer, resolve,
 * export, erase, approve, crisis open and close (with the topic), the settings (team, saved
 * replies, assignment, password) and operators added, given another role or removed by the CLI. The admin
 * API `GET /api/operator/audit` filters and pages it; agents get 403 on it and on erasure.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperator } from '../../src/cli/operator.js';
import type { AuditEntry } from '../../src/core/types.js';
import { customerRef } from '../../src/handoff/customer-rights.js';
import { ROOT } from '../helpers/app.js';
import { capture } from '../helpers/capture.js';
import { anonymous, closeSharedKnowledge, login, PASSWORDS, startApiApp, type Answer, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

async function call(base: string, client: Client, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: base };
  if (client.cookie) headers.cookie = client.cookie;
  if (client.csrf) headers['x-csrf-token'] = client.csrf;
  const res = await fetch(`${base}/api/operator${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

type ApiEntry = { id: string; at: string; operator_id: string; operator_name: string | null; action: string; target: string | null; from: string | null };

describe('the audit trail', () => {
  let t: ApiApp;
  let dir: string;
  beforeEach(async () => {
    // A FAQ folder of its own: approving a suggestion writes into it.
    dir = mkdtempSync(join(tmpdir(), 'sportello-audit-'));
    cpSync(join(ROOT, 'faq'), join(dir, 'faq'), { recursive: true });
    cpSync(join(ROOT, 'intents'), join(dir, 'intents'), { recursive: true });
    t = await startApiApp({ FAQ_DIR: join(dir, 'faq'), INTENTS_DIR: join(dir, 'intents') });
  });
  afterEach(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has an entry for each action of the list, with who, when, what and from where, and no texts', async () => {
    const start = t.clock.now().toISOString();
    // A wrong password for Marta is recorded under her; a name that is nobody's is not recorded at all.
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: 'not-her-password' })).status).toBe(401);
    expect((await anonymous(t.base).post('/login', { name: 'my-secret-password', password: 'x' })).status).toBe(401);
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);

    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore: fate incisioni sulle tazze?', { customer: { platformId: 'giulia-01', name: 'Giulia Neri' }, id: 'g1' }));
    const id = escalated.conversation!.id;
    expect((await marta.get(`/conversations/${id}`)).status).toBe(200);
    // The console reads the open conversation again on each event: not a new opening.
    expect((await marta.get(`/conversations/${id}`)).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/claim`, {})).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/reply`, { text: 'Sì, incidiamo nomi e date in 3 giorni lavorativi.' })).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/note`, { text: 'cliente molto gentile' })).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/transfer`, { operatorId: t.luca.id })).status).toBe(200);
    // Luca holds it now: he cannot be removed (refused, so not in the trail).
    const refused = capture('');
    expect(await runOperator(['remove', '--name', 'Luca'], refused.io, { store: t.app.store, clock: t.clock })).toBe(1);
    expect(refused.err()).toMatch(/Luca holds 1 conversation \(cv_[^)]+\): an admin transfers them/);
    const luca = await login(t.base, 'Luca', PASSWORDS.luca);
    const resolved = await luca.post(`/conversations/${id}/resolve`, { addToFaq: true });
    expect(resolved.status).toBe(200);
    const suggestionId = resolved.body.suggestionId as string;
    expect((await anna.post(`/suggestions/${suggestionId}/approve`, {})).status).toBe(200);

    expect((await anna.post('/crisis', { topic: 'pagamenti rifiutati' })).status).toBe(200);
    expect((await anna.post('/crisis/close', {})).status).toBe(200);

    expect((await anna.post('/teams', { name: 'Social', members: [t.marta.id] })).status).toBe(200);
    expect((await anna.post('/saved-replies', { language: 'it', shortcut: 'grazie', text: 'Grazie a te, {customer_name}!' })).status).toBe(200);
    expect((await call(t.base, anna, 'PUT', '/assignment', { capacity: 4 })).status).toBe(200);
    const changed = await marta.post('/password', { currentPassword: PASSWORDS.marta, newPassword: 'marta-new-password-9' });
    expect(changed.status).toBe(200);
    // Her other sessions ended: this one goes on with the new cookie and token.
    marta.cookie = changed.headers.get('set-cookie')!.split(';')[0];
    marta.csrf = changed.body.csrfToken as string;

    const customer = encodeURIComponent('chat:giulia-01');
    expect((await call(t.base, anna, 'GET', `/customers/${customer}/export`)).status).toBe(200);
    // Agents: neither the trail nor an erasure.
    expect((await call(t.base, marta, 'DELETE', `/customers/${customer}`)).status).toBe(403);
    expect((await marta.get('/audit')).status).toBe(403);
    expect((await anonymous(t.base).get('/audit')).status).toBe(401);
    expect((await call(t.base, anna, 'DELETE', `/customers/${customer}`)).status).toBe(200);

    // The CLI on the server's machine: an operator added, then made an admin.
    const added = capture('chiara-password-4444\n');
    expect(await runOperator(['add', '--name', 'Chiara', '--initials', 'CB', '--role', 'agent'], added.io, { store: t.app.store, clock: t.clock })).toBe(0);
    const chiara = (await t.app.store.directory.findOperatorByName('Chiara'))!;
    const promoted = capture('');
    expect(await runOperator(['role', '--name', 'Chiara', '--role', 'admin'], promoted.io, { store: t.app.store, clock: t.clock })).toBe(0);
    expect((await t.app.store.directory.getOperator(chiara.id))?.role).toBe('admin');
    // Removed: her open session ends at once.
    const chiaraSession = await login(t.base, 'Chiara', 'chiara-password-4444');
    expect((await chiaraSession.get('/me')).status).toBe(200);
    expect(await runOperator(['remove', '--name', 'Chiara'], capture('').io, { store: t.app.store, clock: t.clock })).toBe(0);
    expect((await chiaraSession.get('/me')).status).toBe(401);

    const trail = await t.app.store.audit.list({ limit: 500 });
    const seen = trail.map((e) => [e.operatorId, e.action, e.target ?? null]);
    const giulia = customerRef('chat:giulia-01');
    expect(seen).toEqual([
      [t.marta.id, 'login.failed', null],
      [t.marta.id, 'login', null],
      [t.anna.id, 'login', null],
      [t.marta.id, 'conversation.open', id],
      [t.marta.id, 'conversation.claim', id],
      [t.marta.id, 'conversation.reply', id],
      [t.marta.id, 'conversation.note', id],
      [t.marta.id, 'conversation.transfer', id],
      [t.luca.id, 'login', null],
      [t.luca.id, 'conversation.resolve', id],
      [t.anna.id, 'faq.approve', suggestionId],
      [t.anna.id, 'crisis.open', 'pagamenti rifiutati'],
      [t.anna.id, 'crisis.close', 'pagamenti rifiutati'],
      [t.anna.id, 'settings.team_add', null],
      [t.anna.id, 'settings.saved_reply_add', null],
      [t.anna.id, 'settings.assignment', null],
      [t.marta.id, 'password.change', null],
      [t.anna.id, 'customer.export', giulia],
      [t.anna.id, 'customer.erase', giulia],
      ['cli', 'operator.add', chiara.id],
      ['cli', 'operator.role_admin', chiara.id],
      [chiara.id, 'login', null],
      ['cli', 'operator.remove', chiara.id],
    ]);
    for (const e of trail) {
      expect(e.at >= start).toBe(true);
      expect(e.id).toMatch(/^aud_/);
      expect(e.from).toBe(e.operatorId === 'cli' ? 'cli' : '127.0.0.1');
    }
    // What was written, the customer's name and the name typed at the failed login are not in it.
    const text = JSON.stringify(trail);
    for (const secret of ['incidiamo', 'gentile', 'Giulia', 'giulia', 'my-secret-password', 'not-her-password', 'Grazie a te', 'chiara-password']) expect(text).not.toContain(secret);
  });

  it('answers an admin the trail newest first through the API, filtered by operator, action and day, a page at a time', async () => {
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const outcome = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: `c${i}` }, id: `m${i}` }));
      ids.push(outcome.conversation!.id);
      t.clock.advance(60_000);
      expect((await marta.get(`/conversations/${outcome.conversation!.id}`)).status).toBe(200);
    }
    // The next day (Rome), Anna opens one more.
    t.clock.set('2026-11-25T09:30:00+01:00');
    const anna = await login(t.base, 'Anna', PASSWORDS.anna);
    expect((await anna.get(`/conversations/${ids[0]}`)).status).toBe(200);

    const first = await anna.get(`/audit?operator=${t.marta.id}&action=conversation.open&limit=2`);
    expect(first.status).toBe(200);
    const page1 = first.body.entries as ApiEntry[];
    expect(page1.map((e) => e.target)).toEqual([ids[4], ids[3]]);
    expect(page1[0]).toMatchObject({ operator_id: t.marta.id, operator_name: 'Marta', action: 'conversation.open', from: '127.0.0.1' });
    const second = await anna.get(`/audit?operator=${t.marta.id}&action=conversation.open&limit=2&cursor=${first.body.next_cursor as string}`);
    expect((second.body.entries as ApiEntry[]).map((e) => e.target)).toEqual([ids[2], ids[1]]);
    const third = await anna.get(`/audit?operator=${t.marta.id}&action=conversation.open&limit=2&cursor=${second.body.next_cursor as string}`);
    expect((third.body.entries as ApiEntry[]).map((e) => e.target)).toEqual([ids[0]]);
    expect(third.body.next_cursor).toBeNull();

    // Days are the team's (Europe/Rome): 25 November holds only Anna's opening; to includes its whole day.
    const day = await anna.get('/audit?from=2026-11-25&to=2026-11-25&action=conversation.open');
    expect((day.body.entries as ApiEntry[]).map((e) => [e.operator_name, e.target])).toEqual([['Anna', ids[0]]]);
    const before = await anna.get('/audit?to=2026-11-24');
    expect((before.body.entries as ApiEntry[]).map((e) => e.action)).toEqual(['conversation.open', 'conversation.open', 'conversation.open', 'conversation.open', 'conversation.open', 'login']);

    // Wrong parameters: 400 with the field, never ignored.
    for (const [query, field] of [['limit=0', 'limit'], ['frm=2026-11-24', '(query)'], ['cursor=abc', 'cursor'], ['action=DROP TABLE', 'action'], ['from=ieri', 'from']] as const) {
      const bad = await anna.get(`/audit?${query}`);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.fields)).toContain(field);
    }
    // A key the query string does not take is named as the query's (not the body's: a GET has none).
    const unknownKey = await anna.get('/audit?frm=2026-11-24');
    expect(unknownKey.body.error).toMatch(/^invalid request: \(query\) Unrecognized key/);
    expect(JSON.stringify(unknownKey.body)).not.toContain('(body)');
    // A key the body does not take is still the body's.
    const badBody = await anna.post('/saved-replies', { language: 'it', shortcut: 'orari', text: 'Siamo aperti dalle 9.', colour: 'red' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toMatch(/^invalid request: \(body\) Unrecognized key/);
    expect((await anna.get('/audit?from=2026-11-25&to=2026-11-24')).status).toBe(400);
  });
});
