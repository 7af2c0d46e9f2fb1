/**
 * `/metrics` (Prometheus text format) of a real instance: where messages were understood.
 */
import { join } from 'node:path';
import { ROOT, startTestApp, type TestApp } from '../helpers/app.js';

describe('/metrics', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it('counts the messages understood, by thread, next to the process metrics', async () => {
    // Its own knowledge (FAQ_DIR given): trained through the understanding pool, as in production.
    t = await startTestApp({ FAQ_DIR: join(ROOT, 'faq'), INTENTS_DIR: join(ROOT, 'intents') });
    const url = await t.app.listen(0, '127.0.0.1');
    await t.app.pipeline.receive(t.message('quali sono i vostri orari?'));
    await t.app.pipeline.receive(t.message('come posso pagare?'));
    const text = await (await fetch(`${url}/metrics`)).text();
    // Each message is counted once, by the thread that understood it (which one depends on how
    // busy the main thread was: just after training, it may still count as busy).
    const count = (thread: string) => Number(new RegExp(`^sportello_understood_total\\{thread="${thread}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(count('worker') + count('main')).toBe(2);
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });
});
