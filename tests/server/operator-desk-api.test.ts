/**
 * The desk's routes (issue 21) on a real instance: finding conversations, customers as people,
 * saved replies. Each route: a session needed (401), changes need the CSRF token and same origin
 * (403), pages, and admin-only rights where said.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { anonymous, answer, closeSharedKnowledge, escalateFrom as escalate, login, logins, PASSWORDS, request, startApiApp, type Answer, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

/** Any method, as the console sends it (cookie, CSRF token, same origin unless told). */
async function call(base: string, client: Client, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options: { csrf?: string | null; origin?: string | null } = {}): Promise<Answer> {
  return answer(await request(base, client, method, path, { ...options, body, json: true }));
}

type Row = { id: string; customer: { id: string; name: string | null; handle: string | null }; channel: string; state: string; priority: number | null; reason: string | null; last_message: { text: string; at: string; from: string } | null; updated_at: string; assignee: { id: string; name: string } | null };
type Page = { conversations: Row[]; total: number; page: number; page_size: number };

describe('operator API: the desk', () => {
  let t: ApiApp;
  let marta: Client;
  let anna: Client;
  beforeEach(async () => {
    t = await startApiApp();
    [marta, anna] = await logins(t.base, 'Marta', 'Anna');
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses every desk route without a session (401) and every change without the CSRF token or from another site (403)', async () => {
    const none = anonymous(t.base);
    const routes: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string]> = [
      ['GET', '/conversations'],
      ['GET', '/customers/chat:x'],
      ['POST', '/customers/chat:x/links'],
      ['DELETE', '/customers/chat:x/links/chat:y'],
      ['POST', '/customers/chat:x/notes'],
      ['PUT', '/customers/chat:x/tags'],
      ['GET', '/saved-replies'],
      ['POST', '/saved-replies'],
      ['PUT', '/saved-replies/sr_x'],
      ['DELETE', '/saved-replies/sr_x'],
      ['GET', '/saved-replies/sr_x/render?conversation_id=cv_x'],
    ];
    for (const [method, path] of routes) expect([method, path, (await call(t.base, none, method, path, method === 'GET' ? undefined : {})).status]).toEqual([method, path, 401]);
    for (const [method, path] of routes.filter(([m]) => m !== 'GET')) {
      expect([method, path, (await call(t.base, anna, method, path, {}, { csrf: null })).status]).toEqual([method, path, 403]);
      expect([method, path, (await call(t.base, anna, method, path, {}, { origin: 'https://evil.example' })).status]).toEqual([method, path, 403]);
    }
  });

  it('finds conversations by view, filter and words, resolved ones included, a page at a time', async () => {
    const a = await escalate(t, 'anna-b', 'voglio parlare con un operatore per la fattura di marzo');
    const b = await escalate(t, 'bob', 'I want to talk to a human about my invoice');
    const c = await escalate(t, 'carla', 'voglio parlare con un operatore: il mio ordine è arrivato rotto');
    expect((await marta.post(`/conversations/${a}/claim`, {})).status).toBe(200);
    expect((await marta.post(`/conversations/${a}/reply`, { text: 'Controllo subito la fattura' })).status).toBe(200);
    expect((await marta.post(`/conversations/${a}/resolve`, {})).status).toBe(200);
    expect((await marta.post(`/conversations/${c}/claim`, {})).status).toBe(200);
    expect((await marta.post(`/conversations/${c}/reply`, { text: 'Mi manda una foto?' })).status).toBe(200);

    const get = async (query: string) => (await marta.get(`/conversations${query}`)).body as unknown as Page;
    const all = await get('');
    expect(all).toMatchObject({ total: 3, page: 1, page_size: 25 });
    expect(all.conversations.map((r) => r.id).sort()).toEqual([a, b, c].sort());
    const rowB = all.conversations.find((r) => r.id === b)!;
    expect(rowB).toMatchObject({ customer: { id: 'chat:bob', handle: 'bob' }, channel: 'chat', state: 'queued', reason: 'human_request', priority: expect.any(Number), last_message: { from: expect.stringMatching(/^(bot|customer)$/) } });
    expect(rowB.updated_at).toEqual(expect.any(String));

    // a resolved conversation is found by a word in it (accents and case aside)
    expect((await get('?q=FATTURA')).conversations.map((r) => r.id)).toEqual([a]);
    expect((await get('?q=fattura&view=resolved')).conversations.map((r) => r.id)).toEqual([a]);
    expect((await get('?q=fattura&view=open')).total).toBe(0);
    expect((await get('?q=invoice')).conversations.map((r) => r.id)).toEqual([b]);
    expect((await get('?q=e%CC%80%20rotto')).conversations.map((r) => r.id)).toEqual([c]);
    // by the customer's handle
    expect((await get('?q=carla')).conversations.map((r) => r.id)).toEqual([c]);

    expect((await get('?view=unassigned')).conversations.map((r) => r.id)).toEqual([b]);
    expect((await get('?view=mine')).conversations.map((r) => r.id)).toEqual([c]);
    const luca = await login(t.base, 'Luca', PASSWORDS.luca);
    expect(((await luca.get('/conversations?view=mine')).body as unknown as Page).total).toBe(0);
    expect((await get('?view=waiting')).conversations.map((r) => r.id)).toEqual([c]);
    expect((await get(`?view=all&operator=${t.marta.id}`)).conversations.map((r) => r.id)).toEqual([c]);
    expect((await get('?view=resolved')).conversations.map((r) => r.id)).toEqual([a]);
    expect((await get('?language=en')).conversations.map((r) => r.id)).toEqual([b]);
    expect((await get('?state=queued,assigned')).total).toBe(2);
    expect((await get('?reason=human_request')).total).toBe(3);
    expect((await get('?channel=other')).total).toBe(0);
    expect((await get('?from=2026-11-24&to=2026-11-24')).total).toBe(3);
    expect((await get('?to=2026-11-23')).total).toBe(0);
    expect((await get('?from=2026-11-25T00:00:00Z')).total).toBe(0);

    // pages
    const first = await get('?page_size=2');
    const second = await get('?page_size=2&page=2');
    expect([first.total, first.conversations.length, second.conversations.length, second.page]).toEqual([3, 2, 1, 2]);
    expect(new Set([...first.conversations, ...second.conversations].map((r) => r.id)).size).toBe(3);
    expect((await get('?page=9')).conversations).toEqual([]);

    // clear 400s
    for (const bad of ['?page=0', '?page_size=101', '?view=everything', '?state=lost', '?from=yesterday', '?colour=red', '?priority=x']) {
      const res = await marta.get(`/conversations${bad}`);
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(res.body.error).toMatch(/invalid request/);
    }
  });

  it('keeps tags and notes on a customer across cases, and filters the search by tag', async () => {
    const a = await escalate(t, 'dora', 'voglio parlare con un operatore');
    const id = 'chat:dora';
    const tags = await call(t.base, marta, 'PUT', `/customers/${id}/tags`, { tags: ['VIP', 'reso', 'vip'] });
    expect(tags.body).toEqual({ customer_id: id, tags: ['reso', 'vip'] });
    expect((await call(t.base, marta, 'PUT', `/customers/${id}/tags`, { tags: ['no;semicolons'] })).status).toBe(400);
    const note = await marta.post(`/customers/${id}/notes`, { text: 'Preferisce essere chiamata la mattina' });
    expect(note.body).toMatchObject({ note: { customer_id: id, text: 'Preferisce essere chiamata la mattina', operator: { id: t.marta.id, name: 'Marta' } } });
    expect((await marta.post(`/customers/${id}/notes`, { text: '   ' })).status).toBe(400);
    expect((await marta.post('/customers/chat:nobody/notes', { text: 'x' })).status).toBe(404);

    // the case is resolved and a new one opens: the notes and tags stay
    await marta.post(`/conversations/${a}/claim`, {});
    await marta.post(`/conversations/${a}/resolve`, {});
    t.clock.advance(60_000);
    await escalate(t, 'dora', 'voglio parlare con un operatore di nuovo');
    const profile = (await marta.get(`/customers/${id}`)).body as Record<string, any>;
    expect(profile.customer).toMatchObject({ id, handle: 'dora', channel: 'chat', language: 'it', tags: ['reso', 'vip'], links: [] });
    expect(profile.notes.map((n: { text: string }) => n.text)).toEqual(['Preferisce essere chiamata la mattina']);
    expect(profile.cases).toHaveLength(2);
    expect(profile.cases[1]).toMatchObject({ status: 'resolved', outcome: 'resolved_by_operator', resolved_by: { name: 'Marta' }, satisfaction: null, first_message: 'voglio parlare con un operatore' });
    expect(profile.cases[0]).toMatchObject({ status: 'open', outcome: 'open' });

    await escalate(t, 'other', 'voglio parlare con un operatore');
    // the customer's private chat is one conversation (its second case reopened it)
    const tagged = (await marta.get('/conversations?tag=VIP')).body as unknown as Page;
    expect(tagged.conversations.map((r) => r.customer.id)).toEqual([id]);
    expect(((await marta.get('/conversations')).body as unknown as Page).total).toBe(2);
    expect(((await marta.get('/conversations?tag=nessuno')).body as unknown as Page).total).toBe(0);
    expect((await marta.get('/customers/chat:nobody')).status).toBe(404);
  });

  it('links two customer records into one history and unlinks them', async () => {
    const evaX = await escalate(t, 'eva-x', 'voglio parlare con un operatore del mio ordine');
    await escalate(t, 'eva-web', 'voglio parlare con un operatore, sono sempre io');
    expect((await marta.get(`/conversations/${evaX}`)).body.earlierCases).toEqual([]);
    await marta.post('/customers/chat:eva-web/notes', { text: 'Scrive anche dal sito' });
    const linked = await marta.post('/customers/chat:eva-x/links', { customer_id: 'chat:eva-web' });
    expect(linked.status).toBe(200);
    const profile = linked.body as Record<string, any>;
    expect(profile.customer.links).toEqual(['chat:eva-web']);
    expect(profile.handles.map((h: { customer_id: string }) => h.customer_id)).toEqual(['chat:eva-x', 'chat:eva-web']);
    // one history: the cases and notes of both records
    expect(profile.cases.map((c: { customer_id: string }) => c.customer_id).sort()).toEqual(['chat:eva-web', 'chat:eva-x']);
    expect(profile.notes.map((n: { customer_id: string }) => n.customer_id)).toEqual(['chat:eva-web']);
    // seen from the other side too, and in the conversation's earlier cases
    expect(((await marta.get('/customers/chat:eva-web')).body as Record<string, any>).cases).toHaveLength(2);
    expect(((await marta.get(`/conversations/${evaX}`)).body.earlierCases as Array<{ customerId: string; firstMessage: string }>).map((c) => [c.customerId, c.firstMessage])).toEqual([
      ['chat:eva-web', 'voglio parlare con un operatore, sono sempre io'],
    ]);

    expect((await marta.post('/customers/chat:eva-x/links', { customer_id: 'chat:eva-x' })).status).toBe(400);
    expect((await marta.post('/customers/chat:eva-x/links', { customer_id: 'chat:nobody' })).status).toBe(404);
    expect((await marta.post('/customers/chat:eva-x/links', {})).status).toBe(400);

    const unlinked = await call(t.base, marta, 'DELETE', '/customers/chat:eva-web/links/chat:eva-x');
    expect(unlinked.status).toBe(200);
    expect((unlinked.body as Record<string, any>).cases).toHaveLength(1);
    expect(((await marta.get('/customers/chat:eva-x')).body as Record<string, any>).customer.links).toEqual([]);
    expect((await call(t.base, marta, 'DELETE', '/customers/chat:eva-web/links/chat:eva-x')).status).toBe(404);
  });

  it('lets admins manage saved replies and agents only read and render them, fitted to the channel', async () => {
    const reply = { language: 'it', shortcut: 'Orari', title: 'Orari di apertura', text: 'Ciao {customer_name}, sono {operator_name}: siamo aperti {business_hours}. Riapriamo {reopens}. {unknown}' };
    // agents cannot manage
    expect((await marta.post('/saved-replies', reply)).status).toBe(403);
    const created = await anna.post('/saved-replies', reply);
    expect(created.status).toBe(200);
    const saved = created.body.saved_reply as { id: string; shortcut: string };
    expect(saved).toMatchObject({ language: 'it', shortcut: 'orari', title: 'Orari di apertura', created_by: t.anna.id });
    expect((await anna.post('/saved-replies', reply)).status).toBe(409);
    expect((await anna.post('/saved-replies', { ...reply, shortcut: 'two words' })).status).toBe(400);
    expect((await anna.post('/saved-replies', { ...reply, language: 'fr' })).status).toBe(400);
    expect((await call(t.base, marta, 'PUT', `/saved-replies/${saved.id}`, { title: 'x' })).status).toBe(403);
    expect((await call(t.base, marta, 'DELETE', `/saved-replies/${saved.id}`)).status).toBe(403);
    await anna.post('/saved-replies', { language: 'en', shortcut: 'thanks', text: 'Thank you, {customer_name}!' });

    // everyone reads, by language and with the "/" search
    const list = async (query: string) => ((await marta.get(`/saved-replies${query}`)).body.saved_replies as Array<{ shortcut: string }>).map((r) => r.shortcut);
    expect(await list('')).toEqual(['thanks', 'orari']);
    expect(await list('?language=it')).toEqual(['orari']);
    expect(await list('?q=apert')).toEqual(['orari']);
    expect(await list('?q=thank')).toEqual(['thanks']);
    expect((await marta.get('/saved-replies?language=de')).status).toBe(400);

    // rendered for a conversation: variables filled in, measured for the channel
    const id = await escalate(t, 'franca', 'voglio parlare con un operatore', { name: 'Franca' });
    const rendered = await marta.get(`/saved-replies/${saved.id}/render?conversation_id=${id}`);
    expect(rendered.status).toBe(200);
    expect(rendered.body.text).toBe('Ciao Franca, sono Marta: siamo aperti lun–ven 9:00–18:00, sab 9:00–13:00. Riapriamo adesso. {unknown}');
    expect(rendered.body.fitting).toMatchObject({ fits: true, thread: null, max_length: expect.any(Number), length: (rendered.body.text as string).length });
    expect((await marta.get(`/saved-replies/${saved.id}/render`)).status).toBe(400);
    expect((await marta.get(`/saved-replies/${saved.id}/render?conversation_id=cv_none`)).status).toBe(404);

    // admins change and delete
    const changed = await call(t.base, anna, 'PUT', `/saved-replies/${saved.id}`, { text: 'Siamo aperti {business_hours}.' });
    expect(changed.body.saved_reply).toMatchObject({ text: 'Siamo aperti {business_hours}.', shortcut: 'orari' });
    expect((await call(t.base, anna, 'PUT', `/saved-replies/${saved.id}`, {})).status).toBe(400);
    expect((await call(t.base, anna, 'DELETE', `/saved-replies/${saved.id}`)).status).toBe(200);
    expect((await call(t.base, anna, 'DELETE', `/saved-replies/${saved.id}`)).status).toBe(404);
    expect(await list('')).toEqual(['thanks']);
  });

  it('suggests answers from the whole customer side, and the history shows the FAQ the bot used and the options it offered', async () => {
    const first = await t.app.pipeline.receive(t.message('quanto tempo ci mette la spedizione?', { customer: { platformId: 'gina', handle: 'gina' } }));
    expect(first.action).toBe('answer');
    const id = first.conversation!.id;
    const hello = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: 'gina', handle: 'gina' } }));
    expect(hello.action).toBe('escalate');
    await t.app.pipeline.receive(t.message('ciao?', { customer: { platformId: 'gina', handle: 'gina' } }));
    const suggested = await marta.get(`/conversations/${id}/suggestions`);
    const suggestions = suggested.body.suggestions as Array<{ faqId: string; messageId: string | null }>;
    expect(suggestions.map((s) => s.faqId)).toContain(first.faqId);
    const history = (await marta.get(`/conversations/${id}`)).body.messages as Array<{ id: string; text: string; direction: string; author: { kind: string }; faqId?: string; quickReplies?: unknown[] }>;
    // the last message alone ("ciao?") suggests nothing of the kind: it comes from the question
    // asked earlier, or from the customer's messages taken together (null)
    const ciao = history.find((m) => m.direction === 'in' && m.text === 'ciao?')!;
    expect(ciao).toBeDefined();
    expect(suggestions.find((s) => s.faqId === first.faqId)!.messageId).not.toBe(ciao.id);
    const answer = history.find((m) => m.direction === 'out' && m.faqId !== undefined);
    expect(answer).toMatchObject({ author: { kind: 'bot' }, faqId: first.faqId });

    // a clarifying question keeps the options it offered
    const unsure = await t.app.pipeline.receive(t.message('costi', { customer: { platformId: 'hugo', handle: 'hugo' } }));
    const offered = ((await marta.get(`/conversations/${unsure.conversation!.id}`)).body.messages as Array<{ direction: string; quickReplies?: Array<{ title: string; payload: string }> }>).filter((m) => m.direction === 'out');
    expect([unsure.action, offered.some((m) => (m.quickReplies?.length ?? 0) > 0)]).toEqual(['clarify', true]);
  });
});
