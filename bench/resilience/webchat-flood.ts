/**
 * A web chat flood from one anonymous client, against a real `sportello start` (lowdb, web chat
 * only): 300 session attempts, 1,000 event-stream attempts (those accepted held open), then 3,000
 * messages of 4 KB sent as fast as 50 connections allow. Meanwhile a real visitor on another
 * address (127.0.0.2) asks a question; how long their reply takes is what a customer feels. The
 * server's resident memory (VmRSS, /proc) is sampled every 100 ms: before, its peak during the
 * flood, and 10 s after it (streams closed). `limits: 'raised'` sets every web chat limit out of
 * reach, to show what the limits save.
 */
import { request, type ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, pool, ROOT, sleep, startProcess, tempDataDir } from '../../tests/e2e/harness.js';

export interface WebchatFloodFigures {
  limits: 'default' | 'raised';
  sessions: Record<string, number>;
  streams: Record<string, number>;
  messages: Record<string, number>;
  /** Seconds the 3,000 messages took to send (answers included). */
  messagesSeconds: number;
  /** The other visitor's reply, from their POST to the reply event, during the flood (ms). */
  visitorReplyMs: number | undefined;
  rssMb: { before: number; peak: number; after: number };
}

const RAISED: Record<string, string> = {
  WEBCHAT_SESSION_MESSAGES_PER_MINUTE: '10000',
  WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: '100000',
  WEBCHAT_ADDRESS_SESSIONS_PER_HOUR: '100000',
  WEBCHAT_ADDRESS_STREAMS: '100000',
};

interface Answer {
  status: number;
  body: string;
}

function call(base: string, method: string, path: string, body?: string, from = '127.0.0.1'): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, localAddress: from, headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens an event stream; resolves with its status and the request (kept open when 200). */
function openStream(base: string, token: string, from = '127.0.0.1', onData?: (text: string) => void): Promise<{ status: number; req: ClientRequest }> {
  const url = new URL(`/chat/api/events?session=${token}`, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, localAddress: from, agent: false }, (res) => {
      if (res.statusCode === 200 && onData) res.on('data', (c: Buffer) => onData(c.toString('utf8')));
      else res.resume();
      resolve({ status: res.statusCode ?? 0, req });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

const rssMb = (pid: number): number => {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
};

const count = (statuses: number[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of statuses) out[String(s)] = (out[String(s)] ?? 0) + 1;
  return out;
};

export async function webchatFlood(options: { limits?: 'default' | 'raised'; messages?: number; sessions?: number; streams?: number } = {}): Promise<WebchatFloodFigures> {
  const limits = options.limits ?? 'default';
  const data = tempDataDir();
  const port = await freePort();
  const server = await startProcess('webchat-flood', ['--disable-warning=DEP0111', join(ROOT, 'bin/sportello.js'), 'start'], {
    port,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      FAQ_DIR: join(ROOT, 'faq'),
      INTENTS_DIR: join(ROOT, 'intents'),
      FAQ_WATCH: 'false',
      LOG_LEVEL: 'error',
      SPORTELLO_DATA: data.dataFile,
      SESSION_SECRET: 'bench-session-secret-0123456789abcdefghijklmnop',
      ...(limits === 'raised' ? RAISED : {}),
    },
  });
  const pid = server.child.pid!;
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(pid)), 100);
  const open: ClientRequest[] = [];
  try {
    // Warm up: one real conversation, then idle a moment.
    const visitor = JSON.parse((await call(server.url, 'POST', '/chat/api/sessions', undefined, '127.0.0.2')).body) as { session: string };
    await call(server.url, 'POST', '/chat/api/messages', JSON.stringify({ session: visitor.session, text: 'quali sono i vostri orari?' }), '127.0.0.2');
    await sleep(2000);
    const before = rssMb(pid);
    samples.length = 0;

    // 300 session attempts at once (50 connections).
    const sessionAnswers = await pool(
      Array.from({ length: options.sessions ?? 300 }, () => () => call(server.url, 'POST', '/chat/api/sessions')),
      50,
    );
    const tokens = sessionAnswers.filter((a) => a.status === 201).map((a) => (JSON.parse(a.body) as { session: string }).session);

    // 1,000 stream attempts, the accepted ones held open.
    const streamAnswers = await pool(
      Array.from({ length: options.streams ?? 1000 }, (_, i) => async () => {
        const s = await openStream(server.url, tokens[i % tokens.length]!);
        if (s.status === 200) open.push(s.req);
        else s.req.destroy();
        return s.status;
      }),
      50,
    );

    // The real visitor listens, then asks in the middle of the message flood.
    let heard = '';
    let replyAt: number | undefined;
    const listening = await openStream(server.url, visitor.session, '127.0.0.2', (text) => {
      heard += text;
      if (replyAt === undefined && /PayPal/.test(heard)) replyAt = performance.now();
    });
    open.push(listening.req);
    const text = `Buongiorno, ${'vorrei sapere come funziona la spedizione del mio ordine. '.repeat(70)}`.slice(0, 4000); // 4 KB
    let askedAt: number | undefined;
    const total = options.messages ?? 3000;
    const started = performance.now();
    const messageAnswers = await pool(
      Array.from({ length: total }, (_, i) => async () => {
        if (i === Math.floor(total / 2)) {
          askedAt = performance.now();
          void call(server.url, 'POST', '/chat/api/messages', JSON.stringify({ session: visitor.session, text: 'come posso pagare?' }), '127.0.0.2');
        }
        return (await call(server.url, 'POST', '/chat/api/messages', JSON.stringify({ session: tokens[i % tokens.length], text, id: `flood-${i}` }))).status;
      }),
      50,
    );
    const messagesSeconds = (performance.now() - started) / 1000;
    for (let waited = 0; replyAt === undefined && waited < 30_000; waited += 100) await sleep(100);
    const peak = Math.max(before, ...samples);

    for (const req of open) req.destroy();
    open.length = 0;
    await sleep(10_000);
    const after = rssMb(pid);
    return {
      limits,
      sessions: count(sessionAnswers.map((a) => a.status)),
      streams: count(streamAnswers),
      messages: count(messageAnswers),
      messagesSeconds: Math.round(messagesSeconds * 100) / 100,
      visitorReplyMs: replyAt !== undefined && askedAt !== undefined ? Math.round(replyAt - askedAt) : undefined,
      rssMb: { before, peak, after },
    };
  } finally {
    clearInterval(sampler);
    for (const req of open) req.destroy();
    await server.stop();
    data.cleanup();
  }
}
