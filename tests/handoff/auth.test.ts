import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock } from '../../src/core/ports.js';
import {
  createLoginLimiter,
  createSessions,
  hashPassword,
  isSameOrigin,
  loadSessionSecret,
  SESSION_SECRET_KEY, AUTH_NS,
  verifyLogin,
  verifyPassword,
} from '../../src/handoff/auth.js';
import { createLowdbStore, type LowdbStore } from '../../src/storage/lowdb/index.js';

describe('password hashes', () => {
  it('stores scrypt parameters, salt and hash, never the password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(hash).not.toContain('correct horse battery');
    expect(hash).not.toContain(Buffer.from('correct horse battery').toString('base64url'));
  });

  it('salts every hash, so one password gives different hashes', async () => {
    const [a, b] = await Promise.all([hashPassword('same password!'), hashPassword('same password!')]);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong or malformed one', async () => {
    const hash = await hashPassword('correct horse battery', { N: 2 ** 12, r: 8, p: 1 });
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'correct horse battery')).toBe(false);
    expect(await verifyPassword('correct horse battery', hash.slice(0, -4))).toBe(false);
  });

  it('refuses an unknown operator after doing the same work as for a known one', async () => {
    const started = process.hrtime.bigint();
    expect(await verifyLogin(undefined, 'whatever password')).toBe(false);
    // a real scrypt ran: a bare "return false" would take microseconds
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeGreaterThan(5);
  });
});

describe('login rate limit', () => {
  it('blocks a name and address after five failures within 15 minutes, then lets it try again', async () => {
    const clock = createFakeClock('2026-11-23T10:00:00Z');
    const limiter = createLoginLimiter({ clock });
    for (let i = 0; i < 4; i++) await limiter.fail('marta|127.0.0.1');
    expect(await limiter.blockedUntil('marta|127.0.0.1')).toBeUndefined();
    await limiter.fail('marta|127.0.0.1');
    expect(await limiter.blockedUntil('marta|127.0.0.1')).toBe(Date.parse('2026-11-23T10:15:00Z'));
    expect(await limiter.blockedUntil('marta|10.0.0.2')).toBeUndefined();
    clock.advance(15 * 60_000 + 1);
    expect(await limiter.blockedUntil('marta|127.0.0.1')).toBeUndefined();
  });

  it('forgets failures after a successful login', async () => {
    const limiter = createLoginLimiter({ clock: createFakeClock() });
    for (let i = 0; i < 4; i++) await limiter.fail('k');
    await limiter.succeed('k');
    await limiter.fail('k');
    expect(await limiter.blockedUntil('k')).toBeUndefined();
  });
});

describe('same-origin check', () => {
  const ours = ['http://127.0.0.1:3978'];
  it('accepts same-origin browser requests and non-browser clients', () => {
    expect(isSameOrigin({ origin: 'http://127.0.0.1:3978', 'sec-fetch-site': 'same-origin' }, ours)).toBe(true);
    expect(isSameOrigin({}, ours)).toBe(true);
  });
  it('refuses another site, even a sibling subdomain', () => {
    expect(isSameOrigin({ origin: 'https://evil.example' }, ours)).toBe(false);
    expect(isSameOrigin({ 'sec-fetch-site': 'cross-site' }, ours)).toBe(false);
    expect(isSameOrigin({ 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:3978' }, ours)).toBe(false);
    expect(isSameOrigin({ origin: 'null' }, ours)).toBe(false);
  });
});

describe('session cookies', () => {
  let dir: string;
  let store: LowdbStore;
  const clock = createFakeClock('2026-11-23T10:00:00Z');
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-auth-'));
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a secret once and keeps it in the store, so a restarted instance accepts old sessions', async () => {
    const secret = await loadSessionSecret(store);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(await loadSessionSecret(store)).toBe(secret);
    const before = createSessions({ secret, clock, store, secure: false });
    const { setCookie, session } = await before.issue('op-1');
    await store.close();
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
    expect(await store.values.get(AUTH_NS, SESSION_SECRET_KEY)).toBe(secret);
    const after = createSessions({ secret: await loadSessionSecret(store), clock, store, secure: false });
    const cookieHeader = `other=1; ${setCookie.split(';')[0]}`;
    expect(await after.read(cookieHeader)).toEqual(session);
  });

  it('converges on the stored secret when two instances generated one at the same moment', async () => {
    // Both instances found no secret; each kept its own in memory; the store kept the second.
    const a = createSessions({ clock, store, secure: false });
    await store.values.set(AUTH_NS, SESSION_SECRET_KEY, 'secret-of-a-'.padEnd(40, 'a'));
    const early = await a.issue('op-1');
    await store.values.set(AUTH_NS, SESSION_SECRET_KEY, 'secret-of-b-'.padEnd(40, 'b'));
    const b = createSessions({ clock, store, secure: false });
    // every new login signs with the stored secret, and both instances accept it
    const fromA = await a.issue('op-2');
    const fromB = await b.issue('op-3');
    for (const cookie of [fromA.setCookie, fromB.setCookie]) {
      expect(await a.read(cookie.split(';')[0])).toBeDefined();
      expect(await b.read(cookie.split(';')[0])).toBeDefined();
    }
    // a session signed with the secret the store lost is gone (only possible in that instant)
    expect(await b.read(early.setCookie.split(';')[0])).toBeUndefined();
  });

  it('shares failed logins between instances through the store, without storing names or addresses', async () => {
    const a = createLoginLimiter({ clock, store });
    const b = createLoginLimiter({ clock, store });
    for (let i = 0; i < 3; i++) await a.fail('marta|203.0.113.9');
    for (let i = 0; i < 2; i++) await b.fail('marta|203.0.113.9');
    expect(await a.blockedUntil('marta|203.0.113.9')).toBeDefined();
    expect(await b.blockedUntil('marta|203.0.113.9')).toBeDefined();
    await store.close();
    const file = readFileSync(join(dir, 'store.json'), 'utf8');
    expect(file).toContain('auth:login-failures:');
    expect(file).not.toContain('203.0.113.9');
    expect(file).not.toContain('marta');
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
  });

  it('uses the configured secret instead of generating one', async () => {
    expect(await loadSessionSecret(store, 'x'.repeat(32))).toBe('x'.repeat(32));
    expect(await store.values.get(AUTH_NS, SESSION_SECRET_KEY)).toBeUndefined();
  });

  it('refuses a tampered, expired or revoked session, and checks the CSRF token in constant time', async () => {
    const sessions = createSessions({ secret: 's'.repeat(32), clock, store, secure: true, ttlMs: 60_000 });
    const { setCookie, session } = await sessions.issue('op-1');
    expect(setCookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    const cookie = setCookie.split(';')[0]!;
    const [payload, signature] = cookie.split('=')[1]!.split('.');
    const forged = Buffer.from(JSON.stringify({ o: 'op-admin', n: session.nonce, e: session.expiresAt })).toString('base64url');
    expect(await sessions.read(`sportello_session=${forged}.${signature}`)).toBeUndefined();
    expect(await sessions.read(`sportello_session=${payload}`)).toBeUndefined();
    expect(await sessions.read(undefined)).toBeUndefined();
    expect(sessions.checkCsrf(session, session.csrfToken)).toBe(true);
    expect(sessions.checkCsrf(session, session.csrfToken.slice(1))).toBe(false);
    expect(sessions.checkCsrf(session, undefined)).toBe(false);
    const other = createSessions({ secret: 't'.repeat(32), clock, store, secure: true });
    expect(await other.read(cookie)).toBeUndefined();
    await sessions.revoke(session);
    expect(await sessions.read(cookie)).toBeUndefined();
    const second = await sessions.issue('op-1');
    clock.advance(60_001);
    expect(await sessions.read(second.setCookie.split(';')[0])).toBeUndefined();
  });
});
