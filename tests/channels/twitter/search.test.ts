/**
 * Listening on X: the recent-search poller against the fake X API (cursors across restarts,
 * paging, 429s and the rate limit's last request), and X's rule that an app replies only to posts
 * that mention or quote the brand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createTwitterChannel, type TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import { listeningQuery, X_QUERY_MAX } from '../../../src/channels/twitter/search.js';
import { ChannelApiError } from '../../../src/core/errors.js';
import type { ChannelContext, FakeClock } from '../../../src/core/ports.js';
import type { InboundMessage } from '../../../src/core/types.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import { compileQuery, ROUTES, X_ERRORS, type FakeUser, type FakeXApi } from '../../fakes/x-api/fake-x-api.js';
import { BRAND, CUSTOMER, createValuesStore, outboxItem, startFakeX, twitterConfig } from './helpers.js';
import { OUTBOUND } from '../../helpers/outbound.js';

const START = '2026-11-23T10:00:00.000Z';
const QUERY = '(bottega rossi OR bottegarossi OR "botega rossi" OR #bottegarossi) -ristorante -is:retweet';

let clock: FakeClock;
let x: FakeXApi;
let store: ReturnType<typeof createValuesStore>;
let customer: FakeUser;
let other: FakeUser;

function makeChannel(overrides: Parameters<typeof twitterConfig>[1] = {}): TwitterChannel {
  return createTwitterChannel({ config: twitterConfig(x.origin, { searchQuery: QUERY, searchSeconds: 3600, ...overrides }), store, clock, logger: createSilentLogger(), outbound: OUTBOUND, tls: { ca: x.ca } });
}

/** A context that records what the channel hears (and receives). */
function recorder(): ChannelContext & { heard: InboundMessage[]; received: InboundMessage[] } {
  const heard: InboundMessage[] = [];
  const received: InboundMessage[] = [];
  return { heard, received, hear: async (m) => void heard.push(m), receive: async (m) => void received.push(m), store: store as unknown as ChannelContext['store'] };
}

/** Starts a channel and waits for the round `start` runs by itself. */
async function started(channel: TwitterChannel, ctx: ChannelContext): Promise<void> {
  await channel.start!(ctx);
  await channel.searchNow();
}

beforeAll(async () => {
  ({ clock, x } = await startFakeX(START));
});
afterAll(async () => {
  await x.close();
});
beforeEach(() => {
  clock.set(START);
  x.calls.length = 0;
  x.posts.clear();
  store = createValuesStore();
  customer = x.addUser({ id: CUSTOMER.id, username: CUSTOMER.username, name: 'Giulia B.', followers: 321 });
  other = x.addUser({ id: '4001', username: 'marco_r', followers: 12_000 });
  x.setRateLimit(ROUTES.search, 450);
});

describe('the fake X API search query language', () => {
  it('matches words, phrases, OR, groups, negation, hashtags and operators like X', () => {
    const post = (text: string, extra: Record<string, unknown> = {}) => ({ id: '1', text, author_id: '4001', conversation_id: '1', created_at: START, ...extra });
    const m = compileQuery(QUERY, (id) => x.users.get(id));
    expect(m(post('Da Bottega Rossi oggi'))).toBe(true);
    // Words side by side are AND, in any order, as on X.
    expect(m(post('Rossi, la Bottega'))).toBe(true);
    expect(m(post('Bottega Verde'))).toBe(false);
    expect(m(post('#bottegarossi sempre'))).toBe(true);
    expect(m(post('botega rossi ha chiuso?'))).toBe(true);
    expect(m(post('cena da Bottega Rossi ristorante'))).toBe(false);
    expect(m(post('bottegarossi', { referenced_tweets: [{ type: 'retweeted', id: '9' }] }))).toBe(false);
    expect(compileQuery('from:marco_r lang:it', (id) => x.users.get(id))(post('ciao', { lang: 'it' }))).toBe(true);
    expect(() => compileQuery('-ristorante', () => undefined)).toThrow(/non-negation/);
    expect(() => compileQuery('(bottega', () => undefined)).toThrow(/parenthesis/);
  });
});

describe('listening with recent search', () => {
  it('hears nothing older than the first start, then the new matching posts oldest first, marked heard unless addressed to the brand', async () => {
    x.post(other.id, 'Bottega Rossi: vecchio post');
    clock.advance(60_000);
    const channel = makeChannel();
    const ctx = recorder();
    await started(channel, ctx);
    expect(ctx.heard).toEqual([]);

    clock.advance(1000);
    const plain = x.post(other.id, 'La app di Bottega Rossi è bloccata da stamattina');
    const noMatch = x.post(other.id, 'Oggi piove');
    const mention = x.post(customer.id, `@${BRAND.username} bottega rossi, il mio ordine?`);
    const campaign = x.brandPost('Nuova collezione #bottegarossi');
    const quote = x.post(customer.id, 'Bellissima! #bottegarossi', { quoteOf: campaign.id });
    const excluded = x.post(other.id, 'Cena al Bottega Rossi ristorante');
    const retweet = x.post(other.id, 'RT bottegarossi', { retweetOf: plain.id });
    const result = await channel.searchNow();

    expect(ctx.heard.map((m) => m.id)).toEqual([plain.id, mention.id, quote.id]);
    expect(ctx.received).toEqual([]);
    const [p, m, q] = ctx.heard;
    expect(p).toMatchObject({ channel: 'twitter', visibility: 'public', heard: true, customer: { platformId: other.id, handle: 'marco_r', followers: 12_000 } });
    expect(m!.heard).toBeUndefined();
    expect(q!.heard).toBeUndefined();
    expect(result).toMatchObject({ heard: 3, requests: 1 });
    // The brand's own post is read (and billed) but not heard.
    expect(result.read).toBe(4);
    expect([noMatch.id, excluded.id, retweet.id, campaign.id].some((id) => ctx.heard.some((h) => h.id === id))).toBe(false);

    const again = await channel.searchNow();
    expect(again).toMatchObject({ heard: 0, read: 0 });
    const last = x.calls.filter((c) => c.route === ROUTES.search).at(-1)!;
    expect(last.query).toMatchObject({ query: QUERY, since_id: quote.id, max_results: '100' });
    expect(store.map.get('twitter:search:reads')).toBe('4');
    await channel.stop!();
  });

  it('pages with next_token to the end and, after a restart, neither loses nor repeats a post', async () => {
    const first = makeChannel();
    const ctx = recorder();
    await started(first, ctx);
    clock.advance(1000);
    const burst = Array.from({ length: 230 }, (_, i) => x.post(other.id, `bottegarossi numero ${i}`));
    await first.searchNow();
    await first.stop!();
    expect(ctx.heard.map((m) => m.id)).toEqual(burst.map((p) => p.id));
    expect(x.calls.filter((c) => c.route === ROUTES.search && c.query['next_token'])).toHaveLength(2);

    const later = [x.post(other.id, 'bottegarossi dopo il riavvio 1'), x.post(customer.id, 'bottegarossi dopo il riavvio 2')];
    const restarted = makeChannel();
    const ctx2 = recorder();
    await started(restarted, ctx2);
    await restarted.stop!();
    expect(ctx2.heard.map((m) => m.id)).toEqual(later.map((p) => p.id));
  });

  it('pauses on a 429 until x-rate-limit-reset, then catches up', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    await started(channel, ctx);
    clock.advance(1000);
    const post = x.post(other.id, 'bottegarossi ci siete?');
    x.setRateLimit(ROUTES.search, 0, 120);
    const paused = await channel.searchNow();
    expect(paused.pausedUntil).toBe(Math.floor(clock.now().getTime() / 1000) * 1000 + 120_000);
    const before = x.calls.filter((c) => c.route === ROUTES.search).length;
    await channel.searchNow();
    expect(x.calls.filter((c) => c.route === ROUTES.search)).toHaveLength(before);
    clock.advance(121_000);
    x.setRateLimit(ROUTES.search, 450);
    await channel.searchNow();
    expect(ctx.heard.map((h) => h.id)).toEqual([post.id]);
    await channel.stop!();
  });

  it('stops at the window’s last request without a 429, and later reads the older rest before moving on', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    await started(channel, ctx);
    clock.advance(1000);
    const burst = Array.from({ length: 250 }, (_, i) => x.post(other.id, `bottegarossi ${i}`));
    // One request left in this window: the newest 100 are read, the round stops (no 429 spent).
    x.setRateLimit(ROUTES.search, 1, 300);
    const cut = await channel.searchNow();
    expect(cut).toMatchObject({ heard: 100, requests: 1 });
    expect(cut.pausedUntil).toBeGreaterThan(clock.now().getTime());
    expect(x.calls.filter((c) => c.route === ROUTES.search && c.query['next_token'])).toHaveLength(0);
    clock.advance(301_000);
    x.setRateLimit(ROUTES.search, 450);
    const newer = x.post(customer.id, 'bottegarossi appena scritto');
    await channel.searchNow();
    // The 150 older ones (until_id), then the cursor moves past the newest read: the new post next round.
    expect(x.calls.filter((c) => c.route === ROUTES.search).at(-1)!.query['until_id']).toBe(burst[150]!.id);
    await channel.searchNow();
    const ids = ctx.heard.map((h) => h.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...burst.map((p) => p.id), newer.id].sort());
    await channel.stop!();
  });
});

describe('the query from the listening file (no X_SEARCH_QUERY)', () => {
  const terms = { brand: ['Bottega Rossi'], keywords: ['bottegarossi'], handles: ['@BottegaRossiIT'], hashtags: ['#bottegarossi'], misspellings: ['botega rossi'], exclude: ['ristorante', 'cena di gala'] };

  it('asks for any of the brand, keywords, handles, hashtags and misspellings, without retweets, the brand’s own posts or excluded words', () => {
    expect(listeningQuery(terms, BRAND.username)).toBe(
      `("Bottega Rossi" OR bottegarossi OR BottegaRossiIT OR #bottegarossi OR "botega rossi") -is:retweet -from:${BRAND.username} -ristorante -"cena di gala"`,
    );
    expect(listeningQuery({ ...terms, brand: [], keywords: [], handles: [], hashtags: [], misspellings: [] })).toBeUndefined();
    // A term written twice (any case) is asked once; quotes and brackets cannot break the query.
    expect(listeningQuery({ ...terms, keywords: ['BOTTEGAROSSI', 'negozio "centro" (via Roma)'], hashtags: [], misspellings: [], handles: [], exclude: [] })).toBe(
      '("Bottega Rossi" OR BOTTEGAROSSI OR "negozio centro via Roma") -is:retweet',
    );
  });

  it('refuses a query longer than X takes, saying what to do', () => {
    const many = Array.from({ length: 80 }, (_, i) => `parola${i}`);
    expect(() => listeningQuery({ ...terms, keywords: many })).toThrow(new RegExp(`takes ${X_QUERY_MAX} on most access levels.*X_SEARCH_QUERY`));
  });

  it('is what a channel without X_SEARCH_QUERY searches with, against the fake X API', async () => {
    const channel = createTwitterChannel({
      config: twitterConfig(x.origin, { searchSeconds: 3600 }),
      store,
      clock,
      logger: createSilentLogger(),
      outbound: OUTBOUND,
      tls: { ca: x.ca },
      listening: terms,
    });
    const ctx = recorder();
    await started(channel, ctx);
    clock.advance(1000);
    const plain = x.post(other.id, 'La app di Bottega Rossi è bloccata');
    const misspelt = x.post(other.id, 'botega rossi non risponde');
    x.post(other.id, 'Cena di gala da Bottega Rossi');
    x.post(other.id, 'Oggi piove');
    await channel.searchNow();
    expect(ctx.heard.map((m) => m.id)).toEqual([plain.id, misspelt.id]);
    expect(x.calls.filter((c) => c.route === ROUTES.search).at(-1)!.query).toMatchObject({ query: listeningQuery(terms, BRAND.username) });
    await channel.stop!();
  });
});

describe('X replies only to posts that mention or quote the brand', () => {
  it('refuses the brand’s reply to a post heard by search, and takes it to a mention', async () => {
    const channel = makeChannel({ searchQuery: undefined });
    const heard = x.post(other.id, 'Bottega Rossi non risponde mai');
    const error = await channel.send(outboxItem({ recipient: other.id, inReplyTo: heard.id, ref: { kind: 'mention' }, reply: { kind: 'text', text: 'Ciao, possiamo aiutarti?' } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details).toMatchObject({ status: 403 });
    expect(x.brandReplies()).toHaveLength(0);
    expect(X_ERRORS.replyNotAllowed.detail).toMatch(/not been mentioned/);

    const mention = x.mention(customer.id, `@${BRAND.username} il mio ordine?`);
    await channel.send(outboxItem({ inReplyTo: mention.id, ref: { kind: 'mention' }, reply: { kind: 'text', text: 'Ti scriviamo in DM' } }));
    expect(x.brandReplies().map((p) => p.referenced_tweets?.[0]?.id)).toEqual([mention.id]);
  });
});
