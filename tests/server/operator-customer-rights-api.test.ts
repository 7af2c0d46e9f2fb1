/**
 * Issue 22 from the operator API, on a real instance: an admin exports a customer (the record and
 * the one linked to it) and erases them; an agent may do neither (403); the erasure needs the CSRF
 * token and same origin like every change; both are in the audit trail with who, when and from
 * where, naming the customer only by a digest.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { customerRef, type CustomerExport } from '../../src/handoff/customer-rights.js';
import { anonymous, closeSharedKnowledge, logins, request, startApiApp, type ApiApp, type Client } from './operator-api-helpers.js';

afterAll(closeSharedKnowledge);

async function call(base: string, client: Client, method: 'GET' | 'DELETE', path: string, options: { csrf?: string | null; origin?: string | null } = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await request(base, client, method, path, options);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe("operator API: a customer's data rights", () => {
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

  it('lets an admin export and erase a person (both records), refuses agents, checks CSRF, and audits both', async () => {
    await t.app.pipeline.receive(t.message('voglio parlare con un operatore, ordine 12345678', { customer: { platformId: 'giulia-01', name: 'Giulia Neri' }, id: 'g1' }));
    await t.app.pipeline.receive(t.message('ciao, sono ancora Giulia', { customer: { platformId: 'giulia-02', name: 'Giulia N.' }, id: 'g2' }));
    expect((await anna.post(`/customers/${encodeURIComponent('chat:giulia-01')}/links`, { customer_id: 'chat:giulia-02' })).status).toBe(200);
    const path = `/customers/${encodeURIComponent('chat:giulia-01')}`;

    // Agents: neither.
    expect((await call(t.base, marta, 'GET', `${path}/export`)).status).toBe(403);
    expect((await call(t.base, marta, 'DELETE', path)).status).toBe(403);
    expect((await call(t.base, anonymous(t.base), 'GET', `${path}/export`)).status).toBe(401);
    expect((await call(t.base, anna, 'GET', '/customers/chat:nobody/export')).status).toBe(404);

    const exported = await call(t.base, anna, 'GET', `${path}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment/);
    const doc = JSON.parse(exported.text) as CustomerExport;
    expect(doc.records.map((r) => r.customer.id)).toEqual(['chat:giulia-01', 'chat:giulia-02']);
    expect(doc.records.flatMap((r) => r.messages.map((m) => m.text))).toEqual(expect.arrayContaining(['voglio parlare con un operatore, ordine 12345678', 'ciao, sono ancora Giulia']));

    // The erasure is a change: CSRF and same origin.
    expect((await call(t.base, anna, 'DELETE', path, { csrf: null })).status).toBe(403);
    expect((await call(t.base, anna, 'DELETE', path, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await t.app.store.directory.getCustomer('chat:giulia-01')).toBeDefined();
    const erased = await call(t.base, anna, 'DELETE', path);
    expect(erased.status).toBe(200);
    expect(JSON.parse(erased.text)).toMatchObject({ erased: 2, conversations: 2 });
    expect(await t.app.store.directory.getCustomer('chat:giulia-01')).toBeUndefined();
    expect(await t.app.store.directory.getCustomer('chat:giulia-02')).toBeUndefined();
    expect((await call(t.base, anna, 'DELETE', path)).status).toBe(404);

    const all = await t.app.store.audit.list({ limit: 50 });
    expect(all.map((a) => a.action)).toContain('customer.link');
    const audit = all.filter((a) => a.action.startsWith('customer.e'));
    expect(audit.map((a) => [a.action, a.operatorId, a.target])).toEqual([
      ['customer.export', t.anna.id, customerRef('chat:giulia-01')],
      ['customer.erase', t.anna.id, customerRef('chat:giulia-01')],
    ]);
    for (const a of audit) expect(a.from).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(all)).not.toContain('giulia');
  });

  it('resolves the erased person\'s open conversations (queued, held by an operator) through the one write path: nothing of theirs stays in the queue', async () => {
    const waiting = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: 'lucia-01', name: 'Lucia Bassi' }, id: 'l1' }));
    const held = await t.app.pipeline.receive(t.message('posso parlare con una persona?', { customer: { platformId: 'lucia-02', name: 'Lucia B.' }, id: 'l2' }));
    const other = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: 'marco-01', name: 'Marco' }, id: 'm1' }));
    for (const o of [waiting, held, other]) expect(o.conversation?.state).toBe('queued');
    expect((await marta.post(`/conversations/${held.conversation!.id}/claim`, {})).status).toBe(200);
    expect((await anna.post(`/customers/${encodeURIComponent('chat:lucia-01')}/links`, { customer_id: 'chat:lucia-02' })).status).toBe(200);
    const queueIds = async () => ((await anna.get('/queue')).body as unknown as { rows: Array<{ conversationId: string }> }).rows.map((r) => r.conversationId);
    expect(await queueIds()).toEqual(expect.arrayContaining([waiting.conversation!.id, held.conversation!.id, other.conversation!.id]));

    const erased = await call(t.base, anna, 'DELETE', `/customers/${encodeURIComponent('chat:lucia-01')}`);
    expect(erased.status).toBe(200);
    expect(JSON.parse(erased.text)).toMatchObject({ erased: 2, closed: 2 });
    for (const id of [waiting.conversation!.id, held.conversation!.id]) {
      const c = (await t.app.store.conversations.get(id))!;
      expect(c).toMatchObject({ state: 'resolved' });
      expect(c.assignee).toBeUndefined();
      expect(c.customerId).toMatch(/^erased:/);
      expect(await t.app.store.conversations.getCase(c.caseId)).toMatchObject({ status: 'resolved', resolvedBy: 'erased' });
    }
    expect(await queueIds()).toEqual([other.conversation!.id]);
    expect((await t.app.store.conversations.get(other.conversation!.id))?.state).toBe('queued');
    // Marta no longer holds anything of hers.
    expect(await t.app.store.conversations.list({ assignee: t.marta.id })).toEqual([]);
  });

  it('audits operators\' actions: login, opening a conversation, reply, note, resolve, logout; an agent cannot read the trail through the API', async () => {
    const outcome = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', { customer: { platformId: 'piero-1' }, id: 'p1' }));
    const id = outcome.conversation!.id;
    expect((await marta.get(`/conversations/${id}`)).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/claim`, {})).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/reply`, { text: 'Eccomi' })).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/note`, { text: 'cliente gentile' })).status).toBe(200);
    expect((await marta.post(`/conversations/${id}/resolve`, {})).status).toBe(200);
    expect((await marta.post('/logout', {})).status).toBe(200);
    const entries = (await t.app.store.audit.list({ limit: 50, operatorId: t.marta.id })).map((a) => [a.action, a.target ?? null]);
    expect(entries).toEqual([
      ['login', null],
      ['conversation.open', id],
      ['conversation.claim', id],
      ['conversation.reply', id],
      ['conversation.note', id],
      ['conversation.resolve', id],
      ['logout', null],
    ]);
    // Texts are not in the trail.
    expect(JSON.stringify(await t.app.store.audit.list({ limit: 50 }))).not.toMatch(/Eccomi|gentile/);
  });
});
