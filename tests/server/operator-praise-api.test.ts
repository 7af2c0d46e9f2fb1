/**
 * Praise through the operator API, end to end: a real Sportello (lowdb store, classifier, pipeline,
 * sender, HTTP server) listening on the fake X API with recent search. An operator lists praise
 * (newest first, paged, with the author's reach), thanks a post that mentions the brand with one
 * click (a public reply on X under the post, in its language, signed with her initials, sent by the
 * outbox), a second click sends nothing and says who thanked; a post heard without a mention is
 * refused with a clear error and a link to open it on X, and nothing is sent; an author is marked
 * and unmarked as an advocate, and the mark is in the customer's export and gone after an erasure.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ROUTES } from '../fakes/x-api/fake-x-api.js';
import { BRAND } from '../channels/twitter/helpers.js';
import { PRAISE_PASSWORDS, startPraiseApp, thankYouTexts, type PraiseApp } from '../helpers/praise-app.js';
import { login, type Client } from './operator-api-helpers.js';

jest.setTimeout(120_000);

let t: PraiseApp;
let marta: Client;
let luca: Client;
let anna: Client;

beforeAll(async () => {
  t = await startPraiseApp();
  marta = await login(t.base, 'Marta', PRAISE_PASSWORDS.marta);
  luca = await login(t.base, 'Luca', PRAISE_PASSWORDS.luca);
  anna = await login(t.base, 'Anna', PRAISE_PASSWORDS.anna);
});
afterAll(async () => {
  await t?.close();
});

interface HeardItem {
  id: string;
  platform_id: string;
  class: string;
  kind: string;
  language: string;
  author: { id: string; handle?: string; followers?: number };
  customer_id: string;
  advocate: boolean;
  thank: { allowed: boolean; reason?: string; link?: string };
  thanked: { operator_id: string; initials: string; name: string; at: string; text: string; status?: string } | null;
}

describe('praise in the operator API', () => {
  let mention: { id: string };
  let unaddressed: { id: string };

  beforeAll(async () => {
    t.x.addUser({ id: '7100', username: 'giulia_f', followers: 12_400 });
    t.x.addUser({ id: '7101', username: 'piero_v', followers: 85 });
    t.x.addUser({ id: '7102', username: 'carla_n', followers: 40 });
    t.clock.advance(60_000);
    mention = t.x.post('7100', `@${BRAND.username} adoro le sciarpe di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi, grazie!`);
    t.clock.advance(60_000);
    unaddressed = t.x.post('7101', 'Adoro i guanti di Bottega Rossi, qualità fantastica e consegna velocissima. Bravissimi!');
    t.clock.advance(60_000);
    t.x.post('7102', 'Bottega Rossi: il mio ordine non è arrivato, potete aiutarmi?');
    await t.settle();
  });

  it('lists praise newest first, with the author’s reach, what may be thanked, and pages', async () => {
    const res = await marta.get('/listening/heard?class=praise');
    expect(res.status).toBe(200);
    const items = res.body.items as HeardItem[];
    expect(items.map((i) => i.platform_id)).toEqual([unaddressed.id, mention.id]);
    expect(items.every((i) => i.class === 'praise')).toBe(true);
    expect(items[1]).toMatchObject({ kind: 'mention', language: 'it', author: { id: '7100', handle: 'giulia_f', followers: 12_400 }, customer_id: 'twitter:7100', advocate: false, thank: { allowed: true } });
    expect(items[1]!.thanked).toBeNull();
    // Heard without a mention: X lets the API reply only to posts that mention or quote the brand.
    expect(items[0]).toMatchObject({ kind: 'post', thank: { allowed: false, reason: 'not_addressed', link: `https://x.com/piero_v/status/${unaddressed.id}` } });
    // Every class, newest first, a page at a time.
    const first = await marta.get('/listening/heard?page_size=2');
    expect((first.body.items as HeardItem[]).map((i) => i.class)).toEqual(['care', 'praise']);
    const second = await marta.get(`/listening/heard?page_size=2&before=${encodeURIComponent(first.body.next as string)}`);
    expect((second.body.items as HeardItem[]).map((i) => i.platform_id)).toEqual([mention.id]);
    expect(second.body.next).toBeNull();
    expect((await marta.get('/listening/heard?class=nonsense')).status).toBe(400);
    expect((await marta.get('/listening/heard?limit=5')).status).toBe(400);
  });

  it('thanks a post that mentions the brand once: a signed public reply on X under the post, sent by the outbox; a second click sends nothing', async () => {
    const res = await marta.post(`/listening/heard/twitter:${mention.id}/thank`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ already: false, thanked: { operator_id: 'op-marta', initials: 'MR', name: 'Marta' } });
    const text = (res.body.thanked as { text: string }).text;
    // In the post's language, naming the author, signed.
    expect(thankYouTexts('it', 'giulia_f', 'MR')).toContain(text);
    await t.app.sender.drain();
    const replies = t.repliesTo(mention.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toBe(text);
    // Through the outbox, recorded as sent; in the post's own conversation, resolved, with no survey.
    const conversation = await t.app.store.conversations.findByKey(`twitter:public:${mention.id}`);
    expect(conversation).toMatchObject({ state: 'resolved', customerId: 'twitter:7100', flags: ['thanked'] });
    const [item] = await t.app.store.outbox.list({ conversationId: conversation!.id });
    expect(item).toMatchObject({ status: 'sent', inReplyTo: mention.id, author: { kind: 'operator', initials: 'MR' } });
    expect((await t.app.store.conversations.getCase(conversation!.caseId))?.survey).toEqual({ skipped: 'no_survey' });

    // Again, by another operator: nothing is sent; the answer says who thanked and when.
    const posts = t.x.calls.filter((c) => c.route === ROUTES.postTweet).length;
    const again = await luca.post(`/listening/heard/twitter:${mention.id}/thank`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ already: true, thanked: { operator_id: 'op-marta', initials: 'MR', status: 'sent' } });
    await t.app.sender.drain();
    expect(t.x.calls.filter((c) => c.route === ROUTES.postTweet).length).toBe(posts);
    expect(t.repliesTo(mention.id)).toHaveLength(1);
    // The list shows it thanked; the audit trail has one thank-you, by Marta.
    const listed = ((await luca.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platform_id === mention.id);
    expect(listed?.thanked).toMatchObject({ operator_id: 'op-marta', initials: 'MR', status: 'sent' });
    const audit = await t.app.store.audit.list({ limit: 100 });
    expect(audit.filter((a) => a.action === 'praise.thank').map((a) => [a.operatorId, a.target])).toEqual([['op-marta', conversation!.id]]);
  });

  it('two operators clicking at once send one thank-you', async () => {
    t.x.addUser({ id: '7103', username: 'marco_z', followers: 300 });
    t.clock.advance(60_000);
    const post = t.x.post('7103', `@${BRAND.username} grazie Bottega Rossi, servizio fantastico e gentilissimi, bravissimi!`);
    await t.settle();
    expect((await t.app.store.heard.get(`twitter:${post.id}`))?.class).toBe('praise');
    const answers = await Promise.all([marta.post(`/listening/heard/twitter:${post.id}/thank`), luca.post(`/listening/heard/twitter:${post.id}/thank`)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body.already).sort()).toEqual([false, true]);
    // Both say the same thank-you: the one that was sent.
    expect(new Set(answers.map((a) => (a.body.thanked as { outbox_id: string }).outbox_id)).size).toBe(1);
    await t.app.sender.drain();
    expect(t.repliesTo(post.id)).toHaveLength(1);
  });

  it('a thank-you the platform refuses (the post was deleted meanwhile) is given up, reported to operators, and listed as such', async () => {
    t.x.addUser({ id: '7104', username: 'sofia_k', followers: 2_100 });
    t.clock.advance(60_000);
    const post = t.x.post('7104', `@${BRAND.username} che meraviglia il negozio nuovo di Bottega Rossi, bravissimi!`);
    await t.settle();
    expect((await t.app.store.heard.get(`twitter:${post.id}`))?.class).toBe('praise');
    const failed: string[] = [];
    const unsubscribe = t.app.bus.subscribe((e) => void (e.type === 'message.failed' && failed.push(e.conversationId)));
    t.x.posts.delete(post.id);
    const res = await marta.post(`/listening/heard/twitter:${post.id}/thank`);
    expect(res.status).toBe(200);
    await t.app.sender.drain();
    unsubscribe();
    expect(t.repliesTo(post.id)).toHaveLength(0);
    expect(failed).toEqual([res.body.conversation_id]);
    const listed = ((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platform_id === post.id);
    expect(listed?.thanked).toMatchObject({ operator_id: 'op-marta', status: 'dead' });
  });

  it('refuses to thank a post heard without a mention, with a clear error and the link, and sends nothing', async () => {
    const posts = t.x.calls.filter((c) => c.route === ROUTES.postTweet).length;
    const res = await marta.post(`/listening/heard/twitter:${unaddressed.id}/thank`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/does not mention or quote the brand.*Nothing was sent/);
    expect(res.body).toMatchObject({ reason: 'not_addressed', link: `https://x.com/piero_v/status/${unaddressed.id}` });
    await t.app.sender.drain();
    expect(t.x.calls.filter((c) => c.route === ROUTES.postTweet).length).toBe(posts);
    expect(t.repliesTo(unaddressed.id)).toHaveLength(0);
    expect(await t.app.store.conversations.findByKey(`twitter:public:${unaddressed.id}`)).toBeUndefined();
    // Not praise, or no such post: refused too.
    const care = ((await marta.get('/listening/heard?class=care')).body.items as HeardItem[])[0]!;
    expect((await marta.post(`/listening/heard/${care.id}/thank`)).status).toBe(409);
    expect((await marta.post('/listening/heard/twitter:404/thank')).status).toBe(409);
  });

  it('marks and unmarks an advocate; the mark is in the customer’s export and gone after an erasure', async () => {
    const id = `twitter:${unaddressed.id}`;
    const marked = await marta.post(`/listening/heard/${id}/advocate`, { advocate: true });
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ customer_id: 'twitter:7101', advocate: true });
    expect(((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platform_id === unaddressed.id)?.advocate).toBe(true);
    expect((await t.app.store.customerFiles.get('twitter:7101')).tags).toEqual(['advocate']);
    expect((await marta.post(`/listening/heard/${id}/advocate`, { advocate: 'yes' })).status).toBe(400);

    // Unmarked, and marked again.
    expect((await luca.post(`/listening/heard/${id}/advocate`, { advocate: false })).body).toEqual({ customer_id: 'twitter:7101', advocate: false });
    expect(((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platform_id === unaddressed.id)?.advocate).toBe(false);
    await marta.post(`/listening/heard/${id}/advocate`, { advocate: true });
    const audit = await t.app.store.audit.list({ limit: 100 });
    expect(audit.filter((a) => a.action.startsWith('advocate.')).map((a) => a.action)).toEqual(['advocate.mark', 'advocate.unmark', 'advocate.mark']);
    // The trail names the customer by a digest, never by id.
    expect(audit.some((a) => a.target?.includes('7101'))).toBe(false);

    // The author never wrote to the brand: marking them made them a customer, so their data rights cover the mark.
    const exported = await fetch(`${t.base}/api/operator/customers/twitter:7101/export`, { headers: { cookie: anna.cookie! } });
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as { records: Array<{ customer: { handle?: string; followers?: number }; file?: { tags: string[] }; heard: Array<{ platformId: string }> }> };
    expect(doc.records[0]).toMatchObject({ customer: { handle: 'piero_v', followers: 85 }, file: { tags: ['advocate'] } });
    expect(doc.records[0]!.heard.map((h) => h.platformId)).toEqual([unaddressed.id]);

    const erased = await fetch(`${t.base}/api/operator/customers/twitter:7101`, { method: 'DELETE', headers: { cookie: anna.cookie!, 'x-csrf-token': anna.csrf!, origin: t.base } });
    expect(erased.status).toBe(200);
    expect(await t.app.store.customerFiles.withTag('advocate')).toEqual([]);
    const after = ((await marta.get('/listening/heard?class=praise')).body.items as HeardItem[]).find((i) => i.platform_id === unaddressed.id);
    expect(after).toMatchObject({ advocate: false, text: '', erased: true, thank: { allowed: false, reason: 'erased' } });
    expect(after!.author.handle).toBeNull();
    // Erased: neither marked again (which would record them anew) nor thanked.
    expect((await marta.post(`/listening/heard/${id}/advocate`, { advocate: true })).status).toBe(409);
    expect((await marta.post(`/listening/heard/${id}/thank`)).body).toMatchObject({ reason: 'erased' });
    expect(await t.app.store.customerFiles.withTag('advocate')).toEqual([]);

    // The thanked customer's export holds the thank-you conversation too.
    const thanked = (await (await fetch(`${t.base}/api/operator/customers/twitter:7100/export`, { headers: { cookie: anna.cookie! } })).json()) as {
      records: Array<{ messages: Array<{ direction: string; text: string }>; outbox: Array<{ inReplyTo?: string }> }>;
    };
    expect(thanked.records[0]!.messages.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(thanked.records[0]!.outbox.map((o) => o.inReplyTo)).toEqual([mention.id]);
  });
});
