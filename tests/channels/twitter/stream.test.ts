/**
 * Listening on X through the filtered stream (X_LISTEN_MODE=stream) against the fake X API: rules
 * synced (added, stale ones deleted, none touched twice, two instances end with one rule and one
 * connection), posts heard as search hears them, reconnects after a drop and a silent hang, X's
 * backoffs (429 TooManyConnections logged once), the 403 "client-not-enrolled" fallback to search,
 * a post delivered twice heard once, and a clean stop. X's stream as it misbehaves: lines split
 * across reads (a character across pieces), lines that are not JSON or of an unknown shape, an
 * `operational-disconnect` written in the stream before X closes it, a stream that answers 200 and
 * closes again and again, one that sends its headers and then nothing, a 429 that spent the
 * connection window (waits for `x-rate-limit-reset`), and a rate-limited rules sync.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { twitterEnv } from '../../../src/channels/twitter/settings.js';
import { createTwitterChannel, type TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import { MAX_QUEUED_POSTS, ruleTag, type StreamTimings } from '../../../src/channels/twitter/stream.js';
import { createFakeClock, type ChannelContext, type FakeClock } from '../../../src/core/ports.js';
import type { InboundMessage } from '../../../src/core/types.js';
import { createLogger, createSilentLogger, type Logger } from '../../../src/util/logger.js';
import { createFakeXApi, ROUTES, X_ERRORS, type FakeUser, type FakeXApi } from '../../fakes/x-api/fake-x-api.js';
import { ACCESS_TOKEN, API_KEY, API_SECRET, BRAND, CUSTOMER, createValuesStore, twitterConfig } from './helpers.js';
import { OUTBOUND } from '../../helpers/outbound.js';

const START = '2026-11-23T10:00:00.000Z';
const QUERY = '(bottega rossi OR bottegarossi OR #bottegarossi) -ristorante -is:retweet';
const TAG = ruleTag(BRAND.id);
/** Short waits for tests; the code's defaults are X's (60 s silence, 250 ms…16 s, 5 s…320 s, 1 min…). */
const TIMINGS: Partial<StreamTimings> = {
  // Long enough that a loaded machine (a busy event loop, 50 ms heartbeats) never looks like a silent stream.
  heartbeatTimeoutMs: 5000,
  networkStepMs: 20,
  networkMaxMs: 100,
  httpStartMs: 40,
  httpMaxMs: 200,
  rateLimitStartMs: 100,
  rateLimitMaxMs: 1000,
  stableMs: 2000,
  refusedStartMs: 50,
  refusedMaxMs: 200,
};

let clock: FakeClock;
let x: FakeXApi;
let store: ReturnType<typeof createValuesStore>;
let customer: FakeUser;
let other: FakeUser;
const channels: TwitterChannel[] = [];

/** Polls a condition (never a fixed sleep): the machine may be loaded. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string } & Record<string, unknown>> } {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

function makeChannel(options: { logger?: Logger; overrides?: Parameters<typeof twitterConfig>[1]; valuesStore?: ReturnType<typeof createValuesStore> } = {}): TwitterChannel {
  const channel = createTwitterChannel({
    config: twitterConfig(x.origin, { searchQuery: QUERY, searchSeconds: 3600, listenMode: 'stream', ...options.overrides }),
    store: options.valuesStore ?? store,
    clock,
    logger: options.logger ?? (process.env['DEBUG_STREAM'] ? createLogger({ level: 'debug' }) : createSilentLogger()),
    outbound: OUTBOUND,
    tls: { ca: x.ca },
    streamTimings: TIMINGS,
  });
  channels.push(channel);
  return channel;
}

function recorder(): ChannelContext & { heard: InboundMessage[]; received: InboundMessage[] } {
  const heard: InboundMessage[] = [];
  const received: InboundMessage[] = [];
  return { heard, received, hear: async (m) => void heard.push(m), receive: async (m) => void received.push(m), store: store as unknown as ChannelContext['store'] };
}

/** Starts the channel and waits until its stream holds (a heartbeat came). */
async function streaming(channel: TwitterChannel, ctx: ChannelContext): Promise<void> {
  await channel.start!(ctx);
  await waitFor('the stream to connect', () => (channel.streamStatus()?.connected ?? false) && channel.streamStatus()!.keepAlives > 0);
}

const calls = (route: string) => x.calls.filter((c) => c.route === route);

beforeAll(async () => {
  clock = createFakeClock(START);
  x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN, apiSecret: API_SECRET, streamHeartbeatMs: 50 });
});
afterAll(async () => {
  await x.close();
});
beforeEach(() => {
  clock.set(START);
  x.calls.length = 0;
  x.posts.clear();
  x.rules.clear();
  store = createValuesStore();
  customer = x.addUser({ id: CUSTOMER.id, username: CUSTOMER.username, name: 'Giulia B.', followers: 321 });
  other = x.addUser({ id: '4001', username: 'marco_r', followers: 12_000 });
});
afterEach(async () => {
  for (const c of channels.splice(0)) await c.stop!();
  await waitFor('the fake to see every stream closed', () => x.streamConnections() === 0);
});

describe('the setting', () => {
  it('is search unless X_LISTEN_MODE says stream, and a wrong value is refused', () => {
    const env = z.object(twitterEnv);
    expect(env.parse({}).X_LISTEN_MODE).toBe('search');
    expect(env.parse({ X_LISTEN_MODE: 'stream' }).X_LISTEN_MODE).toBe('stream');
    const wrong = env.safeParse({ X_LISTEN_MODE: 'streaming' });
    expect(wrong.success).toBe(false);
    expect(JSON.stringify(wrong.error?.issues)).toMatch(/search.*stream/);
  });
});

describe('filtered stream rules', () => {
  it('adds the brand’s rule, deletes its stale ones, leaves others’ rules alone, and changes nothing the second time', async () => {
    x.rules.set('1', { id: '1', value: 'bottega vecchia', tag: TAG });
    x.rules.set('2', { id: '2', value: 'altro marchio', tag: 'crm:altro' });
    x.rules.set('3', { id: '3', value: 'senza etichetta' });
    x.rules.set('4', { id: '4', value: 'bottega vecchia 2', tag: 'sportello:999' });
    const first = makeChannel();
    await streaming(first, recorder());
    expect([...x.rules.values()].map((r) => [r.value, r.tag]).sort()).toEqual(
      [['altro marchio', 'crm:altro'], ['bottega vecchia 2', 'sportello:999'], ['senza etichetta', undefined], [QUERY, TAG]].sort(),
    );
    const changes = calls(ROUTES.streamRulesChange).map((c) => c.body);
    expect(changes).toEqual([{ delete: { ids: ['1'] } }, { add: [{ value: QUERY, tag: TAG }] }]);
    // The stream and its rules take the app-only bearer token, asked with the API key and secret.
    expect(calls(ROUTES.token)).toHaveLength(1);
    expect(calls(ROUTES.stream)[0]!.authorization).toMatch(/^Bearer /);
    await first.stop!();

    // A restart: the rule is there, nothing is added or deleted.
    x.calls.length = 0;
    const again = makeChannel();
    await streaming(again, recorder());
    expect(calls(ROUTES.streamRules)).toHaveLength(1);
    expect(calls(ROUTES.streamRulesChange)).toHaveLength(0);
    expect([...x.rules.values()].filter((r) => r.tag === TAG)).toHaveLength(1);
  });

  it('retries a failed sync before connecting: the stream never runs without the brand’s rule', async () => {
    x.failNext(ROUTES.streamRules, { status: 503, body: X_ERRORS.serviceUnavailable });
    const channel = makeChannel();
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'http', ms: 40 }]);
    expect(calls(ROUTES.streamRules)).toHaveLength(2);
    expect(calls(ROUTES.stream)).toHaveLength(1);
    expect([...x.rules.values()].map((r) => r.tag)).toEqual([TAG]);
  });

  it('two instances starting at once end with one rule and one connection; the second waits longer and logs it once', async () => {
    const { logger, lines } = capturingLogger();
    const a = makeChannel({ logger });
    const b = makeChannel({ logger, valuesStore: createValuesStore() });
    const ctxA = recorder();
    const ctxB = recorder();
    await Promise.all([a.start!(ctxA), b.start!(ctxB)]);
    await waitFor('one of them to hold the stream', () => x.streamConnections() === 1);
    await waitFor('one of them connected', () => [a, b].some((c) => c.streamStatus()!.connected));
    const waiting = [a, b].find((c) => !c.streamStatus()!.connected)!;
    await waitFor('the other to be refused a few times', () => waiting.streamStatus()!.waits.length >= 3);
    expect([...x.rules.values()].filter((r) => r.tag === TAG).map((r) => r.value)).toEqual([QUERY]);
    expect(x.streamConnections()).toBe(1);
    expect(waiting.streamStatus()!.connections).toBe(0);
    const waits = waiting.streamStatus()!.waits.filter((w) => w.reason === 'rate_limit').map((w) => w.ms);
    expect(waits.slice(0, 3)).toEqual([100, 200, 400]);
    expect(lines.filter((l) => /one filtered stream connection per app/.test(l.msg))).toHaveLength(1);
    // Whoever holds the stream hears the post, once.
    const post = x.post(other.id, 'Bottega Rossi chiude presto oggi?');
    await waitFor('the post to be heard', () => ctxA.heard.length + ctxB.heard.length === 1);
    expect([...ctxA.heard, ...ctxB.heard].map((m) => m.id)).toEqual([post.id]);
  });
});

describe('a rule X refuses', () => {
  const refusals = (lines: Array<{ msg: string; level: number }>) => lines.filter((l) => l.level >= 50 && /refuses what the filtered stream needs/.test(l.msg));

  it('is said once, shown in the status, and tried again less and less often up to a cap, never connecting without it', async () => {
    const { logger, lines } = capturingLogger();
    // A query of negations only: X refuses it as a rule (200, with the rule in `errors`).
    const channel = makeChannel({ logger, overrides: { searchQuery: '-ristorante -is:retweet' } });
    await channel.start!(recorder());
    await waitFor('six refusals', () => channel.streamStatus()!.waits.length >= 6);
    const status = channel.streamStatus()!;
    // Before: 5 s doubling to 320 s, for ever, a warning each time.
    expect(status.waits.slice(0, 6)).toEqual([50, 100, 200, 200, 200, 200].map((ms) => ({ reason: 'refused', ms })));
    expect(status.refused).toMatchObject({ since: START });
    expect(status.refused!.reason).toMatch(/the rule was refused \(UnprocessableEntity: .+\): -ristorante -is:retweet/);
    expect(status.refused!.tries).toBeGreaterThanOrEqual(6);
    expect(refusals(lines)).toHaveLength(1);
    expect(calls(ROUTES.stream)).toHaveLength(0);
    expect(x.rules.size).toBe(0);
  });

  it('says it again only when the reason changes, and connects once X accepts the rule', async () => {
    const { logger, lines } = capturingLogger();
    const capped = { errors: [{ value: QUERY, title: 'RulesCapExceeded', detail: 'Rule creation would exceed your rules cap', type: 'https://api.twitter.com/2/problems/rule-cap' }], meta: { sent: START, summary: { created: 0, not_created: 1 } } };
    x.failNext(ROUTES.streamRulesChange, { status: 200, body: capped });
    x.failNext(ROUTES.streamRulesChange, { status: 200, body: capped });
    x.failNext(ROUTES.streamRulesChange, { status: 400, body: { title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.twitter.com/2/problems/invalid-request' } });
    const channel = makeChannel({ logger });
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([50, 100, 200].map((ms) => ({ reason: 'refused', ms })));
    expect(refusals(lines).map((l) => (l as unknown as { err: string }).err)).toEqual([expect.stringMatching(/RulesCapExceeded: Rule creation would exceed/), expect.stringMatching(/HTTP 400/)]);
    expect(channel.streamStatus()!.refused).toBeUndefined();
    expect(lines.filter((l) => /accepts the filtered stream rule now/.test(l.msg))).toHaveLength(1);
    expect([...x.rules.values()].filter((r) => r.tag === TAG).map((r) => r.value)).toEqual([QUERY]);
  });
});

describe('posts from the stream', () => {
  it('are heard as recent search hears them: author and reach, heard unless addressed to the brand; others are not', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    await streaming(channel, ctx);
    const plain = x.post(other.id, 'La app di Bottega Rossi è bloccata da stamattina');
    x.post(other.id, 'Oggi piove');
    x.post(other.id, 'Cena al Bottega Rossi ristorante');
    const mention = x.post(customer.id, `@${BRAND.username} bottega rossi, il mio ordine?`);
    x.brandPost('Nuova collezione #bottegarossi');
    await waitFor('two posts heard', () => ctx.heard.length >= 2);
    expect(ctx.heard.map((m) => m.id)).toEqual([plain.id, mention.id]);
    expect(ctx.received).toEqual([]);
    expect(ctx.heard[0]).toMatchObject({ channel: 'twitter', visibility: 'public', listening: true, heard: true, customer: { platformId: other.id, handle: 'marco_r', followers: 12_000 } });
    expect(ctx.heard[1]!.heard).toBeUndefined();
    expect(ctx.heard[1]).toMatchObject({ listening: true, customer: { handle: CUSTOMER.username, followers: 321 } });
    expect(channel.streamStatus()).toMatchObject({ heard: 2, connections: 1 });
  });

  it('a post delivered twice, or by both the stream and recent search, is heard once', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    await streaming(channel, ctx);
    const post = x.post(other.id, 'bottegarossi consegna in ritardo');
    x.streamAgain(post);
    const later = x.post(other.id, 'bottegarossi dopo');
    await waitFor('the later post', () => ctx.heard.some((m) => m.id === later.id));
    expect(ctx.heard.map((m) => m.id)).toEqual([post.id, later.id]);
    // Search (the fallback) finds both again: neither is heard twice.
    const round = await channel.searchNow();
    expect(round.read).toBe(2);
    expect(round.heard).toBe(0);
    expect(ctx.heard).toHaveLength(2);
  });

  it('a post whose hearing failed is not counted as heard: recent search brings it again', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    let failOnce = true;
    const flaky: ChannelContext = {
      ...ctx,
      hear: async (m) => {
        if (failOnce) {
          failOnce = false;
          throw new Error('store unavailable');
        }
        ctx.heard.push(m);
      },
    };
    await streaming(channel, flaky);
    const post = x.post(other.id, 'bottegarossi al primo colpo non passa');
    const next = x.post(other.id, 'bottegarossi il secondo sì');
    await waitFor('the second post', () => ctx.heard.some((m) => m.id === next.id));
    expect(ctx.heard.map((m) => m.id)).toEqual([next.id]);
    const round = await channel.searchNow();
    expect(round.heard).toBe(1);
    expect(ctx.heard.map((m) => m.id)).toEqual([next.id, post.id]);
  });
});

describe('reconnects', () => {
  it('reconnects at once after a dropped connection and hears what comes next', async () => {
    const channel = makeChannel();
    const ctx = recorder();
    await streaming(channel, ctx);
    x.dropStreams();
    await waitFor('a second connection', () => channel.streamStatus()!.connections >= 2 && channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.waits[0]).toEqual({ reason: 'drop', ms: 0 });
    const post = x.post(other.id, 'bottegarossi dopo la caduta');
    await waitFor('the post', () => ctx.heard.length === 1);
    expect(ctx.heard[0]!.id).toBe(post.id);
  });

  it('drops a connection silent for longer than the heartbeat timeout and opens another', async () => {
    const { logger, lines } = capturingLogger();
    const channel = makeChannel({ logger });
    const ctx = recorder();
    await streaming(channel, ctx);
    x.silenceStreams();
    const missed = x.post(other.id, 'bottegarossi mentre tace');
    await waitFor('a new connection after the silence', () => channel.streamStatus()!.connections >= 2 && channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.waits[0]).toEqual({ reason: 'stall', ms: 0 });
    expect(lines.some((l) => /silent \(no post, no heartbeat\)/.test(l.msg))).toBe(true);
    const post = x.post(other.id, 'bottegarossi di nuovo');
    await waitFor('the post', () => ctx.heard.some((m) => m.id === post.id));
    expect(ctx.heard.map((m) => m.id)).not.toContain(missed.id);
  });

  it('gives up on a connection X never answers and tries again', async () => {
    x.failNext(ROUTES.stream, { hang: 'before' });
    const channel = makeChannel();
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'network', ms: 20 }]);
    expect(channel.streamStatus()!.attempts).toBe(2);
    await waitFor('the fake to let the held request go', () => x.openRequests() === 0);
  });

  it('backs off linearly on network failures and exponentially on HTTP errors, from zero again once a connection holds', async () => {
    x.failNext(ROUTES.stream, { destroy: true });
    x.failNext(ROUTES.stream, { destroy: true });
    x.failNext(ROUTES.stream, { status: 503, body: X_ERRORS.serviceUnavailable });
    x.failNext(ROUTES.stream, { status: 503, body: X_ERRORS.serviceUnavailable });
    x.failNext(ROUTES.stream, { status: 503, body: X_ERRORS.serviceUnavailable });
    const channel = makeChannel();
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([
      { reason: 'network', ms: 20 },
      { reason: 'network', ms: 40 },
      { reason: 'http', ms: 40 },
      { reason: 'http', ms: 80 },
      { reason: 'http', ms: 160 },
    ]);
    x.dropStreams();
    x.failNext(ROUTES.stream, { status: 503, body: X_ERRORS.serviceUnavailable });
    await waitFor('connected again', () => channel.streamStatus()!.connections >= 2 && channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.waits.slice(5)).toEqual([
      { reason: 'drop', ms: 0 },
      { reason: 'http', ms: 40 },
    ]);
  });

  it('waits longer on 429 TooManyConnections, doubling, and logs it once', async () => {
    const { logger, lines } = capturingLogger();
    for (let i = 0; i < 3; i++) x.failNext(ROUTES.stream, { status: 429, body: X_ERRORS.tooManyConnections });
    const channel = makeChannel({ logger });
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([
      { reason: 'rate_limit', ms: 100 },
      { reason: 'rate_limit', ms: 200 },
      { reason: 'rate_limit', ms: 400 },
    ]);
    expect(lines.filter((l) => /one filtered stream connection per app/.test(l.msg))).toHaveLength(1);
    expect(lines.find((l) => /one filtered stream connection per app/.test(l.msg))).toMatchObject({ connectionIssue: 'TooManyConnections' });
  });
});

describe('X misbehaving', () => {
  it('reads a post whose line comes in pieces (a character split across them, X’s HTML entities undone), skipping lines that are not JSON or of an unknown shape', async () => {
    const { logger, lines } = capturingLogger();
    const channel = makeChannel({ logger });
    const ctx = recorder();
    await streaming(channel, ctx);
    x.streamRaw('{"data":{"id":"1","text":"troncato\r\n');
    x.streamRaw('[1,2,3]\r\n');
    // X escapes & < > in posts' texts: the entities split across pieces too, and undone.
    const text = 'bottegarossi: perché il reso è così lento? 📦🙏 Q&A <3 ci vorrà ancora molto?';
    const post = x.post(other.id, text, { streamed: false });
    await x.streamAgain(post, { chunkBytes: 7 });
    await waitFor('the post', () => ctx.heard.length === 1);
    expect(ctx.heard[0]).toMatchObject({ id: post.id, text });
    expect(channel.streamStatus()).toMatchObject({ connections: 1, connected: true, heard: 1 });
    expect(lines.some((l) => /not JSON; skipped/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /unknown shape; skipped/.test(l.msg))).toBe(true);
    // Nothing of a post's text in the logs.
    expect(JSON.stringify(lines)).not.toContain('troncato');
    // The stream goes on: the next post, whole, is heard too.
    const next = x.post(other.id, 'bottegarossi ancora');
    await waitFor('the next post', () => ctx.heard.some((m) => m.id === next.id));
  });

  it('stops reading while listening is behind a burst of posts, rather than queueing them without end, and hears them all in order once it catches up', async () => {
    const { logger, lines } = capturingLogger();
    const channel = makeChannel({ logger });
    const ctx = recorder();
    // Listening that cannot keep up: nothing is stored until the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hear = ctx.hear!;
    ctx.hear = async (m) => {
      await gate;
      await hear(m);
    };
    await streaming(channel, ctx);
    const burst = Array.from({ length: 2 * MAX_QUEUED_POSTS + 500 }, (_, i) => x.post(other.id, `bottega rossi ${i}`));
    await waitFor('reading to pause', () => channel.streamStatus()!.pauses === 1);
    // Before: every post read was queued (2500 here, without end in a real burst).
    const status = channel.streamStatus()!;
    expect(status.queued).toBeLessThan(MAX_QUEUED_POSTS + 100);
    expect(status.connected).toBe(true);
    open();
    await waitFor('every post heard', () => ctx.heard.length === burst.length);
    expect(ctx.heard.map((m) => m.id)).toEqual(burst.map((p) => p.id));
    const after = channel.streamStatus()!;
    expect(after.maxQueued).toBeLessThan(MAX_QUEUED_POSTS + 100);
    expect(after).toMatchObject({ connections: 1, connected: true, queued: 0 });
    expect(lines.filter((l) => /reading pauses until it catches up/.test(l.msg))).toHaveLength(1);
    // The connection goes on after the pause: the next post is heard too.
    const next = x.post(other.id, 'bottega rossi dopo');
    await waitFor('the next post', () => ctx.heard.some((m) => m.id === next.id));
  });

  it('drops a stream that sends a line longer than any post without ending it, rather than buffering it without end, and opens another', async () => {
    const { logger, lines } = capturingLogger();
    const channel = makeChannel({ logger });
    const ctx = recorder();
    await streaming(channel, ctx);
    x.streamRaw(`{"data":{"id":"1","text":"${'x'.repeat(1_100_000)}`);
    await waitFor('a second connection', () => channel.streamStatus()!.connections >= 2 && channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'drop', ms: 0 }]);
    expect(lines.some((l) => /longer than any post/.test(l.msg))).toBe(true);
    const post = x.post(other.id, 'bottegarossi dopo la riga infinita');
    await waitFor('the post', () => ctx.heard.some((m) => m.id === post.id));
  });

  it('logs the operational-disconnect X writes before closing the stream, reconnects at once and hears what comes next', async () => {
    const { logger, lines } = capturingLogger();
    const channel = makeChannel({ logger });
    const ctx = recorder();
    await streaming(channel, ctx);
    x.disconnectStreams(X_ERRORS.operationalDisconnect);
    await waitFor('a second connection', () => channel.streamStatus()!.connections >= 2 && channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'drop', ms: 0 }]);
    expect(lines.find((l) => /reported an error/.test(l.msg))).toMatchObject({ errors: [{ title: 'operational-disconnect', disconnectType: 'UpstreamOperationalDisconnect' }] });
    const post = x.post(other.id, 'bottegarossi dopo la disconnessione');
    await waitFor('the post', () => ctx.heard.some((m) => m.id === post.id));
  });

  it('does not reconnect in a tight loop when every connection is closed right after it opens: only the first drop is reopened at once', async () => {
    const { logger, lines } = capturingLogger();
    for (let i = 0; i < 4; i++) x.failNext(ROUTES.stream, { disconnect: X_ERRORS.operationalDisconnect });
    const channel = makeChannel({ logger });
    await streaming(channel, recorder());
    expect(channel.streamStatus()!.waits).toEqual([
      { reason: 'drop', ms: 0 },
      { reason: 'drop', ms: 40 },
      { reason: 'drop', ms: 80 },
      { reason: 'drop', ms: 160 },
    ]);
    expect(calls(ROUTES.stream)).toHaveLength(5);
    expect(lines.filter((l) => /dropped again soon after connecting/.test(l.msg))).toHaveLength(1);
  });

  it('gives up on a stream that sends its headers and then nothing, and opens another', async () => {
    x.failNext(ROUTES.stream, { headersOnly: true });
    const channel = makeChannel();
    const ctx = recorder();
    await streaming(channel, ctx);
    expect(channel.streamStatus()).toMatchObject({ connections: 2, attempts: 2, waits: [{ reason: 'network', ms: 20 }] });
    await waitFor('the fake to see the first connection closed', () => x.openRequests() === 0);
    const post = x.post(other.id, 'bottegarossi dopo lo stallo');
    await waitFor('the post', () => ctx.heard.some((m) => m.id === post.id));
  });

  it('waits for x-rate-limit-reset when a 429 says the connection window is spent', async () => {
    x.setRateLimit(ROUTES.stream, 0, 3); // spent: the window resets in 3 s of X's clock
    const channel = makeChannel();
    await channel.start!(recorder());
    await waitFor('the 429', () => channel.streamStatus()!.waits.length === 1);
    // Longer than the backoff alone (100 ms here): the time left until the reset.
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'rate_limit', ms: 3000 }]);
    clock.advance(3000);
    x.setRateLimit(ROUTES.stream, 50);
    await waitFor('the stream to connect', () => channel.streamStatus()!.connected);
    expect(channel.streamStatus()!.attempts).toBe(2);
  });

  it('a rules sync that meets a 429 waits for its reset before syncing again, then connects', async () => {
    x.setRateLimit(ROUTES.streamRules, 0, 2);
    const channel = makeChannel();
    await channel.start!(recorder());
    await waitFor('the 429', () => channel.streamStatus()!.waits.length === 1);
    expect(channel.streamStatus()!.waits).toEqual([{ reason: 'rate_limit', ms: 2000 }]);
    expect(calls(ROUTES.stream)).toHaveLength(0);
    clock.advance(2000);
    x.setRateLimit(ROUTES.streamRules, 450);
    await waitFor('the stream to connect', () => channel.streamStatus()!.connected);
    expect([...x.rules.values()].filter((r) => r.tag === TAG)).toHaveLength(1);
  });
});

describe('without filtered stream access', () => {
  it('logs it clearly and listens with recent search instead', async () => {
    const { logger, lines } = capturingLogger();
    x.failNext(ROUTES.stream, { status: 403, body: X_ERRORS.clientNotEnrolled });
    const channel = makeChannel({ logger });
    const ctx = recorder();
    await channel.start!(ctx);
    await waitFor('the fallback to search', () => calls(ROUTES.search).length >= 1);
    expect(channel.streamStatus()).toMatchObject({ unavailable: true, connected: false });
    expect(lines.some((l) => l.level >= 50 && /no filtered stream access/.test(l.msg) && l['reason'] === 'client-not-enrolled')).toBe(true);
    expect(lines.some((l) => /listening with recent search/.test(l.msg))).toBe(true);
    const before = calls(ROUTES.stream).length;
    // The fallback's first round may still be on its way (searchNow joins a round in flight, and that
    // one was asked before the post): let it end first.
    await channel.searchNow();
    clock.advance(1000);
    const post = x.post(other.id, 'Bottega Rossi non risponde');
    await channel.searchNow();
    expect(ctx.heard.map((m) => m.id)).toEqual([post.id]);
    // It does not keep knocking on the stream.
    expect(calls(ROUTES.stream)).toHaveLength(before);
  });

  it('also when the rules endpoint says so first', async () => {
    x.failNext(ROUTES.streamRules, { status: 403, body: X_ERRORS.clientNotEnrolled });
    const channel = makeChannel();
    await channel.start!(recorder());
    await waitFor('the fallback to search', () => calls(ROUTES.search).length >= 1);
    expect(channel.streamStatus()).toMatchObject({ unavailable: true });
    expect(calls(ROUTES.stream)).toHaveLength(0);
  });
});

describe('stopping', () => {
  it('closes the connection and leaves no timer or socket behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const channel = makeChannel();
    await streaming(channel, recorder());
    // Mid-backoff too: a drop, then stop before the reconnect.
    x.failNext(ROUTES.stream, { status: 503, body: X_ERRORS.serviceUnavailable });
    x.dropStreams();
    await waitFor('the refused reconnect', () => channel.streamStatus()!.waits.some((w) => w.reason === 'http'));
    await channel.stop!();
    channels.splice(channels.indexOf(channel), 1);
    await waitFor('the fake to see the stream closed', () => x.streamConnections() === 0);
    expect(channel.streamStatus()!.connected).toBe(false);
    const attempts = calls(ROUTES.stream).length;
    await waitFor('timers back to where they were', () => timers() <= before);
    expect(calls(ROUTES.stream)).toHaveLength(attempts);
  });
});
