/**
 * @module tests/channels/twitter/helpers
 * Shared set-up for the X channel tests: config pointing at the fake X API, signed requests,
 * a values store, outbox items.
 */
import type { TwitterSettings } from '../../../src/channels/twitter/index.js';
import type { ChannelRequest, Store } from '../../../src/core/ports.js';
import type { OutboxItem } from '../../../src/core/types.js';
import { xHmac } from '../../fakes/x-api/fake-x-api.js';

export const API_KEY = 'xvz1evFS4wEEPTGEFPHBog';
export const API_SECRET = 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw';
export const ACCESS_TOKEN = '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb';
export const ACCESS_SECRET = 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE';
export const BRAND = { id: '2244994945', username: 'BottegaRossi' };
export const CUSTOMER = { id: '3001969357', username: 'giulia_b' };

/** The channel's configuration pointing at the fake X API. */
export function twitterConfig(origin: string, overrides: Partial<TwitterSettings> = {}): TwitterSettings {
  return {
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    accessToken: ACCESS_TOKEN,
    accessSecret: ACCESS_SECRET,
    brandUserId: BRAND.id,
    brandHandle: BRAND.username,
    pollSeconds: 0,
    searchSeconds: 60,
    listenMode: 'search',
    apiOrigin: origin,
    ...overrides,
  };
}

/** A Map-backed values store: the adapter only keeps small named values. */
export function createValuesStore(): Pick<Store, 'values'> & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    values: {
      get: async (ns, key) => map.get(`${ns}:${key}`),
      set: async (ns, key, value) => {
        map.set(`${ns}:${key}`, value);
      },
      delete: async (ns, key) => {
        map.delete(`${ns}:${key}`);
      },
      increment: async (ns, key) => {
        const next = Number(map.get(`${ns}:${key}`) ?? '0') + 1;
        map.set(`${ns}:${key}`, String(next));
        return next;
      },
    },
  };
}

/** A webhook POST signed as X signs it. */
export function signedRequest(body: unknown, secret = API_SECRET): ChannelRequest {
  const raw = JSON.stringify(body);
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': xHmac(secret, raw) },
    query: {},
    rawBody: Buffer.from(raw, 'utf8'),
    remoteAddress: '127.0.0.1',
  };
}

/** An outbox item with sensible defaults. */
export function outboxItem(overrides: Partial<OutboxItem>): OutboxItem {
  return {
    id: `out_${Math.random().toString(36).slice(2)}`,
    conversationId: 'cv_1',
    channel: 'twitter',
    visibility: 'public',
    recipient: CUSTOMER.id,
    reply: { kind: 'text', text: 'Ciao!' },
    author: { kind: 'bot' },
    seq: 1,
    status: 'sending',
    attempts: 1,
    notBefore: 0,
    createdAt: '2026-11-23T10:00:00.000Z',
    ...overrides,
  };
}
