/**
 * End to end: a real Sportello (lowdb store, classifier, pipeline, sender) listening on the fake X
 * API with recent search. Posts heard without a mention are classed; care requests reach the
 * queue without a public reply (X refuses those), opinions and praise open no conversation, and a
 * burst of negative posts on one topic raises one `crisis.alert` on the bus.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Sportello } from '../../src/app.js';
import type { TwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import type { DomainEvent } from '../../src/core/events.js';
import type { FakeClock } from '../../src/core/ports.js';
import { ROUTES, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { BRAND, startFakeX, startXApp } from '../channels/twitter/helpers.js';

jest.setTimeout(120_000);

const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let dir: string;
let app: Sportello;
let channel: TwitterChannel;
let base: string;
const events: DomainEvent[] = [];

beforeAll(async () => {
  ({ clock, x } = await startFakeX(START));
  dir = mkdtempSync(join(tmpdir(), 'sportello-listening-'));
  // No cold start here (the detector's own tests cover it): the stream below is short.
  const listening = join(dir, 'listening.yaml');
  writeFileSync(listening, 'brand: [Bottega Rossi, BottegaRossi]\ndetector:\n  cold_start_hours: 0\n');
  ({ app, channel, base } = await startXApp({
    x,
    clock,
    dataFile: join(dir, 'data.json'),
    env: { LISTENING_FILE: listening, X_SEARCH_QUERY: '(bottega rossi OR bottegarossi) -ristorante', X_SEARCH_SECONDS: '86400' },
  }));
  app.bus.subscribe((e) => void events.push(e));
  await channel.searchNow();
});
afterAll(async () => {
  await app?.close();
  await x.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  await channel.searchNow();
  await app.pipeline.idle();
  await app.sender.drain();
}

describe('listening on X in a running instance', () => {
  it('queues a care request heard without a mention for a person, with no public reply, and answers the same question as a mention', async () => {
    const heardUser = x.addUser({ id: '5100', username: 'sara_t', followers: 800 });
    const mentionUser = x.addUser({ id: '5101', username: 'luca_p', followers: 90 });
    clock.advance(60_000);
    const heard = x.post(heardUser.id, 'Bottega Rossi: il mio ordine non è ancora arrivato, potete aiutarmi?');
    const opinion = x.post('5102', 'Bottega Rossi ha vetrine carine');
    x.addUser({ id: '5102', username: 'anna', followers: 10 });
    const mention = x.post(mentionUser.id, `@${BRAND.username} quali sono gli orari del negozio di bottega rossi?`);
    await settle();

    const conversations = await app.store.conversations.list({});
    const heardConv = conversations.find((c) => c.customerId.endsWith(heardUser.id));
    expect(heardConv).toMatchObject({ state: 'queued', queue: { reason: 'unaddressed', priority: 2 } });
    expect(x.brandReplies().filter((p) => p.referenced_tweets?.[0]?.id === heard.id)).toHaveLength(0);
    // An opinion opens no conversation; the mention is answered in public.
    expect(conversations.some((c) => c.customerId.endsWith('5102'))).toBe(false);
    expect(x.brandReplies().filter((p) => p.referenced_tweets?.[0]?.id === mention.id)).toHaveLength(1);
    // The bot never even tried a public reply X would refuse.
    expect(x.calls.filter((c) => c.route === ROUTES.postTweet).map((c) => (c.body as { reply?: { in_reply_to_tweet_id?: string } }).reply?.in_reply_to_tweet_id)).not.toContain(heard.id);
    expect(opinion.id).not.toBe(heard.id);
    // Every heard post is kept, with its class, sentiment, topic, author and reach.
    const kept = await app.store.heard.list({ limit: 10 });
    expect(kept.map((h) => [h.platformId, h.class])).toEqual(expect.arrayContaining([[heard.id, 'care'], [opinion.id, 'noise'], [mention.id, 'care']]));
    expect(kept.find((h) => h.platformId === heard.id)).toMatchObject({ channel: 'twitter', kind: 'post', author: { id: '5100', handle: 'sara_t', followers: 800 }, language: 'it' });
    expect(kept.find((h) => h.platformId === mention.id)).toMatchObject({ kind: 'mention' });
  });

  it('raises one crisis.alert on the bus for a burst of negative posts on one topic', async () => {
    const burst: string[] = [];
    for (let i = 0; i < 14; i++) {
      clock.advance(40_000);
      x.addUser({ id: String(6000 + i), username: `arrabbiato${i}`, followers: 100 * i });
      burst.push(x.post(String(6000 + i), `Bottega Rossi: pagamento bloccato di nuovo, vergogna (${i})`).id);
      if (i % 3 === 2) await settle();
    }
    await settle();
    const alerts = events.filter((e): e is Extract<DomainEvent, { type: 'crisis.alert' }> => e.type === 'crisis.alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ update: false, windowMinutes: 20 });
    expect(alerts[0]!.topic).toMatch(/pagamento|bloccato/);
    expect(alerts[0]!.negativeShare).toBeGreaterThan(0.5);
    // Raised at the sixth post (min_volume 6): its window's most followed author first.
    expect(alerts[0]!.topAuthors[0]).toMatchObject({ handle: 'arrabbiato5', followers: 500 });
    expect(burst).toHaveLength(14);
    // /metrics counts heard posts by class and the alert.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const value = (series: string) => Number(metrics.split('\n').find((l) => l.startsWith(series))?.split(' ').at(-1));
    expect(value('sportello_listening_alerts_total{kind="new"}')).toBe(1);
    expect(value('sportello_listening_alerts_total{kind="update"}')).toBe(0);
    const heardTotal = (await app.store.heard.list({ limit: 100 })).length;
    const counted = ['care', 'praise', 'noise', 'spam'].reduce((n, c) => n + (value(`sportello_listening_items_total{channel="twitter",class="${c}"}`) || 0), 0);
    expect(counted).toBe(heardTotal);
    expect(value('sportello_listening_items_total{channel="twitter",class="care"}')).toBeGreaterThan(0);
  });
});
