/**
 * The shared store's inbox (PostgreSQL) leaves a new message for its turn's own transaction to
 * record, and the pipeline's one accept path acknowledges it once that turn is committed; a turn
 * that fails still leaves the message kept (inserted on its own). Runs the real pipeline on a real
 * PostgreSQL database.
 */
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../e2e/harness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('accepting a message in its turn (shared store)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase('sportello_turnaccept');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    t = await startTestApp({ DATABASE_URL: db.url });
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await t.close();
  });

  const inbound = async (id: string) =>
    (await client.query<{ processed: boolean; kept: boolean }>('SELECT processed_at IS NOT NULL AS processed, message IS NOT NULL AS kept FROM inbound WHERE id = $1', [id])).rows[0];

  it('is acknowledged once its turn is committed, with no separate write of the message', async () => {
    const msg = t.message('come posso pagare?', { customer: { platformId: 'turn-1' } });
    const { duplicate, done } = await t.app.pipeline.accept(msg);
    expect(duplicate).toBe(false);
    // Acknowledged: the turn is already in the database, and the message is recorded as processed.
    expect(await inbound(msg.id)).toEqual({ processed: true, kept: false });
    const conversation = (await done).conversation!;
    const history = await t.app.store.conversations.listMessages({ conversationId: conversation.id });
    expect(history.map((m) => m.direction)).toEqual(['in', 'out']);
    expect(await t.app.store.inbox.pending(10)).toEqual([]);
    await t.app.sender.drain();
    expect(t.channel.sent).toHaveLength(1);
  });

  it('tells a second delivery of a processed message apart and answers it once', async () => {
    const msg = t.message('come faccio un reso?', { customer: { platformId: 'turn-2' } });
    const first = await t.app.pipeline.accept(msg);
    const second = await t.app.pipeline.accept(msg);
    expect(first.duplicate).toBe(false);
    // Told apart at once, or by its turn's commit (the message was processed): nothing is answered twice.
    expect((await second.done).action).toBe('duplicate');
    await t.app.sender.drain();
    expect(t.channel.sent).toHaveLength(1);
  });

  it('answers a message carrying NUL, other control characters and half a surrogate pair, kept without them (PostgreSQL refuses NUL and lone surrogates)', async () => {
    const msg = t.message('come posso\u0000 pagare?\u0007\ud800', { customer: { platformId: 'turn-nul', name: 'An\u0000na' } });
    const { done } = await t.app.pipeline.accept(msg);
    const outcome = await done;
    expect(outcome.action).toBe('answer');
    const history = await t.app.store.conversations.listMessages({ conversationId: outcome.conversation!.id });
    expect(history.map((m) => m.text)[0]).toBe('come posso pagare?\ufffd');
    expect((await t.app.store.directory.getCustomer(outcome.conversation!.customerId))?.name).toBe('Anna');
    expect(await inbound(msg.id)).toEqual({ processed: true, kept: false });
    // Anything else written with a NUL (an operator's note) is kept without it, not refused.
    const file = await t.app.store.customerFiles.addNote(outcome.conversation!.customerId, { id: 'note-nul', text: 'vedi\u0000 ordine \udc00', operatorId: 'op-1', at: new Date().toISOString() });
    expect(file.notes.map((n) => n.text)).toEqual(['vedi ordine \ufffd']);
  });

  it('keeps a message whose turn failed, pending, and acknowledges it', async () => {
    // No adapter for this channel: the turn fails before it writes anything.
    const msg = t.message('come posso pagare?', { channel: 'nowhere', customer: { platformId: 'turn-3' } });
    const { duplicate, done } = await t.app.pipeline.accept(msg);
    expect(duplicate).toBe(false);
    await expect(done).rejects.toThrow(/could not handle message/);
    expect(await inbound(msg.id)).toEqual({ processed: false, kept: true });
    expect((await t.app.store.inbox.pending(10)).map((m) => m.id)).toEqual([msg.id]);
  });
});
