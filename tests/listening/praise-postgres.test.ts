/**
 * Praise on one PostgreSQL database shared by two instances: two operators thanking the same post
 * from different instances at once send one thank-you (the writer's revision and key checks across
 * instances, not only the in-process lock); an advocate mark on an author who never wrote to the
 * brand records them as a customer, so the export shows the mark and the erasure removes it.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import type { HeardRecord, Operator } from '../../src/core/types.js';
import { createLocalEventBus } from '../../src/core/events.js';
import { createEventRecorder } from '../../src/events/recorder.js';
import { NO_SUBSCRIPTIONS } from '../../src/events/subscriptions.js';
import { eraseCustomer, exportCustomer } from '../../src/handoff/customer-rights.js';
import { createConversationWriter } from '../../src/pipeline/conversation-writer.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../e2e/harness.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { thankYouTexts } from '../helpers/praise-app.js';

jest.setTimeout(120_000);

const marta: Operator = { id: 'op-marta', name: 'Marta', initials: 'MR', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00.000Z' };
const luca: Operator = { id: 'op-luca', name: 'Luca', initials: 'LB', role: 'agent', passwordHash: 'x', createdAt: '2026-01-01T00:00:00.000Z' };

function praise(platformId: string, author: HeardRecord['author'], language: HeardRecord['language'] = 'en'): HeardRecord {
  return {
    id: `chat:${platformId}`,
    channel: 'chat',
    platformId,
    at: '2026-11-24T08:30:00.000Z',
    kind: 'mention',
    author,
    text: language === 'en' ? 'Love the new scarves, great quality!' : 'Adoro le sciarpe nuove, qualità fantastica!',
    language,
    sentiment: 0.8,
    class: 'praise',
    topic: 'scarves',
  };
}

const run = (await postgresAvailable()) ? describe : describe.skip;

run('praise on a PostgreSQL database shared by two instances', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('sportello_praise');
    a = await startTestApp({ DATABASE_URL: db.url });
    b = await startTestApp({ DATABASE_URL: db.url });
    for (const op of [marta, luca]) await a.app.store.directory.addOperator(op);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('two instances thanking one post at once send one thank-you, in the post’s language, signed', async () => {
    for (let i = 0; i < 5; i++) {
      const post = praise(`p${i}`, { id: `fan${i}`, handle: `fan${i}`, followers: 1000 + i });
      await a.app.store.heard.add([post]);
      const [one, two] = await Promise.all([a.app.praise.thank(post.id, marta), b.app.praise.thank(post.id, luca)]);
      expect([one.already, two.already].sort()).toEqual([false, true]);
      expect(one.thanked.outboxId).toBe(two.thanked.outboxId);
      await a.app.sender.drain();
      await b.app.sender.drain();
      const sent = [...a.channel.sent, ...b.channel.sent].filter((s) => s.inReplyTo === post.platformId);
      expect(sent).toHaveLength(1);
      expect([...thankYouTexts('en', `fan${i}`, 'MR'), ...thankYouTexts('en', `fan${i}`, 'LB')]).toContain(sent[0]!.reply.text);
      expect(await a.app.store.outbox.list({ conversationId: one.conversationId })).toHaveLength(1);
    }
    const listed = await b.app.praise.list({ limit: 10, class: 'praise' });
    expect(listed.items.map((i) => i.thanked?.status)).toEqual(['sent', 'sent', 'sent', 'sent', 'sent']);
  });

  it('an advocate mark is covered by the export and the erasure', async () => {
    const post = praise('adv1', { id: 'anna77', handle: 'annarossi', followers: 52_000 }, 'it');
    await a.app.store.heard.add([post]);
    expect(await a.app.store.directory.getCustomer('chat:anna77')).toBeUndefined();
    expect(await b.app.praise.setAdvocate(post.id, true)).toEqual({ customerId: 'chat:anna77', advocate: true });
    expect((await a.app.praise.list({ limit: 10, class: 'praise' })).items.find((i) => i.id === post.id)?.advocate).toBe(true);
    const doc = await exportCustomer(a.app.store, 'chat:anna77', a.clock);
    expect(doc?.records[0]).toMatchObject({ customer: { handle: 'annarossi', followers: 52_000 }, file: { tags: ['advocate'] } });
    expect(doc?.records[0]!.heard.map((h) => h.id)).toEqual([post.id]);
    const writer = createConversationWriter({ store: a.app.store, bus: createLocalEventBus(), logger: createSilentLogger(), recorder: createEventRecorder({ subscriptions: NO_SUBSCRIPTIONS, clock: a.clock }) });
    await eraseCustomer(a.app.store, 'chat:anna77', a.clock, writer);
    expect(await b.app.store.customerFiles.withTag('advocate')).toEqual([]);
    const after = (await b.app.praise.list({ limit: 10, class: 'praise' })).items.find((i) => i.id === post.id);
    expect(after).toMatchObject({ advocate: false, text: '' });
  });
});
