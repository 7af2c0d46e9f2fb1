/**
 * `npm run bench:soak`: a soak test (not part of `npm test`). One Sportello server as a real
 * child process (`sportello start`) on a private PostgreSQL cluster (initdb/pg_ctl in a temporary
 * folder on a free port, so restarting it disturbs nobody), with X, Messenger and Bot Framework
 * each talking to its fake platform (tests/fakes) through a fault-injecting proxy. For
 * SOAK_MINUTES (default 10) customers write on every channel (SOAK_RATE messages a second per
 * channel kind, default 1) while faults come in a fixed cycle: Graph 500s, X 429s with its
 * rate-limit headers, Graph and Connector hanging (requests delivered, never answered), X and
 * Connector 500s, PostgreSQL restarted. Webhook deliveries are retried until answered 200, as
 * the platforms do. Then it waits for the replies to drain and reports, per channel, messages
 * sent and answered, lost (never answered), duplicated replies (and when they were born), reply
 * latency p50/p99, and the server's resident memory every 10 s, to bench/results/soak.md.
 *
 * Needs PostgreSQL's binaries (/usr/lib/postgresql/<v>/bin) and, when run as root, the
 * `postgres` system user (the cluster runs as it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { systemClock } from '../../src/core/ports.js';
import { createFakeBotConnector, userMessage, type ConnectorCall } from '../../tests/fakes/bot-connector/fake-bot-connector.js';
import { createFakeGraphApi, metaJson, metaSignatureHeaders, type GraphCall } from '../../tests/fakes/graph-api/fake-graph-api.js';
import { pageWebhook, textEvent } from '../../tests/fakes/graph-api/payloads.js';
import { createFakeXApi, ROUTES, xHmac, type RecordedCall } from '../../tests/fakes/x-api/fake-x-api.js';
import { xaaDmEvent, xaaPostEvent } from '../../tests/fakes/x-api/payloads.js';
import { testCertificate } from '../../tests/fakes/x-api/tls.js';
import { freePort, ROOT, sleep, startInstance, type Instance } from '../../tests/e2e/harness.js';
import { startFaultProxy, type FaultMode, type FaultProxy } from './fault-proxy.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RATE = Number(process.env.SOAK_RATE ?? 1);
const DRAIN_SECONDS = Number(process.env.SOAK_DRAIN_SECONDS ?? 120);
const now = () => performance.timeOrigin + performance.now();

const X = {
  apiKey: 'soak-x-api-key',
  apiSecret: 'soak-x-api-secret-0123456789',
  accessToken: 'soak-access-token',
  accessSecret: 'soak-access-secret',
  brand: { id: '2244994945', username: 'BottegaRossi' },
};
const META = { appSecret: 'soak-app-secret', pageToken: 'EAAG-soak-page-token', verifyToken: 'soak-verify', pageId: '104857600000888' };
const QUESTION = 'Quali sono i vostri orari?';

type Kind = 'messenger' | 'x-dm' | 'x-mention' | 'botframework';
const KINDS: Kind[] = ['messenger', 'x-dm', 'x-mention', 'botframework'];

interface Sent {
  kind: Kind;
  key: string;
  sentAt: number;
  deliveries: number;
  acceptedAt?: number;
  replies: Array<{ at: number; during: string }>;
}

// ───────────────────────────── private PostgreSQL ─────────────────────────────

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  if (!version) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  return join(base, version, 'bin', name);
}

function asPostgres(cmd: string, args: string[]): string {
  const root = process.getuid?.() === 0;
  return execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function startPostgres(): Promise<{ url: string; restart(): Promise<void>; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-soak-pg-'));
  chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const data = join(dir, 'data');
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
  const ctl = (action: string, extra: string[] = []) => asPostgres(pgBin('pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', ...extra, action]);
  ctl('start');
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE sportello_soak');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/sportello_soak`,
    // Asynchronously: the traffic and the fake platforms in this process keep going meanwhile.
    restart: async () => {
      const root = process.getuid?.() === 0;
      const args = ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-m', 'fast', 'restart'];
      await promisify(execFile)(root ? 'runuser' : pgBin('pg_ctl'), root ? ['-u', 'postgres', '--', pgBin('pg_ctl'), ...args] : args);
    },
    stop: () => {
      try {
        ctl('stop', ['-m', 'immediate']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ───────────────────────────── helpers ─────────────────────────────

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  console.log(`soak: ${MINUTES} min, ${RATE} msg/s per kind (${KINDS.join(', ')}), drain up to ${DRAIN_SECONDS} s`);
  const postgres = await startPostgres();
  console.log(`soak: private PostgreSQL at ${postgres.url}`);

  // Fakes, each behind a fault proxy.
  const cert = testCertificate();
  const x = await createFakeXApi({ clock: systemClock, brand: X.brand, apiKey: X.apiKey, accessToken: X.accessToken });
  const graph = await createFakeGraphApi({ appSecret: META.appSecret, pageToken: META.pageToken, pageId: META.pageId, clock: systemClock });
  const connector = await createFakeBotConnector();
  for (const route of Object.values(ROUTES)) x.setRateLimit(route, 1_000_000, 900);
  const xProxy = await startFaultProxy({
    target: x.origin,
    tls: { key: cert.key, cert: cert.cert, ca: x.ca },
    errorBody: (status) => ({ title: status === 429 ? 'Too Many Requests' : 'Service Unavailable', type: 'about:blank', status }),
    rateLimitHeaders: () => ({ 'x-rate-limit-limit': '300', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + 5) }),
  });
  const graphProxy = await startFaultProxy({
    target: graph.origin,
    errorBody: (status) => ({ error: { message: status === 429 ? '(#613) Calls to this api have exceeded the rate limit.' : 'An unexpected error has occurred.', type: 'OAuthException', code: status === 429 ? 613 : 2, fbtrace_id: 'soak' } }),
    rateLimitHeaders: () => ({ 'retry-after': '5' }),
  });
  const connectorProxy = await startFaultProxy({
    target: connector.serviceUrl,
    errorBody: (status) => ({ error: { code: status === 429 ? 'TooManyRequests' : 'ServiceError', message: 'soak fault' } }),
    rateLimitHeaders: () => ({ 'retry-after': '5' }),
  });
  const proxies: Record<string, FaultProxy> = { x: xProxy, graph: graphProxy, connector: connectorProxy };
  const modeNow = () => Object.entries(proxies).filter(([, p]) => p.mode !== 'ok').map(([n, p]) => `${n} ${p.mode}`).join(', ') || 'ok';

  // Replies as they reach the platforms, by the key of the customer message they answer.
  let pgDown = false;
  const byKey = new Map<string, Sent>();
  const reply = (key: string | undefined) => {
    const sent = key ? byKey.get(key) : undefined;
    if (sent) sent.replies.push({ at: now(), during: pgDown ? 'postgres restart' : modeNow() });
  };
  const postToKey = new Map<string, string>();
  x.calls.push = (...items: RecordedCall[]) => {
    for (const call of items) {
      if (call.route === ROUTES.sendDm) reply(`x-dm:${call.path.split('/')[4]}`);
      if (call.route === ROUTES.postTweet) {
        const to = (call.body as { reply?: { in_reply_to_tweet_id?: string } }).reply?.in_reply_to_tweet_id;
        reply(to ? postToKey.get(to) : undefined);
      }
    }
    return 0; // no history kept (a run sends thousands)
  };
  graph.calls.push = (...items: GraphCall[]) => {
    for (const call of items) {
      const message = call.body.message as { text?: string } | undefined;
      const recipient = (call.body.recipient as { id?: string } | undefined)?.id;
      if (message?.text !== undefined && recipient) reply(`messenger:${recipient}`);
    }
    return 0;
  };
  connector.calls.push = (...items: ConnectorCall[]) => {
    for (const call of items) if (call.activity.type === 'message') reply(`botframework:${call.conversationId}`);
    return 0;
  };

  // The server, as a real process; X's certificate trusted through NODE_EXTRA_CA_CERTS.
  const caFile = join(mkdtempSync(join(tmpdir(), 'sportello-soak-ca-')), 'ca.pem');
  writeFileSync(caFile, x.ca);
  const server: Instance = await startInstance(
    'soak',
    {
      databaseUrl: postgres.url,
      graphOrigin: graphProxy.origin,
      extra: {
        NODE_EXTRA_CA_CERTS: caFile,
        LOG_LEVEL: 'warn',
        MESSENGER_APP_SECRET: META.appSecret,
        MESSENGER_PAGE_TOKEN: META.pageToken,
        MESSENGER_VERIFY_TOKEN: META.verifyToken,
        MESSENGER_PAGE_ID: META.pageId,
        X_API_KEY: X.apiKey,
        X_API_SECRET: X.apiSecret,
        X_ACCESS_TOKEN: X.accessToken,
        X_ACCESS_SECRET: X.accessSecret,
        X_BRAND_USER_ID: X.brand.id,
        X_BRAND_HANDLE: X.brand.username,
        X_POLL_SECONDS: '0',
        X_API_ORIGIN: xProxy.origin,
        BOTFRAMEWORK_LOCAL_ONLY: 'true',
      },
    },
    { timeoutMs: 180_000 },
  );
  console.log(`soak: server pid ${server.child.pid} at ${server.url}`);
  const pid = server.child.pid!;

  // Memory every 10 s.
  // With it, /healthz: the channels whose sending is paused (circuit open or half open, replies in flight).
  const rss: Array<{ t: number; mb: number; paused?: string }> = [];
  const t0 = now();
  const sampleRss = () => {
    const sample: { t: number; mb: number; paused?: string } = { t: Math.round((now() - t0) / 1000), mb: rssMb(pid) };
    rss.push(sample);
    fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.json() as Promise<{ channels?: Record<string, { circuit: string; inFlight: number; retryAt?: string }> }>)
      .then((h) => {
        sample.paused = Object.entries(h.channels ?? {})
          .filter(([, c]) => c.circuit !== 'closed')
          .map(([name, c]) => `${name} ${c.circuit}, ${c.inFlight} in flight${c.retryAt ? `, until ${c.retryAt.slice(11, 19)}` : ''}`)
          .join('; ');
      })
      .catch(() => {
        sample.paused = '(no answer)';
      });
  };
  sampleRss();
  const rssTimer = setInterval(sampleRss, 10_000);

  // Deliveries, retried until answered 200 (as the platforms do).
  let deliveryErrors = 0;
  const inFlight = new Set<Promise<void>>();
  const deliver = (sent: Sent, url: string, raw: string, headers: Record<string, string>) => {
    const attempt = async (): Promise<void> => {
      for (let wait = 500; ; wait = Math.min(wait * 2, 8000)) {
        sent.deliveries += 1;
        try {
          const res = await fetch(url, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(20_000) });
          await res.arrayBuffer();
          if (res.status === 200) {
            sent.acceptedAt = now();
            return;
          }
        } catch {
          // timeout or connection refused: retried
        }
        deliveryErrors += 1;
        await sleep(wait);
      }
    };
    const p = attempt().finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  let seq = 0;
  const send = (kind: Kind) => {
    seq += 1;
    const id = `${Date.now()}${String(seq).padStart(6, '0')}`;
    if (kind === 'messenger') {
      const psid = `6177${id}`;
      graph.userWrote(psid, new Date());
      const sent: Sent = { kind, key: `messenger:${psid}`, sentAt: now(), deliveries: 0, replies: [] };
      byKey.set(sent.key, sent);
      const raw = metaJson(pageWebhook(META.pageId, { messaging: [textEvent(META.pageId, psid, QUESTION, { mid: `m_soak_${id}`, timestamp: Date.now() })] }));
      deliver(sent, `${server.url}/webhooks/messenger`, raw, metaSignatureHeaders(META.appSecret, raw));
    } else if (kind === 'x-dm' || kind === 'x-mention') {
      const user = x.addUser({ id: `31${id}`, username: `c${id}`.slice(0, 15), name: 'Cliente' });
      const sent: Sent = { kind, key: `${kind}:${user.id}`, sentAt: now(), deliveries: 0, replies: [] };
      byKey.set(sent.key, sent);
      let body: unknown;
      if (kind === 'x-dm') body = xaaDmEvent(x.dm(user.id, QUESTION), user, X.brand.id);
      else {
        const post = x.mention(user.id, `@${X.brand.username} ${QUESTION}`);
        postToKey.set(post.id, sent.key);
        body = xaaPostEvent(post, user, X.brand.id);
      }
      const raw = JSON.stringify(body);
      deliver(sent, `${server.url}/webhooks/twitter`, raw, { 'content-type': 'application/json', 'x-twitter-webhooks-signature': xHmac(X.apiSecret, raw) });
    } else {
      const conversationId = `soak-${id}`;
      const sent: Sent = { kind, key: `botframework:${conversationId}`, sentAt: now(), deliveries: 0, replies: [] };
      byKey.set(sent.key, sent);
      const raw = JSON.stringify(userMessage({ serviceUrl: `${connectorProxy.origin}/`, text: QUESTION, conversationId, userId: `u-${id}`, id: `act-${id}` }));
      deliver(sent, `${server.url}/api/messages`, raw, { 'content-type': 'application/json' });
    }
  };

  // The fault cycle (one minute; shorter runs get a compressed one): [start s, what].
  const cycle = Math.min(60, MINUTES * 30);
  const at = (s: number) => Math.round((s / 60) * cycle * 1000);
  const faults: Array<[number, string, () => void]> = [
    [at(8), 'Graph 500', () => graphProxy.setMode('500')],
    [at(16), 'X 429 (rate-limit headers)', () => (graphProxy.setMode('ok'), xProxy.setMode('429'))],
    [at(24), 'Graph and Connector hang', () => (xProxy.setMode('ok'), graphProxy.setMode('hang'), connectorProxy.setMode('hang'))],
    [at(34), 'X and Connector 500', () => (graphProxy.setMode('ok'), connectorProxy.setMode('500'), xProxy.setMode('500'))],
    [at(42), 'PostgreSQL restart', () => {
      xProxy.setMode('ok');
      connectorProxy.setMode('ok');
      pgDown = true;
      void postgres.restart().finally(() => {
        pgDown = false;
        events.push(`${Math.round((now() - t0) / 1000)} s: PostgreSQL is back`);
      });
    }],
  ];
  const events: string[] = [];
  const endAt = now() + MINUTES * 60_000;
  let cycleStart = now();
  let nextFault = 0;
  let tick = 0;
  while (now() < endAt) {
    for (let i = 0; i < RATE; i += 1) for (const kind of KINDS) send(kind);
    tick += 1;
    const inCycle = now() - cycleStart;
    if (nextFault < faults.length && inCycle >= faults[nextFault]![0]) {
      const [, name, apply] = faults[nextFault]!;
      events.push(`${Math.round((now() - t0) / 1000)} s: ${name}`);
      console.log(`soak: ${events[events.length - 1]}`);
      apply();
      nextFault += 1;
    }
    if (inCycle >= cycle * 1000) {
      cycleStart = now();
      nextFault = 0;
    }
    await sleep(Math.max(0, t0 + tick * 1000 - now()));
  }
  for (const p of Object.values(proxies)) p.setMode('ok');
  events.push(`${Math.round((now() - t0) / 1000)} s: traffic stops, every platform ok`);

  // Drain: until every message is answered, or no progress for a while.
  const drainEnd = now() + DRAIN_SECONDS * 1000;
  let last = -1;
  let still = 0;
  while (now() < drainEnd) {
    const answered = [...byKey.values()].filter((s) => s.replies.length > 0).length;
    if (answered === byKey.size && inFlight.size === 0) break;
    still = answered === last ? still + 1 : 0;
    last = answered;
    await sleep(1000);
  }
  await sleep(3000); // late duplicates
  clearInterval(rssTimer);
  sampleRss();
  const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text()).catch(() => '');
  await server.stop();
  const serverLog = server.output();
  const logFile = join(mkdtempSync(join(tmpdir(), 'sportello-soak-log-')), 'server.log');
  writeFileSync(logFile, serverLog);
  console.log(`soak: the server's log is in ${logFile}`);

  // ── report ──
  const rows = KINDS.map((kind) => {
    const all = [...byKey.values()].filter((s) => s.kind === kind);
    const answered = all.filter((s) => s.replies.length > 0);
    const lost = all.filter((s) => s.replies.length === 0);
    const dupes = all.filter((s) => s.replies.length > 1);
    const latency = answered.map((s) => s.replies[0]!.at - s.sentAt);
    return { kind, sent: all.length, answered: answered.length, lost, dupes, extra: dupes.reduce((n, s) => n + s.replies.length - 1, 0), p50: percentile(latency, 50), p99: percentile(latency, 99), redelivered: all.filter((s) => s.deliveries > 1).length };
  });
  const dupBirth = new Map<string, number>();
  for (const r of rows) for (const s of r.dupes) dupBirth.set(s.replies[0]!.during, (dupBirth.get(s.replies[0]!.during) ?? 0) + 1);
  const warnLines = serverLog.split('\n').filter((l) => /"level":(40|50|60)/.test(l));
  const warnCounts = new Map<string, number>();
  for (const l of warnLines) {
    const msg = /"msg":"([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 80);
    warnCounts.set(msg, (warnCounts.get(msg) ?? 0) + 1);
  }
  const retries = /sportello_outbox[^\n]*/g.exec(metrics)?.[0];
  const firstRss = rss.find((r) => r.t >= 60) ?? rss[0]!;
  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '–');

  const md = [
    `# Soak test (${MINUTES} min)`,
    '',
    `Run ${startedAt.toISOString()} by \`SOAK_MINUTES=${MINUTES} npm run bench:soak\` (bench/soak/run.ts): one \`sportello start\` process on a private PostgreSQL ${readdirSync('/usr/lib/postgresql').join('/')} cluster,`,
    `X, Messenger and Bot Framework each behind a fault proxy in front of its fake platform; ${RATE} message/s per kind (Messenger, X DM, X mention, Bot Framework),`,
    `each from a new customer asking "${QUESTION}" (one answer expected). Webhook deliveries retried until answered 200, as the platforms do.`,
    `Machine load (1-min average) at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (other work was running).`,
    '',
    '## Faults (cycle of ' + cycle + ' s)',
    '',
    ...events.map((e) => `- ${e}`),
    '',
    '## Replies',
    '',
    '| channel | sent | answered | lost | messages answered twice or more | extra replies | delivered more than once (webhook retried) | reply latency p50 | p99 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.kind} | ${r.sent} | ${r.answered} | ${r.lost.length} | ${r.dupes.length} | ${r.extra} | ${r.redelivered} | ${fmt(r.p50)} ms | ${fmt(r.p99)} ms |`),
    '',
    `Failed webhook attempts (retried): ${deliveryErrors}. Proxy answers: ` + Object.entries(proxies).map(([n, p]) => `${n} ${JSON.stringify(p.counts)}`).join('; ') + '.',
    '',
    '### Where duplicates were born (platform state when the first copy arrived)',
    '',
    ...(dupBirth.size ? [...dupBirth].map(([k, v]) => `- ${k}: ${v}`) : ['- none']),
    '',
    'A reply sent while a platform hangs is delivered but never acknowledged: when the connection drops the sender cannot tell it arrived and sends it again (no platform takes an idempotency key; issue 18).',
    '',
    ...(rows.some((r) => r.lost.length) ? ['### Lost', '', ...rows.flatMap((r) => r.lost.slice(0, 10).map((s) => `- ${s.key}: ${s.deliveries} delivery attempts, ${s.acceptedAt ? 'accepted' : 'never accepted'}`)), ''] : []),
    '## Resident memory of the server (every 10 s)',
    '',
    '| t (s) | RSS (MB) | sending paused (/healthz) |',
    '| ---: | ---: | --- |',
    ...rss.map((r) => `| ${r.t} | ${r.mb.toFixed(0)} | ${r.paused ?? ''} |`),
    '',
    `After warm-up (t=${firstRss.t} s) ${firstRss.mb.toFixed(0)} MB, at the end ${rss[rss.length - 1]!.mb.toFixed(0)} MB.`,
    '',
    '## Server warnings and errors (by message)',
    '',
    ...(warnCounts.size ? [...warnCounts].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([m, c]) => `- ${c} × ${m}`) : ['- none']),
    ...(retries ? ['', `Metrics: ${retries}`] : []),
    '',
  ].join('\n');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/soak.md'), md);
  console.log(md);

  await Promise.all(Object.values(proxies).map((p) => p.close()));
  await Promise.all([x.close(), graph.close(), connector.close()]);
  postgres.stop();
  rmSync(dirname(caFile), { recursive: true, force: true });
  process.exit(0);
}

await main();
