/**
 * `/metrics` (Prometheus text format) of a real instance: where messages were understood.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startTestApp, type TestApp } from '../helpers/app.js';
import { createFakeBotConnector, userMessage, type FakeBotConnector } from '../fakes/bot-connector/fake-bot-connector.js';

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

describe('/metrics of turns, sends, escalations and the queue', () => {
  let t: TestApp;
  let connector: FakeBotConnector;
  afterEach(async () => {
    await t?.close();
    await connector?.close();
  });

  /** The value of one series (0 when absent), from the Prometheus text. */
  const series = (text: string, name: string, labels: Record<string, string> = {}): number => {
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
    }
    return 0;
  };

  it('counts a web chat turn, a Bot Framework turn, a failed and a retried send, and an escalation; reads the queue and its SLA from the store', async () => {
    connector = await createFakeBotConnector();
    t = await startTestApp({ BOTFRAMEWORK_LOCAL_ONLY: 'true', SLA_MINUTES: '15' });
    const url = await t.app.listen(0, '127.0.0.1');
    const scrape = async () => (await fetch(`${url}/metrics`)).text();
    const settle = async () => {
      await t.app.pipeline.idle();
      await t.app.sender.drain();
    };
    const before = await scrape();
    expect(before).toMatch(/^sportello_surveys_total\{channel="webchat",event="sent"\} 0$/m);
    expect(before).toMatch(/^sportello_surveys_total\{channel="botframework",event="answered"\} 0$/m);
    expect(series(before, 'sportello_queue_depth', { priority: '1' })).toBe(0);

    // A web chat visitor asks for a person: a turn and an escalation.
    const session = (await (await fetch(`${url}/chat/api/sessions`, { method: 'POST' })).json()) as { session: string };
    const posted = await fetch(`${url}/chat/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session: session.session, text: 'voglio parlare con un operatore' }),
    });
    expect(posted.status).toBeLessThan(300);
    await settle();

    // A Bot Framework user asks twice: the Connector refuses the first reply for good (400), and
    // answers the second with a 503 once (retried), then takes it.
    const activity = (text: string) =>
      fetch(`${url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(userMessage({ serviceUrl: connector.serviceUrl, text, conversationId: 'conv-m', userId: 'user-m' })) });
    connector.failNext({ status: 400, code: 'BadArgument', message: 'refused' });
    expect((await activity('quali sono i vostri orari?')).status).toBe(200);
    await settle();
    connector.failNext({ status: 503, code: 'ServiceUnavailable', message: 'try later' });
    expect((await activity('come posso pagare?')).status).toBe(200);
    await t.app.pipeline.idle();
    await t.app.sender.drain();
    t.clock.advance(90_000);
    await t.app.sender.drain();

    const after = await scrape();
    expect(series(after, 'sportello_turns_total', { channel: 'webchat', action: 'escalate' })).toBe(1);
    expect(series(after, 'sportello_turns_total', { channel: 'botframework', action: 'answer' })).toBe(2);
    expect(series(after, 'sportello_escalations_total', { channel: 'webchat', reason: 'human_request' })).toBe(1);
    expect(series(after, 'sportello_replies_total', { channel: 'botframework', outcome: 'failed' })).toBe(1);
    expect(series(after, 'sportello_replies_total', { channel: 'botframework', outcome: 'retried' })).toBe(1);
    expect(series(after, 'sportello_replies_total', { channel: 'botframework', outcome: 'sent' })).toBe(1);
    expect(series(after, 'sportello_replies_total', { channel: 'webchat', outcome: 'sent' })).toBe(1);
    expect(series(after, 'sportello_send_seconds_count', { channel: 'botframework', outcome: 'sent' })).toBe(1);
    // The retried reply went out 90 s (of the fake clock) after it was written.
    expect(series(after, 'sportello_reply_delay_seconds_bucket', { channel: 'botframework', le: '60' })).toBe(0);
    expect(series(after, 'sportello_reply_delay_seconds_bucket', { channel: 'botframework', le: '300' })).toBe(1);
    // The web chat visitor waits in the queue (priority 2: a plain request for a person).
    expect(series(after, 'sportello_queue_depth', { priority: '2' })).toBe(1);
    expect(series(after, 'sportello_sla_breached', { priority: '2' })).toBe(0);
    t.clock.advance(3_600_000);
    const late = await scrape();
    expect(series(late, 'sportello_queue_depth', { priority: '2' })).toBe(1);
    expect(series(late, 'sportello_sla_breached', { priority: '2' })).toBe(1);

    // The Grafana dashboard in docs/ queries only series this instance exposes.
    const dashboard = readFileSync(join(ROOT, 'docs', 'grafana-dashboard.json'), 'utf8');
    const used = new Set([...dashboard.matchAll(/sportello_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
    const exposed = new Set([...late.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    expect([...used].filter((n) => !exposed.has(n))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(8);
  });
});

describe('who may read /metrics', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it('without METRICS_TOKEN: a client inside the network, not one a proxy forwarded unless TRUST_PROXY names it', async () => {
    t = await startTestApp();
    const url = await t.app.listen(0, '127.0.0.1');
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    // Through a proxy on this machine (loopback) for a client elsewhere: who it is cannot be known.
    const forwarded = await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(forwarded.status).toBe(403);
    expect(((await forwarded.json()) as { error: string }).error).toMatch(/METRICS_TOKEN/);
  });

  it('behind a trusted proxy: the forwarded client decides', async () => {
    t = await startTestApp({ TRUST_PROXY: 'loopback' });
    const url = await t.app.listen(0, '127.0.0.1');
    expect((await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(403);
    expect((await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '10.1.2.3' } })).status).toBe(200);
  });

  it('with METRICS_TOKEN: the bearer token, from anywhere', async () => {
    t = await startTestApp({ METRICS_TOKEN: 'scrape-secret-0123456789' });
    const url = await t.app.listen(0, '127.0.0.1');
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-secret-012345678X' } })).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-secret-0123456789', 'x-forwarded-for': '203.0.113.9' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^sportello_turns_total|^# HELP/m);
  });
});
