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
});
