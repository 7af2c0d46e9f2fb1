/**
 * The web chat against floods and prying: rate limits per session and per address (429 with
 * Retry-After), caps on message size (413), new sessions and open streams per address, sessions
 * removed after their retention, security headers and embedding, and a visitor's credential that
 * no operator ever gets. A real instance on 127.0.0.1; a second client address is 127.0.0.2.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/config.js';
import { sessionKey } from '../../../src/channels/webchat/sessions.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { closeSharedKnowledge, login, PASSWORDS, startApiApp, type ApiApp } from '../../server/operator-api-helpers.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/** An HTTP request from a chosen local address (127.0.0.1 unless said), JSON in and out. */
function call(base: string, method: string, path: string, body?: unknown, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, base);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, localAddress: options.from ?? '127.0.0.1', headers: { 'content-type': 'application/json', ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Opens an event stream and resolves once its status is known; `close()` hangs up. */
function openStream(base: string, session: string, from = '127.0.0.1'): Promise<{ status: number; close(): void }> {
  const url = new URL(`/chat/api/events?session=${encodeURIComponent(session)}`, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, localAddress: from }, (res) => {
      if (res.statusCode !== 200) res.resume();
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

const newSession = async (base: string, from?: string): Promise<{ session: string; visitor: string }> => {
  const res = await call(base, 'POST', '/chat/api/sessions', undefined, { from });
  expect(res.status).toBe(201);
  return res.body as { session: string; visitor: string };
};
const send = (base: string, session: string, text: string, from?: string, id?: string) => call(base, 'POST', '/chat/api/messages', { session, text, id }, { from });

describe('web chat limits', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });
  const start = async (env: Record<string, string>) => {
    t = await startTestApp(env);
    return t.app.listen(0, '127.0.0.1');
  };

  it('refuses a session that sends too fast with 429 and Retry-After, and takes its messages again once the minute has passed', async () => {
    const base = await start({ WEBCHAT_SESSION_MESSAGES_PER_MINUTE: '5' });
    const { session } = await newSession(base);
    const other = await newSession(base);
    const statuses: number[] = [];
    let refused: Reply | undefined;
    for (let i = 0; i < 12; i++) {
      const res = await send(base, session, `domanda numero ${i}`);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused!.body.error).toMatch(/too many messages in this session/);
    expect((await send(base, other.session, 'e io?')).status).toBe(202); // another visitor is not held back
    t.clock.advance(60_000);
    expect((await send(base, session, 'di nuovo')).status).toBe(202);
    await t.app.pipeline.idle();
  });

  it('refuses an address that sends too much across sessions; another address is still served', async () => {
    const base = await start({ WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: '8' });
    const sessions = [await newSession(base), await newSession(base), await newSession(base)];
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await send(base, sessions[i % 3]!.session, `ciao ${i}`)).status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(8);
    expect(statuses.slice(8)).toEqual([429, 429, 429, 429]);
    const elsewhere = await newSession(base, '127.0.0.2');
    expect((await send(base, elsewhere.session, 'ciao da un altro indirizzo', '127.0.0.2')).status).toBe(202);
    await t.app.pipeline.idle();
  });

  it('caps new sessions per address (resuming one is not a new one)', async () => {
    const base = await start({ WEBCHAT_ADDRESS_SESSIONS_PER_HOUR: '3' });
    const first = await newSession(base);
    await newSession(base);
    await newSession(base);
    const fourth = await call(base, 'POST', '/chat/api/sessions');
    expect(fourth.status).toBe(429);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(60);
    const resumed = await call(base, 'POST', '/chat/api/sessions', { session: first.session });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual(first);
    expect((await call(base, 'POST', '/chat/api/sessions', undefined, { from: '127.0.0.2' })).status).toBe(201);
  });

  it('caps the event streams open from one address; one closed frees its place', async () => {
    const base = await start({ WEBCHAT_ADDRESS_STREAMS: '3' });
    const { session } = await newSession(base);
    const open = [await openStream(base, session), await openStream(base, session), await openStream(base, session)];
    expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    const fourth = await call(base, 'GET', `/chat/api/events?session=${session}`);
    expect(fourth.status).toBe(429);
    expect(fourth.headers['retry-after']).toBeDefined();
    expect(fourth.body.error).toMatch(/open event streams/);
    expect((await openStream(base, session, '127.0.0.2')).status).toBe(200);
    open[0]!.close();
    // The server notices the hang-up on its own time: wait for the place to be free.
    let again = await openStream(base, session);
    for (let tries = 0; again.status !== 200 && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await openStream(base, session);
    }
    expect(again.status).toBe(200);
  });

  it('refuses an oversized message with 413 and says the limit; a body past 32 KiB too', async () => {
    const base = await start({ WEBCHAT_MAX_MESSAGE_CHARS: '1000' });
    const { session } = await newSession(base);
    const long = await send(base, session, 'a'.repeat(1001));
    expect(long.status).toBe(413);
    expect(long.body).toEqual({ error: 'the message is 1001 characters long; at most 1000 are accepted', limit: 1000 });
    expect((await send(base, session, 'è'.repeat(1000))).status).toBe(202); // characters, not bytes
    const huge = await call(base, 'POST', '/chat/api/messages', JSON.stringify({ session, text: 'x'.repeat(40_000) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatch(/larger than 32768 bytes/);
    expect(() => loadConfig({ WEBCHAT_MAX_MESSAGE_CHARS: '4001' })).toThrow(/WEBCHAT_MAX_MESSAGE_CHARS/);
    await t.app.pipeline.idle();
  });

  it('accepts only sessions it issued: a made-up session or token is refused', async () => {
    const base = await start({});
    const madeUp = await send(base, 'wc1234567890abc', 'ciao');
    expect(madeUp.status).toBe(400);
    expect(madeUp.body.issues.join()).toMatch(/session/);
    const unknown = await send(base, 'A'.repeat(43), 'ciao');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toMatch(/POST \/chat\/api\/sessions/);
    expect((await call(base, 'GET', `/chat/api/events?session=${'A'.repeat(43)}`)).status).toBe(401);
  });

  it('keeps a message whose page id another visitor used too (one visitor cannot drop another’s message)', async () => {
    const base = await start({});
    const a = await newSession(base);
    const b = await newSession(base);
    expect((await send(base, a.session, 'come posso pagare?', undefined, 'same-id-1')).status).toBe(202);
    expect((await send(base, b.session, 'quali sono gli orari?', undefined, 'same-id-1')).status).toBe(202);
    await t.app.pipeline.idle();
    for (const v of [a, b]) {
      const conversation = await t.app.store.conversations.findByKey(`webchat:private:${v.visitor}`);
      const messages = await t.app.store.conversations.listMessages({ conversationId: conversation!.id });
      expect(messages.filter((m) => m.direction === 'in')).toHaveLength(1);
    }
  });

  it('removes a session unused for longer than its retention; one used meanwhile lives on', async () => {
    const base = await start({ WEBCHAT_RETENTION_DAYS: '30' });
    const idle = await newSession(base);
    const busy = await newSession(base);
    expect((await send(base, idle.session, 'ciao')).status).toBe(202);
    expect((await send(base, busy.session, 'ciao')).status).toBe(202); // stored from its first message (webchat-sessions.test.ts)
    const record = () => t.app.store.values.get('webchat', sessionKey(idle.session));
    expect(JSON.parse((await record())!)).toMatchObject({ visitor: idle.visitor });
    t.clock.advance(20 * 86_400_000);
    expect((await send(base, busy.session, 'ci sono ancora')).status).toBe(202);
    t.clock.advance(11 * 86_400_000); // idle: 31 days unused; busy: 11
    expect((await send(base, idle.session, 'ciao di nuovo')).status).toBe(401);
    expect(await record()).toBeUndefined(); // removed from the store, not only refused
    expect((await call(base, 'POST', '/chat/api/sessions', { session: idle.session })).status).toBe(201); // a new one
    expect((await send(base, busy.session, 'e ancora')).status).toBe(202);
    await t.app.pipeline.idle();
  });
});

describe('web chat security headers and embedding', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it('serves /chat with a CSP that no one may frame, nosniff, no referrer, no powerful features', async () => {
    t = await startTestApp({});
    const base = await t.app.listen(0, '127.0.0.1');
    const page = await call(base, 'GET', '/chat');
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['permissions-policy']).toMatch(/camera=\(\)/);
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    const api = await call(base, 'POST', '/chat/api/sessions', undefined, { headers: { origin: 'https://evil.example' } });
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets WEBCHAT_EMBED_ORIGINS frame the page and call the API (CORS), and no other origin', async () => {
    t = await startTestApp({ WEBCHAT_EMBED_ORIGINS: 'https://www.bottegarossi.example, https://shop.bottegarossi.example:8443' });
    const base = await t.app.listen(0, '127.0.0.1');
    const page = await call(base, 'GET', '/chat');
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors https:\/\/www\.bottegarossi\.example https:\/\/shop\.bottegarossi\.example:8443(;|$)/);
    expect(page.headers['x-frame-options']).toBeUndefined();
    const brand = 'https://www.bottegarossi.example';
    const preflight = await call(base, 'OPTIONS', '/chat/api/messages', undefined, {
      headers: { origin: brand, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(brand);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/content-type/);
    const created = await call(base, 'POST', '/chat/api/sessions', undefined, { headers: { origin: brand } });
    expect(created.status).toBe(201);
    expect(created.headers['access-control-allow-origin']).toBe(brand);
    const other = await call(base, 'OPTIONS', '/chat/api/messages', undefined, { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(() => loadConfig({ WEBCHAT_EMBED_ORIGINS: 'https://brand.example/chat' })).toThrow(/WEBCHAT_EMBED_ORIGINS/);
    expect(() => loadConfig({ WEBCHAT_EMBED_ORIGINS: 'brand.example' })).toThrow(/WEBCHAT_EMBED_ORIGINS/);
  });
});

describe('a visitor’s credential and the operators', () => {
  let a: ApiApp;
  afterEach(async () => {
    await a?.close();
  });
  afterAll(closeSharedKnowledge);

  it('no operator API answer holds the token, nothing it returns opens the visitor’s stream or writes as them, and the token is not stored', async () => {
    a = await startApiApp({ WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: '100000' });
    const { session, visitor } = await newSession(a.base);
    expect((await send(a.base, session, 'voglio parlare con un operatore')).status).toBe(202);
    await a.app.pipeline.idle();
    await a.app.sender.drain();
    const marta = await login(a.base, 'Marta', PASSWORDS.marta);
    const queue = await marta.get('/queue');
    expect(queue.status).toBe(200);
    const item = (queue.body.rows as Array<{ conversationId: string; customer: { id: string } }>).find((c) => c.customer.id === `webchat:${visitor}`);
    expect(item).toBeDefined();
    const id = item!.conversationId;
    const detail = await marta.get(`/conversations/${id}`);
    expect(detail.status).toBe(200);
    expect((await marta.post(`/conversations/${id}/claim`, {})).status).toBe(200);
    const afterClaim = await marta.get(`/conversations/${id}`);
    const seen = JSON.stringify([queue.body, detail.body, afterClaim.body]);
    expect(seen).toContain(visitor); // operators know the visitor by the public id
    expect(seen).not.toContain(session);

    // Everything the operator got that looks like an id is tried as the visitor's credential.
    const candidates = [...new Set(seen.match(/[A-Za-z0-9_:.-]{8,}/g) ?? [])];
    expect(candidates.length).toBeGreaterThan(5);
    expect(candidates).toContain(`webchat:${visitor}`);
    for (const candidate of [...candidates, ...candidates.map((c) => c.slice(c.lastIndexOf(':') + 1))]) {
      const read = await call(a.base, 'GET', `/chat/api/events?session=${encodeURIComponent(candidate)}`);
      expect([400, 401]).toContain(read.status);
      const write = await send(a.base, candidate, 'sono il cliente, davvero');
      expect([400, 401]).toContain(write.status);
    }
    // The visitor's own token still works.
    expect((await send(a.base, session, 'ci sei?')).status).toBe(202);
    await a.app.pipeline.idle();

    // Hashed at rest: the token is in no file of the store.
    const files = readdirSync(a.dir).filter((f) => f.startsWith('store.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(a.dir, f), 'utf8')).not.toContain(session);
    expect(files.map((f) => readFileSync(join(a.dir, f), 'utf8')).join()).toContain(visitor);
  });
});
