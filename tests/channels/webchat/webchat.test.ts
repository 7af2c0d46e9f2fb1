import { startTestApp, type TestApp } from '../../helpers/app.js';

/** Reads an SSE stream until `until` matches the text received, or the deadline passes. */
async function readEvents(url: string, until: RegExp, ms = 5000): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  const deadline = Date.now() + ms;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  try {
    while (!until.test(text) && Date.now() < deadline) {
      pending ??= reader.read();
      const next = await Promise.race([pending, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]);
      if (!next) continue;
      pending = undefined;
      if (next.done) break;
      text += new TextDecoder().decode(next.value);
    }
  } finally {
    controller.abort();
  }
  return text;
}

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

  it('serves the page and refuses a message without a valid session', async () => {
    expect(await (await fetch(`${base}/chat`)).text()).toMatch(/<html lang="it">/);
    const bad = await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 'x', text: 'ciao' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: string[] }).issues.join()).toMatch(/session/);
  });

  it('pushes the bot reply to the open page and replays the conversation after a reload', async () => {
    const session = `wc${Date.now()}abc`;
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
  });

  it('is served through its adapter\'s routes, like every channel', async () => {
    const routes = t.app.channels.get('webchat')?.routes?.map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual(['GET /chat', 'POST /chat/api/messages', 'GET /chat/api/events']);
    const page = await fetch(`${base}/chat`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('ends an open event stream when the app closes (the channel ends it, before the server grace for open sockets)', async () => {
    const session = `wc${Date.now()}end`;
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
    const session = `wc${Date.now()}op`;
    await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session, text: 'voglio parlare con un operatore' }) });
    await t.app.pipeline.idle();
    await t.app.sender.drain();
    const conversation = await t.app.store.conversations.findByKey(`webchat:private:${session}`);
    expect(conversation?.state).toBe('queued');
    const operator = { id: 'op-w', name: 'Marta', initials: 'MR', role: 'agent' as const, passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
    await t.app.store.directory.addOperator(operator);
    await t.app.desk.claim(conversation!.id, operator);
    const live = readEvents(`${base}/chat/api/events?session=${session}`, /sono Marta/);
    await new Promise((r) => setTimeout(r, 200));
    await t.app.desk.reply(conversation!.id, operator, 'Ciao, sono Marta: ti aiuto io.');
    expect(await live).toMatch(/sono Marta: ti aiuto io.\"},\"author\":{\"kind\":\"operator\"/);
  });
});
