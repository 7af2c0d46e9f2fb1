/**
 * Nobody can keep an operator out by guessing their name's password from many addresses (real
 * HTTP; TRUST_PROXY=1, so each request's X-Forwarded-For is the client as a load balancer would
 * tell). Before, twenty wrong guesses from anywhere blocked the name everywhere for 15 s, then 1,
 * 5 and 15 minutes: about twenty requests every quarter of an hour kept Marta out at her own desk,
 * the right password refused with 429. Now the address she logged in from is not counted or
 * blocked by that looser limit; the guesses are still stopped, and so is the right password from
 * an address never seen before.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeSharedKnowledge, PASSWORDS, startApiApp, type ApiApp } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

describe('operator login: guesses spread over many addresses', () => {
  let t: ApiApp;
  beforeEach(async () => {
    t = await startApiApp({ TRUST_PROXY: '1' });
  });
  afterEach(async () => {
    await t.close();
  });

  const loginFrom = async (address: string, password: string) => {
    const res = await fetch(`${t.base}/api/operator/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ name: 'Marta', password }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('keeps stopping the guesses without locking the operator out of her own address', async () => {
    expect(await loginFrom('198.51.100.7', PASSWORDS.marta)).toBe(200);
    // 20 wrong guesses, one from each of 20 addresses, then more: the name is blocked for them.
    for (let i = 0; i < 20; i++) expect(await loginFrom(`203.0.113.${i}`, `guess-${i}`)).toBe(401);
    expect(await loginFrom('203.0.113.200', 'guess-x')).toBe(429);
    expect(await loginFrom('192.0.2.50', PASSWORDS.marta)).toBe(429);
    // Marta, from where she logs in, gets in (twice: her success does not lift the block for the others).
    expect(await loginFrom('198.51.100.7', PASSWORDS.marta)).toBe(200);
    expect(await loginFrom('198.51.100.7', PASSWORDS.marta)).toBe(200);
    expect(await loginFrom('203.0.113.201', 'guess-y')).toBe(429);
    // Her own address still has its own limit: five wrong passwords, then a block.
    for (let i = 0; i < 5; i++) expect(await loginFrom('198.51.100.7', `typo-${i}`)).toBe(401);
    expect(await loginFrom('198.51.100.7', PASSWORDS.marta)).toBe(429);
  });

  it('stops names sprayed from one address after 50, and keeps the limit\'s records bounded', async () => {
    const status = async (name: string, address: string) => {
      const res = await fetch(`${t.base}/api/operator/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ name, password: 'a-long-guess-123' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) statuses.push(await status(`made-up-${i}`, '203.0.113.66'));
    expect(statuses.slice(0, 50).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(50).every((s) => s === 429)).toBe(true);
    // another address is not held up by it, and Marta still gets in
    expect(await status('made-up-0', '192.0.2.9')).toBe(401);
    expect(await loginFrom('192.0.2.10', PASSWORDS.marta)).toBe(200);
    // 80 names tried, at most 2 records each for the 50 counted (before: 160 records, growing with every name)
    await t.app.store.close();
    const doc = JSON.parse(readFileSync(join(t.dir, 'store.json'), 'utf8')) as { values: Record<string, string> };
    expect(Object.keys(doc.values).filter((n) => n.startsWith('auth:login-')).length).toBeLessThanOrEqual(2 * 50 + 2 + 4);
  }, 120_000);
});
