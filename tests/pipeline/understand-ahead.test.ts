/**
 * The pipeline understands a message while the store reads its conversation (the understanding
 * runs on a worker): the answer must be the one it would give understanding afterwards, with the
 * conversation's language known.
 */
import { join } from 'node:path';
import { ROOT, startTestApp, type TestApp } from '../helpers/app.js';

describe('understanding ahead of the context read', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Its own knowledge (not the shared in-thread one), with an understanding worker.
    t = await startTestApp({ INTENTS_DIR: join(ROOT, 'intents'), UNDERSTANDING_THREADS: '1' });
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('understands with an understander that works off the thread', () => {
    expect(t.app.knowledge.current().understander.understandAsync).toBeInstanceOf(Function);
  });

  it('keeps an English conversation in English for a message that does not settle its language', async () => {
    const customer = { platformId: 'cust-en' };
    const first = await t.app.pipeline.receive(t.message('what are your opening hours?', { customer }));
    expect(first.language).toBe('en');
    // "ok" alone would be Italian (the default): understood ahead without the conversation, it is
    // understood again in the conversation's language.
    const next = await t.app.pipeline.receive(t.message('ok', { customer }));
    expect(next.language).toBe('en');
    const fresh = await t.app.pipeline.receive(t.message('ok', { customer: { platformId: 'cust-new' } }));
    expect(fresh.language).toBe('it');
  });

  it('lets a message that settles its language switch the conversation', async () => {
    const customer = { platformId: 'cust-switch' };
    expect((await t.app.pipeline.receive(t.message('what are your opening hours?', { customer }))).language).toBe('en');
    const italian = await t.app.pipeline.receive(t.message('quali sono i vostri orari di apertura?', { customer }));
    expect(italian.language).toBe('it');
    expect(italian.faqId).toBe('orari-apertura');
  });
});
