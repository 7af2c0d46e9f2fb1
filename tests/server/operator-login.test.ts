/**
 * Logging in under attack, through the real HTTP server: guesses sent at once, a flood of logins,
 * addresses behind a proxy, password changes ending sessions, and secrets kept out of the log.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/util/logger.js';
import { anonymous, closeSharedKnowledge, login, PASSWORDS, startApiApp, type Answer, type ApiApp } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

let t: ApiApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** POSTs a login as a browser on the server's origin would; `headers` adds any (X-Forwarded-For). */
async function postLogin(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}/api/operator/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

/** A guess sent until it is answered by more than "busy" (503), waiting as Retry-After says, as a patient guesser would. */
async function guess(base: string, body: unknown): Promise<Answer> {
  for (;;) {
    const answer = await postLogin(base, body);
    if (answer.status !== 503) return answer;
    await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after') ?? '1') * 1000));
  }
}

describe('login under attack', () => {
  it('checks at most 5 of 30 guesses sent at once: the right password, sent last, gets 429', async () => {
    t = await startApiApp();
    const base = t.base;
    // 29 wrong guesses at once; the right one while they are still in flight, as soon as the
    // server has counted past the limit (or, on a server that never does, once they are answered).
    let refusing!: () => void;
    const firstRefusal = new Promise<void>((resolve) => (refusing = resolve));
    const wrong = Array.from({ length: 29 }, (_, i) =>
      guess(base, { name: 'Marta', password: `guess-number-${i}` }).then((a) => {
        if (a.status === 429) refusing();
        return a;
      }),
    );
    const right = Promise.race([firstRefusal, Promise.all(wrong)]).then(() => guess(base, { name: 'Marta', password: PASSWORDS.marta }));
    const answers = [...(await Promise.all(wrong)), await right];
    const statuses = answers.map((a) => a.status);
    // five passwords checked (all wrong); every other guess refused before any check, with 429
    // (a guess the hashing pool had no room for got 503, uncounted, and was sent again)
    expect(statuses.filter((s) => s !== 429)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[29]).toBe(429);
    expect(answers.filter((a) => a.status === 429).every((a) => Number(a.headers.get('retry-after')) >= 1)).toBe(true);
    expect(answers[29]!.headers.get('set-cookie')).toBeNull();
    // the price is paid by this name from this address only, and only for a while
    expect((await guess(base, { name: 'Luca', password: PASSWORDS.luca })).status).toBe(200);
    t.clock.advance(15_000);
    expect((await guess(base, { name: 'Marta', password: PASSWORDS.marta })).status).toBe(200);
  }, 60_000);

  it('answers a flood of logins with made-up names quickly with 503 and Retry-After, and stores nothing for good', async () => {
    t = await startApiApp();
    const base = t.base;
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => postLogin(base, { name: `made-up-${i}`, password: 'a-long-guess-123' })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    // at most 1 hashing and 32 waiting at any moment: most were refused without hashing
    expect(statuses.filter((s) => s === 401).length).toBeLessThan(75);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.headers.get('retry-after')).toBe('1');
      expect(a.body.error).toMatch(/too many logins at once/);
    }
    // the pool is free again: a real operator logs in
    expect((await postLogin(base, { name: 'Marta', password: PASSWORDS.marta })).status).toBe(200);
    // what the limit wrote for the made-up names expires
    const values = (await t.app.store.values.get('auth', 'never')) ?? '';
    expect(values).toBe('');
    await t.app.store.close();
    const doc = JSON.parse(readFileSync(join(t.dir, 'store.json'), 'utf8')) as { values: Record<string, string>; valueExpiresAt?: Record<string, string> };
    const limitRecords = Object.keys(doc.values).filter((n) => n.startsWith('auth:login-'));
    expect(limitRecords.length).toBeGreaterThan(0);
    expect(limitRecords.filter((n) => !doc.valueExpiresAt?.[n])).toEqual([]);
    // 33 full-cost hashes (1 running, 32 waiting): long on a loaded machine
  }, 120_000);

  it('behind a trusted proxy, counts each client address apart; without one, a forged X-Forwarded-For changes nothing', async () => {
    t = await startApiApp({ TRUST_PROXY: 'loopback' });
    for (let i = 0; i < 5; i++) expect((await postLogin(t.base, { name: 'Marta', password: `guess-${i}-xxxxx` }, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(401);
    expect((await postLogin(t.base, { name: 'Marta', password: PASSWORDS.marta }, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(429);
    // a colleague behind another address is not kept out
    expect((await postLogin(t.base, { name: 'Marta', password: PASSWORDS.marta }, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(200);
    // an address the client put in front of the proxy's own is not believed
    expect((await postLogin(t.base, { name: 'Marta', password: PASSWORDS.marta }, { 'x-forwarded-for': '203.0.113.1, 198.51.100.7' })).status).toBe(429);
    await t.close();

    t = await startApiApp();
    for (let i = 0; i < 5; i++) expect((await postLogin(t.base, { name: 'Marta', password: `guess-${i}-xxxxx` }, { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(401);
    expect((await postLogin(t.base, { name: 'Marta', password: PASSWORDS.marta }, { 'x-forwarded-for': '198.51.100.200' })).status).toBe(429);
  });
});

describe('changing a password', () => {
  it('ends every session opened with the old password, on any copy of the cookie, and hands this one a new session', async () => {
    t = await startApiApp();
    const tab1 = await login(t.base, 'Marta', PASSWORDS.marta);
    const tab2 = await login(t.base, 'Marta', PASSWORDS.marta);
    const luca = await login(t.base, 'Luca', PASSWORDS.luca);
    expect((await tab1.post('/password', { currentPassword: 'not-my-password', newPassword: 'a-brand-new-password' })).status).toBe(403);
    expect((await tab1.post('/password', { currentPassword: PASSWORDS.marta, newPassword: 'short' })).status).toBe(400);
    expect((await tab2.get('/me')).status).toBe(200);

    const changed = await tab1.post('/password', { currentPassword: PASSWORDS.marta, newPassword: 'a-brand-new-password' });
    expect(changed.status).toBe(200);
    const oldCookie = tab1.cookie;
    expect((await tab2.get('/me')).status).toBe(401);
    expect((await tab1.get('/me')).status).toBe(401);
    tab1.cookie = changed.headers.get('set-cookie')!.split(';')[0];
    tab1.csrf = changed.body.csrfToken as string;
    expect(tab1.cookie).not.toBe(oldCookie);
    expect((await tab1.get('/me')).status).toBe(200);
    expect((await luca.get('/me')).status).toBe(200);
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: PASSWORDS.marta })).status).toBe(401);
    expect((await anonymous(t.base).post('/login', { name: 'Marta', password: 'a-brand-new-password' })).status).toBe(200);
    expect(readFileSync(join(t.dir, 'store.json'), 'utf8')).not.toContain('a-brand-new-password');
  });

  it('counts wrong current passwords like failed logins', async () => {
    t = await startApiApp();
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    for (let i = 0; i < 5; i++) expect((await marta.post('/password', { currentPassword: `guess-${i}-xxxxx`, newPassword: 'a-brand-new-password' })).status).toBe(403);
    const refused = await marta.post('/password', { currentPassword: PASSWORDS.marta, newPassword: 'a-brand-new-password' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('15');
  });
});

describe('secrets in the log', () => {
  it('never logs a password or secret, whatever field it arrives in', async () => {
    const sink = new PassThrough();
    let logged = '';
    sink.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    const logger = createLogger({ level: 'trace', destination: sink });
    t = await startApiApp({}, undefined, { logger });
    const secret = 'Zebra-Quokka-Secret-9177';
    // typed into the name field, the password field left with something else
    expect((await postLogin(t.base, { name: secret, password: 'x' })).status).toBe(401);
    // in extra and nested fields
    expect((await postLogin(t.base, { name: 'Marta', password: secret, pass: secret, user: { pwd: secret, token: secret } })).status).toBe(401);
    // in a body that is not JSON, a query string, a header
    expect((await postLogin(t.base, `{"name":"Marta","password":"${secret}"`)).status).toBe(400);
    await fetch(`${t.base}/api/operator/login?password=${secret}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: t.base, 'x-password': secret }, body: '{}' });
    // through the password change, right and wrong
    const marta = await login(t.base, 'Marta', PASSWORDS.marta);
    await marta.post('/password', { currentPassword: secret, newPassword: `${secret}-new` });
    await marta.post('/password', { currentPassword: PASSWORDS.marta, newPassword: `${secret}-new`, note: { secret } });
    // and a careless log call anywhere in the code
    logger.warn({ request: { headers: { cookie: secret, authorization: `Bearer ${secret}` }, body: { newPassword: secret } }, config: { sessionSecret: secret, apiKey: secret } }, 'careless');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toMatch(/operator login failed/);
    expect(logged).toMatch(/careless/);
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(PASSWORDS.marta);
  });
});
