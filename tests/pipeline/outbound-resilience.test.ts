/**
 * Outbound resilience, end to end: a real Sportello with Messenger, X and the web chat, talking
 * to the fake Graph and X APIs misbehaving as platforms do (hanging, 429 with Retry-After, taking a
 * message and never answering). One platform that hangs must not delay another channel; a channel
 * whose platform stops answering is paused and shown (/healthz, metrics, events); replies whose
 * outcome is unknown are checked where the platform allows, otherwise bounded and counted.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../src/app.js';
import type { TwitterSettings } from '../../src/channels/twitter/index.js';
import { createTwitterChannel } from '../../src/channels/twitter/twitter-channel.js';
import type { DomainEvent } from '../../src/core/events.js';
import type { FakeClock } from '../../src/core/ports.js';
import type { FakeGraphApi } from '../fakes/graph-api/fake-graph-api.js';
import { pageWebhook, textEvent } from '../fakes/graph-api/payloads.js';
import { createXWebhookCaller, ROUTES, type FakeUser, type FakeXApi, type XWebhookCaller } from '../fakes/x-api/fake-x-api.js';
import { xaaDmEvent, xaaPostEvent } from '../fakes/x-api/payloads.js';
import { messengerEnv, PAGE_ID, startFakeGraph } from '../channels/messenger/helpers.js';
import { API_SECRET, BRAND, startFakeX, xEnv } from '../channels/twitter/helpers.js';
import { projectKnowledge } from '../helpers/app.js';
import { startChannelApp } from '../helpers/channel-app.js';

/** A Tuesday morning in Rome: the care team is at work. */
const START = '2026-11-24T09:00:00.000Z';
const QUESTION = 'Quali sono i vostri orari?';

let clock: FakeClock;
let graph: FakeGraphApi;
let x: FakeXApi;
let counter = 0;

interface Running {
  app: Sportello;
  base: string;
  hook: XWebhookCaller;
  events: DomainEvent[];
  close(): Promise<void>;
}
let running: Running | undefined;

beforeAll(async () => {
  ({ clock, x } = await startFakeX(START));
  graph = await startFakeGraph(clock);
});
afterEach(async () => {
  graph.hang(false);
  graph.dropHeld();
  graph.calls.length = 0;
  await running?.close();
  running = undefined;
});
afterAll(async () => {
  await graph.close();
  await x.close();
});

/** Starts an instance with Messenger, X and the web chat on, against the fakes. */
async function start(env: Record<string, string> = {}): Promise<Running> {
  clock.set(START);
  const instance = await startChannelApp({
    env: { WEBCHAT: 'true', ...messengerEnv(graph.origin), ...xEnv(x.origin), ...env },
    clock,
    prefix: 'sportello-outbound-',
    knowledge: await projectKnowledge(),
    outboxPollMs: 20,
    // The configured X channel, trusting the fake's self-signed certificate.
    channels: (config, store, logger) => [createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: config.outbound, tls: { ca: x.ca } })],
  });
  const { app: real, base } = instance;
  const events: DomainEvent[] = [];
  const unsubscribe = real.bus.subscribe((event) => void events.push(event));
  return {
    app: real,
    base,
    hook: createXWebhookCaller(`${base}/webhooks/twitter`, API_SECRET),
    events,
    async close() {
      unsubscribe();
      await instance.close();
    },
  };
}

/** Waits for a condition the system reaches by itself (no fixed sleeps): polls, fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `n` new Messenger customers write at once, in one webhook delivery; returns their PSIDs. */
async function messengerCustomersWrite(r: Running, n: number, text = QUESTION): Promise<string[]> {
  const psids = Array.from({ length: n }, () => `6100${String(++counter).padStart(10, '0')}`);
  for (const psid of psids) graph.userWrote(psid, clock.now());
  const body = pageWebhook(PAGE_ID, { messaging: psids.map((psid) => textEvent(PAGE_ID, psid, text, { mid: `m_${psid}`, timestamp: clock.now().getTime() })) });
  const res = await graph.deliver(`${r.base}/webhooks/messenger`, body);
  expect(res.status).toBe(200);
  return psids;
}

const messagesTo = (psid: string) => graph.sentMessages().filter((c) => (c.body.recipient as { id?: string }).id === psid);

/** A web chat visitor asks; resolves with the reply's text once it reaches the visitor's event stream. */
async function webchatReply(r: Running, text: string): Promise<string | undefined> {
  const opened = await fetch(`${r.base}/chat/api/sessions`, { method: 'POST' });
  expect(opened.status).toBe(201);
  const { session } = (await opened.json()) as { session: string };
  ++counter;
  const controller = new AbortController();
  const stream = await fetch(`${r.base}/chat/api/events?session=${session}`, { signal: controller.signal });
  const reader = stream.body!.getReader();
  const posted = await fetch(`${r.base}/chat/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session, id: `msg-${counter}`, text }),
  });
  expect(posted.status).toBe(202);
  let received = '';
  const deadline = setTimeout(() => controller.abort(), 30_000);
  try {
    while (!/event: reply\ndata: .*\n/.test(received)) {
      const next = await reader.read();
      if (next.done) break;
      received += new TextDecoder().decode(next.value);
    }
  } catch {
    return undefined; // aborted: no reply in time
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  const data = /event: reply\ndata: (.*)\n/.exec(received)?.[1];
  return data ? (JSON.parse(data) as { reply: { text: string } }).reply.text : undefined;
}

function newXCustomer(): FakeUser {
  return x.addUser({ id: String(3_200_000_000 + ++counter), username: `cliente${counter}`, name: `Cliente ${counter}` });
}

/** An X customer sends a DM; X delivers the event to our webhook. */
async function xDm(r: Running, user: FakeUser, text: string): Promise<void> {
  const event = x.dm(user.id, text);
  const res = await r.hook.deliver(xaaDmEvent(event, user, BRAND.id));
  expect(res.status).toBe(200);
}
const dmsTo = (user: FakeUser) => x.brandDms().filter((e) => e.participant_ids.includes(user.id));

async function metric(r: Running, name: string, channel: string): Promise<number> {
  const text = await (await fetch(`${r.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`channel="${channel}"`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

describe('one platform that hangs never delays another channel', () => {
  it('delivers web chat and X replies while every Graph call hangs, with the Graph calls still open', async () => {
    // Long timeouts: the Graph calls stay open for the whole test.
    running = await start({ OUTBOUND_TIMEOUT_MS: '120000' });
    const r = running;
    graph.hang('before');
    // More Messenger replies than any single window of sends had room for.
    await messengerCustomersWrite(r, 140);
    await r.app.pipeline.idle();
    await until('Graph calls to hang', () => graph.openRequests() > 0);

    const user = newXCustomer();
    await xDm(r, user, QUESTION);
    const reply = await webchatReply(r, QUESTION);
    expect(reply).toMatch(/9|lun|sab/i);
    await until('the X DM to be delivered', () => dmsTo(user).length === 1);

    // The Graph calls are still open, and no Messenger customer got anything.
    expect(graph.openRequests()).toBeGreaterThan(0);
    expect(graph.sentMessages()).toEqual([]);
  });
});

describe('rate limits', () => {
  it('waits out a Graph 429 with Retry-After: 20 before sending again', async () => {
    running = await start();
    const r = running;
    graph.failNext({ status: 429, code: 4, message: '(#4) Application request limit reached', headers: { 'Retry-After': '20' }, path: '/me/messages' });
    const [psid] = await messengerCustomersWrite(r, 1);
    await r.app.pipeline.idle();
    await r.app.sender.drain();
    const refused = graph.calls.filter((c) => c.path === '/me/messages').length;
    expect(refused).toBe(1);
    expect(messagesTo(psid!)).toHaveLength(1); // the refused call

    // 19 s later the platform's wait is not over: nothing is sent.
    clock.advance(19_000);
    await r.app.sender.drain();
    expect(graph.calls.filter((c) => c.path === '/me/messages')).toHaveLength(refused);

    clock.advance(1_500);
    await r.app.sender.drain();
    expect(graph.calls.filter((c) => c.path === '/me/messages')).toHaveLength(refused + 1);
    const [item] = await r.app.store.outbox.list({ status: 'sent' });
    expect(item).toMatchObject({ channel: 'messenger', attempts: 2 });
  });
});

describe('a circuit breaker per platform', () => {
  it('pauses Messenger after repeated timeouts, says so on /healthz (still 200) and /metrics, and resumes when Graph answers', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    graph.hang('before');
    await messengerCustomersWrite(r, 6);
    await r.app.pipeline.idle();
    await until('the circuit to open', () => r.app.sender.health().messenger?.circuit === 'open');

    const health = await fetch(`${r.base}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; degraded?: string[]; channels: Record<string, { circuit: string; lastFailure?: string }> };
    expect(body).toMatchObject({ status: 'ok', degraded: ['messenger'] });
    expect(body.channels.messenger).toMatchObject({ circuit: 'open', lastFailure: 'timeout' });
    expect(body.channels.webchat).toMatchObject({ circuit: 'closed' });
    expect(await metric(r, 'sportello_outbound_circuit_open', 'messenger')).toBe(1);
    expect(await metric(r, 'sportello_outbound_circuit_opened_total', 'messenger')).toBe(1);
    expect(r.events.some((e) => e.type === 'channel.degraded' && e.channel === 'messenger')).toBe(true);

    // While open, nothing more is tried on Graph, and the other channels answer.
    await r.app.sender.drain();
    const tried = graph.calls.length;
    expect(await webchatReply(r, QUESTION)).toBeDefined();
    await r.app.sender.drain();
    expect(graph.calls.length).toBe(tried);

    // Graph answers again: after the pause a probe goes, succeeds, and the rest follow.
    graph.hang(false);
    clock.advance(5 * 60_000);
    r.app.sender.kick();
    await until('the circuit to close', () => r.app.sender.health().messenger?.circuit === 'closed');
    await r.app.sender.drain();
    const after = (await (await fetch(`${r.base}/healthz`)).json()) as { degraded?: string[] };
    expect(after.degraded).toBeUndefined();
    expect(r.events.some((e) => e.type === 'channel.recovered' && e.channel === 'messenger')).toBe(true);
    expect(await metric(r, 'sportello_outbound_circuit_open', 'messenger')).toBe(0);
  });
  it('is paused for its first pause however many sends were in flight when it opened (only a failed probe doubles it)', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    graph.hang('before');
    // 20 sends hang at once: 5 timeouts open the circuit, the other 15 end while it is open.
    const psids = await messengerCustomersWrite(r, 20);
    await r.app.pipeline.idle();
    await until('the circuit to open', () => r.app.sender.health().messenger?.circuit === 'open');
    await r.app.sender.drain();
    const open = r.app.sender.health().messenger!;
    expect(open.inFlight).toBe(0);
    expect(Date.parse(open.retryAt!) - Date.parse(open.since!)).toBe(5_000);

    // Graph answers again: after the first pause (not 5 minutes) the probe goes and every reply follows.
    graph.hang(false);
    clock.advance(5_000);
    r.app.sender.kick();
    await until('the circuit to close', () => r.app.sender.health().messenger?.circuit === 'closed');
    await until('every customer to get the answer', () => psids.every((psid) => messagesTo(psid).length > 0));
  });
});

describe('replies whose send timed out (in doubt)', () => {
  it('counts every reply sent again after Graph took it without answering, and sends none more than twice', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    // Graph delivers the messages, and the answers never come.
    graph.hang('after');
    const psids = await messengerCustomersWrite(r, 3);
    await r.app.pipeline.idle();
    await until('the sends to time out', async () => (await r.app.store.outbox.list({ status: 'pending' })).filter((o) => o.inDoubt === 1).length === 3);
    expect(await metric(r, 'sportello_outbound_in_doubt_total', 'messenger')).toBe(3);

    // Graph answers again; the retries go out: each customer may now have the reply twice.
    graph.hang(false);
    graph.dropHeld();
    clock.advance(2_000);
    await r.app.sender.drain();
    for (const psid of psids) expect(messagesTo(psid)).toHaveLength(2);
    expect(await metric(r, 'sportello_outbound_possible_duplicates_total', 'messenger')).toBe(3);
    expect(await r.app.store.outbox.list({ status: 'sent' })).toHaveLength(3);
  });

  it('gives a reply up after two unknown outcomes rather than send it a third time, and tells operators', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    graph.hang('after');
    const [psid] = await messengerCustomersWrite(r, 1);
    await r.app.pipeline.idle();
    await until('the first send to time out', async () => (await r.app.store.outbox.list({ status: 'pending' })).some((o) => o.inDoubt === 1));
    clock.advance(2_000);
    r.app.sender.kick();
    await until('the reply to be given up', async () => (await r.app.store.outbox.list({ status: 'dead' })).length === 1);
    clock.advance(60 * 60_000);
    await r.app.sender.drain();
    expect(messagesTo(psid!)).toHaveLength(2);
    const [dead] = await r.app.store.outbox.list({ status: 'dead' });
    expect(dead!.lastError).toMatch(/may have been delivered; not sent again/);
    expect(r.events.some((e) => e.type === 'message.failed' && e.outboxId === dead!.id)).toBe(true);
    expect(await metric(r, 'sportello_outbound_given_up_in_doubt_total', 'messenger')).toBe(1);
  });

  it('checks X before sending a timed-out DM again: delivered after all, it is not sent twice', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    const user = newXCustomer();
    x.failNext(ROUTES.sendDm, { hang: 'after' });
    await xDm(r, user, QUESTION);
    await r.app.pipeline.idle();
    await until('the DM send to time out', async () => (await r.app.store.outbox.list({ status: 'pending' })).some((o) => o.channel === 'twitter' && o.inDoubt === 1));
    expect(dmsTo(user)).toHaveLength(1);

    clock.advance(2_000);
    await r.app.sender.drain();
    expect(dmsTo(user)).toHaveLength(1);
    expect(x.calls.filter((c) => c.route === ROUTES.dmConversationEvents)).toHaveLength(1);
    const [item] = (await r.app.store.outbox.list({ status: 'sent' })).filter((o) => o.channel === 'twitter');
    expect(item).toMatchObject({ platformId: dmsTo(user)[0]!.id });
    expect(await metric(r, 'sportello_outbound_duplicates_avoided_total', 'twitter')).toBe(1);
    expect(await metric(r, 'sportello_outbound_possible_duplicates_total', 'twitter')).toBe(0);
  });
});

describe('a public X reply whose send timed out', () => {
  it('is read back before being sent again: posted after all, it is recorded sent, not refused as a duplicate and reported failed', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    const user = newXCustomer();
    // X makes the post and the answer never comes.
    x.failNext(ROUTES.postTweet, { hang: 'after' });
    const mention = x.mention(user.id, `@${BRAND.username} ${QUESTION} & a presto`);
    const res = await r.hook.deliver(xaaPostEvent(mention, user, BRAND.id));
    expect(res.status).toBe(200);
    await r.app.pipeline.idle();
    await until('the reply send to time out', async () => (await r.app.store.outbox.list({ status: 'pending' })).some((o) => o.channel === 'twitter' && o.inDoubt === 1));
    const replies = () => x.brandReplies().filter((p) => p.referenced_tweets?.some((ref) => ref.id === mention.id));
    expect(replies()).toHaveLength(1);

    clock.advance(2_000);
    await r.app.sender.drain();
    expect(replies()).toHaveLength(1);
    expect(x.calls.filter((c) => c.route === ROUTES.timeline)).toHaveLength(1);
    const [item] = (await r.app.store.outbox.list({ status: 'sent' })).filter((o) => o.channel === 'twitter');
    expect(item).toMatchObject({ platformId: replies()[0]!.id });
    expect(r.events.some((e) => e.type === 'message.failed')).toBe(false);
    expect(await metric(r, 'sportello_outbound_duplicates_avoided_total', 'twitter')).toBe(1);
  });

  it('is sent again when the read-back does not find it (X never made it)', async () => {
    running = await start({ OUTBOUND_TIMEOUT_MS: '600', OUTBOUND_CONNECT_TIMEOUT_MS: '300' });
    const r = running;
    const user = newXCustomer();
    x.posts.clear(); // the same answer, posted by the test before, would be refused as a duplicate
    // The request reached X and nothing came back: X did not make the post.
    x.failNext(ROUTES.postTweet, { hang: 'before' });
    const mention = x.mention(user.id, `@${BRAND.username} ${QUESTION}`);
    expect((await r.hook.deliver(xaaPostEvent(mention, user, BRAND.id))).status).toBe(200);
    await r.app.pipeline.idle();
    await until('the reply send to time out', async () => (await r.app.store.outbox.list({ status: 'pending' })).some((o) => o.channel === 'twitter' && o.inDoubt === 1));
    clock.advance(2_000);
    await r.app.sender.drain();
    const replies = x.brandReplies().filter((p) => p.referenced_tweets?.some((ref) => ref.id === mention.id));
    expect(replies).toHaveLength(1);
    const [item] = (await r.app.store.outbox.list({ status: 'sent' })).filter((o) => o.channel === 'twitter');
    expect(item).toMatchObject({ platformId: replies[0]!.id });
    expect(await metric(r, 'sportello_outbound_possible_duplicates_total', 'twitter')).toBe(1);
  });
});

describe('credentials the platform stops accepting', () => {
  it('keeps Messenger replies waiting while the Page token is expired (the channel paused and shown, nothing given up), and sends them once Graph accepts it', async () => {
    running = await start();
    const r = running;
    graph.expireToken(true);
    const psids = await messengerCustomersWrite(r, 3);
    await r.app.pipeline.idle();
    await until('the circuit to open', () => r.app.sender.health().messenger?.circuit === 'open');
    await r.app.sender.drain();
    // Paused at the first refusal: no reply is tried five times over, none is given up.
    expect(await r.app.store.outbox.list({ status: 'dead' })).toEqual([]);
    expect(r.events.filter((e) => e.type === 'message.failed')).toEqual([]);
    const body = (await (await fetch(`${r.base}/healthz`)).json()) as { degraded?: string[]; channels: Record<string, { lastFailure?: string }> };
    expect(body.degraded).toEqual(['messenger']);
    expect(body.channels.messenger).toMatchObject({ circuit: 'open', lastFailure: 'credentials' });
    expect(r.events.find((e) => e.type === 'channel.degraded')).toMatchObject({ channel: 'messenger', reason: 'credentials' });
    const [waiting] = await r.app.store.outbox.list({ status: 'pending' });
    expect(waiting!.lastError).toMatch(/Page access token is not valid any more.*renew MESSENGER_PAGE_TOKEN/);
    // The other channels answer meanwhile.
    expect(await webchatReply(r, QUESTION)).toBeDefined();

    // Hours go by: a probe every few minutes, each refused; the replies they carry are not given up after ten tries.
    const mostTried = async () => Math.max(...(await r.app.store.outbox.list({ status: 'pending' })).map((o) => o.attempts));
    for (let i = 0; i < 60 && (await mostTried()) <= 11; i++) {
      const before = graph.calls.length;
      clock.advance(5 * 60_000);
      r.app.sender.kick();
      await until('the probe', () => graph.calls.length > before);
      await r.app.sender.drain();
    }
    expect(await mostTried()).toBeGreaterThan(11);
    expect(await r.app.store.outbox.list({ status: 'dead' })).toEqual([]);

    // The token is put right: after the pause a probe goes, and every customer gets the answer.
    graph.expireToken(false);
    clock.advance(5 * 60_000);
    r.app.sender.kick();
    await until('the circuit to close', () => r.app.sender.health().messenger?.circuit === 'closed');
    // The others follow at their own next try (each waits at most its backoff's 5 minutes and jitter).
    clock.advance(6 * 60_000);
    r.app.sender.kick();
    await r.app.sender.drain();
    const sent = (await r.app.store.outbox.list({ status: 'sent' })).filter((o) => o.channel === 'messenger');
    expect(sent.map((o) => o.recipient).sort()).toEqual([...psids].sort());
    expect(await r.app.store.outbox.list({ status: 'dead' })).toEqual([]);
  });

  it('keeps an X DM reply waiting while X refuses the account’s token (401), and sends it once X accepts it again', async () => {
    running = await start();
    const r = running;
    const user = newXCustomer();
    x.revokeAccessToken(true);
    try {
      await xDm(r, user, QUESTION);
      await r.app.pipeline.idle();
      await until('the circuit to open', () => r.app.sender.health().twitter?.circuit === 'open');
      await r.app.sender.drain();
      expect(await r.app.store.outbox.list({ status: 'dead' })).toEqual([]);
      expect(r.app.sender.health().twitter).toMatchObject({ lastFailure: 'credentials' });
      expect(dmsTo(user)).toEqual([]);
    } finally {
      x.revokeAccessToken(false);
    }
    clock.advance(5 * 60_000);
    r.app.sender.kick();
    await until('the DM to be delivered', () => dmsTo(user).length === 1);
    await until('the circuit to close', () => r.app.sender.health().twitter?.circuit === 'closed');
  });
});
