import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config/config.js';
import { createClientAddress, parseTrustProxy } from '../../src/util/client-address.js';

describe('the client address behind proxies (TRUST_PROXY)', () => {
  it('believes no X-Forwarded-For without trusted proxies: anyone can write one', () => {
    const address = createClientAddress(undefined);
    expect(address('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    expect(address('::ffff:203.0.113.9', undefined)).toBe('203.0.113.9');
  });

  it('with a number of hops, takes the address the farthest trusted proxy saw', () => {
    const one = createClientAddress(parseTrustProxy('1'));
    // the client wrote a fake first entry; the load balancer appended the real peer
    expect(one('10.0.0.5', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
    expect(one('10.0.0.5', undefined)).toBe('10.0.0.5');
    const two = createClientAddress(parseTrustProxy('2'));
    expect(two('10.0.0.5', '1.2.3.4, 203.0.113.9, 10.0.0.9')).toBe('203.0.113.9');
    // more hops than entries: the leftmost
    expect(createClientAddress(parseTrustProxy('3'))('10.0.0.5', '203.0.113.9')).toBe('203.0.113.9');
  });

  it('with addresses and networks, skips trusted proxies right to left and stops at the first stranger', () => {
    const address = createClientAddress(parseTrustProxy('loopback, 10.0.0.0/8, 2001:db8::/32'));
    expect(address('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(address('::1', '1.2.3.4, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(address('2001:db8::7', '2001:db8:ffff::1, 2a00:1450::5')).toBe('2a00:1450::5');
    // the peer itself is not a trusted proxy: the header is someone's claim, ignored
    expect(address('203.0.113.9', '127.0.0.1')).toBe('203.0.113.9');
    // garbage in the header is never taken for an address
    expect(address('127.0.0.1', 'not-an-address')).toBe('127.0.0.1');
    expect(address('127.0.0.1', ['198.51.100.1', '203.0.113.9'])).toBe('203.0.113.9');
  });

  it('refuses a setting it cannot read, naming the entry, through the configuration', () => {
    expect(parseTrustProxy('')).toBeUndefined();
    expect(parseTrustProxy('0')).toBeUndefined();
    expect(parseTrustProxy('192.168.1.10')).toEqual({ networks: ['192.168.1.10/32'] });
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow(/"10.0.0.0\/33" is not an address/);
    expect(() => parseTrustProxy('proxy.example')).toThrow(/"proxy.example"/);
    expect(loadConfig({ TRUST_PROXY: 'private' }).trustProxy).toEqual({ networks: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] });
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY: "everyone" is not an address/);
  });
});
