/**
 * Requests anyone can send must not flood the logs (real process: `bin/sportello.js start`, its
 * stdout and stderr read whole). Before, each webhook delivery without a valid signature wrote a
 * warning (some 500 kB a second from one client in a loop), each login refused by the limit
 * another, and each Bot Framework activity with a bad token a 12-line stack trace on stderr
 * (botbuilder's console.error), outside the log format and level — and a token that could not be
 * checked was answered 500 with the token service's error. Now each kind is logged once a minute
 * at most, `/metrics` still counts every refusal, and a real customer's delivery in the middle of
 * the flood is answered.
 */
import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { deliver, graphAndDataDir, pool, repliesTo, signedDelivery, startInstance, waitUntil, type Instance } from './harness.js';

const cleanups = cleanupsAfterEach();

/** Counts the lines the process writes (stdout and stderr), all of them. */
function lineCounter(instance: Instance): { lines(): string[] } {
  let text = '';
  instance.child.stdout!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  instance.child.stderr!.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return { lines: () => text.split('\n').filter(Boolean) };
}

const ACTIVITY = {
  type: 'message',
  id: 'act-1',
  channelId: 'webchat',
  serviceUrl: 'http://127.0.0.1:9/',
  from: { id: 'user-1' },
  recipient: { id: 'bot-1' },
  conversation: { id: 'conv-1' },
  text: 'ciao',
};

describe('floods of refused requests', () => {
  it('log one line a minute per kind, count every one, and still answer real customers', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    const instance = await startInstance('abuse', {
      dataFile: data.dataFile,
      graphOrigin: graph.origin,
      extra: { MicrosoftAppId: '00000000-0000-0000-0000-000000000001', MicrosoftAppPassword: 'not-a-real-secret', MicrosoftAppType: 'MultiTenant' },
    });
    cleanups.push(() => instance.stop());
    const out = lineCounter(instance);
    const N = 200;

    // Webhook deliveries with a wrong signature.
    const bad = await pool(
      Array.from({ length: N }, (_, i) => () => deliver(instance.url, { raw: `{"object":"page","n":${i}}`, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } })),
      10,
    );
    expect(bad.every((s) => s === 401)).toBe(true);
    // A real customer in the middle of it is answered.
    expect(await deliver(instance.url, signedDelivery('psid-real', 'quali sono i vostri orari?', 'mid-real'))).toBe(200);
    expect(await waitUntil(() => repliesTo(graph, 'psid-real').length > 0, 30_000)).toBe(true);

    // Logins past the limit (a name that is nobody's: the limit counts the name).
    const logins = await pool(
      Array.from({ length: N }, (_, i) => async () => {
        const res = await fetch(`${instance.url}/api/operator/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'guessed', password: `guess-${i}` }) });
        await res.arrayBuffer();
        return res.status;
      }),
      4,
    );
    expect(logins.filter((s) => s === 429).length).toBeGreaterThan(N - 40);

    // Bot Framework activities with a token that is not Microsoft's.
    const activities = await pool(
      Array.from({ length: N }, (_, i) => async () => {
        const res = await fetch(`${instance.url}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer forged.token.${i}` },
          body: JSON.stringify({ ...ACTIVITY, id: `act-${i}` }),
        });
        return { status: res.status, body: await res.text() };
      }),
      10,
    );
    expect(activities.every((a) => a.status === 401)).toBe(true);
    expect(activities[0]!.body).toBe('{"error":"the Bot Framework token is not valid"}');

    const metrics = await (await fetch(`${instance.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^sportello_webhooks_total\\{channel="messenger",outcome="bad_signature"\\} ${N}$`, 'm'));

    // Let whatever the process still had to write arrive, then count.
    await waitUntil(() => out.lines().some((l) => l.includes('botframework: request without a valid')), 5000);
    const lines = out.lines();
    expect(lines.filter((l) => l.includes('bad or missing signature'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('too many attempts'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('Bot Framework token'))).toHaveLength(1);
    expect(lines.filter((l) => /AuthenticationError|^\s+at /.test(l))).toEqual([]);
    // Nothing else grew with the flood: the whole output stays small.
    expect(lines.length).toBeLessThan(40);
  });

  it('says once that a proxy is in front without TRUST_PROXY, when its clients start sharing one address', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    const instance = await startInstance('proxied', { dataFile: data.dataFile, graphOrigin: graph.origin });
    cleanups.push(() => instance.stop());
    const out = lineCounter(instance);
    // 61 visitors behind a proxy: without TRUST_PROXY they are one address (60 new sessions an hour).
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) {
      const res = await fetch(`${instance.url}/chat/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` }, body: '{}' });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 60).every((s) => s === 201)).toBe(true);
    expect(statuses[60]).toBe(429);
    expect(await waitUntil(() => out.lines().some((l) => l.includes('TRUST_PROXY is not set')), 5000)).toBe(true);
    expect(out.lines().filter((l) => l.includes('TRUST_PROXY is not set'))).toHaveLength(1);
  });

  it('ends requests whose body trickles in (30 to 60 s after they began), and keeps serving the others', async () => {
    const { graph, data } = await graphAndDataDir(cleanups);
    const instance = await startInstance('trickle', { dataFile: data.dataFile, graphOrigin: graph.origin });
    cleanups.push(() => instance.stop());
    // Before, each held its connection for Node's default of 5 minutes: a few thousand took every descriptor.
    const started = Date.now();
    const closedAfter: number[] = [];
    const sockets = Array.from({ length: 50 }, () => {
      const s = net.connect(instance.port, '127.0.0.1', () => s.write('POST /webhooks/messenger HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{'));
      s.on('error', () => undefined);
      s.on('close', () => closedAfter.push(Date.now() - started));
      return s;
    });
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const trickle = setInterval(() => sockets.forEach((s) => s.destroyed || s.write(' ')), 2000);
    cleanups.push(() => clearInterval(trickle));
    // Meanwhile the server answers as usual.
    const health = await fetch(`${instance.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await waitUntil(() => closedAfter.length === sockets.length, 90_000, 500)).toBe(true);
    expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(29_000);
    expect(Math.max(...closedAfter)).toBeLessThan(75_000);
    expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
  }, 150_000);
});
