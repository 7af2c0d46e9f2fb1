import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createTwitterChannel, dmComposeLink, type TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import { ChannelApiError, NetworkError } from '../../../src/core/errors.js';
import type { ChannelContext, FakeClock } from '../../../src/core/ports.js';
import type { Conversation, InboundMessage } from '../../../src/core/types.js';
import { createSilentLogger } from '../../../src/util/logger.js';
import { ROUTES, X_ERRORS, xHmac, type FakeUser, type FakeXApi } from '../../fakes/x-api/fake-x-api.js';
import { aaaDm, aaaTweetCreate, v1Tweet, xaaDmEvent, xaaPostEvent } from '../../fakes/x-api/payloads.js';
import { ACCESS_TOKEN, API_SECRET, BRAND, CUSTOMER, createValuesStore, outboxItem, signedRequest, startFakeX, twitterConfig } from './helpers.js';
import { OUTBOUND } from '../../helpers/outbound.js';

const START = '2026-11-23T10:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let store: ReturnType<typeof createValuesStore>;
let channel: TwitterChannel;
let customer: FakeUser;
let brand: FakeUser;

function makeChannel(overrides: Parameters<typeof twitterConfig>[1] = {}): TwitterChannel {
  return createTwitterChannel({ config: twitterConfig(x.origin, overrides), store, clock, logger: createSilentLogger(), outbound: OUTBOUND, tls: { ca: x.ca } });
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
  x.dmEvents.length = 0;
  store = createValuesStore();
  customer = x.addUser({ id: CUSTOMER.id, username: CUSTOMER.username, name: 'Giulia B.', followers: 321 });
  brand = x.users.get(BRAND.id)!;
  channel = makeChannel();
});

function get(query: Record<string, string>) {
  return { method: 'GET', headers: {}, query, rawBody: Buffer.alloc(0) };
}

describe('CRC challenge', () => {
  it('answers a crc_token with sha256= and the base64 HMAC of the token under the consumer secret', async () => {
    const res = await channel.handshake!(get({ crc_token: 'challenge-3f8a' }));
    expect(res).toEqual({ status: 200, contentType: 'application/json', body: { response_token: xHmac(API_SECRET, 'challenge-3f8a') } });
  });

  it('refuses a GET without crc_token and leaves POSTs to verification', async () => {
    expect((await channel.handshake!(get({})))?.status).toBe(400);
    expect(await channel.handshake!(signedRequest({ for_user_id: BRAND.id }))).toBeUndefined();
  });
});

describe('webhook signature', () => {
  const body = { for_user_id: BRAND.id, tweet_create_events: [] };

  it('accepts x-twitter-webhooks-signature computed over the raw body', async () => {
    expect(await channel.verify(signedRequest(body))).toBe(true);
  });

  it('refuses a body changed after signing, another secret, a missing and a malformed header', async () => {
    const req = signedRequest(body);
    expect(await channel.verify({ ...req, rawBody: Buffer.from(req.rawBody.toString().replace('[]', '[{}]')) })).toBe(false);
    expect(await channel.verify(signedRequest(body, 'not-our-secret'))).toBe(false);
    expect(await channel.verify({ ...req, headers: { 'content-type': 'application/json' } })).toBe(false);
    expect(await channel.verify({ ...req, headers: { 'x-twitter-webhooks-signature': 'sha256=abc' } })).toBe(false);
  });
});

describe('parsing X Activity API events', () => {
  it('turns a mention into a public message of its thread, without the leading @handle', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} quanto costa la spedizione?`);
    const [msg, ...rest] = await channel.parse(signedRequest(xaaPostEvent(post, customer, BRAND.id)));
    expect(rest).toEqual([]);
    expect(msg).toEqual({
      channel: 'twitter',
      id: post.id,
      visibility: 'public',
      customer: { platformId: customer.id, handle: CUSTOMER.username, name: 'Giulia B.', followers: 321 },
      text: 'quanto costa la spedizione?',
      sentAt: START,
      threadId: post.id,
      ref: { kind: 'mention', handle: CUSTOMER.username },
    });
  });

  it('gives the text as the customer wrote it: X’s HTML entities (&amp; &lt; &gt;) undone, in both payload families', async () => {
    const written = 'Q&A sui resi? <3 ma consegna > 5 giorni & nessuna risposta &amp; niente';
    const post = x.mention(customer.id, `@${BRAND.username} ${written}`);
    const [fromXaa] = await channel.parse(signedRequest(xaaPostEvent(post, customer, BRAND.id)));
    expect(fromXaa!.text).toBe(written);
    const [fromAaa] = await channel.parse(signedRequest(aaaTweetCreate(BRAND.id, [v1Tweet(post, customer, brand)])));
    expect(fromAaa!.text).toBe(written);
  });

  it('puts a mention inside a thread into that thread (threadId = conversation_id)', async () => {
    const campaign = x.brandPost('Saldi di Black Friday: -30% su tutto!');
    const reply = x.mention(customer.id, `@${BRAND.username} vale anche per le borse?`, { inReplyTo: campaign.id });
    const [msg] = await channel.parse(signedRequest(xaaPostEvent(reply, customer, BRAND.id)));
    expect(msg).toMatchObject({ threadId: campaign.id, inReplyTo: campaign.id, ref: { kind: 'reply', inReplyToUserId: BRAND.id } });
  });

  it('tells quotes from replies and drops retweets and our own posts', async () => {
    const original = x.mention(customer.id, `@${BRAND.username} adoro questa borsa`);
    const quote = x.mention(customer.id, `guardate cosa ho comprato da @${BRAND.username}`, { quoteOf: original.id });
    const retweet = x.mention(customer.id, `RT @giulia_b: @${BRAND.username} adoro questa borsa`, { retweetOf: original.id });
    const ours = x.brandPost('Grazie Giulia!');
    const quoted = await channel.parse(signedRequest(xaaPostEvent(quote, customer, BRAND.id)));
    expect(quoted[0]?.ref).toEqual({ kind: 'quote', handle: CUSTOMER.username, quotedId: original.id });
    expect(quoted[0]?.inReplyTo).toBeUndefined();
    expect(await channel.parse(signedRequest(xaaPostEvent(retweet, customer, BRAND.id)))).toEqual([]);
    expect(await channel.parse(signedRequest(xaaPostEvent(ours, brand, BRAND.id)))).toEqual([]);
  });

  it('turns a received DM into a private message and drops the DMs we sent', async () => {
    const dm = x.dm(customer.id, 'Il mio ordine è il 4567, dov’è?');
    const [msg] = await channel.parse(signedRequest(xaaDmEvent(dm, customer, BRAND.id)));
    expect(msg).toMatchObject({ id: dm.id, visibility: 'private', customer: { platformId: customer.id, handle: CUSTOMER.username }, text: dm.text });
    const ours = { ...dm, id: `${dm.id}9`, sender_id: BRAND.id };
    expect(await channel.parse(signedRequest(xaaDmEvent(ours, brand, BRAND.id, 'dm.sent')))).toEqual([]);
  });

  it('ignores events that are not posts or DMs (follows, likes, deletes)', async () => {
    const body = { data: { event_uuid: '1', event_type: 'follow.follow', filter: { user_id: BRAND.id }, payload: { source: {}, target: {} } } };
    expect(await channel.parse(signedRequest(body))).toEqual([]);
  });
});

describe('parsing Account Activity API events (until 2027-01-01)', () => {
  it('turns a mention into the same message the X Activity API would give', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} quanto costa la spedizione?`);
    const [msg] = await channel.parse(signedRequest(aaaTweetCreate(BRAND.id, [v1Tweet(post, customer, brand)])));
    expect(msg).toMatchObject({ id: post.id, visibility: 'public', threadId: post.id, text: 'quanto costa la spedizione?', customer: { platformId: customer.id, handle: CUSTOMER.username, followers: 321 }, sentAt: START });
  });

  it('keeps a reply in the thread of the post it answers, even two levels down', async () => {
    const root = x.mention(customer.id, `@${BRAND.username} ciao`);
    await channel.parse(signedRequest(aaaTweetCreate(BRAND.id, [v1Tweet(root, customer, brand)])));
    const ourReply = await channel.send(outboxItem({ inReplyTo: root.id, reply: { kind: 'text', text: 'Ciao Giulia, dimmi pure!' } }));
    const follow = x.mention(customer.id, `@${BRAND.username} e i resi?`, { inReplyTo: ourReply.platformId });
    const [msg] = await channel.parse(signedRequest(aaaTweetCreate(BRAND.id, [v1Tweet(follow, customer, brand)])));
    expect(msg).toMatchObject({ threadId: root.id, inReplyTo: ourReply.platformId, ref: { kind: 'reply' } });
  });

  it('drops our own posts, retweets and the echoes of our DMs', async () => {
    const ours = x.brandPost('Nuova collezione online');
    const original = x.mention(customer.id, `@${BRAND.username} bella!`);
    const rt = x.mention(customer.id, 'RT', { retweetOf: original.id });
    expect(await channel.parse(signedRequest(aaaTweetCreate(BRAND.id, [v1Tweet(ours, brand, brand), v1Tweet(rt, customer, brand)])))).toEqual([]);
    const echo = { ...x.dm(customer.id, 'x'), sender_id: BRAND.id };
    expect(await channel.parse(signedRequest(aaaDm(BRAND.id, echo, brand, customer.id)))).toEqual([]);
  });

  it('turns a DM into a private message with the sender from the users map', async () => {
    const dm = x.dm(customer.id, 'Ciao, vi scrivo in privato');
    const [msg] = await channel.parse(signedRequest(aaaDm(BRAND.id, dm, customer, BRAND.id)));
    expect(msg).toEqual({ channel: 'twitter', id: dm.id, visibility: 'private', customer: { platformId: customer.id, handle: CUSTOMER.username, name: 'Giulia B.', followers: 321 }, text: dm.text, sentAt: START });
  });

  it('refuses a body that is not JSON or belongs to neither family, with a clear error', async () => {
    const notJson = { ...signedRequest({}), rawBody: Buffer.from('{oops') };
    await expect(channel.parse(notJson)).rejects.toThrow(/not JSON/);
    await expect(channel.parse(signedRequest({ hello: 'world' }))).rejects.toThrow(/neither an X Activity API nor an Account Activity API body/);
  });
});

describe('sending', () => {
  it('threads a public reply under the customer’s post', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} orari?`);
    const { platformId } = await channel.send(outboxItem({ inReplyTo: post.id, reply: { kind: 'text', text: 'Siamo aperti dalle 9 alle 19. ^MR' } }));
    const sent = x.posts.get(platformId);
    expect(sent).toMatchObject({ text: 'Siamo aperti dalle 9 alle 19. ^MR', conversation_id: post.id, referenced_tweets: [{ type: 'replied_to', id: post.id }] });
    expect(x.calls.at(-1)?.body).toEqual({ text: 'Siamo aperti dalle 9 alle 19. ^MR', reply: { in_reply_to_tweet_id: post.id } });
  });

  it('attaches the DM deep link to a DM prompt', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} dov'è il mio ordine?`);
    const { platformId } = await channel.send(outboxItem({ inReplyTo: post.id, reply: { kind: 'dm_prompt', text: 'Continuiamo in DM.', canMessagePrivately: true } }));
    expect(x.posts.get(platformId)?.direct_message_deep_link).toBe(`https://x.com/messages/compose?recipient_id=${BRAND.id}`);
    expect(channel.privateLink!({ id: 'twitter:1', channel: 'twitter', platformId: customer.id, firstSeenAt: START, lastSeenAt: START })).toBe(dmComposeLink(BRAND.id));
  });

  it('splits a reply longer than 280 weighted characters into a chained, numbered thread', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} resi?`);
    const long = 'Puoi restituire qualsiasi articolo entro 30 giorni dalla consegna. '.repeat(8).trim();
    const { platformId } = await channel.send(outboxItem({ inReplyTo: post.id, reply: { kind: 'text', text: long } }));
    const replies = x.brandReplies().filter((p) => p.conversation_id === post.id);
    expect(replies.length).toBeGreaterThan(1);
    expect(replies[0]!.id).toBe(platformId);
    replies.forEach((p, i) => {
      expect(channel.capabilities.measure(p.text)).toBeLessThanOrEqual(280);
      expect(p.text.startsWith(`${i + 1}/${replies.length} `)).toBe(true);
      expect(p.referenced_tweets?.[0]?.id).toBe(i === 0 ? post.id : replies[i - 1]!.id);
    });
  });

  it('chains the pipeline’s numbered parts (separate items answering the same post) into one thread', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} come funzionano i resi?`);
    const ids: string[] = [];
    for (const text of ['1/3 Puoi rendere entro 30 giorni.', '2/3 Il reso è gratuito in Italia.', '3/3 Il rimborso arriva in 5 giorni.']) {
      ids.push((await channel.send(outboxItem({ conversationId: 'cv_thread', inReplyTo: post.id, reply: { kind: 'text', text } }))).platformId);
    }
    expect(ids.map((id) => x.posts.get(id)?.referenced_tweets?.[0]?.id)).toEqual([post.id, ids[0], ids[1]]);
    // An unnumbered answer later in the same conversation answers the customer's post again.
    const { platformId } = await channel.send(outboxItem({ conversationId: 'cv_thread', inReplyTo: post.id, reply: { kind: 'text', text: 'Altro?' } }));
    expect(x.posts.get(platformId)?.referenced_tweets?.[0]?.id).toBe(post.id);
  });

  it('resumes a thread whose second post failed without posting the first again', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} cambio taglia?`);
    const item = outboxItem({ inReplyTo: post.id, reply: { kind: 'text', text: 'Il cambio taglia è gratuito entro 30 giorni dalla consegna. '.repeat(7).trim() } });
    x.failNext(ROUTES.postTweet, { pass: true });
    x.failNext(ROUTES.postTweet, { status: 503, body: X_ERRORS.serviceUnavailable });
    await expect(channel.send(item)).rejects.toMatchObject({ details: { status: 503, retryable: true } });
    expect(x.brandReplies().filter((p) => p.conversation_id === post.id)).toHaveLength(1);
    const { platformId } = await channel.send(item);
    const thread = x.brandReplies().filter((p) => p.conversation_id === post.id);
    expect(thread.length).toBeGreaterThan(1);
    expect(thread[0]!.id).toBe(platformId);
    expect(thread.map((p) => p.text.split(' ')[0])).toEqual(thread.map((_, i) => `${i + 1}/${thread.length}`));
    expect(thread[1]!.referenced_tweets?.[0]?.id).toBe(thread[0]!.id);
  });

  it('makes the same answer to another customer distinct with their @handle, so X does not refuse it as a duplicate', async () => {
    const other = x.addUser({ id: '4000000009', username: 'marco_v' });
    const first = x.mention(customer.id, `@${BRAND.username} orari?`);
    const second = x.mention(other.id, `@${BRAND.username} orari?`);
    const answer = 'Siamo aperti dal lunedì al sabato, dalle 9 alle 19.';
    await channel.send(outboxItem({ inReplyTo: first.id, reply: { kind: 'text', text: answer }, ref: { handle: CUSTOMER.username } }));
    const { platformId } = await channel.send(outboxItem({ inReplyTo: second.id, reply: { kind: 'text', text: answer }, ref: { handle: 'marco_v' } }));
    expect(x.posts.get(platformId)?.text).toBe(`@marco_v ${answer}`);
    clock.advance(24 * 3_600_000 + 1);
    const third = x.mention(other.id, `@${BRAND.username} e domani?`);
    x.posts.delete([...x.posts.values()].find((p) => p.text === answer)!.id); // X forgot it too
    const later = await channel.send(outboxItem({ inReplyTo: third.id, reply: { kind: 'text', text: answer }, ref: { handle: 'marco_v' } }));
    expect(x.posts.get(later.platformId)?.text).toBe(answer);
  });

  it('sends a private item as a DM to the customer', async () => {
    customer.followsBrand = true;
    const { platformId } = await channel.send(outboxItem({ visibility: 'private', reply: { kind: 'text', text: 'Ciao Giulia, scrivici il numero d’ordine.' } }));
    const dm = x.brandDms().find((e) => e.id === platformId);
    expect(dm).toMatchObject({ text: 'Ciao Giulia, scrivici il numero d’ordine.', participant_ids: [BRAND.id, customer.id] });
  });
});

describe('send errors', () => {
  it('turns a 429 into a retryable error that waits until x-rate-limit-reset', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} ciao`);
    x.setRateLimit(ROUTES.postTweet, 0, 600);
    const error = await channel.send(outboxItem({ inReplyTo: post.id })).catch((e: unknown) => e);
    x.setRateLimit(ROUTES.postTweet, 100);
    expect(error).toBeInstanceOf(ChannelApiError);
    expect((error as ChannelApiError).details).toMatchObject({ status: 429, retryable: true, retryAt: Date.parse(START) + 600_000 });
  });

  it('marks 5xx retryable, duplicate content and other refusals not retryable, and a dropped connection as NetworkError', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} ciao`);
    x.failNext(ROUTES.postTweet, { status: 503, body: X_ERRORS.serviceUnavailable });
    await expect(channel.send(outboxItem({ inReplyTo: post.id }))).rejects.toMatchObject({ details: { status: 503, retryable: true } });

    await channel.send(outboxItem({ inReplyTo: post.id, reply: { kind: 'text', text: 'Grazie a te!' } }));
    const dup = await channel.send(outboxItem({ inReplyTo: post.id, reply: { kind: 'text', text: 'Grazie a te!' } })).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(ChannelApiError);
    expect((dup as ChannelApiError).details).toMatchObject({ status: 403, retryable: false, code: 'duplicate_content' });
    expect((dup as Error).message).toMatch(/duplicate/);

    await expect(channel.send(outboxItem({ inReplyTo: '1999999999999999999' }))).rejects.toMatchObject({ details: { status: 403, retryable: false } });
    await expect(channel.send(outboxItem({ inReplyTo: undefined }))).rejects.toMatchObject({ details: { retryable: false, code: 'no_reply_target' } });

    x.failNext(ROUTES.sendDm, { destroy: true });
    await expect(channel.send(outboxItem({ visibility: 'private' }))).rejects.toBeInstanceOf(NetworkError);
  });

  it('reports X refusing the account’s token (401) as the channel’s credentials, not this reply’s fault: retryable, with what to renew', async () => {
    const post = x.mention(customer.id, `@${BRAND.username} ciao`);
    x.revokeAccessToken(true);
    try {
      const error = (await channel.send(outboxItem({ inReplyTo: post.id })).catch((e: unknown) => e)) as ChannelApiError;
      expect(error).toBeInstanceOf(ChannelApiError);
      expect(error.details).toMatchObject({ status: 401, retryable: true, credentials: true });
      expect(error.message).toMatch(/X_ACCESS_TOKEN/);
      expect(error.message).not.toContain(ACCESS_TOKEN);
    } finally {
      x.revokeAccessToken(false);
    }
  });

  it('reports a DM refused by X (the customer does not accept our DMs) as not retryable', async () => {
    const stranger = x.addUser({ id: '4000000001', username: 'stranger' });
    await expect(channel.send(outboxItem({ visibility: 'private', recipient: stranger.id }))).rejects.toMatchObject({ details: { status: 403, retryable: false } });
  });
});

describe('private reach', () => {
  const asCustomer = (id: string) => ({ id: `twitter:${id}`, channel: 'twitter', platformId: id, firstSeenAt: START, lastSeenAt: START });

  it('is needs_follow at once after X refuses a DM to someone it remembered as open (they unfollowed), not an hour later', async () => {
    const fan = x.addUser({ id: '4000000009', username: 'exfan', followsBrand: true });
    expect(await channel.privateReach!(asCustomer(fan.id))).toBe('open');
    fan.followsBrand = false; // unfollows: X refuses the brand's DMs now
    const error = (await channel.send(outboxItem({ visibility: 'private', recipient: fan.id })).catch((e: unknown) => e)) as ChannelApiError;
    expect(error.details).toMatchObject({ status: 403, retryable: false });
    expect(error.message).toMatch(/does not accept the brand's DMs now/);
    expect(await channel.privateReach!(asCustomer(fan.id))).toBe('needs_follow');
    // Another instance (the store's values) knows it too.
    expect(JSON.parse(store.map.get(`twitter:reach:${fan.id}`)!)).toMatchObject({ reach: 'needs_follow' });
  });

  it('is open for a follower, needs a follow for someone who neither follows nor accepts DMs', async () => {
    customer.followsBrand = true;
    const stranger = x.addUser({ id: '4000000002', username: 'nofollow' });
    expect(await channel.privateReach!(asCustomer(customer.id))).toBe('open');
    expect(await channel.privateReach!(asCustomer(stranger.id))).toBe('needs_follow');
    const call = x.calls.find((c) => c.route === ROUTES.user);
    expect(call?.query['user.fields']).toContain('connection_status');
  });

  it('is open for someone who accepts DMs from anyone', async () => {
    const open = x.addUser({ id: '4000000003', username: 'opendms', receivesAnyDm: true });
    expect(await channel.privateReach!(asCustomer(open.id))).toBe('open');
  });

  it('caches the answer, and looks again once the TTL has passed (a follow-back shows up)', async () => {
    const later = x.addUser({ id: '4000000004', username: 'later' });
    expect(await channel.privateReach!(asCustomer(later.id))).toBe('needs_follow');
    later.followsBrand = true;
    expect(await channel.privateReach!(asCustomer(later.id))).toBe('needs_follow');
    expect(x.calls.filter((c) => c.route === ROUTES.user)).toHaveLength(1);
    clock.advance(5 * 60_000 + 1);
    expect(await channel.privateReach!(asCustomer(later.id))).toBe('open');
    expect(x.calls.filter((c) => c.route === ROUTES.user)).toHaveLength(2);
  });

  it('is what the channel remembers itself: in memory, and in its store values for a restart or another instance', async () => {
    const fan = x.addUser({ id: '4000000005', username: 'fan', followsBrand: true });
    expect(await channel.privateReach!(asCustomer(fan.id))).toBe('open');
    expect(JSON.parse(store.map.get(`twitter:reach:${fan.id}`)!)).toMatchObject({ reach: 'open' });
    // Not from the customer record (core keeps no follow state): from the channel.
    store.map.clear();
    expect(await channel.privateReach!(asCustomer(fan.id))).toBe('open'); // from memory: X is not asked again
    expect(x.calls.filter((c) => c.route === ROUTES.user)).toHaveLength(1);
    // Another instance on a store that knows it asks X nothing; on an empty one it asks.
    const stored = JSON.stringify({ reach: 'open', at: clock.now().getTime() });
    store.map.set(`twitter:reach:${fan.id}`, stored);
    const other = makeChannel();
    expect(await other.privateReach!(asCustomer(fan.id))).toBe('open');
    expect(x.calls.filter((c) => c.route === ROUTES.user)).toHaveLength(1);
    store.map.clear();
    const third = makeChannel();
    expect(await third.privateReach!(asCustomer(fan.id))).toBe('open');
    expect(x.calls.filter((c) => c.route === ROUTES.user)).toHaveLength(2);
    await other.stop!();
    await third.stop!();
  });
});

describe('hiding a post with private data', () => {
  const conversation = (threadId: string): Conversation => ({
    id: 'cv_h', key: `twitter:public:${threadId}`, channel: 'twitter', visibility: 'public', customerId: `twitter:${CUSTOMER.id}`, caseId: 'cs_1',
    state: 'bot', missStreak: 0, flags: [], threadId, createdAt: START, updatedAt: START,
  });

  it('hides a reply under one of the brand’s posts', async () => {
    const campaign = x.brandPost('Nuovi arrivi!');
    const reply = x.mention(customer.id, `@${BRAND.username} la mia email è giulia@example.com`, { inReplyTo: campaign.id });
    await channel.hideMessage!(conversation(campaign.id), reply.id);
    expect(x.posts.get(reply.id)?.hidden).toBe(true);
  });

  it('does nothing (no call) for a post that starts its own thread, and swallows X’s refusal for replies elsewhere', async () => {
    const root = x.mention(customer.id, `@${BRAND.username} il mio telefono è 333 1234567`);
    await channel.hideMessage!(conversation(root.id), root.id);
    expect(x.calls.filter((c) => c.route === ROUTES.hide)).toHaveLength(0);
    const other = x.mention(customer.id, `@${BRAND.username} ancora io`, { inReplyTo: root.id });
    await channel.hideMessage!(conversation(root.id), other.id);
    expect(x.calls.filter((c) => c.route === ROUTES.hide)).toHaveLength(1);
    expect(x.posts.get(other.id)?.hidden).toBeUndefined();
  });
});

describe('measuring', () => {
  it('counts like X: CJK and emoji double, a URL 23', () => {
    expect(channel.capabilities.measure('ciao')).toBe(4);
    expect(channel.capabilities.measure('你好')).toBe(4);
    expect(channel.capabilities.measure('vedi https://example.com/una/pagina/molto/lunga/davvero')).toBe(5 + 23);
    expect(channel.capabilities.maxLength.public).toBe(280);
    expect(channel.capabilities.maxThread).toBe(3);
    expect(channel.capabilities.signsPublicReplies).toBe(true);
  });
});

describe('polling', () => {
  function recorder(): ChannelContext & { got: InboundMessage[] } {
    const got: InboundMessage[] = [];
    return { got, receive: async (m) => void got.push(m), store: store as unknown as ChannelContext['store'] };
  }

  it('answers nothing older than the first start, then picks up exactly the new mentions and DMs, oldest first', async () => {
    x.mention(customer.id, `@${BRAND.username} vecchia domanda`);
    clock.advance(60_000);
    const polling = makeChannel({ pollSeconds: 3600 });
    const ctx = recorder();
    await polling.start!(ctx);
    await polling.pollNow();
    expect(ctx.got).toEqual([]);

    clock.advance(1000);
    const a = x.mention(customer.id, `@${BRAND.username} prima`);
    const own = x.brandPost(`@${CUSTOMER.username} risposta nostra`);
    const b = x.mention(customer.id, `@${BRAND.username} seconda`);
    const rt = x.mention(customer.id, `RT @${BRAND.username} promo`, { retweetOf: own.id });
    const dm = x.dm(customer.id, 'in privato');
    customer.followsBrand = true;
    await polling.send(outboxItem({ visibility: 'private', reply: { kind: 'text', text: 'nostro DM' } }));
    const result = await polling.pollNow();
    expect(ctx.got.map((m) => m.id)).toEqual([a.id, b.id, dm.id]);
    expect(result).toMatchObject({ mentions: 2, dms: 1 });
    expect(rt.id).not.toBe(a.id);

    const again = await polling.pollNow();
    expect(again).toMatchObject({ mentions: 0, dms: 0 });
    expect(x.calls.filter((c) => c.route === ROUTES.mentions).at(-1)?.query['since_id']).toBe(rt.id);
    await polling.stop!();
  });

  it('pages to the end and, after a restart, neither loses nor repeats a mention', async () => {
    const first = makeChannel({ pollSeconds: 3600 });
    const ctx = recorder();
    await first.start!(ctx);
    clock.advance(1000);
    const burst = Array.from({ length: 130 }, (_, i) => x.mention(customer.id, `@${BRAND.username} domanda ${i}`));
    await first.pollNow();
    await first.stop!();
    expect(ctx.got.map((m) => m.id)).toEqual(burst.map((p) => p.id));
    expect(x.calls.filter((c) => c.route === ROUTES.mentions && c.query['pagination_token'])).not.toHaveLength(0);

    const later = [x.mention(customer.id, `@${BRAND.username} dopo il riavvio 1`), x.mention(customer.id, `@${BRAND.username} dopo il riavvio 2`)];
    const restarted = makeChannel({ pollSeconds: 3600 });
    const ctx2 = recorder();
    await restarted.start!(ctx2);
    await restarted.pollNow();
    await restarted.stop!();
    expect(ctx2.got.map((m) => m.id)).toEqual(later.map((p) => p.id));
  });

  it('pauses a rate-limited timeline until its reset and then catches up', async () => {
    const polling = makeChannel({ pollSeconds: 3600 });
    const ctx = recorder();
    await polling.start!(ctx);
    clock.advance(1000);
    const m = x.mention(customer.id, `@${BRAND.username} ci siete?`);
    x.setRateLimit(ROUTES.mentions, 0, 120);
    const paused = await polling.pollNow();
    expect(paused.pausedUntil).toBe(Math.floor(clock.now().getTime() / 1000) * 1000 + 120_000);
    const callsWhilePaused = x.calls.filter((c) => c.route === ROUTES.mentions).length;
    await polling.pollNow();
    expect(x.calls.filter((c) => c.route === ROUTES.mentions)).toHaveLength(callsWhilePaused);
    clock.advance(121_000);
    x.setRateLimit(ROUTES.mentions, 300);
    await polling.pollNow();
    expect(ctx.got.map((g) => g.id)).toEqual([m.id]);
    await polling.stop!();
  });
});
