/**
 * @module tests/channels/twitter/helpers
 * Shared set-up for the X channel tests: config pointing at the fake X API, signed requests,
 * a values store, outbox items; for the end-to-end tests, the fake X API on a fake clock, a real
 * Sportello with the X channel on it, and customers who mention the brand or write to it by DM.
 */
import { expect } from '@jest/globals';
import type { TwitterSettings } from '../../../src/channels/twitter/index.js';
import { createTwitterChannel, type TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import { createFakeClock, type ChannelRequest, type FakeClock, type Store } from '../../../src/core/ports.js';
import type { OutboxItem } from '../../../src/core/types.js';
import type { LiveKnowledge } from '../../../src/corpus/knowledge.js';
import { createFakeXApi, createXWebhookCaller, ROUTES, xHmac, type FakeDmEvent, type FakePost, type FakeUser, type FakeXApi, type XWebhookCaller } from '../../fakes/x-api/fake-x-api.js';
import { xaaDmEvent, xaaPostEvent } from '../../fakes/x-api/payloads.js';
import { startChannelApp, type ChannelApp } from '../../helpers/channel-app.js';
import { OUTBOUND } from '../../helpers/outbound.js';
import { sendingItem } from '../../helpers/outbox-item.js';

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
  return sendingItem({ id: `out_${Math.random().toString(36).slice(2)}`, channel: 'twitter', visibility: 'public', recipient: CUSTOMER.id, ...overrides });
}

// ───────────────────────────── end to end ─────────────────────────────

/** The X channel's variables for an instance talking to the fake X API at `origin`. */
export function xEnv(origin: string): Record<string, string> {
  return {
    X_API_KEY: API_KEY,
    X_API_SECRET: API_SECRET,
    X_ACCESS_TOKEN: ACCESS_TOKEN,
    X_ACCESS_SECRET: ACCESS_SECRET,
    X_BRAND_USER_ID: BRAND.id,
    X_BRAND_HANDLE: BRAND.username,
    X_API_ORIGIN: origin,
  };
}

/** A fake clock at `start` and the fake X API on it, for the brand. */
export async function startFakeX(start: string): Promise<{ clock: FakeClock; x: FakeXApi }> {
  const clock = createFakeClock(start);
  const x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN });
  return { clock, x };
}

/** Forgets the previous test's calls, posts and DMs, and lets the brand post freely again. */
export function resetFakeX(x: FakeXApi): void {
  x.calls.length = 0;
  x.posts.clear();
  x.dmEvents.length = 0;
  x.setRateLimit(ROUTES.postTweet, 100);
}

let customerCounter = 0;
/** A new customer on the fake X API (ids and names numbered per test file). */
export function newXCustomer(x: FakeXApi, extra: Partial<FakeUser> = {}): FakeUser {
  customerCounter += 1;
  return x.addUser({ id: String(3_100_000_000 + customerCounter), username: `cliente${customerCounter}`, name: `Cliente ${customerCounter}`, ...extra });
}

/** A running instance with the X channel, its webhook caller, and customers who write to it. */
export interface XApp extends ChannelApp {
  channel: TwitterChannel;
  hook: XWebhookCaller;
  /** The customer mentions the brand; X delivers the X Activity API event to our webhook; waits until it is answered. */
  mentions(user: FakeUser, text: string, options?: { inReplyTo?: string }): Promise<FakePost>;
  /** The customer writes to the brand by DM; X delivers the event to our webhook; waits until it is answered. */
  sendsDm(user: FakeUser, text: string): Promise<FakeDmEvent>;
}

/**
 * Starts Sportello on `dataFile` with the configured X channel, trusting the fake's self-signed
 * certificate, on a lowdb store on the test's clock (`env`: more variables, e.g. X_POLL_SECONDS).
 */
export async function startXApp(options: { x: FakeXApi; clock: FakeClock; dataFile?: string; prefix?: string; env?: Record<string, string>; knowledge?: LiveKnowledge }): Promise<XApp> {
  const { x, clock } = options;
  let channel: TwitterChannel | undefined;
  const running = await startChannelApp({
    env: { ...xEnv(x.origin), ...options.env },
    clock,
    dataFile: options.dataFile,
    prefix: options.prefix,
    knowledge: options.knowledge,
    outboxPollMs: 20,
    channels: (config, store, logger) => {
      channel = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: OUTBOUND, tls: { ca: x.ca } });
      return [channel];
    },
  });
  const hook = createXWebhookCaller(`${running.base}/webhooks/twitter`, API_SECRET);
  return {
    ...running,
    channel: channel!,
    hook,
    async mentions(user, text, mentionOptions = {}) {
      const post = x.mention(user.id, `@${BRAND.username} ${text}`, mentionOptions);
      const res = await hook.deliver(xaaPostEvent(post, user, BRAND.id));
      expect(res.status).toBe(200);
      await running.settle();
      return post;
    },
    async sendsDm(user, text) {
      const event = x.dm(user.id, text);
      const res = await hook.deliver(xaaDmEvent(event, user, BRAND.id));
      expect(res.status).toBe(200);
      await running.settle();
      return event;
    },
  };
}
