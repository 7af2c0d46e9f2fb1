/**
 * Test helper: a real Sportello (lowdb store, classifier, pipeline, sender, HTTP server on
 * 127.0.0.1) listening on the fake X API with recent search, with three operators (Marta and Luca,
 * agents; Anna, admin): what the praise tests of the operator API and the console share.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSportello, type Sportello } from '../../src/app.js';
import { createTwitterChannel, type TwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import type { TwitterSettings } from '../../src/channels/twitter/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createFakeClock, type FakeClock } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import { hashPassword } from '../../src/handoff/auth.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createFakeXApi, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { ACCESS_SECRET, ACCESS_TOKEN, API_KEY, API_SECRET, BRAND, xEnv } from '../channels/twitter/helpers.js';
import { OUTBOUND } from './outbound.js';
import { channelAppEnv } from './channel-app.js';
import { say } from '../../src/pipeline/messages.js';

/** The thank-yous an operator may send to `handle` in `language` (one wording is picked by the post), signed. */
export function thankYouTexts(language: 'it' | 'en', handle: string, initials: string): string[] {
  return (['praiseThanks', 'praiseThanks2', 'praiseThanks3'] as const).map((k) => `${say(k, language, { name: `, ${handle},` })} ^${initials}`);
}

/** Cheap scrypt for tests. */
const FAST = { N: 2 ** 12, r: 8, p: 1 };
export const PRAISE_PASSWORDS = { marta: 'marta-password-1', luca: 'luca-password-22', anna: 'anna-password-333' } as const;

export interface PraiseApp {
  app: Sportello;
  x: FakeXApi;
  clock: FakeClock;
  channel: TwitterChannel;
  base: string;
  /** Searches X now, then waits for the pipeline and the sender. */
  settle(): Promise<void>;
  /** The brand's posts on X that answer a post. */
  repliesTo(postId: string): ReturnType<FakeXApi['brandReplies']>;
  close(): Promise<void>;
}

export async function startPraiseApp(start = '2026-11-24T09:00:00.000Z'): Promise<PraiseApp> {
  const clock = createFakeClock(start);
  const x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN });
  const dir = mkdtempSync(join(tmpdir(), 'sportello-praise-'));
  const listening = join(dir, 'listening.yaml');
  writeFileSync(listening, 'brand: [Bottega Rossi, BottegaRossi]\ndetector:\n  cold_start_hours: 0\n');
  const config = loadConfig(
    channelAppEnv(join(dir, 'data.json'), {
      LISTENING_FILE: listening,
      ...xEnv(x.origin),
      X_SEARCH_QUERY: '(bottega rossi OR bottegarossi)',
      X_SEARCH_SECONDS: '86400',
    }),
  );
  const store = createLowdbStore({ file: config.dataFile, now: () => clock.now().getTime() });
  const logger = createSilentLogger();
  const channel = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: OUTBOUND, tls: { ca: x.ca } });
  const app = await createSportello({ config, clock, logger, store, channels: [channel], outboxPollMs: 20 });
  const base = await app.listen(0, '127.0.0.1');
  const add = async (id: string, name: string, initials: string, role: Operator['role'], password: string) =>
    app.store.directory.addOperator({ id, name, initials, role, passwordHash: await hashPassword(password, FAST), createdAt: '2026-01-01T00:00:00.000Z' });
  await add('op-marta', 'Marta', 'MR', 'agent', PRAISE_PASSWORDS.marta);
  await add('op-luca', 'Luca', 'LB', 'agent', PRAISE_PASSWORDS.luca);
  await add('op-anna', 'Anna', 'AV', 'admin', PRAISE_PASSWORDS.anna);
  await channel.searchNow();
  return {
    app,
    x,
    clock,
    channel,
    base,
    async settle() {
      await channel.searchNow();
      await app.pipeline.idle();
      await app.sender.drain();
    },
    repliesTo: (postId) => x.brandReplies().filter((p) => p.referenced_tweets?.some((r) => r.type === 'replied_to' && r.id === postId)),
    async close() {
      await app.close();
      await x.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
