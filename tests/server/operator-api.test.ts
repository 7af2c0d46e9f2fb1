import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { anonymous, closeSharedKnowledge, login, logins, PASSWORDS, startApiApp, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

type Row = { conversationId: string; state: string; breached: boolean; slaRemainingMs: number; slaDueAt: string; reason: string; priority: number; assigneeName?: string };

async function escalate(t: ApiApp, text = 'voglio parlare con un operatore', extra = {}): Promise<string> {
  const outcome = await t.app.pipeline.receive(t.message(text, extra));
  expect(outcome.action).toBe('escalate');
  return outcome.conversation!.id;
}

describe('operator API: sessions and protection', () => {
  let t: ApiApp;
  beforeEach(async () => {
    t = await startApiApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses every route without a session with 401', async () => {
    const client = anonymous(t.base);
    const gets = ['/me', '/queue', '/events', '/operators', '/conversations/cv_x', '/conversations/cv_x/suggestions', '/suggestions'];
    const posts = ['/logout', '/conversations/cv_x/claim', '/conversations/cv_x/reply', '/conversations/cv_x/note', '/conversations/cv_x/ask-private', '/conversations/cv_x/transfer', '/conversations/cv_x/resolve', '/conversations/cv_x/return-to-bot', '/conversations/cv_x/typing', '/suggestions/s1/approve', '/suggestions/s1/reject'];
    for (const path of gets) expect([path, (await client.get(path)).status]).toEqual([path, 401]);
    for (const path of posts) expect([path, (await client.post(path, { text: 'x' })).status]).toEqual([path, 401]);
    // a forged cookie is no session either
    client.cookie = 'sportello_session=eyJvIjoib3AtYW5uYSIsIm4iOiJ4IiwiZSI6OTk5OTk5OTk5OTk5OX0.forged';
    expect((await client.get('/me')).status).toBe(401);
  });

  it('logs in with a strict, http-only session cookie and a CSRF token', async () => {
    const res = await anonymous(t.base).post('/login', { name: 'marta', password: PASSWORDS.marta });
    expect(res.status).toBe(200);
    expect(res.body.operator).toEqual({ id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent' });
    expect(res.body.csrfToken).toEqual(expect.any(String));
    expect(JSON.stringify(res.body)).not.toContain('scrypt');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^sportello_session=[\w-]+\.[\w-]+; Max-Age=43200; HttpOnly; SameSite=Strict; Path=\/$/);
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    expect((await marta.get('/me')).body).toMatchObject({ operator: { name: 'Marta' }, csrfToken: marta.csrf });
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: 'wrong-password' })).status).toBe(401);
    expect((await anonymous(t.base).post('/login', { name: 'Nobody', password: 'wrong-password' })).body.error).toBe('wrong name or password');
  });

  it('refuses cross-site requests and requests without the CSRF token with 403, changing nothing', async () => {
    const id = await escalate(t);
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const attempts = [
      await marta.post(`/conversations/${id}/claim`, {}, { origin: 'https://evil.example' }),
      await marta.post(`/conversations/${id}/claim`, {}, { csrf: null }),
      await marta.post(`/conversations/${id}/claim`, {}, { csrf: 'not-the-token' }),
      await marta.post(`/conversations/${id}/claim`, {}, { origin: null, site: 'cross-site' }),
    ];
    expect(attempts.map((a) => a.status)).toEqual([403, 403, 403, 403]);
    expect(attempts[0]!.body.error).toBe('cross-site request refused');
    expect(attempts[1]!.body.error).toMatch(/X-CSRF-Token/);
    expect((await t.app.store.conversations.get(id))!.state).toBe('queued');
    // another session's token does not fit this session
    const luca = await login(t.base, 'Luca', PASSWORDS.luca);
    expect((await marta.post(`/conversations/${id}/claim`, {}, { csrf: luca.csrf })).status).toBe(403);
    // login itself refuses another site (login CSRF)
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: PASSWORDS.marta }, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('blocks a name from an address after five failed logins, even with the right password', async () => {
    const client = anonymous(t.base);
    for (let i = 0; i < 5; i++) expect((await client.post('/login', { name: 'Marta', password: `guess-${i}-xxxx` })).status).toBe(401);
    const blocked = await client.post('/login', { name: 'marta', password: PASSWORDS.marta });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('15');
    expect(blocked.body.error).toMatch(/too many failed logins: try again in 15 seconds/);
    // another operator is not locked out
    expect((await client.post('/login', { name: 'Luca', password: PASSWORDS.luca })).status).toBe(200);
    // 15 seconds later Marta may try again
    t.clock.advance(15_000);
    expect((await client.post('/login', { name: 'Marta', password: PASSWORDS.marta })).status).toBe(200);
  });

  it('ends a session at logout, even for a copy of the cookie', async () => {
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    const copy = anonymous(t.base);
    copy.cookie = marta.cookie;
    const out = await marta.post('/logout', {});
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^sportello_session=; Max-Age=0/);
    expect((await copy.get('/me')).status).toBe(401);
  });

  it('expires a session after 12 hours', async () => {
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    t.clock.advance(12 * 3_600_000 + 1000);
    expect((await marta.get('/queue')).status).toBe(401);
  });

  it('answers 400 naming each invalid field', async () => {
    const id = await escalate(t);
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    await marta.post(`/conversations/${id}/claim`, {});
    const res = await marta.post(`/conversations/${id}/reply`, { text: '   ', visibility: 'everyone' });
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'text' }), expect.objectContaining({ field: 'visibility' })]),
    );
    const notJson = await fetch(`${t.base}/api/operator/conversations/${id}/note`, {
      method: 'POST',
      headers: { cookie: marta.cookie!, 'x-csrf-token': marta.csrf!, origin: t.base, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(notJson.status).toBe(400);
  });
});

describe('operator API: working the queue', () => {
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

  it('gives a conversation claimed by two operators at once to exactly one of them', async () => {
    const id = await escalate(t);
    const [a, b] = await Promise.all([marta.post(`/conversations/${id}/claim`, {}), luca.post(`/conversations/${id}/claim`, {})]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 200 ? 'Marta' : 'Luca';
    expect(loser.body.error).toBe(`already claimed by ${winner}`);
    const conversation = await t.app.store.conversations.get(id);
    expect(conversation!.assignee).toBe(winner === 'Marta' ? 'op-marta' : 'op-luca');
  });

  it('lets only the holder reply and resolve, and an admin take over', async () => {
    const id = await escalate(t);
    expect((await marta.post(`/conversations/${id}/claim`, {})).status).toBe(200);
    const reply = await luca.post(`/conversations/${id}/reply`, { text: 'Ciao, sono Luca' });
    expect(reply.status).toBe(409);
    expect(reply.body.error).toBe('this conversation is held by Marta');
    expect((await luca.post(`/conversations/${id}/resolve`, {})).status).toBe(409);
    expect((await luca.post(`/conversations/${id}/claim`, { takeover: true })).status).toBe(409);
    const takeover = await anna.post(`/conversations/${id}/claim`, { takeover: true });
    expect(takeover.status).toBe(200);
    expect((takeover.body.conversation as { assignee: string }).assignee).toBe('op-anna');
    expect((await marta.post(`/conversations/${id}/reply`, { text: 'ancora io' })).status).toBe(409);
    expect((await anna.post(`/conversations/${id}/reply`, { text: 'Ciao, sono Anna: ci penso io.' })).status).toBe(200);
    await t.app.sender.drain();
    expect(t.channel.sent.at(-1)!.reply).toEqual({ kind: 'text', text: 'Ciao, sono Anna: ci penso io.' });
    expect(t.channel.sent.at(-1)!.author).toMatchObject({ kind: 'operator', name: 'Anna' });
  });

  it('shows the queue with waiting time and flags a breached SLA', async () => {
    const id = await escalate(t); // human_request: priority 2, 60 business minutes
    let queue = await marta.get('/queue');
    let row = (queue.body.rows as Row[]).find((r) => r.conversationId === id)!;
    expect(row).toMatchObject({ state: 'queued', reason: 'human_request', priority: 2, breached: false, slaRemainingMs: 3_600_000 });
    expect(queue.body.open).toBe(true);
    t.clock.advance(61 * 60_000);
    queue = await marta.get('/queue');
    row = (queue.body.rows as Row[]).find((r) => r.conversationId === id)!;
    expect(row.breached).toBe(true);
    expect(row.slaRemainingMs).toBe(-60_000);
    expect(row.priority).toBe(1); // waited a whole SLA period: one level more urgent
  });

  it('sends a reply, notes, transfers and resolves, recording everything in the history', async () => {
    const id = await escalate(t);
    await marta.post(`/conversations/${id}/claim`, {});
    expect((await marta.post(`/conversations/${id}/note`, { text: 'cliente già sentito ieri' })).status).toBe(200);
    const reply = await marta.post(`/conversations/${id}/reply`, { text: 'Ciao, sono Marta. Come posso aiutarti?' });
    expect(reply.body.outbox).toMatchObject({ status: 'pending', visibility: 'private' });
    await t.app.sender.drain();
    expect(t.channel.sent.map((s) => s.reply.text)).toContain('Ciao, sono Marta. Come posso aiutarti?');
    expect(t.channel.sent.map((s) => s.reply.text)).not.toContain('cliente già sentito ieri');
    expect((await marta.post(`/conversations/${id}/transfer`, { operatorId: 'op-marta' })).status).toBe(409); // already hers
    expect((await marta.post(`/conversations/${id}/transfer`, { operatorId: 'op-luca', reason: 'x'.repeat(501) })).status).toBe(400);
    const moved = await marta.post(`/conversations/${id}/transfer`, { operatorId: 'op-luca', reason: '  segue lui i resi  ' });
    expect((moved.body.conversation as { assignee: string }).assignee).toBe('op-luca');
    const afterMove = (await luca.get(`/conversations/${id}`)).body.messages as Array<{ direction: string; text: string; author: { name?: string }; transfer?: unknown }>;
    const transferNote = afterMove.find((m) => m.transfer !== undefined)!;
    expect(transferNote).toMatchObject({ direction: 'note', text: '→ Luca: segue lui i resi', transfer: { from: 'op-marta', to: 'op-luca', reason: 'segue lui i resi' } });
    expect(transferNote.author.name).toBe('Marta');
    expect((await marta.post(`/conversations/${id}/resolve`, {})).status).toBe(409);
    const resolved = await luca.post(`/conversations/${id}/resolve`, {});
    expect((resolved.body.conversation as { state: string }).state).toBe('resolved');
    const detail = await anna.get(`/conversations/${id}`);
    const messages = detail.body.messages as Array<{ direction: string; text: string }>;
    expect(messages.map((m) => m.direction)).toEqual(expect.arrayContaining(['in', 'out', 'note']));
    expect(messages.find((m) => m.direction === 'note')!.text).toBe('cliente già sentito ieri');
    expect((detail.body.case as { status: string }).status).toBe('resolved');
  });

  it('returns a conversation to the bot', async () => {
    const id = await escalate(t);
    await marta.post(`/conversations/${id}/claim`, {});
    const res = await marta.post(`/conversations/${id}/return-to-bot`, {});
    expect(res.status).toBe(200);
    expect((res.body.conversation as { state: string }).state).toBe('bot');
    expect(((await marta.get('/queue')).body.rows as Row[]).map((r) => r.conversationId)).not.toContain(id);
    expect((await marta.post(`/conversations/${id}/return-to-bot`, {})).status).toBe(409);
  });

  it('lets only the holder say they are typing (nothing is stored)', async () => {
    const id = await escalate(t);
    expect((await marta.post(`/conversations/${id}/typing`, {})).status).toBe(409); // not claimed yet
    await marta.post(`/conversations/${id}/claim`, {});
    const before = await t.app.store.conversations.listMessages({ conversationId: id });
    expect((await marta.post(`/conversations/${id}/typing`, {})).status).toBe(200);
    expect(await t.app.store.conversations.listMessages({ conversationId: id })).toEqual(before);
    expect((await marta.post('/conversations/cv_nope/typing', {})).status).toBe(404);
  });

  it('suggests FAQ answers for the customer’s last message', async () => {
    const id = await escalate(t);
    await marta.post(`/conversations/${id}/claim`, {});
    await t.app.pipeline.receive(t.message('quali sono i vostri orari di apertura?'));
    const res = await marta.get(`/conversations/${id}/suggestions`);
    expect(res.status).toBe(200);
    const suggestions = res.body.suggestions as Array<{ faqId: string; answer: string; confidence: number }>;
    expect(suggestions.length).toBeGreaterThan(0);
    expect(suggestions.length).toBeLessThanOrEqual(3);
    expect(suggestions[0]!.faqId).toBe('orari-apertura');
    expect(suggestions[0]!.answer).toMatch(/luned|sabato/i);
  });

  it('shows the whole case: public and private conversations, flagged private data, earlier cases', async () => {
    // an earlier case, resolved
    const first = await escalate(t, 'voglio parlare con un operatore');
    await marta.post(`/conversations/${first}/claim`, {});
    await marta.post(`/conversations/${first}/resolve`, {});
    // now a public post with an email address in it, then the private conversation
    const pub = await t.app.pipeline.receive(
      t.message('il mio ordine non arriva, scrivetemi a mario.rossi@example.com', { visibility: 'public', threadId: 'post-1' }),
    );
    const priv = await escalate(t, 'voglio parlare con un operatore, è urgente');
    const detail = await marta.get(`/conversations/${priv}`);
    expect(detail.status).toBe(200);
    const conversations = detail.body.conversations as Array<{ id: string; visibility: string }>;
    expect(conversations.map((c) => c.visibility).sort()).toEqual(['private', 'public']);
    expect(conversations.map((c) => c.id)).toContain(pub.conversation!.id);
    const messages = detail.body.messages as Array<{ conversationVisibility: string; flagged: boolean; text: string }>;
    const flagged = messages.filter((m) => m.flagged);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ conversationVisibility: 'public' });
    const earlier = detail.body.earlierCases as Array<{ status: string; firstMessage: string }>;
    expect(earlier).toHaveLength(1);
    expect(earlier[0]).toMatchObject({ status: 'resolved', firstMessage: 'voglio parlare con un operatore' });
  });

  it('answers 404 for a conversation that does not exist, and changes nothing', async () => {
    expect((await marta.get('/conversations/cv_missing')).status).toBe(404);
    const claim = await marta.post('/conversations/cv_missing/claim', {});
    expect(claim.status).toBe(404);
    expect(claim.body.error).toBe('conversation cv_missing does not exist');
    expect((await marta.post('/conversations/cv_missing/note', { text: 'x' })).status).toBe(404);
    expect((await marta.get('/conversations/bad%20id!')).status).toBe(400);
  });

  it('lists operators for transfer without their password hashes', async () => {
    const res = await marta.get('/operators');
    expect((res.body.operators as Array<{ name: string }>).map((o) => o.name).sort()).toEqual(['Anna', 'Luca', 'Marta']);
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|passwordHash/);
  });

  it('turns a case resolved with "add to FAQ" into a suggestion only an admin may review', async () => {
    const id = await escalate(t, 'voglio parlare con un operatore: posso pagare con satispay?');
    await marta.post(`/conversations/${id}/claim`, {});
    await marta.post(`/conversations/${id}/reply`, { text: 'Sì, accettiamo Satispay sia in negozio sia online.' });
    const resolved = await marta.post(`/conversations/${id}/resolve`, { addToFaq: true });
    expect(resolved.status).toBe(200);
    const suggestionId = resolved.body.suggestionId as string;
    expect(suggestionId).toEqual(expect.any(String));
    const list = await marta.get('/suggestions?status=pending');
    expect((list.body.suggestions as Array<{ id: string }>).map((s) => s.id)).toContain(suggestionId);
    const denied = await marta.post(`/suggestions/${suggestionId}/reject`, {});
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('only an admin can do this');
    const rejected = await anna.post(`/suggestions/${suggestionId}/reject`, {});
    expect(rejected.status).toBe(200);
    expect(rejected.body.suggestion).toMatchObject({ status: 'rejected', reviewedBy: 'op-anna' });
    expect((await anna.post(`/suggestions/${suggestionId}/reject`, {})).status).toBe(409);
  });

  it('streams queue changes and new customer messages over SSE', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.base}/api/operator/events`, { headers: { cookie: marta.cookie! }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let received = '';
    const waitFor = async (pattern: RegExp) => {
      while (!pattern.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        received += new TextDecoder().decode(value);
      }
    };
    await waitFor(/event: ready/);
    const id = await escalate(t);
    await waitFor(/event: conversation\.escalated/);
    expect(received).toContain(`"conversationId":"${id}"`);
    await marta.post(`/conversations/${id}/claim`, {});
    await waitFor(/event: conversation\.assigned/);
    await t.app.pipeline.receive(t.message('ci siete?'));
    await waitFor(/event: message\.received/);
    // events carry ids, never the customer's text
    expect(received).not.toContain('ci siete?');
    controller.abort();
  });
});

describe('operator console files', () => {
  let t: ApiApp;
  beforeEach(async () => {
    t = await startApiApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('serves the console page with a strict content security policy, and its modules', async () => {
    const page = await fetch(`${t.base}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(await page.text()).toContain('/console/app.js');
    const script = await fetch(`${t.base}/console/app.js`);
    expect(script.headers.get('content-type')).toMatch(/text\/javascript/);
    expect((await fetch(`${t.base}/console/..%2Fserver%2Foperator-api.ts`)).status).toBe(404);
    expect((await fetch(`${t.base}/console/missing.js`)).status).toBe(404);
  });
});
