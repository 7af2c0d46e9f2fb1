/**
 * Care requests heard without a mention on X, with the listening file's `unaddressed.dm: true`: a
 * real Sportello on the fake X API (recent search). A customer who follows the brand, or accepts
 * DMs from anyone, gets a DM from the bot (and a person still takes the case); one who does not
 * gets nothing from the bot, and no DM is even tried; nobody gets a public reply (X refuses those).
 * Without the setting (the default) nobody gets a DM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { createSportello, type Sportello } from '../../src/app.js';
import { createTwitterChannel, type TwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import type { TwitterSettings } from '../../src/channels/twitter/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createFakeXApi, ROUTES, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { ACCESS_SECRET, ACCESS_TOKEN, API_KEY, API_SECRET, BRAND, xEnv } from '../channels/twitter/helpers.js';
import { OUTBOUND } from '../helpers/outbound.js';

jest.setTimeout(120_000);

const CORPUS = join(import.meta.dirname ?? '.', '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(listeningYaml: string): Promise<{ app: Sportello; x: FakeXApi; channel: TwitterChannel; clock: FakeClock; close(): Promise<void> }> {
  const clock = createFakeClock('2026-11-24T09:00:00.000Z');
  const x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN });
  const dir = mkdtempSync(join(tmpdir(), 'sportello-unaddressed-'));
  dirs.push(dir);
  const listening = join(dir, 'listening.yaml');
  writeFileSync(listening, listeningYaml);
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'data.json'),
    FAQ_DIR: `${CORPUS}/faq`,
    INTENTS_DIR: `${CORPUS}/intents`,
    FAQ_WATCH: 'false',
    LOG_LEVEL: 'silent',
    WEBCHAT: 'false',
    LISTENING_FILE: listening,
    ...xEnv(x.origin),
    X_SEARCH_QUERY: '(bottega rossi OR bottegarossi)',
    X_SEARCH_SECONDS: '86400',
  });
  const store = createLowdbStore({ file: config.dataFile, now: () => clock.now().getTime() });
  const logger = createSilentLogger();
  const channel = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: OUTBOUND, tls: { ca: x.ca } });
  const app = await createSportello({ config, clock, logger, store, channels: [channel], outboxPollMs: 20 });
  await app.listen(0, '127.0.0.1');
  return {
    app,
    x,
    channel,
    clock,
    async close() {
      await app.close();
      await x.close();
    },
  };
}

async function settle(s: { app: Sportello; channel: TwitterChannel }): Promise<void> {
  await s.channel.searchNow();
  await s.app.pipeline.idle();
  await s.app.sender.drain();
}

const REQUEST = 'Bottega Rossi: il mio ordine non è ancora arrivato, potete aiutarmi?';

describe('a care request heard without a mention', () => {
  it('with unaddressed.dm: a DM to whoever accepts DMs, a person for everyone, never a public reply', async () => {
    const s = await start('brand: [Bottega Rossi, BottegaRossi]\nunaddressed:\n  dm: true\n');
    try {
      await s.channel.searchNow();
      const follower = s.x.addUser({ id: '7100', username: 'follower_f', followsBrand: true });
      const open = s.x.addUser({ id: '7101', username: 'open_dms', receivesAnyDm: true });
      const closed = s.x.addUser({ id: '7102', username: 'closed_dms' });
      s.clock.advance(60_000);
      const posts = [follower, open, closed].map((u) => s.x.post(u.id, REQUEST));
      await settle(s);

      // The two who accept DMs got the bot's DM; the third got nothing, and no DM was even tried.
      const dms = s.x.brandDms();
      expect(dms.map((d) => d.participant_ids.find((p) => p !== BRAND.id)).sort()).toEqual(['7100', '7101']);
      for (const dm of dms) expect(dm.text).toMatch(/^Ciao, sono l’assistente di .*: abbiamo letto il tuo post e vorremmo aiutarti\./);
      expect(s.x.calls.filter((c) => c.route === ROUTES.sendDm).map((c) => c.path)).not.toContainEqual(expect.stringContaining(closed.id));
      // No public reply to any of them.
      const repliedTo = s.x.brandReplies().map((p) => p.referenced_tweets?.[0]?.id);
      for (const post of posts) expect(repliedTo).not.toContain(post.id);
      // Each is queued for a person (unaddressed); the DM is the case's private side.
      const conversations = await s.app.store.conversations.list({});
      for (const u of [follower, open, closed]) {
        const publicSide = conversations.find((c) => c.customerId.endsWith(u.id) && c.visibility === 'public');
        expect(publicSide).toMatchObject({ state: 'queued', queue: { reason: 'unaddressed' } });
        const privateSide = conversations.find((c) => c.customerId.endsWith(u.id) && c.visibility === 'private');
        if (u === closed) expect(privateSide).toBeUndefined();
        else expect(privateSide).toMatchObject({ caseId: publicSide!.caseId, state: 'bot' });
      }

    } finally {
      await s.close();
    }
  });

  it('without the setting (the default): no DM, a person answers from X', async () => {
    const s = await start('brand: [Bottega Rossi, BottegaRossi]\n');
    try {
      await s.channel.searchNow();
      const follower = s.x.addUser({ id: '7200', username: 'follower_g', followsBrand: true });
      s.clock.advance(60_000);
      const post = s.x.post(follower.id, REQUEST);
      await settle(s);
      expect(s.x.brandDms()).toHaveLength(0);
      expect(s.x.brandReplies().map((p) => p.referenced_tweets?.[0]?.id)).not.toContain(post.id);
      const conversations = await s.app.store.conversations.list({});
      expect(conversations.find((c) => c.customerId.endsWith(follower.id))).toMatchObject({ state: 'queued', queue: { reason: 'unaddressed' } });
    } finally {
      await s.close();
    }
  });
});
