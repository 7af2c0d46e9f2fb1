/**
 * Store.commitTurnAndClaim (PostgreSQL): a turn's replies are claimed in its own commit and sent
 * at once, with no claim of the sender's own; what the commit could not claim (a reply waiting
 * behind another of its conversation) the sender claims when the one before it is sent.
 * Runs the real pipeline and sender on a real PostgreSQL database.
 */
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../e2e/harness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** Every SQL text the pg clients of this process send while `fn` runs. */
async function recordSql(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [first] = args;
    seen.push(typeof first === 'string' ? first : (first as { text: string }).text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return seen;
}

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const isClaim = (sql: string) => /WITH due AS/.test(sql);

describe('claiming replies in the commit (shared store)', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('sportello_claimcommit');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    // No polling: every claim the sender makes below is one it was asked for.
    t = await startTestApp({ DATABASE_URL: db.url }, undefined, undefined, { outboxPollMs: 3_600_000 });
  });
  afterEach(async () => {
    await t.close();
  });

  it('sends a turn\'s reply without a claim of the sender\'s own', async () => {
    const msg = t.message('come posso pagare?', { customer: { platformId: 'lease-1' } });
    const sql = await recordSql(async () => {
      const { done } = await t.app.pipeline.accept(msg);
      await done;
      await until(() => t.channel.sent.length === 1, 'the reply');
    });
    expect(sql.filter(isClaim)).toEqual([]);
    const item = (await t.app.store.outbox.list({})).find((o) => o.id === t.channel.sent[0]!.id);
    expect(item).toMatchObject({ attempts: 1 });
  });

  it('sends the reply the commit left waiting once the one before it in its conversation is sent', async () => {
    const store = t.app.store;
    // An operator's reply already waiting in the conversation: the turn's reply must go after it.
    const first = await t.app.pipeline.accept(t.message('come posso pagare?', { customer: { platformId: 'lease-2' } }));
    const conversation = (await first.done).conversation!;
    await until(() => t.channel.sent.length === 1, 'the first reply');
    await store.conversations.commit({
      expect: { conversations: {}, cases: {} },
      conversations: [],
      messages: [],
      outbox: [{ id: 'op-1', conversationId: conversation.id, channel: 'chat', visibility: 'private', recipient: 'lease-2', reply: { kind: 'text', text: 'Un momento.' }, author: { kind: 'operator', operatorId: 'op', name: 'Op', initials: 'OP' }, status: 'pending', attempts: 0, notBefore: 0, createdAt: new Date().toISOString() }],
      events: [],
    });
    const second = await t.app.pipeline.accept(t.message('e per i resi?', { customer: { platformId: 'lease-2' } }));
    await second.done;
    // Not claimed in the commit (op-1 is unsent before it): the turn asks the sender to claim,
    // which takes op-1; op-1's completion says the conversation has more, so the sender claims
    // again. No poll runs here and nobody drains the sender.
    await until(() => t.channel.sent.length === 3, 'both replies');
    expect(t.channel.sent[1]!.id).toBe('op-1');
    expect(t.channel.sent[2]!.conversationId).toBe(conversation.id);
  });
});
