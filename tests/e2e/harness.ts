/**
 * @module tests/e2e/harness
 * System-level test harness: real Sportello processes (`node bin/sportello.js start`) on a
 * throw-away PostgreSQL database (or a lowdb file), the Messenger channel pointed at the fake
 * Graph API on 127.0.0.1, signed webhook deliveries, operator logins and an SSE reader.
 * Nothing in here reaches into a running instance: the tests see what a load balancer, Meta and
 * an operator's browser would see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { systemClock } from '../../src/core/ports.js';
import { createFakeGraphApi, metaJson, metaSignatureHeaders, type FakeGraphApi } from '../fakes/graph-api/fake-graph-api.js';
import { pageWebhook, textEvent } from '../fakes/graph-api/payloads.js';
import type { Cleanup } from '../helpers/cleanups.js';

/** The repository root (bin/, faq/, intents/). */
export const ROOT = resolve(import.meta.dirname ?? '.', '../..');
/** Where the throw-away databases are created (trust auth on the test machine). */
export const ADMIN_URL = process.env.E2E_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const APP_SECRET = 'e2e-app-secret';
export const PAGE_TOKEN = 'EAAG-e2e-page-token';
export const VERIFY_TOKEN = 'e2e-verify-token';
export const PAGE_ID = '104857600000777';
/** A fixed session secret: every instance of a deployment shares it (docs/scaling.md). */
export const SESSION_SECRET = 'e2e-session-secret-0123456789abcdefghijklmnop';

// ───────────────────────────── databases ─────────────────────────────

/** A database created for one test run. */
export interface TestDatabase {
  url: string;
  name: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** Creates an empty database `sportello_e2e_<random>` on the local server. */
export async function createTestDatabase(prefix = 'sportello_e2e'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** True when the local PostgreSQL server answers. */
export async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    // Not an error to report: the caller decides whether PostgreSQL tests run.
    return false;
  }
}

// ───────────────────────────── instances ─────────────────────────────

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** One `sportello start` child process. */
export interface Instance {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no chance to finish anything. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
}

/** What every instance of one deployment shares. */
export interface DeploymentEnv {
  /** PostgreSQL URL, or undefined for the embedded lowdb store at `dataFile`. */
  databaseUrl?: string;
  dataFile?: string;
  graphOrigin: string;
  extra?: Record<string, string>;
}

/** The environment of one instance (a clean one: nothing leaks in from jest's own). */
export function instanceEnv(deployment: DeploymentEnv, port: number): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    FAQ_DIR: join(ROOT, 'faq'),
    INTENTS_DIR: join(ROOT, 'intents'),
    FAQ_WATCH: 'false',
    LOG_LEVEL: 'warn',
    SESSION_SECRET,
    MESSENGER_APP_SECRET: APP_SECRET,
    MESSENGER_PAGE_TOKEN: PAGE_TOKEN,
    MESSENGER_VERIFY_TOKEN: VERIFY_TOKEN,
    MESSENGER_PAGE_ID: PAGE_ID,
    MESSENGER_GRAPH_ORIGIN: deployment.graphOrigin,
    ...deployment.extra,
  };
  if (deployment.databaseUrl) env.DATABASE_URL = deployment.databaseUrl;
  if (deployment.dataFile) env.SPORTELLO_DATA = deployment.dataFile;
  return env;
}

/** Starts `node bin/sportello.js start` and waits until `/healthz` answers 200. */
export async function startInstance(
  name: string,
  deployment: DeploymentEnv,
  options: { port?: number; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Instance> {
  const port = options.port ?? (await freePort());
  return startProcess(name, [...(options.nodeArgs ?? []), '--disable-warning=DEP0111', join(ROOT, 'bin/sportello.js'), 'start'], {
    port,
    env: instanceEnv(deployment, port),
    timeoutMs: options.timeoutMs,
  });
}

/** Starts `node ARGS` (a server on 127.0.0.1:`port`) and waits until `GET /healthz` answers 200. */
export async function startProcess(
  name: string,
  args: string[],
  options: { port: number; env?: Record<string, string>; timeoutMs?: number },
): Promise<Instance> {
  const { port } = options;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const record = (chunk: Buffer) => {
    // Keep the last ~200 kB: enough to explain a failure, bounded under a flood of warnings.
    chunks.push(chunk.toString('utf8'));
    size += chunk.length;
    while (size > 200_000 && chunks.length > 1) size -= chunks.shift()!.length;
  };
  child.stdout!.on('data', record);
  child.stderr!.on('data', record);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const instance: Instance = {
    name,
    url,
    port,
    child,
    output: () => chunks.join(''),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  // Generous: a loaded machine (CI beside other work) can take long to start a process; readiness ends the wait.
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exit = e));
  for (;;) {
    if (exit) throw new Error(`${name} exited (${exit.code ?? exit.signal}) before it was ready:\n${instance.output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return instance;
    } catch {
      // Not listening yet: keep polling until the deadline.
    }
    if (Date.now() > deadline) {
      await instance.kill();
      throw new Error(`${name} was not healthy within ${timeoutMs} ms:\n${instance.output()}`);
    }
    await sleep(100);
  }
}

/** Runs `sportello ARGS` as its own process with the deployment's environment; resolves with what it printed and its exit code. */
export function cli(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=DEP0111', join(ROOT, 'bin/sportello.js'), ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A temporary directory for a lowdb deployment; removed by `cleanup`. */
export function tempDataDir(): { dir: string; dataFile: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sportello-e2e-'));
  return { dir, dataFile: join(dir, 'sportello.json'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ───────────────────────────── Meta's side ─────────────────────────────

/** The fake Graph API on the real clock, as the instances' MESSENGER_GRAPH_ORIGIN. */
export async function startGraph(): Promise<FakeGraphApi> {
  return createFakeGraphApi({ appSecret: APP_SECRET, pageToken: PAGE_TOKEN, pageId: PAGE_ID, clock: systemClock });
}

/** The fake Graph API and a temporary folder for a lowdb deployment, each closed by the test's `cleanups`. */
export async function graphAndDataDir(cleanups: Cleanup[]): Promise<{ graph: FakeGraphApi; data: ReturnType<typeof tempDataDir> }> {
  const graph = await startGraph();
  cleanups.push(() => graph.close());
  const data = tempDataDir();
  cleanups.push(() => data.cleanup());
  return { graph, data };
}

/** A customer's Messenger message as Meta delivers it: raw JSON bytes and signature headers. */
export function signedDelivery(psid: string, text: string, mid: string, at = Date.now()): { raw: string; headers: Record<string, string> } {
  const raw = metaJson(pageWebhook(PAGE_ID, { messaging: [textEvent(PAGE_ID, psid, text, { mid, timestamp: at })] }, at));
  return { raw, headers: metaSignatureHeaders(APP_SECRET, raw) };
}

/** POSTs one signed delivery to an instance's Messenger webhook; resolves with the HTTP status (0 = connection failed). */
export async function deliver(baseUrl: string, delivery: { raw: string; headers: Record<string, string> }): Promise<number> {
  try {
    const res = await fetch(`${baseUrl}/webhooks/messenger`, { method: 'POST', headers: delivery.headers, body: delivery.raw });
    await res.arrayBuffer();
    return res.status;
  } catch {
    // The instance died mid-request (crash tests): no acknowledgement, Meta would redeliver.
    return 0;
  }
}

/** Replies the fake Graph API received for `psid` (texts, in arrival order). */
export function repliesTo(graph: FakeGraphApi, psid: string): string[] {
  return graph
    .sentMessages()
    .filter((c) => (c.body.recipient as { id?: string } | undefined)?.id === psid)
    .map((c) => String((c.body.message as { text?: string }).text ?? ''));
}

/** Every sent message's (recipient, text). */
export function allReplies(graph: FakeGraphApi): Array<{ psid: string; text: string }> {
  return graph.sentMessages().map((c) => ({
    psid: String((c.body.recipient as { id?: string } | undefined)?.id ?? ''),
    text: String((c.body.message as { text?: string }).text ?? ''),
  }));
}

// ───────────────────────────── operators ─────────────────────────────

/** A logged-in operator's browser: its cookie, its CSRF token and its instance. */
export interface OperatorSession {
  baseUrl: string;
  cookie: string;
  csrfToken: string;
  operatorId: string;
}

/** Logs in through `POST /api/operator/login` as a browser on `baseUrl` would. */
export async function login(baseUrl: string, name: string, password: string): Promise<OperatorSession> {
  const res = await fetch(`${baseUrl}/api/operator/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ name, password }),
  });
  const body = (await res.json()) as { csrfToken?: string; operator?: { id: string }; error?: string };
  if (res.status !== 200 || !body.csrfToken || !body.operator) throw new Error(`login of ${name} on ${baseUrl} failed: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  return { baseUrl, cookie, csrfToken: body.csrfToken, operatorId: body.operator.id };
}

/** A state-changing operator request (same origin, CSRF header), sent to `baseUrl` (default: where the operator logged in). */
export async function operatorPost(
  session: OperatorSession,
  path: string,
  body: unknown = {},
  baseUrl = session.baseUrl,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/operator${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl, cookie: session.cookie, 'x-csrf-token': session.csrfToken },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A read-only operator request. */
export async function operatorGet(session: OperatorSession, path: string, baseUrl = session.baseUrl): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/operator${path}`, { headers: { cookie: session.cookie } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One server-sent event with the time it arrived. */
export interface ReceivedEvent {
  type: string;
  data: Record<string, unknown>;
  receivedAt: number;
}

/** An open `GET /api/operator/events` stream. */
export interface EventStream {
  events: ReceivedEvent[];
  /** Resolves with the first event (already received or future) that matches, or rejects after `timeoutMs`. */
  waitFor(match: (e: ReceivedEvent) => boolean, timeoutMs: number): Promise<ReceivedEvent>;
  close(): void;
}

/** Opens the operator's live event stream on `baseUrl` and resolves once `ready` arrived. */
export async function openEvents(session: OperatorSession, baseUrl = session.baseUrl): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/operator/events`, { headers: { cookie: session.cookie, accept: 'text/event-stream' }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`event stream on ${baseUrl} answered ${res.status}`);
  const events: ReceivedEvent[] = [];
  const waiters = new Set<{ match: (e: ReceivedEvent) => boolean; resolve: (e: ReceivedEvent) => void }>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trim());
        }
        if (data.length === 0) continue;
        const event: ReceivedEvent = { type, data: JSON.parse(data.join('\n')) as Record<string, unknown>, receivedAt: Date.now() };
        events.push(event);
        for (const w of [...waiters]) {
          if (w.match(event)) {
            waiters.delete(w);
            w.resolve(event);
          }
        }
      }
    }
  })().catch((err: unknown) => {
    // Closing the stream aborts the read; anything else is worth seeing in the test output.
    if (!controller.signal.aborted) console.error('event stream failed', err);
  });
  const stream: EventStream = {
    events,
    waitFor(match, timeoutMs) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolveEvent, reject) => {
        const waiter = {
          match,
          resolve: (e: ReceivedEvent) => {
            clearTimeout(timer);
            resolveEvent(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching event within ${timeoutMs} ms (got: ${events.map((e) => e.type).join(', ')})`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => controller.abort(),
  };
  await stream.waitFor((e) => e.type === 'ready', 5000);
  return stream;
}

// ───────────────────────────── small tools ─────────────────────────────

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Runs `tasks` with at most `concurrency` in flight; results in task order. */
export async function pool<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  });
  await Promise.all(workers);
  return results;
}
