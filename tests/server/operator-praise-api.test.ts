/**
 * Praise through the operator API, end to end: a real Sportello (lowdb store, classifier, pipeline,
 * sender, HTTP server) listening on the fake X API with recent search. An operator lists praise
 * (newest first, paged, with the author's reach), thanks a post that mentions the brand with one
 * click (a public reply on X under the post, in its language, signed with her initials, sent by the
 * outbox), a second click sends nothing and says who thanked; a post heard without a mention is
 * refused with a clear error and a link to open it on X, and nothing is sent; an author is marked
 * and unmarked as an advocate, and the mark is in the customer's export and gone after an erasure.
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
import type { Operator } from '../../src/core/types.js';
import { hashPassword } from '../../src/handoff/auth.js';
import { createLowdbStore } from '../../src/storage/lowdb/index.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createFakeXApi, ROUTES, type FakeXApi } from '../fakes/x-api/fake-x-api.js';
import { ACCESS_SECRET, ACCESS_TOKEN, API_KEY, API_SECRET, BRAND } from '../channels/twitter/helpers.js';
import { OUTBOUND } from '../helpers/outbound.js';
import { login, type Client } from './operator-api-helpers.js';

jest.setTimeout(120_000);

const CORPUS = join(import.meta.dirname ?? '.', '../..');
const FAST = { N: 2 ** 12, r: 8, p: 1 };

let clock: FakeClock;
let x: FakeXApi;
let dir: string;
let app: Sportello;
let channel: TwitterChannel;
let base: string;
let marta: Client;
let luca: Client;
let anna: Client;

async function operator(id: string, name: string, initials: string, role: Operator['role'], password: string): Promise<Client> {
  await app.store.directory.addOperator({ id, name, initials, role, passwordHash: await hashPassword(password, FAST), createdAt: '2026-01-01T00:00:00.000Z' });
  return login(base, name, password);
}

beforeAll(async () => {
  clock = createFakeClock('2026-11-24T09:00:00.000Z');
  x = await createFakeXApi({ clock, brand: BRAND, apiKey: API_KEY, accessToken: ACCESS_TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'sportello-praise-'));
  const listening = join(dir, 'listening.yaml');
  writeFileSync(listening, 'brand: [Bottega Rossi, BottegaRossi]\ndetector:\n  cold_start_hours: 0\n');
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'data.json'),
    FAQ_DIR: `${CORPUS}/faq`,
    INTENTS_DIR: `${CORPUS}/intents`,
    FAQ_WATCH: 'false',
    PORT: '0',
    LOG_LEVEL: 'silent',
    WEBCHAT: 'false',
    LISTENING_FILE: listening,
    X_API_KEY: API_KEY,
    X_API_SECRET: API_SECRET,
    X_ACCESS_TOKEN: ACCESS_TOKEN,
    X_ACCESS_SECRET: ACCESS_SECRET,
    X_BRAND_USER_ID: BRAND.id,
    X_BRAND_HANDLE: BRAND.username,
    X_SEARCH_QUERY: '(bottega rossi OR bottegarossi)',
    X_SEARCH_SECONDS: '86400',
    X_API_ORIGIN: x.origin,
  });
  const store = createLowdbStore({ file: config.dataFile, now: () => clock.now().getTime() });
  const logger = createSilentLogger();
  channel = createTwitterChannel({ config: config.channels.twitter as TwitterSettings, store, clock, logger, outbound: OUTBOUND, tls: { ca: x.ca } });
  app = await createSportello({ config, clock, logger, store, channels: [channel], outboxPollMs: 20 });
  base = await app.listen(0, '127.0.0.1');
  marta = await operator('op-marta', 'Marta', 'MR', 'agent', 'marta-password-1');
  luca = await operator('op-luca', 'Luca', 'LB', 'agent', 'luca-password-22');
  anna = await operator('op-anna', 'Anna', 'AV', 'admin', 'anna-password-333');
  await channel.searchNow();
});
afterAll(async () => {
  await app?.close();
  await x?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  await channel.searchNow();
  await app.pipeline.idle();
  await app.sender.drain();
}

/** The brand's posts on X that answer a post. */
const repliesTo = (postId: string) => x.brandReplies().filter((p) => p.referenced_tweets?.some((r) => r.type === 'replied_to' && r.id === postId));

interface HeardItem {
  id: string;
  platformId: string;
  class: string;
  kind: string;
  language: string;
  author: { id: string; handle?: string; followers?: number };
  customerId: string;
  advocate: boolean;
  thank: { allowed: boolean; reason?: string; link?: string };
  thanked?: { operatorId: string; initials: string; name: string; at: string; text: string; status?: string };
}

describe('praise in the operator API', () => {
  let mention: { id: string };
  let unaddressed: { id: string };

  beforeAll(async () => {
    x.addUser({ id: '7100', username: 'giulia_f', followers: 12_400 });
    x.addUser({ id: '7101', username: 'piero_v', followers: 85 });
    x.addUser({ id: '7102', username: 'carla_n', followers: 40 });
    clock.advance(60_000);
    mention = x.post('7100', `@${BRAND.username} adoro le sciarpe di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi, grazie!`);
    clock.advance(60_000);
    unaddressed = x.post('7101', 'Adoro i guanti di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi!');
    clock.advance(60_000);
    x.post('7102', 'Bottega Rossi: il mio ordine non è arrivato, potete aiutarmi?');
    await settle();
  });

  it('lists praise newest first, with the author’s reach, what may be thanked, and pages', async () => {
    const res = await marta.get('/listening/heard?class=praise');
    expect(res.status).toBe(200);
    const items = res.body.items as HeardItem[];
    expect(items.map((i) => i.platformId)).toEqual([unaddressed.id, mention.id]);
    expect(items.every((i) => i.class === 'praise')).toBe(true);
    expect(items[1]).toMatchObject({ kind: 'mention', language: 'it', author: { id: '7100', handle: 'giulia_f', followers: 12_400 }, customerId: 'twitter:7100', advocate: false, thank: { allowed: true } });
    expect(items[1]!.thanked).toBeUndefined();
    // Heard without a mention: X lets the API reply only to posts that mention or quote the brand.
    expect(items[0]).toMatchObject({ kind: 'post', thank: { allowed: false, reason: 'not_addressed', link: `https://x.com/piero_v/status/${unaddressed.id}` } });
    // Every class, newest first, a page at a time.
    const first = await marta.get('/listening/heard?limit=2');
    expect((first.body.items as HeardItem[]).map((i) => i.class)).toEqual(['care', 'praise']);
    const second = await marta.get(`/listening/heard?limit=2&before=${encodeURIComponent(first.body.next as string)}`);
    expect((second.body.items as HeardItem[]).map((i) => i.platformId)).toEqual([mention.id]);
    expect(second.body.next).toBeUndefined();
    expect((await marta.get('/listening/heard?class=nonsense')).status).toBe(400);
  });

  it('thanks a post that mentions the brand once: a signed public reply on X under the post, sent by the outbox; a second click sends nothing', async () => {
    const res = await marta.post(`/listening/heard/twitter:${mention.id}/thank`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ already: false, thanked: { operatorId: 'op-marta', initials: 'MR', name: 'Marta' } });
    const text = (res.body.thanked as { text: string }).text;
    expect(text).toBe('Grazie di cuore, giulia_f, per le belle parole! Ci fa davvero piacere. ^MR');
    await app.sender.drain();
    const replies = repliesTo(mention.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toBe(text);
    // Through the outbox, recorded as sent; in the post's own conversation, resolved, with no survey.
    const conversation = await app.store.conversations.findByKey(`twitter:public:${mention.id}`);
    expect(conversation).toMatchObject({ state: 'resolved', customerId: 'twitter:7100', flags: ['thanked'] });
    const [item] = await app.store.outbox.list({ conversationId: conversation!.id });
    expect(item).toMatchObject({ status: 'sent', inReplyTo: mention.id, author: { kind: 'operator', initials: 'MR' } });
    expect((await app.store.conversations.getCase(conversation!.caseId))?.survey).toEqual({ skipped: 'no_survey' });

    // Again, by another operator: nothing is sent; the answer says who thanked and when.
    const posts = x.calls.filter((c) => c.route === ROUTES.postTweet).length;
    const again = await luca.post(`/listening/heard/twitter:${mention.id}/thank`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ already: true, thanked: { operatorId: 'op-marta', initials: 'MR', status: 'sent' } });
    await app.sender.drain();
    expect(x.calls.filter((c) => c.route === ROUTES.postTweet).length).toBe(posts);
    expect(repliesTo(mention.id)).toHaveLength(1);
    // The list shows it thanked; the audit trail has one thank-you, by Marta.
    const listed = ((await luca.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platformId === mention.id);
    expect(listed?.thanked).toMatchObject({ operatorId: 'op-marta', initials: 'MR', status: 'sent' });
    const audit = await app.store.audit.list({ limit: 100 });
    expect(audit.filter((a) => a.action === 'praise.thank').map((a) => [a.operatorId, a.target])).toEqual([['op-marta', `twitter:${mention.id}`]]);
  });

  it('refuses to thank a post heard without a mention, with a clear error and the link, and sends nothing', async () => {
    const posts = x.calls.filter((c) => c.route === ROUTES.postTweet).length;
    const res = await marta.post(`/listening/heard/twitter:${unaddressed.id}/thank`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/does not mention or quote the brand.*Nothing was sent/);
    expect(res.body).toMatchObject({ reason: 'not_addressed', link: `https://x.com/piero_v/status/${unaddressed.id}` });
    await app.sender.drain();
    expect(x.calls.filter((c) => c.route === ROUTES.postTweet).length).toBe(posts);
    expect(repliesTo(unaddressed.id)).toHaveLength(0);
    expect(await app.store.conversations.findByKey(`twitter:public:${unaddressed.id}`)).toBeUndefined();
    // Not praise, or no such post: refused too.
    const care = ((await marta.get('/listening/heard?class=care')).body.items as HeardItem[])[0]!;
    expect((await marta.post(`/listening/heard/${care.id}/thank`)).status).toBe(409);
    expect((await marta.post('/listening/heard/twitter:404/thank')).status).toBe(409);
  });

  it('marks and unmarks an advocate; the mark is in the customer’s export and gone after an erasure', async () => {
    const id = `twitter:${unaddressed.id}`;
    const marked = await marta.post(`/listening/heard/${id}/advocate`, { advocate: true });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ customerId: 'twitter:7101', advocate: true });
    expect(((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platformId === unaddressed.id)?.advocate).toBe(true);
    expect((await app.store.customerFiles.get('twitter:7101')).tags).toEqual(['advocate']);
    expect((await marta.post(`/listening/heard/${id}/advocate`, { advocate: 'yes' })).status).toBe(400);

    // Unmarked, and marked again.
    expect((await luca.post(`/listening/heard/${id}/advocate`, { advocate: false })).body).toEqual({ customerId: 'twitter:7101', advocate: false });
    expect(((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platformId === unaddressed.id)?.advocate).toBe(false);
    await marta.post(`/listening/heard/${id}/advocate`, { advocate: true });
    const audit = await app.store.audit.list({ limit: 100 });
    expect(audit.filter((a) => a.action.startsWith('advocate.')).map((a) => a.action)).toEqual(['advocate.mark', 'advocate.unmark', 'advocate.mark']);
    // The trail names the customer by a digest, never by id.
    expect(audit.some((a) => a.target?.includes('7101'))).toBe(false);

    // The author never wrote to the brand: marking them made them a customer, so their data rights cover the mark.
    const exported = await fetch(`${base}/api/operator/customers/twitter:7101/export`, { headers: { cookie: anna.cookie! } });
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as { records: Array<{ customer: { handle?: string; followers?: number }; file?: { tags: string[] }; heard: Array<{ platformId: string }> }> };
    expect(doc.records[0]).toMatchObject({ customer: { handle: 'piero_v', followers: 85 }, file: { tags: ['advocate'] } });
    expect(doc.records[0]!.heard.map((h) => h.platformId)).toEqual([unaddressed.id]);

    const erased = await fetch(`${base}/api/operator/customers/twitter:7101`, { method: 'DELETE', headers: { cookie: anna.cookie!, 'x-csrf-token': anna.csrf!, origin: base } });
    expect(erased.status).toBe(200);
    expect(await app.store.customerFiles.withTag('advocate')).toEqual([]);
    const after = ((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platformId === unaddressed.id);
    expect(after).toMatchObject({ advocate: false, text: '' });
    expect(after!.author.handle).toBeUndefined();

    // The thanked customer's export holds the thank-you conversation too.
    const thanked = (await (await fetch(`${base}/api/operator/customers/twitter:7100/export`, { headers: { cookie: anna.cookie! } })).json()) as {
      records: Array<{ messages: Array<{ direction: string; text: string }>; outbox: Array<{ inReplyTo?: string }> }>;
    };
    expect(thanked.records[0]!.messages.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(thanked.records[0]!.outbox.map((o) => o.inReplyTo)).toEqual([mention.id]);
  });
});
