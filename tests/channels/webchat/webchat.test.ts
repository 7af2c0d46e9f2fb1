import { createHash } from 'node:crypto';
import { loadConfig } from '../../../src/config/config.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { newSession, openEvents, parseEvents, postMessage, readEvents } from './helpers.js';

describe('the web chat', () => {
  let t: TestApp;
  let base: string;
  beforeEach(async () => {
    t = await startTestApp();
    base = await t.app.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await t.close();
  });

  it('is linked from the server\'s start page, with the console (a person opening the server\'s address gets no 404)', async () => {
    const start = await fetch(`${base}/`);
    expect(start.status).toBe(200);
    expect(start.headers.get('content-type')).toMatch(/^text\/html/);
    expect(start.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await start.text();
    expect(html).toMatch(/<a href="\/chat">Web chat<\/a>/);
    expect(html).toMatch(/<a href="\/console">Operator console<\/a>/);
  });

  it('serves the page and refuses a message without a valid session', async () => {
    expect(await (await fetch(`${base}/chat`)).text()).toMatch(/<html lang="it">/);
    const bad = await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 'x', text: 'ciao' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: string[] }).issues.join()).toMatch(/session/);
  });

  it('pushes the bot reply to the open page and replays the conversation after a reload', async () => {
    const { session, visitor } = await newSession(base);
    const live = readEvents(`${base}/chat/api/events?session=${session}`, /event: reply/);
    await new Promise((r) => setTimeout(r, 100));
    const posted = await fetch(`${base}/chat/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session, id: 'client-msg-1', text: 'come posso pagare?' }),
    });
    expect(posted.status).toBe(202);
    expect(await live).toMatch(/PayPal/);

    const replay = await readEvents(`${base}/chat/api/events?session=${session}`, /event: reply/);
    expect(replay.indexOf('event: mine')).toBeLessThan(replay.indexOf('event: reply'));
    expect(replay).toMatch(/"id":"client-msg-1","text":"come posso pagare\?"/);
    expect(replay).toMatch(/PayPal/);
    // The message's id (it goes into logs) does not carry the visitor's id; the page's own id is kept.
    const conversation = await t.app.store.conversations.findByKey(`webchat:private:${visitor}`);
    const stored = (await t.app.store.conversations.listMessages({ conversationId: conversation!.id })).filter((m) => m.direction === 'in');
    expect(stored).toHaveLength(1);
    expect(stored[0]!.platformId).toMatch(/\.client-msg-1$/);
    expect(stored[0]!.platformId).not.toContain(visitor);
  });

  it('is served through its adapter\'s routes, like every channel', async () => {
    const routes = t.app.channels.get('webchat')?.routes?.map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual(['GET /chat', 'POST /chat/api/sessions', 'POST /chat/api/messages', 'GET /chat/api/events']);
    const page = await fetch(`${base}/chat`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('ends an open event stream when the app closes (the channel ends it, before the server grace for open sockets)', async () => {
    const { session, visitor } = await newSession(base);
    const res = await fetch(`${base}/chat/api/events?session=${session}`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const started = Date.now();
    const closing = t.close();
    let done = false;
    while (!done) done = (await reader.read()).done; // the channel ended the stream
    expect(Date.now() - started).toBeLessThan(900); // before the server's 1 s grace would cut the socket
    await closing;
  });

  it('shows an operator reply sent later to the open page', async () => {
    const { session, visitor } = await newSession(base);
    await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session, text: 'voglio parlare con un operatore' }) });
    await t.app.pipeline.idle();
    await t.app.sender.drain();
    const conversation = await t.app.store.conversations.findByKey(`webchat:private:${visitor}`);
    expect(conversation?.state).toBe('queued');
    const operator = { id: 'op-w', name: 'Marta', initials: 'MR', role: 'agent' as const, passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
    await t.app.store.directory.addOperator(operator);
    await t.app.desk.claim(conversation!.id, operator);
    const live = readEvents(`${base}/chat/api/events?session=${session}`, /sono Marta/);
    await new Promise((r) => setTimeout(r, 200));
    await t.app.desk.reply(conversation!.id, operator, 'Ciao, sono Marta: ti aiuto io.');
    expect(await live).toMatch(/sono Marta: ti aiuto io.\"},\"author\":{\"kind\":\"operator\"/);
  });

  it('writes the welcome into the page, and allows only its own inline script and style (CSP by hash)', async () => {
    const res = await fetch(`${base}/chat`);
    const html = await res.text();
    const config = JSON.parse(/<script type="application\/json" id="config">(.*?)<\/script>/s.exec(html)![1]!) as { welcome: { it: string; en: string } };
    expect(config.welcome).toEqual({ it: 'Ciao! Come posso aiutarti? Scrivi pure la tua domanda.', en: 'Hi! How can I help you? Just type your question.' });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing loaded from elsewhere
  });

  it('takes the welcome from WEBCHAT_WELCOME_IT / _EN, escaped so it cannot close its block; none turns it off', async () => {
    const other = await startTestApp({ WEBCHAT_WELCOME_IT: 'Benvenuti </script><script>alert(1)</script>', WEBCHAT_WELCOME_EN: 'none' });
    try {
      const otherBase = await other.app.listen(0, '127.0.0.1');
      const html = await (await fetch(`${otherBase}/chat`)).text();
      expect(html).not.toContain('</script><script>alert(1)');
      const config = JSON.parse(/<script type="application\/json" id="config">(.*?)<\/script>/s.exec(html)![1]!) as { welcome: { it: string; en: string } };
      expect(config.welcome).toEqual({ it: 'Benvenuti </script><script>alert(1)</script>', en: '' });
    } finally {
      await other.close();
    }
    expect((loadConfig({ WEBCHAT_WELCOME_IT: '' }).channels.webchat as { welcome: unknown }).welcome).toEqual({
      it: 'Ciao! Come posso aiutarti? Scrivi pure la tua domanda.',
      en: 'Hi! How can I help you? Just type your question.',
    });
    expect(() => loadConfig({ WEBCHAT_WELCOME_EN: 'x'.repeat(1001) })).toThrow(/WEBCHAT_WELCOME_EN/);
  });

  it('dates every message, and after a turn names its replies', async () => {
    const { session, visitor } = await newSession(base);
    const live = await openEvents(`${base}/chat/api/events?session=${session}`);
    expect((await postMessage(base, { session, id: 'turn-msg-1', text: 'come posso pagare?' })).status).toBe(202);
    const events = parseEvents(await live.until(/event: reply[\s\S]*event: turn|event: turn[\s\S]*event: reply/));
    live.close();
    const replies = events.filter((e) => e.event === 'reply');
    const turn = events.find((e) => e.event === 'turn')!;
    expect(replies[0]!.data.at).toBe(t.clock.now().toISOString());
    expect(turn.data.replies).toEqual(replies.map((r) => r.data.id));

    const replay = parseEvents(await (await openEvents(`${base}/chat/api/events?session=${session}`)).until(/event: reply/));
    expect(replay.find((e) => e.event === 'mine')!.data).toEqual({ id: 'turn-msg-1', text: 'come posso pagare?', at: t.clock.now().toISOString() });
    expect(replay.find((e) => e.event === 'reply')!.data.at).toBe(t.clock.now().toISOString());
  });

  it('tells the page a turn ended with no reply (an operator holds the conversation), and only that visitor', async () => {
    const { session, visitor } = await newSession(base);
    await postMessage(base, { session, text: 'voglio parlare con un operatore' });
    await t.app.pipeline.idle();
    await t.app.sender.drain();
    const conversation = await t.app.store.conversations.findByKey(`webchat:private:${visitor}`);
    const operator = { id: 'op-h', name: 'Marta', initials: 'MR', role: 'agent' as const, passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
    await t.app.store.directory.addOperator(operator);
    await t.app.desk.claim(conversation!.id, operator);
    t.clock.advance(60_000); // a minute later (a turn's replies are those made at its time)
    const mine = await openEvents(`${base}/chat/api/events?session=${session}`);
    const someoneElse = await openEvents(`${base}/chat/api/events?session=${(await newSession(base)).session}`);
    await postMessage(base, { session, text: 'grazie, aspetto' });
    const events = parseEvents(await mine.until(/event: turn/));
    mine.close();
    expect(events.filter((e) => e.event === 'turn').map((e) => e.data)).toEqual([{ replies: [] }]);
    await t.app.pipeline.idle();
    expect(await someoneElse.until(/event: turn/, 300)).not.toMatch(/event: turn/);
    someoneElse.close();
  });

  it('shows the typing indicator on the open pages of the visitor whose turn is slow, and no one else', async () => {
    const { session, visitor } = await newSession(base);
    const mine = await openEvents(`${base}/chat/api/events?session=${session}`);
    const other = await openEvents(`${base}/chat/api/events?session=${(await newSession(base)).session}`);
    const adapter = t.app.channels.get('webchat')!;
    await adapter.typing!({ channel: 'webchat', id: 'm-typing', visibility: 'private', customer: { platformId: visitor }, text: 'ciao', sentAt: t.clock.now().toISOString() });
    expect(parseEvents(await mine.until(/event: typing/))).toEqual([{ event: 'typing', data: { author: { kind: 'bot' } } }]);
    expect(await other.until(/event: typing/, 300)).not.toMatch(/event: typing/);
    mine.close();
    other.close();
  });

  it('shows the operator holding the conversation typing, with their name; no one else may', async () => {
    const { session, visitor } = await newSession(base);
    await postMessage(base, { session, text: 'voglio parlare con un operatore' });
    await t.app.pipeline.idle();
    const conversation = (await t.app.store.conversations.findByKey(`webchat:private:${visitor}`))!;
    const marta = { id: 'op-t', name: 'Marta', initials: 'MR', role: 'agent' as const, passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
    const luca = { ...marta, id: 'op-l', name: 'Luca', initials: 'LB' };
    await t.app.store.directory.addOperator(marta);
    await t.app.store.directory.addOperator(luca);
    await expect(t.app.desk.composing(conversation.id, marta)).rejects.toThrow(/claim the conversation first/);
    await t.app.desk.claim(conversation.id, marta);
    const live = await openEvents(`${base}/chat/api/events?session=${session}`);
    await expect(t.app.desk.composing(conversation.id, luca)).rejects.toThrow(/held by Marta/);
    await t.app.desk.composing(conversation.id, marta);
    const typing = parseEvents(await live.until(/event: typing/)).filter((e) => e.event === 'typing');
    live.close();
    expect(typing).toEqual([{ event: 'typing', data: { author: { kind: 'operator', name: 'Marta', initials: 'MR' } } }]);
  });
});

describe('the web chat with a pipeline that shows typing at once', () => {
  it('sends typing while the turn runs, before the reply', async () => {
    const t = await startTestApp({}, undefined, undefined, { typingDelayMs: 0 });
    try {
      const base = await t.app.listen(0, '127.0.0.1');
      const { session, visitor } = await newSession(base);
      const live = await openEvents(`${base}/chat/api/events?session=${session}`);
      await postMessage(base, { session, text: 'quali sono i vostri orari di apertura?' });
      const names = parseEvents(await live.until(/event: reply/)).map((e) => e.event);
      live.close();
      expect(names.indexOf('typing')).toBeGreaterThanOrEqual(0);
      expect(names.indexOf('typing')).toBeLessThan(names.indexOf('reply'));
    } finally {
      await t.close();
    }
  });
});
