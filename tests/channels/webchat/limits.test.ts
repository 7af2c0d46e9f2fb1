/** The web chat's limits by address: how addresses are grouped, and the token buckets' answers. */
import { describe, expect, it } from '@jest/globals';
import { addressGroup, createOpenCounter, createRateLimiter } from '../../../src/channels/webchat/limits.js';

describe('addresses as the limits group them', () => {
  it('groups IPv6 by its /64, so rotating inside it gains nothing; IPv4 (mapped or not) is itself', () => {
    expect(addressGroup('2001:db8:1:2:3:4:5:6')).toBe(addressGroup('2001:db8:1:2::9'));
    expect(addressGroup('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(addressGroup('2001:db8:1:2::1'));
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup(undefined)).toBe('unknown');
  });
});

describe('token buckets', () => {
  it('takes a burst, then refuses with the seconds until one more is allowed, and forgets quiet clients', () => {
    let now = 0;
    const limiter = createRateLimiter({ perWindow: 6, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')).toEqual({ retryAfterSeconds: 10 }); // 6 a minute: one every 10 s
    expect(limiter.take('b')).toBeUndefined(); // another key has its own
    now += 10_000;
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('a')?.retryAfterSeconds).toBe(10);
    now += 120_000;
    limiter.take('c'); // a sweep: a and b have refilled and are forgotten
    expect(limiter.size).toBe(1);
  });

  it('counts what is open up to its cap, and frees a place when one closes', () => {
    const open = createOpenCounter(2);
    expect([open.open('x'), open.open('x'), open.open('x')]).toEqual([true, true, false]);
    open.close('x');
    expect(open.open('x')).toBe(true);
    expect(open.count('y')).toBe(0);
  });
});
