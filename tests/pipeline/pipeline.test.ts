import { startTestApp, type TestApp } from '../helpers/app.js';
import type { Operator } from '../../src/core/types.js';
import { privateKey } from '../../src/pipeline/turn-plan.js';

const operator: Operator = { id: 'op-1', name: 'Marta Rossi', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };

const privateKeyOf = (platformId: string) => privateKey({ channel: 'chat', customer: { platformId } });

describe('handleMessage through the real pipeline', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    await t.app.store.directory.addOperator(operator);
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers a FAQ question in the customer language and records both messages', async () => {
    const outcome = await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await t.app.sender.drain();
    expect(outcome.action).toBe('answer');
    expect(outcome.faqId).toBe('orari-apertura');
    expect(outcome.language).toBe('it');
    expect(t.channel.sent).toHaveLength(1);
    expect(t.channel.sent[0]!.reply.text).toMatch(/lunedì|sabato/i);
    const history = await t.app.store.conversations.listMessages({ conversationId: outcome.conversation!.id });
    expect(history.map((m) => m.direction)).toEqual(['in', 'out']);
    const english = await t.app.pipeline.receive(t.message('what are your opening hours?', { customer: { platformId: 'cust-2' } }));
    expect(english.faqId).toBe('opening-hours');
  });

  it('writes an accepted message and its turn to disk together, acknowledging only once both are there', async () => {
    const store = t.app.store as typeof t.app.store & { fileWrites(): number };
    await t.app.sender.drain();
    const before = store.fileWrites();
    const msg = t.message('come posso pagare?');
    const { duplicate, done } = await t.app.pipeline.accept(msg);
    expect(duplicate).toBe(false);
    // Acknowledged: the message is on disk, and the turn (decided meanwhile) went in the same write.
    expect(store.fileWrites() - before).toBe(1);
    expect(await t.app.store.inbox.pending(10)).toEqual([]);
    const outcome = await done;
    expect(outcome.action).toBe('answer');
    expect(store.fileWrites() - before).toBe(1);
    // A second delivery of the same message is told at once, from memory.
    expect((await t.app.pipeline.accept(msg)).duplicate).toBe(true);
  });

  it('ignores a delivery of a message written over 7 days ago (a replay once its id is forgotten), and takes one of 6 days', async () => {
    const day = 24 * 60 * 60_000;
    const old = t.message('quali sono i vostri orari?', { id: 'm-replayed', sentAt: new Date(t.clock.now().getTime() - 8 * day).toISOString(), customer: { platformId: 'cust-old' } });
    const { duplicate, done } = await t.app.pipeline.accept(old);
    expect(duplicate).toBe(true);
    expect((await done).action).toBe('stale');
    await t.app.sender.drain();
    expect(t.channel.sent).toHaveLength(0);
    expect(await t.app.store.conversations.findByKey(privateKeyOf('cust-old'))).toBeUndefined();
    const late = t.message('quali sono i vostri orari?', { id: 'm-late', sentAt: new Date(t.clock.now().getTime() - 6 * day).toISOString(), customer: { platformId: 'cust-late' } });
    expect((await (await t.app.pipeline.accept(late)).done).action).toBe('answer');
    expect(await t.app.store.conversations.findByKey(privateKeyOf('cust-late'))).toBeDefined();
  });

  it('processes a message delivered twice only once', async () => {
    const msg = t.message('come faccio un reso?');
    const [a, b] = await Promise.all([t.app.pipeline.receive(msg), t.app.pipeline.receive(msg)]);
    await t.app.sender.drain();
    expect([a.action, b.action].sort()).toEqual(['answer', 'duplicate']);
    expect(t.channel.sent).toHaveLength(1);
  });

  it('handles two quick messages of one customer one after the other, in order', async () => {
    const first = t.message('ciao');
    const second = t.message('come posso pagare?');
    await Promise.all([t.app.pipeline.receive(first), t.app.pipeline.receive(second)]);
    await t.app.sender.drain();
    expect(t.channel.sent.map((s) => s.seq)).toEqual([1, 2]);
    const conv = await t.app.store.conversations.findByKey('chat:private:cust-1');
    const messages = await t.app.store.conversations.listMessages({ conversationId: conv!.id });
    expect(messages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['ciao', 'come posso pagare?']);
  });

  it('stays silent while an operator holds the conversation and speaks again after it is resolved', async () => {
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    expect(escalated).toMatchObject({ action: 'escalate', reason: 'human_request' });
    await t.app.desk.claim(escalated.conversation!.id, operator);
    await t.app.sender.drain();
    const before = t.channel.sent.length;
    const held = await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await t.app.sender.drain();
    expect(held.action).toBe('silent');
    expect(t.channel.sent.length).toBe(before);
    await t.app.desk.reply(escalated.conversation!.id, operator, 'Ciao, sono Marta: apriamo alle 9.');
    await t.app.desk.resolve(escalated.conversation!.id, operator);
    await t.app.sender.drain();
    expect(t.channel.sent.at(-1)!.author).toMatchObject({ kind: 'operator', initials: 'MR' });
    const after = await t.app.pipeline.receive(t.message('come faccio un reso?'));
    expect(after).toMatchObject({ action: 'answer', faqId: 'resi' });
    expect(after.conversation!.state).toBe('bot');
  });

  it('never repeats private data posted in public, and flags the post', async () => {
    const outcome = await t.app.pipeline.receive(
      t.message('rimborsatemi! IBAN IT60X0542811101000000123456 mail luca.t@example.it', { visibility: 'public', threadId: 'th-1' }),
    );
    await t.app.sender.drain();
    expect(outcome.action).toBe('privacy_warning');
    for (const item of t.channel.sent) {
      expect(item.reply.text).not.toContain('IT60X0542811101000000123456');
      expect(item.reply.text).not.toContain('luca.t@example.it');
    }
    expect(outcome.conversation!.flags).toContain('private_data_public');
  });

  it('asks for the details in the DM once: private data posted in public again only gets the public warning, and the DM answer joins the case open now', async () => {
    const publicly = { visibility: 'public' as const, threadId: 'th-2', customer: { platformId: 'cust-9' } };
    const first = await t.app.pipeline.receive(t.message('ordine n. 4481122 ancora non arrivato, mi scrivete?', publicly));
    await t.app.sender.drain();
    expect(first.action).toBe('privacy_warning');
    const dmKey = privateKeyOf('cust-9');
    const dm = await t.app.store.conversations.findByKey(dmKey);
    expect(dm?.dataRequest).toBeDefined();
    const privateBefore = t.channel.sent.filter((s) => s.visibility === 'private').length;
    expect(privateBefore).toBe(1);
    // An operator closes the public case; the customer posts their email in public a few minutes later.
    await t.app.desk.claim(first.conversation!.id, operator);
    await t.app.desk.resolve(first.conversation!.id, operator);
    t.clock.advance(5 * 60_000);
    const again = await t.app.pipeline.receive(t.message('la mia mail è gia.p@gmail.com contattatemi', publicly));
    await t.app.sender.drain();
    expect(again.action).toBe('privacy_warning');
    expect(again.conversation!.caseId).not.toBe(first.conversation!.caseId);
    // The DM already asks for the details and the customer has not written there: it is not said again,
    // but it joins the case open now (the desk sees both sides), still asking for the same.
    expect(t.channel.sent.filter((s) => s.visibility === 'private')).toHaveLength(privateBefore);
    const linked = await t.app.store.conversations.findByKey(dmKey);
    expect(linked).toMatchObject({ caseId: again.conversation!.caseId, state: 'bot', dataRequest: dm!.dataRequest });
    expect((await t.app.store.conversations.getCase(again.conversation!.caseId))?.conversationIds).toContain(dm!.id);
    // The customer answers in the DM: the answer goes to the case open now, with the public post, for a person.
    const answer = await t.app.pipeline.receive(t.message('BR-4481122', { customer: { platformId: 'cust-9' } }));
    expect(answer).toMatchObject({ action: 'escalate', reason: 'private_case' });
    expect(answer.conversation!.caseId).toBe(again.conversation!.caseId);
    const kase = await t.app.store.conversations.getCase(again.conversation!.caseId);
    expect(kase?.conversationIds).toEqual(expect.arrayContaining([again.conversation!.id, answer.conversation!.id]));
  });

  it('lets exactly one of two operators claim a conversation', async () => {
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con una persona'));
    const other: Operator = { ...operator, id: 'op-2', name: 'Luca', initials: 'LB' };
    await t.app.store.directory.addOperator(other);
    const results = await Promise.allSettled([t.app.desk.claim(escalated.conversation!.id, operator), t.app.desk.claim(escalated.conversation!.id, other)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(rejected.reason)).toMatch(/already claimed by (Marta Rossi|Luca)/);
  });

  it('does not let an agent reply on a conversation another agent holds', async () => {
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con una persona'));
    const other: Operator = { ...operator, id: 'op-2', name: 'Luca', initials: 'LB' };
    await t.app.store.directory.addOperator(other);
    await t.app.desk.claim(escalated.conversation!.id, operator);
    await expect(t.app.desk.reply(escalated.conversation!.id, other, 'ciao')).rejects.toThrow(/held by Marta Rossi/);
    await expect(t.app.desk.resolve(escalated.conversation!.id, other)).rejects.toThrow(/held by Marta Rossi/);
    const admin: Operator = { ...other, id: 'op-3', name: 'Admin', role: 'admin' };
    await t.app.store.directory.addOperator(admin);
    await expect(t.app.desk.claim(escalated.conversation!.id, admin, { takeover: true })).resolves.toMatchObject({ assignee: 'op-3' });
  });
});
