import { describe, expect, it } from '@jest/globals';
import { createFakeClock } from '../../src/core/ports.js';
import { createLoginLimiter, hashPassword, isSameOrigin, verifyLogin, verifyPassword } from '../../src/handoff/auth.js';

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
  it('blocks a name and address after five failures within 15 minutes, then lets it try again', () => {
    const clock = createFakeClock('2026-11-23T10:00:00Z');
    const limiter = createLoginLimiter({ clock });
    for (let i = 0; i < 4; i++) limiter.fail('marta|127.0.0.1');
    expect(limiter.blockedUntil('marta|127.0.0.1')).toBeUndefined();
    limiter.fail('marta|127.0.0.1');
    expect(limiter.blockedUntil('marta|127.0.0.1')).toBe(Date.parse('2026-11-23T10:15:00Z'));
    expect(limiter.blockedUntil('marta|10.0.0.2')).toBeUndefined();
    clock.advance(15 * 60_000 + 1);
    expect(limiter.blockedUntil('marta|127.0.0.1')).toBeUndefined();
  });

  it('forgets failures after a successful login', () => {
    const limiter = createLoginLimiter({ clock: createFakeClock() });
    for (let i = 0; i < 4; i++) limiter.fail('k');
    limiter.succeed('k');
    limiter.fail('k');
    expect(limiter.blockedUntil('k')).toBeUndefined();
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
