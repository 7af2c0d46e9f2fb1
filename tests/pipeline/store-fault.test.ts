/**
 * A store fault while the server runs: a message acknowledged to the platform whose turn could not
 * be committed (here PostgreSQL refuses every new message row) stays pending, and the instance
 * tries it again by itself, so the customer is answered once the fault clears, without a restart.
 */
import pg from 'pg';
import { WebhookBodyError } from '../../src/core/errors.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../e2e/harness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { newSession } from '../channels/webchat/helpers.js';

const run = (await postgresAvailable()) ? describe : describe.skip;

run('a turn that fails on a store fault (PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let admin: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase('sportello_fault');
    t = await startTestApp({ DATABASE_URL: db.url });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
    await db?.drop();
  });

  it('is answered once the store works again, without a restart', async () => {
    // The fault: every message row is refused (as a full disk or a lost primary would refuse it).
    await admin.query(`CREATE FUNCTION refuse_messages() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$`);
    await admin.query('CREATE TRIGGER refuse_messages BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_messages()');

    const msg = t.message('quali sono i vostri orari?', { customer: { platformId: 'fault-1' } });
    const { duplicate, done } = await t.app.pipeline.accept(msg);
    // Acknowledged: the message itself is kept, only its turn failed.
    expect(duplicate).toBe(false);
    await expect(done).rejects.toThrow();
    expect((await t.app.store.inbox.pending(10)).map((m) => m.id)).toContain(msg.id);
    expect(t.channel.sent).toHaveLength(0);

    await admin.query('DROP TRIGGER refuse_messages ON messages');
    // The instance tries again by itself (1 s, then 2 s…): wait on the outcome, not on a clock.
    for (let waited = 0; t.channel.sent.length === 0; waited += 100) {
      if (waited > 60_000) throw new Error('the message was never answered after the fault cleared');
      await new Promise((r) => setTimeout(r, 100));
    }
    const [reply] = t.channel.sent;
    expect(reply!.recipient).toBe('fault-1');
    expect(reply!.reply.text).toMatch(/orari|lunedì|9/i);
    expect(await t.app.store.inbox.pending(10)).toEqual([]);
    const inbound = (await t.app.store.conversations.listMessages({ conversationId: reply!.conversationId })).filter((m) => m.direction === 'in');
    expect(inbound.map((m) => m.text)).toEqual(['quali sono i vostri orari?']);
  }, 120_000);
});

describe('a webhook whose messages cannot be recorded', () => {
  it('answers 503 with Retry-After (deliver again later), not a 4xx the platform could take as "drop it"', async () => {
    let t: TestApp | undefined;
    t = await startTestApp({}, undefined, (channel) => ({
      ...channel,
      // The recording channel's webhook: the body is the customer's text.
      parse: async (req) => [t!.message(req.rawBody.toString('utf8'), { customer: { platformId: 'fault-2' } })],
    }));
    try {
      const base = await t.app.listen(0, '127.0.0.1');
      const ok = await fetch(`${base}/webhooks/chat`, { method: 'POST', body: 'ciao' });
      expect(ok.status).toBe(200);
      // The store stops answering (closed under the server's feet).
      await t.app.store.close();
      const refused = await fetch(`${base}/webhooks/chat`, { method: 'POST', body: 'quali sono i vostri orari?' });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await t.close().catch(() => undefined);
    }
  }, 60_000);
});

describe('a webhook whose channel cannot read what it needs to parse it', () => {
  it('answers 503 when the store cannot be read (as the Messenger PSID links are read), 400 for a body that is not the platform\'s, 500 for a bug: never the inside', async () => {
    let t: TestApp | undefined;
    t = await startTestApp({}, undefined, (channel) => ({
      ...channel,
      parse: async (req) => {
        const text = req.rawBody.toString('utf8');
        if (text === 'not json') throw new WebhookBodyError('chat webhook: the body is not JSON');
        if (text === 'bug') throw new TypeError("Cannot read properties of undefined (reading 'secret')");
        // What a channel remembers of a sender, read before the message can be made.
        await t!.app.store.values.get('chat', 'link:fault-3');
        return [t!.message(text, { customer: { platformId: 'fault-3' } })];
      },
    }));
    try {
      const base = await t.app.listen(0, '127.0.0.1');
      const post = (body: string) => fetch(`${base}/webhooks/chat`, { method: 'POST', body });
      expect((await post('ciao')).status).toBe(200);
      const bad = await post('not json');
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe('chat webhook: the body is not JSON');
      const bug = await post('bug');
      expect(bug.status).toBe(500);
      expect(await bug.json()).toEqual({ error: 'internal error' });
      await t.app.store.close();
      const refused = await post('quali sono i vostri orari?');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toEqual({ error: 'temporarily unavailable, deliver again later' });
    } finally {
      await t.close().catch(() => undefined);
    }
  }, 60_000);
});

describe('a web chat message that cannot be recorded', () => {
  it("answers 503 with Retry-After and nothing of the store's inside (the page keeps the text to send again)", async () => {
    const t = await startTestApp();
    try {
      const base = await t.app.listen(0, '127.0.0.1');
      const { session } = await newSession(base);
      await t.app.store.close();
      const refused = await fetch(`${base}/chat/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session, text: 'ciao' }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await refused.json()) as { error: string };
      expect(body.error).toBe('temporarily unavailable, try again shortly');
    } finally {
      await t.close().catch(() => undefined);
    }
  }, 60_000);
});
