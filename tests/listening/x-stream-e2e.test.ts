/**
 * End to end: a real Sportello (lowdb store, classifier, pipeline, sender) listening on the fake X
 * API's filtered stream (X_LISTEN_MODE=stream). A care request heard without a mention reaches the
 * queue with no public reply, exactly as with recent search; a post the stream delivers twice is
 * one heard record, one message; closing the app closes the stream.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createSportello, type Sportello } from '../../src/app.js';
import { createTwitterChannel, type TwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import type { TwitterSettings } from '../../src/channels/twitter/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createFakeXApi, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { ACCESS_SECRET, ACCESS_TOKEN, API_KEY, API_SECRET, BRAND, xEnv } from '../channels/twitter/helpers.js';
import { OUTBOUND } from '../helpers/outbound.js';

jest.setTimeout(120_000);

const CORPUS = join(import.meta.dirname ?? '.', '../..');
const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let dir: string;
let app: Sportello;
let channel: TwitterChannel;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  clock = createFakeClock(START);
  x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN, apiSecret: API_SECRET, streamHeartbeatMs: 100 });
  dir = mkdtempSync(join(tmpdir(), 'sportello-xstream-'));
  const listening = join(dir, 'listening.yaml');
  writeFileSync(listening, 'brand: [Bottega Rossi]\nkeywords: [bottegarossi]\nexclude: [ristorante]\ndetector:\n  cold_start_hours: 0\n');
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'data.json'),
    FAQ_DIR: `${CORPUS}/faq`,
    INTENTS_DIR: `${CORPUS}/intents`,
    FAQ_WATCH: 'false',
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEBCHAT: 'false',
    LISTENING_FILE: listening,
    ...xEnv(x.origin),
    X_LISTEN_MODE: 'stream',
  });
  const settings = config.channels.twitter as TwitterSettings;
  expect(settings.listenMode).toBe('stream');
  const store = createLowdbStore({ file: config.dataFile, now: () => clock.now().getTime() });
  const logger = createSilentLogger();
  channel = createTwitterChannel({
    config: settings,
    store,
    clock,
    logger,
    outbound: OUTBOUND,
    tls: { ca: x.ca },
    listening: { brand: ['Bottega Rossi'], keywords: ['bottegarossi'], handles: [], hashtags: [], misspellings: [], exclude: ['ristorante'] },
    streamTimings: { heartbeatTimeoutMs: 3000, networkStepMs: 20, httpStartMs: 50, rateLimitStartMs: 100 },
  });
  app = await createSportello({ config, clock, logger, store, channels: [channel], outboxPollMs: 20 });
  await app.listen(0, '127.0.0.1');
  await waitFor('the stream', () => channel.streamStatus()?.connected === true);
});
afterAll(async () => {
  await app?.close();
  await x.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('listening on X through the filtered stream in a running instance', () => {
  it('syncs the rule from the listening file, hears posts as search does, and a post delivered twice once', async () => {
    // The rule is the query recent search would use, built from the listening file.
    expect([...x.rules.values()].map((r) => r.value)).toEqual(['("Bottega Rossi" OR bottegarossi) -is:retweet -from:BottegaRossi -ristorante']);
    const user = x.addUser({ id: '5200', username: 'sara_t', followers: 800 });
    clock.advance(60_000);
    const care = x.post(user.id, 'Bottega Rossi: il mio ordine non è ancora arrivato, potete aiutarmi?');
    x.streamAgain(care);
    const opinion = x.post('5201', 'Bottega Rossi ha vetrine carine');
    await waitFor('both posts stored', async () => (await app.store.heard.get(`twitter:${opinion.id}`)) !== undefined);
    await app.pipeline.idle();
    await app.sender.drain();

    const kept = await app.store.heard.list({ limit: 10 });
    expect(kept.map((h) => h.platformId).sort()).toEqual([care.id, opinion.id].sort());
    expect(kept.find((h) => h.platformId === care.id)).toMatchObject({ class: 'care', kind: 'post', author: { id: '5200', handle: 'sara_t', followers: 800 } });
    const conversations = await app.store.conversations.list({});
    const conv = conversations.find((c) => c.customerId.endsWith(user.id));
    expect(conv).toMatchObject({ state: 'queued', queue: { reason: 'unaddressed' } });
    expect((await app.store.conversations.listMessages({ conversationId: conv!.id })).filter((m) => m.direction === 'in')).toHaveLength(1);
    // No public reply X would refuse.
    expect(x.brandReplies()).toHaveLength(0);
    await waitFor('the channel to count both', () => channel.streamStatus()!.heard === 2);
    expect(channel.streamStatus()!.heard).toBe(2);
  });

  it('closes the stream when the app closes', async () => {
    await app.close();
    await waitFor('the stream closed at the fake', () => x.streamConnections() === 0);
    expect(channel.streamStatus()!.connected).toBe(false);
  });
});
