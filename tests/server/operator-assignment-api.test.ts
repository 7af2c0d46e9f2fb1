/**
 * Presence, auto-assignment, away operators' conversations returning to the queue, and teams
 * (issue 21), on a real instance: the assignment passes run on the events that call for them.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { anonymous, closeSharedKnowledge, escalateFrom as escalate, logins, startApiApp, type Answer, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

async function call(base: string, client: Client, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options: { csrf?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', origin: base };
  if (client.cookie) headers.cookie = client.cookie;
  const csrf = options.csrf === undefined ? client.csrf : options.csrf;
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`${base}/api/operator${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

/** Waits until `check` holds (the passes run in the background after events), failing after 10 s. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('operator API: presence and assignment', () => {
  let t: ApiApp;
  let marta: Client;
  let luca: Client;
  let anna: Client;
  beforeEach(async () => {
    t = await startApiApp();
    [marta, luca, anna] = await logins(t.base, 'Marta', 'Luca', 'Anna');
  });
  afterEach(async () => {
    await t.close();
  });
  const holder = async (id: string) => {
    const c = await t.app.store.conversations.get(id);
    return c?.state === 'assigned' ? c.assignee : c?.state;
  };

  it('needs a session (401), the CSRF token for changes (403), and an admin for settings and teams', async () => {
    const none = anonymous(t.base);
    const routes: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string]> = [
      ['GET', '/presence'],
      ['POST', '/presence'],
      ['GET', '/assignment'],
      ['PUT', '/assignment'],
      ['GET', '/teams'],
      ['POST', '/teams'],
      ['PUT', '/teams/team_x'],
      ['DELETE', '/teams/team_x'],
    ];
    for (const [method, path] of routes) expect([path, (await call(t.base, none, method, path, method === 'GET' ? undefined : {})).status]).toEqual([path, 401]);
    for (const [method, path] of routes.filter(([m]) => m !== 'GET')) expect([path, (await call(t.base, anna, method, path, {}, { csrf: null })).status]).toEqual([path, 403]);
    // agents read, but cannot change the settings or the teams
    expect((await call(t.base, marta, 'GET', '/assignment')).body).toEqual({ auto_assign: false, capacity: 5, away_return_minutes: null, skills: {} });
    expect((await call(t.base, marta, 'PUT', '/assignment', { auto_assign: true })).status).toBe(403);
    expect((await call(t.base, marta, 'POST', '/teams', { name: 'English' })).status).toBe(403);
    const team = await call(t.base, anna, 'POST', '/teams', { name: 'English', members: [t.luca.id], languages: ['en'] });
    expect(team.status).toBe(200);
    const teamId = (team.body.team as { id: string }).id;
    expect((await call(t.base, marta, 'PUT', `/teams/${teamId}`, { name: 'x' })).status).toBe(403);
    expect((await call(t.base, marta, 'DELETE', `/teams/${teamId}`)).status).toBe(403);
    expect((await call(t.base, anna, 'PUT', '/assignment', { capacity: 0 })).status).toBe(400);
    expect((await call(t.base, anna, 'PUT', '/assignment', { skills: { 'op-nobody': { languages: ['en'] } } })).status).toBe(400);
    expect((await call(t.base, anna, 'POST', '/teams', { name: 'English' })).status).toBe(409);
    expect((await call(t.base, anna, 'POST', '/teams', { name: 'Ghosts', members: ['op-nobody'] })).status).toBe(400);
    expect((await call(t.base, anna, 'PUT', `/teams/${teamId}`, { channels: ['chat'] })).body.team).toMatchObject({ name: 'English', channels: ['chat'], languages: ['en'], members: [t.luca.id] });
    expect(((await call(t.base, luca, 'GET', '/teams')).body.teams as unknown[]).length).toBe(1);
    expect((await call(t.base, anna, 'DELETE', `/teams/${teamId}`)).status).toBe(200);
    expect((await call(t.base, anna, 'DELETE', `/teams/${teamId}`)).status).toBe(404);
  });

  it('shows who is online; an online operator whose console stopped checking in counts as away', async () => {
    expect((await marta.post('/presence', { status: 'online' })).body).toMatchObject({ operator_id: t.marta.id, status: 'online' });
    expect((await marta.post('/presence', { status: 'busy' })).status).toBe(400);
    const list = async () => ((await marta.get('/presence')).body.operators as Array<{ id: string; status: string; disconnected: boolean }>).map((o) => [o.id, o.status, o.disconnected]);
    expect(await list()).toEqual([
      [t.marta.id, 'online', false],
      [t.luca.id, 'away', false],
      [t.anna.id, 'away', false],
    ]);
    t.clock.advance(3 * 60_000);
    expect((await list())[0]).toEqual([t.marta.id, 'away', true]);
    // the live event stream checks in for the console
    const stream = await fetch(`${t.base}/api/operator/events`, { headers: { cookie: marta.cookie! } });
    const reader = stream.body!.getReader();
    await reader.read();
    await until('marta is online again', async () => (await list())[0]![1] === 'online');
    await reader.cancel();
  });

  it('auto-assigns a new case to the online operator with capacity and the skills, round robin', async () => {
    expect((await call(t.base, anna, 'PUT', '/assignment', { auto_assign: true, capacity: 1, skills: { [t.luca.id]: { languages: ['en'] } } })).status).toBe(200);
    await marta.post('/presence', { status: 'online' });
    const first = await escalate(t, 'c1');
    await until('the first case is Marta’s', async () => (await holder(first)) === t.marta.id);
    // Marta is full and Luca away: the next one waits
    const second = await escalate(t, 'c2');
    await t.app.assignment.run();
    expect(await holder(second)).toBe('queued');
    // Luca comes online, but takes English only
    await luca.post('/presence', { status: 'online' });
    await t.app.assignment.run();
    expect(await holder(second)).toBe('queued');
    const english = await escalate(t, 'c3', 'I want to talk to a human please');
    await until('the English case is Luca’s', async () => (await holder(english)) === t.luca.id);
    // Marta frees up: the waiting case is hers
    await marta.post(`/conversations/${first}/resolve`, {});
    await until('the second case is Marta’s', async () => (await holder(second)) === t.marta.id);
  });

  it('returns an away operator’s conversations to the queue after the configured time', async () => {
    await call(t.base, anna, 'PUT', '/assignment', { away_return_minutes: 10 });
    const id = await escalate(t, 'c4');
    await marta.post(`/conversations/${id}/claim`, {});
    await marta.post('/presence', { status: 'away' });
    t.clock.advance(9 * 60_000);
    expect(await t.app.assignment.run()).toEqual({ assigned: 0, released: 0 });
    expect(await holder(id)).toBe(t.marta.id);
    t.clock.advance(2 * 60_000);
    expect(await t.app.assignment.run()).toEqual({ assigned: 0, released: 1 });
    expect(await holder(id)).toBe('queued');
    expect(((await marta.get('/queue')).body.rows as Array<{ conversationId: string; state: string }>).find((r) => r.conversationId === id)?.state).toBe('queued');
  });

  it('gives a team its own queue view: its channels and languages', async () => {
    const team = (await call(t.base, anna, 'POST', '/teams', { name: 'English desk', members: [t.luca.id], languages: ['en'] })).body.team as { id: string };
    const it1 = await escalate(t, 'c5');
    const en1 = await escalate(t, 'c6', 'I want to talk to a human please');
    const ids = async (q: string) => ((await luca.get(`/conversations${q}`)).body.conversations as Array<{ id: string }>).map((r) => r.id);
    expect(await ids(`?view=unassigned&team=${team.id}`)).toEqual([en1]);
    expect((await ids('?view=unassigned')).sort()).toEqual([it1, en1].sort());
    expect(await ids(`?team=${team.id}&language=it`)).toEqual([]);
    expect((await luca.get('/conversations?team=team_nope')).status).toBe(404);
  });
});
