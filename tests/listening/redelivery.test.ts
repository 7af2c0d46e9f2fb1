/**
 * A post heard twice (a webhook redelivered, a post found by both search and the stream, or heard
 * by another instance on the same store) is recorded and counted once; a care request among them
 * still reaches the pipeline, whose inbox answers it once.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { closeProjectKnowledge, startTestApp, type TestApp } from '../helpers/app.js';

afterAll(closeProjectKnowledge);

describe('listening: the same post heard again', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('is recorded and counted once, and a care request among them is answered once', async () => {
    const praise = t.message('Grazie mille, servizio clienti fantastico! Bravissimi', { id: 'post-praise-1', visibility: 'public', threadId: 'post-praise-1', customer: { platformId: 'fan-1', handle: 'fan1' } });
    const first = await t.app.listening.hear(praise);
    expect(first?.class).toBe('praise');
    expect(await t.app.listening.hear(praise)).toBeUndefined();
    expect((await t.app.store.heard.list({ limit: 10 })).filter((h) => h.platformId === 'post-praise-1')).toHaveLength(1);

    const care = t.message('il mio ordine non è ancora arrivato, potete aiutarmi?', { id: 'post-care-1', visibility: 'public', threadId: 'post-care-1', customer: { platformId: 'cust-1', handle: 'cust1' } });
    expect((await t.app.listening.hear(care))?.class).toBe('care');
    expect(await t.app.listening.hear(care)).toBeUndefined();
    expect((await t.app.store.heard.list({ limit: 10 })).filter((h) => h.platformId === 'post-care-1')).toHaveLength(1);
    // The pipeline got the post both times, and its inbox took it once: one public thread, one customer message.
    const conversations = await t.app.store.conversations.list({});
    const mine = conversations.filter((c) => c.threadId === 'post-care-1');
    expect(mine).toHaveLength(1);
    const inbound = (await t.app.store.conversations.listMessages({ conversationId: mine[0]!.id })).filter((m) => m.direction === 'in');
    expect(inbound).toHaveLength(1);
  });
});
