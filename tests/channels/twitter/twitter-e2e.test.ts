/**
 * End to end: a real Sportello (createSportello: lowdb store, classifier, pipeline, outbox sender,
 * HTTP server) with the X channel, talking to the fake X API over HTTPS, with webhooks delivered
 * over HTTP after a CRC check and signed as X signs them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Sportello } from '../../../src/app.js';
import type { TwitterChannel } from '../../../src/channels/twitter/twitter-channel.js';
import type { FakeClock } from '../../../src/core/ports.js';
import { ROUTES, type FakePost, type FakeUser, type FakeXApi, type XWebhookCaller } from '../../fakes/x-api/fake-x-api.js';
import { aaaTweetCreate, v1Tweet, xaaPostEvent } from '../../fakes/x-api/payloads.js';
import { closeProjectKnowledge, projectKnowledge } from '../../helpers/app.js';
import { BRAND, newXCustomer, resetFakeX, startFakeX, startXApp, type XApp } from './helpers.js';

/** A Tuesday morning in Rome: the care team is at work. */
const START = '2026-11-24T09:00:00.000Z';

let clock: FakeClock;
let x: FakeXApi;
let dir: string;
let running: XApp;
let app: Sportello;
let channel: TwitterChannel;
let hook: XWebhookCaller;

beforeAll(async () => {
  ({ clock, x } = await startFakeX(START));
});
afterAll(async () => {
  // Trained once for the whole file (training is the slow part of starting Sportello).
  await closeProjectKnowledge();
  await x.close();
});

/** Starts Sportello on `dataFile` with the X channel (polling every `pollSeconds`, 0 = webhooks only). */
async function startApp(dataFile: string, pollSeconds = 0): Promise<void> {
  running = await startXApp({ x, clock, dataFile, env: { X_POLL_SECONDS: String(pollSeconds) }, knowledge: await projectKnowledge() });
  ({ app, channel, hook } = running);
}

beforeEach(async () => {
  clock.set(START);
  resetFakeX(x);
  dir = mkdtempSync(join(tmpdir(), 'sportello-x-'));
  await startApp(join(dir, 'data.json'));
});
afterEach(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const settle = () => running.settle();
const newCustomer = (extra: Partial<FakeUser> = {}) => newXCustomer(x, extra);
const mentions = (user: FakeUser, text: string, options: { inReplyTo?: string } = {}) => running.mentions(user, text, options);
const sendsDm = (user: FakeUser, text: string) => running.sendsDm(user, text);

const repliesTo = (post: FakePost) => x.brandReplies().filter((p) => p.conversation_id === post.conversation_id);
const dmsTo = (user: FakeUser) => x.brandDms().filter((e) => e.participant_ids.includes(user.id));

describe('X webhooks over HTTP', () => {
  it('passes X’s CRC check', async () => {
    const crc = await hook.crc();
    expect(crc).toMatchObject({ ok: true, status: 200 });
  });

  it('refuses bad and missing signatures and processes nothing', async () => {
    const user = newCustomer();
    const post = x.mention(user.id, `@${BRAND.username} Quali sono i vostri orari?`);
    const forged = await hook.deliver(xaaPostEvent(post, user, BRAND.id), { signature: `sha256=${Buffer.alloc(32).toString('base64')}` });
    const missing = await hook.deliver(xaaPostEvent(post, user, BRAND.id), { signature: null });
    await settle();
    expect(forged.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(await app.store.conversations.list({})).toEqual([]);
    expect(x.calls).toEqual([]);
  });
});

describe('public mentions', () => {
  it('answers a FAQ question in a reply threaded under the customer’s post, within 280 weighted characters', async () => {
    const user = newCustomer();
    const post = await mentions(user, 'Quali sono i vostri orari?');
    const replies = repliesTo(post);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.referenced_tweets).toEqual([{ type: 'replied_to', id: post.id }]);
    expect(replies[0]!.text).toMatch(/9/);
    expect(channel.capabilities.measure(replies[0]!.text)).toBeLessThanOrEqual(280);
    const conversation = await app.store.conversations.findByKey(`twitter:public:${post.id}`);
    expect(conversation?.customerId).toBe(`twitter:${user.id}`);
  });

  it('answers a mention delivered by the Account Activity API the same way', async () => {
    const user = newCustomer();
    const post = x.mention(user.id, `@${BRAND.username} Come faccio un reso?`);
    const res = await hook.deliver(aaaTweetCreate(BRAND.id, [v1Tweet(post, user, x.users.get(BRAND.id)!)]));
    expect(res.status).toBe(200);
    await settle();
    const replies = repliesTo(post);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.referenced_tweets).toEqual([{ type: 'replied_to', id: post.id }]);
    // Our own reply, echoed back by the AAA, is not a customer message.
    const echo = await hook.deliver(aaaTweetCreate(BRAND.id, [v1Tweet(replies[0]!, x.users.get(BRAND.id)!, x.users.get(BRAND.id)!)]));
    expect(echo.body).toMatchObject({ accepted: 0 });
  });

  it('answers two customers asking the same question, though X refuses the same text twice', async () => {
    const first = await mentions(newCustomer(), 'Quali sono i vostri orari?');
    const other = newCustomer();
    const second = await mentions(other, 'Quali sono i vostri orari?');
    const [a] = repliesTo(first);
    const [b] = repliesTo(second);
    expect(b?.text).toBe(`@${other.username} ${a?.text}`);
    expect(await app.store.outbox.list({ status: 'dead' })).toEqual([]);
  });

  it('keeps a follow-up mention inside the thread in the same conversation', async () => {
    const user = newCustomer();
    const first = await mentions(user, 'Quali sono i vostri orari?');
    const [answer] = repliesTo(first);
    const second = await mentions(user, 'Accettate PayPal?', { inReplyTo: answer!.id });
    expect(second.conversation_id).toBe(first.id);
    const conversations = await app.store.conversations.list({ customerId: `twitter:${user.id}` });
    expect(conversations).toHaveLength(1);
    const answers = repliesTo(first);
    expect(answers).toHaveLength(2);
    expect(answers[1]!.referenced_tweets).toEqual([{ type: 'replied_to', id: second.id }]);
  });
});

describe('public → private', () => {
  it('asks a customer who does not follow to follow or DM, then continues the same case in DM', async () => {
    const user = newCustomer();
    const post = await mentions(user, 'Dov’è il mio ordine?');
    const [prompt] = repliesTo(post);
    expect(prompt?.text).toMatch(/segui|follow/i);
    expect(prompt?.direct_message_deep_link).toBe(`https://x.com/messages/compose?recipient_id=${BRAND.id}`);
    expect(dmsTo(user)).toEqual([]); // the brand cannot write first

    await sendsDm(user, 'Ciao, il mio ordine è il 100234 e non è ancora arrivato');
    const kase = await app.store.conversations.findOpenCase(`twitter:${user.id}`);
    const conversations = await app.store.conversations.list({ customerId: `twitter:${user.id}` });
    expect(conversations.map((c) => c.visibility).sort()).toEqual(['private', 'public']);
    expect(new Set(conversations.map((c) => c.caseId))).toEqual(new Set([kase!.id]));
    expect(dmsTo(user).length).toBeGreaterThan(0); // answered in private
    for (const reply of repliesTo(post)) expect(reply.text).not.toContain('100234');
  });

  it('offers the DM deep link to a customer the brand can DM, and writes first', async () => {
    const user = newCustomer({ followsBrand: true });
    const post = await mentions(user, 'Dov’è il mio ordine?');
    const [prompt] = repliesTo(post);
    expect(prompt?.direct_message_deep_link).toBe(`https://x.com/messages/compose?recipient_id=${BRAND.id}`);
    expect(prompt?.text).toMatch(/DM/);
    expect(dmsTo(user)).toHaveLength(1);

    await sendsDm(user, 'Il numero è 100777');
    const conversations = await app.store.conversations.list({ customerId: `twitter:${user.id}` });
    expect(conversations).toHaveLength(2);
    expect(new Set(conversations.map((c) => c.caseId)).size).toBe(1);
  });

  it('never echoes private data posted in public, and flags the post', async () => {
    const user = newCustomer();
    const post = await mentions(user, 'la mia email è giulia.bianchi@example.com e il telefono 333 1234567, dov’è il pacco?');
    const replies = repliesTo(post);
    expect(replies.length).toBeGreaterThan(0);
    for (const reply of replies) {
      expect(reply.text).not.toContain('giulia.bianchi');
      expect(reply.text).not.toContain('1234567');
    }
    const conversation = await app.store.conversations.findByKey(`twitter:public:${post.id}`);
    expect(conversation?.flags).toContain('private_data_public');
  });
});

describe('operators on X', () => {
  it('signs an operator’s public reply with their initials, threaded under the customer’s latest post', async () => {
    await app.store.directory.addOperator({ id: 'op_mr', name: 'Maria Rossi', initials: 'MR', role: 'agent', passwordHash: 'scrypt$unused', createdAt: START });
    const operator = (await app.store.directory.getOperator('op_mr'))!;
    const user = newCustomer();
    const post = await mentions(user, 'vorrei parlare con un operatore per favore');
    const conversation = (await app.store.conversations.findByKey(`twitter:public:${post.id}`))!;
    expect(conversation.state).toBe('queued');
    await app.desk.claim(conversation.id, operator);
    await app.desk.reply(conversation.id, operator, 'Ciao, sono Maria: come posso aiutarti?');
    await settle();
    const signed = repliesTo(post).at(-1)!;
    expect(signed.text).toBe('Ciao, sono Maria: come posso aiutarti? ^MR');
    expect(signed.referenced_tweets).toEqual([{ type: 'replied_to', id: post.id }]);
  });
});

describe('rate limits', () => {
  it('delays a burst that meets a 429, and loses and duplicates nothing', async () => {
    x.setRateLimit(ROUTES.postTweet, 2, 900);
    const questions = ['Quali sono i vostri orari?', 'Come faccio un reso?', 'Accettate PayPal?', 'Quanto dura la garanzia?', 'Quali sono i tempi di spedizione?'];
    const posts: FakePost[] = [];
    for (const q of questions) posts.push(await mentions(newCustomer(), q));
    expect(posts.filter((p) => repliesTo(p).length === 1)).toHaveLength(2);
    expect(x.calls.filter((c) => c.route === ROUTES.postTweet).length).toBeGreaterThan(2); // a 429 came back

    clock.advance(901_000); // past x-rate-limit-reset
    x.setRateLimit(ROUTES.postTweet, 100);
    app.sender.kick();
    await settle();
    for (const p of posts) expect(repliesTo(p)).toHaveLength(1);
    expect(await app.store.outbox.list({ status: 'dead' })).toEqual([]);
  });
});

describe('polling (accounts without webhooks)', () => {
  it('answers exactly the new mentions, across a restart', async () => {
    await app.close();
    const dataFile = join(dir, 'poll.json');
    await startApp(dataFile, 3600);
    const early = newCustomer();
    clock.advance(1000);
    const first = x.mention(early.id, `@${BRAND.username} Quali sono i vostri orari?`);
    await channel.pollNow();
    await settle();
    expect(repliesTo(first)).toHaveLength(1);
    await app.close();

    clock.advance(60_000);
    const second = x.mention(newCustomer().id, `@${BRAND.username} Come faccio un reso?`);
    await startApp(dataFile, 3600);
    await channel.pollNow();
    await settle();
    expect(repliesTo(first)).toHaveLength(1);
    expect(repliesTo(second)).toHaveLength(1);
  });

  it('picks up the DM that follows a DM prompt and joins it to the public case', async () => {
    await app.close();
    await startApp(join(dir, 'poll-dm.json'), 3600);
    const user = newCustomer();
    clock.advance(1000);
    const post = x.mention(user.id, `@${BRAND.username} Dov’è il mio ordine?`);
    await channel.pollNow();
    await settle();
    expect(repliesTo(post)).toHaveLength(1);
    x.dm(user.id, 'Eccomi in privato: ordine 100555');
    await channel.pollNow();
    await settle();
    const conversations = await app.store.conversations.list({ customerId: `twitter:${user.id}` });
    expect(conversations.map((c) => c.visibility).sort()).toEqual(['private', 'public']);
    expect(new Set(conversations.map((c) => c.caseId)).size).toBe(1);
    expect(dmsTo(user).length).toBeGreaterThan(0);
  });
});
