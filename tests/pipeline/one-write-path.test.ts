/**
 * One guarded way to change a conversation: every operator action is planned on what it read and
 * committed with a revision check, like a customer's turn. Here a customer's turn, handled by a
 * second instance on the same PostgreSQL database, is committed between an operator action's read
 * and its write, for each action in turn: nothing of either is lost, and the action is planned
 * again on the new state. And each actor's own path is driven into a move the state table forbids.
 */
import { ConflictError, IllegalTransitionError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/ports.js';
import type { Operator } from '../../src/core/types.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../e2e/harness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const agent: Operator = { id: 'op-1', name: 'Marta Rossi', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
const colleague: Operator = { id: 'op-2', name: 'Luca Bianchi', initials: 'LB', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };
const admin: Operator = { id: 'op-3', name: 'Anna Admin', initials: 'AA', role: 'admin', passwordHash: 'x', createdAt: '2026-01-01T00:00:00Z' };

/** Runs `between` once, right before the first commit `store` makes after this call. */
function beforeNextCommit(store: Store, between: () => Promise<unknown>): { commits(): number } {
  let commits = 0;
  const conversations = store.conversations;
  const commit = conversations.commit.bind(conversations);
  conversations.commit = async (turn, options) => {
    commits += 1;
    if (commits === 1) await between();
    return commit(turn, options);
  };
  return { commits: () => commits };
}

const run = (await postgresAvailable()) ? describe : describe.skip;

run('operator actions racing a customer turn from another instance (PostgreSQL)', () => {
  let db: TestDatabase;
  let desk: TestApp;
  let turns: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('sportello_race');
    desk = await startTestApp({ DATABASE_URL: db.url });
    turns = await startTestApp({ DATABASE_URL: db.url });
    for (const op of [agent, colleague, admin]) await desk.app.store.directory.addOperator(op);
  });
  afterAll(async () => {
    await desk?.close();
    await turns?.close();
    await db?.drop();
  });

  let customer = 0;
  /** A customer whose conversation waits in the queue (and, with `claimed`, is held by the agent). */
  async function queuedConversation(claimed: boolean, visibility: 'private' | 'public' = 'private') {
    customer += 1;
    const platformId = `race-${customer}`;
    const thread = visibility === 'public' ? { visibility, threadId: `th-${customer}` } : {};
    const escalated = await turns.app.pipeline.receive(turns.message('voglio parlare con un operatore', { customer: { platformId }, ...thread }));
    expect(escalated.conversation!.state).toBe('queued');
    const id = escalated.conversation!.id;
    if (claimed) await desk.app.desk.claim(id, agent);
    const write = (text: string) => turns.message(text, { customer: { platformId }, ...thread });
    return { id, write };
  }

  /** The race: the other instance commits `text` from the customer while `action` is between its read and its write. */
  async function race<T>(id: string, text: string, write: (t: string) => ReturnType<TestApp['message']>, action: () => Promise<T>) {
    const msg = write(text);
    const counter = beforeNextCommit(desk.app.store, () => turns.app.pipeline.receive(msg));
    const result = await action();
    // The first commit was refused (the customer's turn came first): the action was planned again.
    expect(counter.commits()).toBe(2);
    const stored = (await desk.app.store.conversations.get(id))!;
    expect(stored.lastInboundId).toBe(msg.id);
    const inbound = (await desk.app.store.conversations.listMessages({ conversationId: id })).filter((m) => m.direction === 'in').map((m) => m.text);
    expect(inbound).toEqual(['voglio parlare con un operatore', text]);
    return { result, stored };
  }

  it('claim', async () => {
    const { id, write } = await queuedConversation(false);
    const { result, stored } = await race(id, 'ci siete?', write, () => desk.app.desk.claim(id, agent));
    expect(result.state).toBe('assigned');
    expect(stored).toMatchObject({ state: 'assigned', assignee: agent.id });
  });

  it('reply', async () => {
    const { id, write } = await queuedConversation(true);
    const { stored } = await race(id, 'sto ancora aspettando', write, () => desk.app.desk.reply(id, agent, 'Eccomi, controllo subito'));
    expect(stored.queue?.firstResponseAt).toBeDefined();
    const history = await desk.app.store.conversations.listMessages({ conversationId: id });
    expect(history.filter((m) => m.direction === 'out' && m.author.kind === 'operator').map((m) => m.text)).toEqual(['Eccomi, controllo subito']);
    const outbox = await desk.app.store.outbox.list({ conversationId: id });
    expect(outbox.filter((o) => o.author.kind === 'operator')).toHaveLength(1);
  });

  it('note', async () => {
    const { id, write } = await queuedConversation(true);
    await race(id, 'avete novità?', write, () => desk.app.desk.note(id, agent, 'cliente impaziente'));
    const notes = (await desk.app.store.conversations.listMessages({ conversationId: id })).filter((m) => m.direction === 'note');
    expect(notes.map((m) => m.text)).toEqual(['cliente impaziente']);
  });

  it('ask to move private', async () => {
    const { id, write } = await queuedConversation(true, 'public');
    await race(id, 'rispondete?', write, () => desk.app.desk.askPrivate(id, agent));
    const prompts = (await desk.app.store.outbox.list({ conversationId: id })).filter((o) => o.reply.kind === 'dm_prompt');
    expect(prompts).toHaveLength(1);
  });

  it('transfer', async () => {
    const { id, write } = await queuedConversation(true);
    const { stored } = await race(id, 'chi mi risponde?', write, () => desk.app.desk.transfer(id, agent, colleague.id));
    expect(stored).toMatchObject({ state: 'assigned', assignee: colleague.id });
  });

  it('resolve', async () => {
    const { id, write } = await queuedConversation(true);
    const { stored } = await race(id, 'grazie mille', write, () => desk.app.desk.resolve(id, agent));
    expect(stored.state).toBe('resolved');
    const kase = await desk.app.store.conversations.getCase(stored.caseId);
    expect(kase).toMatchObject({ status: 'resolved', resolvedBy: agent.id });
  });

  it('return to bot', async () => {
    const { id, write } = await queuedConversation(true);
    const { stored } = await race(id, 'pronto?', write, () => desk.app.desk.returnToBot(id, agent));
    expect(stored).toMatchObject({ state: 'bot' });
    expect(stored.assignee).toBeUndefined();
  });

  it('a claim planned again sees what the customer turn did: a colleague who claimed meanwhile wins', async () => {
    const { id } = await queuedConversation(false);
    const counter = beforeNextCommit(desk.app.store, () => turns.app.desk.claim(id, colleague));
    await expect(desk.app.desk.claim(id, agent)).rejects.toThrow(/already claimed by Luca Bianchi/);
    expect(counter.commits()).toBe(1);
    expect(await desk.app.store.conversations.get(id)).toMatchObject({ state: 'assigned', assignee: colleague.id });
  });
});

describe('every actor\'s own path refuses a move the state table forbids', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    for (const op of [agent, admin]) await t.app.store.directory.addOperator(op);
  });
  afterEach(async () => {
    await t.close();
  });

  async function resolvedConversation(): Promise<string> {
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    const id = escalated.conversation!.id;
    await t.app.desk.claim(id, agent);
    await t.app.desk.resolve(id, agent);
    return id;
  }

  it('desk: a resolved conversation cannot be claimed, not even by an admin taking over', async () => {
    const id = await resolvedConversation();
    await expect(t.app.desk.claim(id, agent)).rejects.toThrow(ConflictError);
    await expect(t.app.desk.claim(id, admin, { takeover: true })).rejects.toThrow(/resolved/);
    expect(await t.app.store.conversations.get(id)).toMatchObject({ state: 'resolved' });
  });

  it('desk: an admin cannot transfer a resolved conversation to an operator (resolved → assigned)', async () => {
    const id = await resolvedConversation();
    await expect(t.app.desk.transfer(id, admin, agent.id)).rejects.toThrow(IllegalTransitionError);
    const stored = (await t.app.store.conversations.get(id))!;
    expect(stored.state).toBe('resolved');
    expect(stored.assignee).toBeUndefined();
  });

  it('desk: an operator may take a conversation straight from the bot (bot → assigned is in the table)', async () => {
    const answered = await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    expect(answered.conversation!.state).toBe('bot');
    await expect(t.app.desk.claim(answered.conversation!.id, agent)).resolves.toMatchObject({ state: 'assigned', assignee: agent.id });
  });

  it('pipeline: the customer writing again reopens a resolved conversation in one move of the table (resolved → queued)', async () => {
    const id = await resolvedConversation();
    const again = await t.app.pipeline.receive(t.message('voglio parlare con un operatore'));
    expect(again.conversation!.id).toBe(id);
    expect(again.conversation!.state).toBe('queued');
  });
});

describe('private data in public while a person is coming', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    await t.app.store.directory.addOperator(agent);
  });
  afterEach(async () => {
    await t.close();
  });

  it('is flagged and warned about without the move the table forbids (queued → awaiting_private), and flagged while an operator holds it', async () => {
    const thread = { visibility: 'public' as const, threadId: 'th-q' };
    const escalated = await t.app.pipeline.receive(t.message('voglio parlare con un operatore', thread));
    const id = escalated.conversation!.id;
    const warned = await t.app.pipeline.receive(t.message('scrivetemi a luca.t@example.it', thread));
    expect(warned.action).toBe('privacy_warning');
    expect(warned.conversation!.state).toBe('queued');
    await t.app.desk.claim(id, agent);
    const held = await t.app.pipeline.receive(t.message('o chiamate il 347 765 4321', thread));
    expect(held.action).toBe('silent');
    const inbound = (await t.app.store.conversations.listMessages({ conversationId: id })).filter((m) => m.direction === 'in');
    expect(inbound.map((m) => (m.flags ?? []).includes('private_data'))).toEqual([false, true, true]);
    await t.app.sender.drain();
    for (const item of t.channel.sent) expect(item.reply.text).not.toMatch(/luca\.t@example\.it|765 4321/);
  });
});
