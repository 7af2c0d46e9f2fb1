import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import {
  addressKey,
  createHashPool,
  createLoginGate,
  createSessions,
  HashPoolBusyError,
  type LoginGate,
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

describe('the hashing pool', () => {
  it('hashes one at a time, lets a few wait, and refuses the rest at once', async () => {
    const pool = createHashPool({ concurrency: 1, queue: 2 });
    let running = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const work = () =>
      new Promise<string>((resolve) => {
        running += 1;
        most = Math.max(most, running);
        gates.push(() => {
          running -= 1;
          resolve('hashed');
        });
      });
    const slots = [pool.reserve(), pool.reserve(), pool.reserve()];
    expect(() => pool.reserve()).toThrow(HashPoolBusyError);
    const results = slots.map((slot) => slot.run(work));
    await new Promise((r) => setImmediate(r));
    expect(pool.load()).toEqual({ running: 1, waiting: 2 });
    while (gates.length > 0 || pool.load().running > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(results)).toEqual(['hashed', 'hashed', 'hashed']);
    expect(most).toBe(1);
    // a cancelled place is free again
    const spare = pool.reserve();
    spare.cancel();
    expect(() => [pool.reserve(), pool.reserve(), pool.reserve()]).not.toThrow();
  });
});

describe('login limit', () => {
  let dir: string;
  let store: LowdbStore;
  let clock: FakeClock;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-gate-'));
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
    clock = createFakeClock('2026-11-23T10:00:00Z');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Makes `n` attempts one after the other; how many were allowed, and the last refusal's wait. */
  async function attempts(gate: LoginGate, name: string, address: string, n: number): Promise<{ allowed: number; wait?: number; scope?: string }> {
    let allowed = 0;
    let refused: { retryAfterMs: number; scope: string } | undefined;
    for (let i = 0; i < n; i++) {
      const a = await gate.attempt(name, address);
      if (a.allowed) allowed += 1;
      else refused = a;
    }
    return { allowed, wait: refused?.retryAfterMs, scope: refused?.scope };
  }

  it('counts before the check: of 30 attempts at once, exactly 5 may check a password', async () => {
    const gate = createLoginGate({ clock, store });
    const results = await Promise.all(Array.from({ length: 30 }, () => gate.attempt('Marta', '203.0.113.9')));
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    expect(results.filter((r) => !r.allowed).every((r) => !r.allowed && r.retryAfterMs === 15_000 && r.scope === 'address')).toBe(true);
  });

  it('blocks for 15 seconds, then 1, 5 and 15 minutes, and forgets the level an hour after the last block', async () => {
    // the name's own limit (20 across addresses) and the address's across names (50) are set aside here: this is about one name from one address
    const gate = createLoginGate({ clock, store, limits: { perAccount: 1000, perAddressAllNames: 1000 } });
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15_000, scope: 'address' });
    clock.advance(10_000);
    expect(await gate.attempt('marta', '203.0.113.9')).toMatchObject({ allowed: false, retryAfterMs: 5_000 });
    clock.advance(5_000);
    // the block is over: five more tries, then a longer block
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 60_000, scope: 'address' });
    clock.advance(60_000);
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 5 * 60_000, scope: 'address' });
    clock.advance(5 * 60_000);
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15 * 60_000, scope: 'address' });
    clock.advance(15 * 60_000);
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15 * 60_000, scope: 'address' });
    // an hour without a block after the last one ended: back to seconds
    clock.advance(15 * 60_000 + 60 * 60_000);
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15_000, scope: 'address' });
  });

  it('blocks one name from one address: another address, another name go on', async () => {
    const gate = createLoginGate({ clock, store });
    await attempts(gate, 'Marta', '203.0.113.9', 6);
    expect(await gate.attempt('marta', '203.0.113.9')).toMatchObject({ allowed: false });
    expect(await gate.attempt('Marta', '198.51.100.7')).toMatchObject({ allowed: true });
    expect(await gate.attempt('Luca', '203.0.113.9')).toMatchObject({ allowed: true });
  });

  it('limits one name across addresses more loosely: 20 checks from 20 addresses, then a block everywhere', async () => {
    const gate = createLoginGate({ clock, store });
    for (let i = 0; i < 20; i++) expect((await gate.attempt('Anna', `198.51.100.${i}`)).allowed).toBe(true);
    expect(await gate.attempt('Anna', '198.51.100.99')).toEqual({ allowed: false, retryAfterMs: 15_000, scope: 'account' });
    expect(await gate.attempt('Anna', '192.0.2.1')).toMatchObject({ allowed: false, scope: 'account' });
    expect(await gate.attempt('Luca', '192.0.2.1')).toMatchObject({ allowed: true });
    clock.advance(15_000);
    expect(await gate.attempt('Anna', '192.0.2.1')).toMatchObject({ allowed: true });
  });

  it('counts an IPv6 subscriber by its /64, and an IPv4-mapped address as IPv4', async () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    const gate = createLoginGate({ clock, store });
    for (let i = 0; i < 5; i++) await gate.attempt('Marta', `2001:db8:1:2::${i + 1}`);
    expect(await gate.attempt('Marta', '2001:db8:1:2:ffff::9')).toMatchObject({ allowed: false, scope: 'address' });
  });

  it('forgets the failures of a name once its right password is given', async () => {
    const gate = createLoginGate({ clock, store });
    await attempts(gate, 'marta', '203.0.113.9', 4);
    const right = await gate.attempt('marta', '203.0.113.9');
    if (!right.allowed) throw new Error('the fifth attempt should be allowed');
    await right.succeeded();
    expect(await attempts(gate, 'marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15_000, scope: 'address' });
  });

  /** The login limit's records in the store (the store expires them by the real clock: none has yet). */
  async function liveLimitRecords(): Promise<number> {
    const snapshot = await store.exportAll();
    return Object.keys(snapshot.values).filter((n) => n.startsWith('auth:login-')).length;
  }

  it('keeps what it stores bounded under a spray of made-up names: 50 attempts per address across names, then a block', async () => {
    const gate = createLoginGate({ clock, store });
    // Before, every name tried left its own records for an hour: 1000 names, 2000 records.
    const oneAddress = await Promise.all(Array.from({ length: 1000 }, (_, i) => gate.attempt(`nobody-${i}`, '203.0.113.9')));
    expect(oneAddress.filter((r) => r.allowed)).toHaveLength(50);
    expect(oneAddress.filter((r) => !r.allowed).every((r) => !r.allowed && r.scope === 'address' && r.retryAfterMs === 15_000)).toBe(true);
    const afterOne = await liveLimitRecords();
    expect(afterOne).toBeLessThanOrEqual(2 * 50 + 2);
    // An hour of spraying, attempts every few seconds through the blocks, from ten addresses:
    // the records grow with the addresses, not with the guesses.
    let allowed = 0;
    let tried = 0;
    for (let step = 0; step < 120; step++) {
      clock.advance(30_000);
      const round = await Promise.all(Array.from({ length: 10 }, (_, a) => Array.from({ length: 30 }, (_, i) => gate.attempt(`x-${step}-${a}-${i}`, `198.51.100.${a}`))).flat());
      allowed += round.filter((r) => r.allowed).length;
      tried += round.length;
    }
    expect(tried).toBe(36_000);
    // blocks of 15 s, 1, 5, 15, 15 … minutes: a handful of rounds of 50 per address in the hour
    expect(allowed).toBeLessThanOrEqual(10 * 50 * 8);
    expect(await liveLimitRecords()).toBeLessThanOrEqual(10 * 8 * (2 * 50 + 2) + afterOne);
  });

  it('keeps the limits per name under that spray, and lets an operator in from an address she is known at', async () => {
    const gate = createLoginGate({ clock, store });
    const marta = await gate.attempt('Marta', '203.0.113.9');
    if (!marta.allowed) throw new Error('the first attempt should be allowed');
    await marta.succeeded();
    // someone behind the same office address sprays names
    await Promise.all(Array.from({ length: 100 }, (_, i) => gate.attempt(`nobody-${i}`, '203.0.113.9')));
    expect(await gate.attempt('Luca', '203.0.113.9')).toMatchObject({ allowed: false, scope: 'address' });
    // Marta is known there: the spray does not keep her out, her own five still count
    expect(await attempts(gate, 'Marta', '203.0.113.9', 6)).toEqual({ allowed: 5, wait: 15_000, scope: 'address' });
    // the per-name limits hold from elsewhere: five for one name from one address, 20 across addresses
    const luca = await Promise.all(Array.from({ length: 20 }, () => gate.attempt('Luca', '192.0.2.1')));
    expect(luca.filter((r) => r.allowed)).toHaveLength(5);
    for (let i = 0; i < 15; i++) expect((await gate.attempt('Luca', `198.51.100.${i}`)).allowed).toBe(true);
    expect(await gate.attempt('Luca', '198.51.100.99')).toMatchObject({ allowed: false, scope: 'account' });
  });

  it('shares the count between instances through the store, keeping no name or address, and every record expires', async () => {
    const a = createLoginGate({ clock, store });
    const b = createLoginGate({ clock, store });
    await attempts(a, 'marta', '203.0.113.9', 3);
    await attempts(b, 'marta', '203.0.113.9', 2);
    expect(await a.attempt('marta', '203.0.113.9')).toMatchObject({ allowed: false });
    await attempts(a, 'nobody-by-this-name', '203.0.113.10', 7);
    const snapshot = await store.exportAll();
    const names = Object.keys(snapshot.values).filter((n) => n.startsWith('auth:login-'));
    expect(names.length).toBeGreaterThanOrEqual(4);
    // every record the limit wrote expires (nothing is kept for ever, for unknown names neither)
    expect(names.filter((n) => !snapshot.valueExpiresAt?.[n])).toEqual([]);
    await store.close();
    const file = readFileSync(join(dir, 'store.json'), 'utf8');
    for (const clear of ['203.0.113', 'marta', 'nobody-by-this-name']) expect(file).not.toContain(clear);
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
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

describe('sessions', () => {
  let dir: string;
  let store: LowdbStore;
  const clock = createFakeClock('2026-11-23T10:00:00Z');
  const operator = (id: string, passwordHash = `scrypt$hash-of-${id}`): Operator => ({ id, name: id, initials: 'OP', role: 'agent', passwordHash, createdAt: '2026-01-01T00:00:00.000Z' });
  const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sportello-auth-'));
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
    for (const id of ['op-1', 'op-2', 'op-3']) await store.directory.addOperator(operator(id));
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
    const { setCookie, session } = await before.issue(operator('op-1'));
    await store.close();
    store = createLowdbStore({ file: join(dir, 'store.json') });
    await store.init();
    expect(await store.values.get(AUTH_NS, SESSION_SECRET_KEY)).toBe(secret);
    const after = createSessions({ secret: await loadSessionSecret(store), clock, store, secure: false });
    expect(await after.read(`other=1; ${cookieOf(setCookie)}`)).toEqual(session);
  });

  it('converges on the stored secret when two instances generated one at the same moment', async () => {
    // Both instances found no secret; each kept its own in memory; the store kept the second.
    const a = createSessions({ clock, store, secure: false });
    await store.values.set(AUTH_NS, SESSION_SECRET_KEY, 'secret-of-a-'.padEnd(40, 'a'));
    const early = await a.issue(operator('op-1'));
    await store.values.set(AUTH_NS, SESSION_SECRET_KEY, 'secret-of-b-'.padEnd(40, 'b'));
    const b = createSessions({ clock, store, secure: false });
    // every new login signs with the stored secret, and both instances accept it
    const fromA = await a.issue(operator('op-2'));
    const fromB = await b.issue(operator('op-3'));
    for (const cookie of [fromA.setCookie, fromB.setCookie]) {
      expect(await a.read(cookieOf(cookie))).toBeDefined();
      expect(await b.read(cookieOf(cookie))).toBeDefined();
    }
    // a session signed with the secret the store lost is gone (only possible in that instant)
    expect(await b.read(cookieOf(early.setCookie))).toBeUndefined();
  });

  it('uses the configured secret instead of generating one', async () => {
    expect(await loadSessionSecret(store, 'x'.repeat(32))).toBe('x'.repeat(32));
    expect(await store.values.get(AUTH_NS, SESSION_SECRET_KEY)).toBeUndefined();
  });

  it('keeps the session on the server: the cookie names a random nonce only, and the store only its hash', async () => {
    const sessions = createSessions({ secret: 's'.repeat(32), clock, store, secure: true, ttlMs: 60_000 });
    const { setCookie, session } = await sessions.issue(operator('op-1'));
    expect(setCookie).toMatch(/^sportello_session=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}; Max-Age=60; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    expect(cookieOf(setCookie)).not.toContain(Buffer.from('op-1').toString('base64url'));
    const snapshot = await store.exportAll();
    const records = Object.entries(snapshot.values).filter(([n]) => n.startsWith('auth:session:'));
    expect(records).toHaveLength(1);
    expect(records[0]![0]).not.toContain(session.nonce);
    expect(JSON.parse(records[0]![1])).toMatchObject({ o: 'op-1', e: session.expiresAt });
    expect(snapshot.valueExpiresAt?.[records[0]![0]]).toBeDefined();
  });

  it('refuses a cookie whose signature is valid when its session is not on the server: made up, logged out or expired', async () => {
    const secret = 's'.repeat(32);
    const sessions = createSessions({ secret, clock, store, secure: true, ttlMs: 60_000 });
    const sign = (value: string) => createHmac('sha256', secret).update(`session:${value}`).digest('base64url');
    // whoever holds the secret can sign a nonce, but no such session was ever issued
    expect(await sessions.read(`sportello_session=made-up-nonce.${sign('made-up-nonce')}`)).toBeUndefined();
    // nor does the old self-describing cookie work, however long it says it lasts
    const hundredDays = Buffer.from(JSON.stringify({ o: 'op-1', n: 'nonce', e: clock.now().getTime() + 100 * 86_400_000 })).toString('base64url');
    expect(await sessions.read(`sportello_session=${hundredDays}.${sign(hundredDays)}`)).toBeUndefined();

    const out = await sessions.issue(operator('op-1'));
    expect(await sessions.read(cookieOf(out.setCookie))).toBeDefined();
    await sessions.revoke(out.session);
    expect(await sessions.read(cookieOf(out.setCookie))).toBeUndefined();

    const late = await sessions.issue(operator('op-1'));
    clock.advance(59_000);
    expect(await sessions.read(cookieOf(late.setCookie))).toBeDefined();
    clock.advance(1_001);
    // the same cookie, still validly signed: the server's record says it is over
    expect(await sessions.read(cookieOf(late.setCookie))).toBeUndefined();
  });

  it('ends every session of an operator whose password changed, on every instance', async () => {
    const a = createSessions({ secret: 's'.repeat(32), clock, store, secure: false });
    const b = createSessions({ secret: 's'.repeat(32), clock, store, secure: false });
    const first = await a.issue(operator('op-1'));
    const second = await b.issue(operator('op-1'));
    const other = await a.issue(operator('op-2'));
    await store.directory.updateOperator('op-1', { passwordHash: 'scrypt$the-new-one' });
    for (const s of [first, second]) {
      expect(await a.read(cookieOf(s.setCookie))).toBeUndefined();
      expect(await b.read(cookieOf(s.setCookie))).toBeUndefined();
    }
    expect(await b.read(cookieOf(other.setCookie))).toMatchObject({ operatorId: 'op-2' });
    const fresh = await a.issue((await store.directory.getOperator('op-1'))!);
    expect(await b.read(cookieOf(fresh.setCookie))).toMatchObject({ operatorId: 'op-1' });
  });

  it('refuses a tampered cookie, and checks the CSRF token in constant time', async () => {
    const sessions = createSessions({ secret: 's'.repeat(32), clock, store, secure: true });
    const { setCookie, session } = await sessions.issue(operator('op-1'));
    const [nonce, signature] = cookieOf(setCookie).split('=')[1]!.split('.');
    expect(await sessions.read(`sportello_session=${nonce}x.${signature}`)).toBeUndefined();
    expect(await sessions.read(`sportello_session=${nonce}`)).toBeUndefined();
    expect(await sessions.read(`sportello_session=${nonce}.${signature}.x`)).toBeUndefined();
    expect(await sessions.read(undefined)).toBeUndefined();
    expect(sessions.checkCsrf(session, session.csrfToken)).toBe(true);
    expect(sessions.checkCsrf(session, session.csrfToken.slice(1))).toBe(false);
    expect(sessions.checkCsrf(session, undefined)).toBe(false);
    const other = createSessions({ secret: 't'.repeat(32), clock, store, secure: true });
    expect(await other.read(cookieOf(setCookie))).toBeUndefined();
  });
});
