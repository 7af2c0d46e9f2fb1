/**
 * `npm run bench:e2e`: end-to-end throughput and latency of Sportello — signed Messenger webhook
 * in → classify → FAQ reply out through the fake Graph API — next to a bare restify POST route
 * and a botbuilder echo bot replying through a fake Bot Connector, all measured in the same run
 * on the same machine. Every server is its own process, the fake platforms another
 * (bench/e2e/fake-platforms.ts), the load generator (autocannon) this one. Writes bench/results/e2e.md.
 *
 * Options (env): BENCH_ROUNDS (3: every system measured once per round, medians and each round's
 * ratios reported), BENCH_DURATION seconds per pass (8), BENCH_CONNECTIONS (50), BENCH_RATE the
 * latency pass's fixed rate, requests evenly spaced (500), BENCH_ONLY comma-separated pass names
 * (hello, echo, lowdb, pg1, pg2; all), BENCH_PG_SOCKET=1 (or a directory) connects the instances to
 * PostgreSQL through its Unix socket instead of TCP, BENCH_PROFILE=1 writes V8 CPU profiles of the
 * Sportello processes to $TMPDIR/sportello-bench-profiles/, BENCH_TIMELINE=ms prints the fixed-rate
 * passes' latencies per window of that many ms (to tell steady queueing from pauses).
 */
import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { userMessage } from '../../tests/fakes/bot-connector/fake-bot-connector.js';
import type { PlatformMessage } from './fake-platforms.js';
import { ConnectionPool, rawPost, type Outcome, type RawRequest } from './open-loop.js';
import {
  createTestDatabase,
  freePort,
  ROOT,
  signedDelivery,
  sleep,
  startInstance,
  startProcess,
  tempDataDir,
  waitUntil,
  type DeploymentEnv,
  type Instance,
  type TestDatabase,
} from '../../tests/e2e/harness.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const PROFILE = process.env.BENCH_PROFILE === '1';
const PG_SOCKET = process.env.BENCH_PG_SOCKET === '1' ? '/var/run/postgresql' : process.env.BENCH_PG_SOCKET || undefined;
/** Seconds of saturating load before a system's first pass (BENCH_WARMUP, default 2). */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP ?? 2);
/** Which loads to measure: max (saturating), rate (BENCH_RATE, evenly spaced); both by default. */
const LOADS = (process.env.BENCH_LOADS ?? 'max,rate').split(',').map((s) => s.trim());
/** BENCH_SET_<NAME>=value sets the Sportello instances' configuration variable NAME (e.g. BENCH_SET_UNDERSTANDING_THREADS=0). */
const INSTANCE_SETTINGS = Object.fromEntries(
  Object.entries(process.env).flatMap(([k, v]) => (k.startsWith('BENCH_SET_') && v !== undefined ? [[k.slice('BENCH_SET_'.length), v]] : [])),
);
/** Rounds of every system's passes, interleaved; the report gives medians and each round's ratio. */
/**
 * Seconds a fixed-rate pass runs at its rate before it is measured (BENCH_LEAD_IN, default 5), so
 * that it measures the steady rate, not the recovery from the saturating pass just before it
 * (PostgreSQL writing back, compilation, collection: the first 1.5 s were seen at twice the
 * latency of the rest).
 */
const LEAD_IN_SECONDS = Number(process.env.BENCH_LEAD_IN ?? 5);
/** BENCH_NODE_ARGS: extra node options for the Sportello instances of the first round (e.g. --trace-gc). */
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
/** BENCH_TIMELINE=ms prints, for fixed-rate passes, latency percentiles per window of that many ms of send time. */
const TIMELINE = Number(process.env.BENCH_TIMELINE ?? 0);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
/** Requests built ahead per second of a pass at maximum load. */
const PREPARED_PER_SECOND_AT_MAX = 4000;
/** How long a pass waits for the replies still owed when the load stops. */
const DRAIN_TIMEOUT_MS = 120_000;
/** Customers writing in: a message picks the next one round-robin, so each writes every CUSTOMERS messages. */
const CUSTOMERS = 5000;
const QUESTIONS = ['come posso pagare?', 'quali sono i vostri orari?', 'avete un negozio fisico?', 'come faccio a fare un reso?', 'how can I pay?', 'what are your opening hours?'];

// ───────────────────────────── measuring ─────────────────────────────

/** Milliseconds on a clock shared with the fake platforms' process. */
const clockMs = () => performance.timeOrigin + performance.now();

/** Latencies (ms) collected during one pass. */
class Samples {
  private values: number[] = [];
  /** When each sample's message was sent (clockMs), for BENCH_TIMELINE. */
  private times: number[] = [];
  add(ms: number, sentAt = NaN): void {
    this.values.push(ms);
    this.times.push(sentAt);
  }
  /** Per window of `windowMs` from `start`: count, p50, p99 and max, one line each. */
  timeline(start: number, windowMs: number): string[] {
    const windows = new Map<number, number[]>();
    this.values.forEach((v, i) => {
      const w = Math.floor((this.times[i]! - start) / windowMs);
      if (!Number.isFinite(w)) return;
      const list = windows.get(w) ?? [];
      list.push(v);
      windows.set(w, list);
    });
    return [...windows.entries()]
      .sort(([a], [b]) => a - b)
      .map(([w, list]) => {
        const sorted = list.sort((x, y) => x - y);
        const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
        return `  ${String(w * windowMs).padStart(6)} ms  n ${String(sorted.length).padStart(4)}  p50 ${fmt(at(50)).padStart(6)}  p99 ${fmt(at(99)).padStart(6)}  max ${fmt(sorted[sorted.length - 1]!).padStart(6)}`;
      });
  }
  get count(): number {
    return this.values.length;
  }
  percentile(p: number): number {
    if (this.values.length === 0) return NaN;
    const sorted = [...this.values].sort((x, y) => x - y);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  }
}

/** Where replies are awaited: key → send times, oldest first. */
class Pending {
  private byKey = new Map<string, number[]>();
  sent(key: string, at: number): void {
    const list = this.byKey.get(key);
    this.total += 1;
    if (list) list.push(at);
    else this.byKey.set(key, [at]);
  }
  /** Forgets a message sent at `at` that the server refused or never answered: no reply is owed. */
  failed(key: string, at: number): void {
    const list = this.byKey.get(key);
    const i = list?.indexOf(at) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    if (list!.length === 0) this.byKey.delete(key);
    this.total -= 1;
  }
  /** The send time of the oldest unanswered message under `key`. */
  answered(key: string): number | undefined {
    const list = this.byKey.get(key);
    const at = list?.shift();
    if (list && list.length === 0) this.byKey.delete(key);
    return at;
  }
  /** Messages sent since the last clear (answered or not). */
  total = 0;
  clear(): void {
    this.byKey.clear();
    this.total = 0;
  }
}

interface PassResult {
  /** Which round of the run (1…ROUNDS). */
  round: number;
  name: string;
  system: string;
  instances: number;
  mode: string;
  seconds: number;
  requests: number;
  ok: number;
  failed: number;
  ackPerSecond: number;
  ack: { p50: number; p99: number };
  /** Replies that reached the fake platform during the pass. */
  repliesInPass: number;
  replyPerSecond: number;
  reply: { p50: number; p99: number };
  /** Replies still missing when the pass ended, and how long they took to arrive. */
  backlog: number;
  drainMs: number;
  /** Replies received in total, and messages sent (including those in flight when the load stopped). */
  replies: number;
  sent: number;
  /** CPU time of the server processes (and of PostgreSQL) per message sent. */
  cpuMsPerMessage: number;
  pgCpuMsPerMessage: number;
  /** CPU time of the load generator (this process) and of the fake platforms per message sent. */
  loadCpuMsPerMessage: number;
  platformCpuMsPerMessage: number;
  /** Fixed-rate passes: p99 of how late requests left the generator (ms after they were due). */
  generatorLagP99: number;
}

/** What a pass sends and how a reply is recognised. */
interface Workload {
  system: string;
  /** Base URLs; connections (and a fixed rate) are split evenly between them. */
  targets: string[];
  path: string;
  /** The next request: the body, headers and the key its reply will carry (if any). */
  build(): { body: string; headers: Record<string, string>; key?: string };
  /** Builds about `count` requests ahead of a pass, so that signing them is not measured (nor slows the load). */
  prepare?(count: number): void;
  /** The platform side: replies per key. Undefined for a system that does not reply (hello). */
  replies?: Pending;
  /** The server processes whose CPU time is charged to the messages. */
  pids: number[];
  /** Also charge PostgreSQL's server processes. */
  postgres?: boolean;
}

/** The fake platforms record reply arrival times here. */
const replyTimes: { samples: Samples; received: number; inPass: number; passStart: number; passEnd: number } = {
  samples: new Samples(),
  received: 0,
  inPass: 0,
  passStart: -Infinity,
  passEnd: Infinity,
};

function recordReply(pending: Pending, key: string, at: number): void {
  const sentAt = pending.answered(key);
  if (sentAt === undefined) return;
  replyTimes.received += 1;
  if (sentAt >= replyTimes.passStart && at <= replyTimes.passEnd) {
    replyTimes.inPass += 1;
    replyTimes.samples.add(at - sentAt, sentAt);
  }
}

async function runAutocannon(
  workload: Workload,
  options: { seconds: number; connections: number },
): Promise<{ requests: number; ok: number; failed: number; ack: Samples; lag?: Samples }> {
  const ack = new Samples();
  const n = workload.targets.length;
  let ok = 0;
  let failed = 0;
  const runs = workload.targets.map(
    (target) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: target,
            connections: Math.max(1, Math.round(options.connections / n)),
            duration: options.seconds,
            requests: [
              {
                method: 'POST',
                path: workload.path,
                setupRequest: (request, context) => {
                  const built = workload.build();
                  const at = clockMs();
                  (context as { sentAt?: number }).sentAt = at;
                  if (built.key && workload.replies) workload.replies.sent(built.key, at);
                  return { ...request, method: 'POST', path: workload.path, body: built.body, headers: built.headers };
                },
                onResponse: (status, _body, context) => {
                  const sentAt = (context as { sentAt?: number }).sentAt;
                  if (status >= 200 && status < 300) ok += 1;
                  else failed += 1;
                  if (sentAt !== undefined) ack.add(clockMs() - sentAt);
                },
              },
            ],
          },
          (err, result) => (err ? reject(err) : resolve(result)),
        );
        void instance;
      }),
  );
  const results = await Promise.all(runs);
  const requests = results.reduce((s, r) => s + r.requests.total, 0);
  const errors = results.reduce((s, r) => s + r.errors + r.timeouts, 0);
  return { requests, ok, failed: failed + errors, ack };
}

/**
 * A fixed-rate pass (open loop, see open-loop.ts). autocannon's own rate limit is not used for
 * this: it lets each connection send its whole second's share back to back and then wait, which
 * measures a burst at full concurrency once a second rather than a steady rate.
 */
/** Every request of a fixed-rate pass, built before it (signing included), with its target. */
function planOpenLoop(workload: Workload, options: { seconds: number; rate: number }): Array<{ raw: RawRequest; key?: string }> {
  const targets = workload.targets.map((t) => new URL(t));
  return Array.from({ length: Math.round(options.seconds * options.rate) }, (_, i) => {
    const built = workload.build();
    return { raw: rawPost(targets[i % targets.length]!, workload.path, built.headers, built.body), key: built.key };
  });
}

async function runOpenLoop(
  workload: Workload,
  requests: Array<{ raw: RawRequest; key?: string }>,
  rate: number,
  /** The first `measureFrom` requests are a lead-in: sent like the others, not measured; `onMeasure` runs as the first measured one is due. */
  lead: { measureFrom: number; onMeasure: (at: number) => void },
): Promise<{ requests: number; ok: number; failed: number; ack: Samples; lag: Samples }> {
  const ack = new Samples();
  /** How late each request left (ms after it was due): the generator's own share of the latencies. */
  const lag = new Samples();
  const pools = workload.targets.map((t) => new ConnectionPool(new URL(t), CONNECTIONS));
  const total = requests.length;
  const interval = 1000 / rate;
  let ok = 0;
  let failed = 0;
  /** Why requests failed (lead-in included): a status, or the connection's error code. */
  const failures = new Map<string, number>();
  let answered = 0;
  let allAnswered!: () => void;
  const finished = new Promise<void>((resolve) => (allAnswered = resolve));
  const start = clockMs();
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    // Wake about every millisecond and send whatever has come due (no busy waiting: the
    // generator shares the machine's cores with the servers it measures).
    const wait = due - clockMs();
    if (wait > 0) await sleep(Math.max(1, Math.ceil(wait)));
    const { raw, key } = requests[i]!;
    const measured = i >= lead.measureFrom;
    if (i === lead.measureFrom) lead.onMeasure(due);
    if (measured) lag.add(clockMs() - due);
    if (key && workload.replies) workload.replies.sent(key, due);
    pools[i % pools.length]!.send(raw, (outcome: Outcome) => {
      const success = 'status' in outcome && outcome.status >= 200 && outcome.status < 300;
      if (!success && key && workload.replies) workload.replies.failed(key, due);
      if (!success) {
        const reason = 'status' in outcome ? `HTTP ${outcome.status}` : ((outcome.error as NodeJS.ErrnoException).code ?? outcome.error.message);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
      if (measured) {
        if (success) ok += 1;
        else failed += 1;
        if ('status' in outcome) ack.add(clockMs() - due, due);
      }
      if (++answered === total) allAnswered();
    });
  }
  if (total > 0) await finished;
  for (const pool of pools) pool.close();
  if (failures.size > 0) console.log(`  failed requests: ${[...failures].map(([why, n]) => `${why} ×${n}`).join(', ')}`);
  return { requests: total - lead.measureFrom, ok, failed, ack, lag };
}

/** One autocannon run, then waiting for every acknowledged message's reply. */
async function phase(workload: Workload, seconds: number, rate?: number) {
  workload.replies?.clear();
  replyTimes.samples = new Samples();
  replyTimes.received = 0;
  replyTimes.inPass = 0;
  replyTimes.passEnd = Infinity;
  // Enough requests for the pass built ahead (beyond that, built on demand).
  const leadIn = rate ? LEAD_IN_SECONDS : 0;
  workload.prepare?.(Math.ceil((leadIn + seconds) * (rate ?? PREPARED_PER_SECOND_AT_MAX) * 1.2));
  const plan = rate ? planOpenLoop(workload, { seconds: leadIn + seconds, rate }) : undefined;
  replyTimes.passStart = rate ? Infinity : -Infinity;
  let cpuBefore = 0;
  let loadBefore = 0;
  let platformBefore = 0;
  let pgBefore = 0;
  let started = 0;
  const measure = (at: number) => {
    cpuBefore = cpuMs(workload.pids);
    loadBefore = cpuMs([process.pid]);
    platformBefore = cpuMs(platformPids);
    pgBefore = workload.postgres ? postgresCpuMs() : 0;
    started = at;
    replyTimes.passStart = at;
  };
  let run: { requests: number; ok: number; failed: number; ack: Samples; lag?: Samples };
  if (plan && rate) {
    run = await runOpenLoop(workload, plan, rate, { measureFrom: Math.round(leadIn * rate), onMeasure: measure });
  } else {
    measure(clockMs());
    run = await runAutocannon(workload, { seconds, connections: CONNECTIONS });
  }
  const ended = clockMs();
  if (TIMELINE && rate) {
    console.log(`${workload.system}, ${rate} msg/s, acks by send time (window ${TIMELINE} ms):\n${run.ack.timeline(started, TIMELINE).join('\n')}`);
  }
  replyTimes.passEnd = ended;
  const inPass = replyTimes.inPass;
  let drainMs = 0;
  if (workload.replies) {
    const drainStart = clockMs();
    await waitUntil(() => replyTimes.received >= (workload.replies?.total ?? 0), DRAIN_TIMEOUT_MS, 20);
    drainMs = replyTimes.received > inPass ? clockMs() - drainStart : 0;
    // Anything arriving now would be a duplicate: give it a moment to show.
    await sleep(300);
  }
  if (TIMELINE && rate && workload.replies) {
    console.log(`${workload.system}, ${rate} msg/s, replies by send time:\n${replyTimes.samples.timeline(started, TIMELINE).join('\n')}`);
  }
  // Messages of the measured part (a fixed-rate pass's lead-in excluded).
  const sent = rate ? run.requests : (workload.replies?.total ?? run.requests);
  const cpu = (cpuMs(workload.pids) - cpuBefore) / Math.max(1, sent);
  const pgCpu = workload.postgres ? (postgresCpuMs() - pgBefore) / Math.max(1, sent) : NaN;
  const loadCpu = (cpuMs([process.pid]) - loadBefore) / Math.max(1, sent);
  const platformCpu = (cpuMs(platformPids) - platformBefore) / Math.max(1, sent);
  return { run, seconds: (ended - started) / 1000, inPass, drainMs, cpu, pgCpu, loadCpu, platformCpu };
}

async function pass(name: string, workload: Workload, instances: number, options: { rate?: number; warmup?: boolean; round?: number } = {}): Promise<PassResult> {
  if (options.warmup) await phase(workload, WARMUP_SECONDS);
  const { run, seconds, inPass, drainMs, cpu, pgCpu, loadCpu, platformCpu } = await phase(workload, DURATION, options.rate);
  const result: PassResult = {
    round: options.round ?? 1,
    name,
    system: workload.system,
    instances,
    mode: options.rate ? `${options.rate} msg/s` : 'max',
    seconds,
    requests: run.requests,
    ok: run.ok,
    failed: run.failed,
    ackPerSecond: run.ok / seconds,
    ack: { p50: run.ack.percentile(50), p99: run.ack.percentile(99) },
    repliesInPass: inPass,
    replyPerSecond: workload.replies ? inPass / seconds : NaN,
    reply: { p50: replyTimes.samples.percentile(50), p99: replyTimes.samples.percentile(99) },
    backlog: workload.replies ? Math.max(0, run.ok - inPass) : 0,
    drainMs,
    replies: workload.replies ? replyTimes.received : run.ok,
    sent: workload.replies?.total ?? run.requests,
    cpuMsPerMessage: cpu,
    pgCpuMsPerMessage: pgCpu,
    loadCpuMsPerMessage: loadCpu,
    platformCpuMsPerMessage: platformCpu,
    generatorLagP99: run.lag ? run.lag.percentile(99) : NaN,
  };
  console.log(
    `${name.padEnd(34)} ${result.mode.padEnd(11)} ack ${fmt(result.ackPerSecond, 0)}/s p50 ${fmt(result.ack.p50)} p99 ${fmt(result.ack.p99)} ms | ` +
      `reply ${fmt(result.replyPerSecond, 0)}/s p50 ${fmt(result.reply.p50)} p99 ${fmt(result.reply.p99)} ms | failed ${result.failed} backlog ${result.backlog} (${fmt(result.drainMs, 0)} ms) replies ${result.replies}/${result.sent} sent | cpu ${fmt(cpu, 3)} ms/msg + pg ${fmt(pgCpu, 3)} | load generator ${fmt(loadCpu, 3)} + fake platforms ${fmt(platformCpu, 3)} ms/msg${Number.isFinite(result.generatorLagP99) ? ` | sent late p99 ${fmt(result.generatorLagP99)} ms` : ''}`,
  );
  return result;
}

const TICKS_PER_SECOND = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process from /proc, in ms (0 once it has exited). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** The fake platforms' process, once started. */
const platformPids: number[] = [];

function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/** CPU time of every PostgreSQL server process (includes other users of the server). */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch (err) {
      // The process ended while we looked.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw err;
    }
    if (comm === 'postgres') total += processCpuMs(Number(entry));
  }
  return total;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

// ───────────────────────────── workloads ─────────────────────────────

/** A request builder with requests built ahead (`prepare`), falling back to building on demand. */
function prepared(make: () => { body: string; headers: Record<string, string>; key?: string }): Pick<Workload, 'build' | 'prepare'> {
  let ready: Array<ReturnType<typeof make>> = [];
  let next = 0;
  return {
    build: () => (next < ready.length ? ready[next++]! : make()),
    prepare(count) {
      ready = Array.from({ length: count }, make);
      next = 0;
    },
  };
}

function messengerWorkload(system: string, instances: Instance[], graphReplies: Pending, postgres: boolean): Workload {
  let n = 0;
  const run = Date.now().toString(36);
  return {
    system,
    targets: instances.map((i) => i.url),
    pids: instances.map((i) => i.child.pid!),
    postgres,
    path: '/webhooks/messenger',
    replies: graphReplies,
    ...prepared(() => {
      n += 1;
      const psid = psidOf(n % CUSTOMERS);
      const { raw, headers } = signedDelivery(psid, QUESTIONS[n % QUESTIONS.length]!, `m_bench_${run}_${n}`);
      return { body: raw, headers, key: psid };
    }),
  };
}

function psidOf(i: number): string {
  return `66${String(i).padStart(12, '0')}`;
}

function echoWorkload(server: Instance, serviceUrl: string, replies: Pending): Workload {
  let n = 0;
  return {
    system: 'botbuilder echo bot',
    targets: [server.url],
    pids: [server.child.pid!],
    path: '/api/messages',
    replies,
    ...prepared(() => {
      n += 1;
      const id = `act-${n}`;
      const activity = userMessage({ serviceUrl, text: QUESTIONS[n % QUESTIONS.length]!, id, conversationId: `conv-${n % CUSTOMERS}`, userId: `user-${n % CUSTOMERS}` });
      return { body: JSON.stringify(activity), headers: { 'content-type': 'application/json' }, key: id };
    }),
  };
}

function helloWorkload(server: Instance): Workload {
  return {
    system: 'bare restify POST',
    targets: [server.url],
    pids: [server.child.pid!],
    path: '/hello',
    build: () => ({ body: JSON.stringify({ text: 'ciao' }), headers: { 'content-type': 'application/json' } }),
  };
}

/** Starts the fake platforms in their own process and routes their reply reports. */
async function startPlatforms(graphReplies: Pending, connectorReplies: Pending): Promise<{ graphOrigin: string; serviceUrl: string; stop(): void }> {
  const child = fork(join(ROOT, 'bench/e2e/fake-platforms.ts'), [String(CUSTOMERS), '66'], {
    execArgv: ['--import', 'tsx', '--disable-warning=DEP0111'],
    env: childEnv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fake platforms exited (${code}) before they were ready`)));
    child.on('message', (message: PlatformMessage) => {
      if (message.type === 'ready') {
        platformPids.push(child.pid!);
        resolve({ graphOrigin: message.graphOrigin, serviceUrl: message.serviceUrl, stop: () => child.disconnect() });
        return;
      }
      const pending = message.system === 'graph' ? graphReplies : connectorReplies;
      for (const [key, at] of message.arrivals) recordReply(pending, key, at);
    });
  });
}

// ───────────────────────────── the run ─────────────────────────────

const wanted = (name: string) => !ONLY || ONLY.includes(name);

async function main(): Promise<void> {
  const startedAt = new Date();
  const load = os.loadavg();
  const results: PassResult[] = [];
  const graphReplies = new Pending();
  const connectorReplies = new Pending();
  const platforms = await startPlatforms(graphReplies, connectorReplies);
  const cleanups: Array<() => Promise<void> | void> = [];
  const profileDir = join(os.tmpdir(), 'sportello-bench-profiles');
  const nodeArgs = (name: string) => [...NODE_ARGS, ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [])];
  if (PROFILE) mkdirSync(profileDir, { recursive: true });

  /** The system's passes: saturating load (after a warm-up), then the fixed rate. */
  const passes = async (name: string, workload: Workload, instances: number, round: number) => {
    const max = LOADS.includes('max');
    if (max) results.push(await pass(name, workload, instances, { warmup: true, round }));
    if (LOADS.includes('rate')) results.push(await pass(name, workload, instances, { rate: RATE, warmup: !max, round }));
  };

  try {
    if (wanted('hello')) {
      const port = await freePort();
      const hello = await startProcess('hello', ['--import', 'tsx', '--disable-warning=DEP0111', join(ROOT, 'bench/e2e/hello-server.ts'), String(port)], { port, env: childEnv() });
      results.push(await pass('bare restify POST (hello)', helloWorkload(hello), 1, { warmup: true }));
      await hello.stop();
    }
    // Every system once per round, so that each round's ratios compare runs made minutes apart.
    for (let round = 1; round <= ROUNDS; round++) {
      if (ROUNDS > 1) console.log(`— round ${round} of ${ROUNDS}`);
      if (wanted('echo')) {
        const port = await freePort();
        const echo = await startProcess('echo bot', ['--import', 'tsx', '--disable-warning=DEP0111', join(ROOT, 'bench/e2e/echo-bot.ts'), String(port)], { port, env: childEnv() });
        const workload = echoWorkload(echo, platforms.serviceUrl, connectorReplies);
        await passes('botbuilder echo bot', workload, 1, round);
        await echo.stop();
      }
      if (wanted('lowdb')) {
        const data = tempDataDir();
        cleanups.push(() => data.cleanup());
        const a = await startInstance('lowdb', { dataFile: data.dataFile, graphOrigin: platforms.graphOrigin, extra: INSTANCE_SETTINGS }, { nodeArgs: round === 1 ? nodeArgs('lowdb') : [] });
        const workload = messengerWorkload('Sportello, lowdb', [a], graphReplies, false);
        await passes('Sportello lowdb ×1', workload, 1, round);
        await a.stop();
      }
      for (const count of [1, 2]) {
        if (!wanted(`pg${count}`)) continue;
        const db: TestDatabase = await createTestDatabase('sportello_bench');
        cleanups.push(() => db.drop());
        // BENCH_PG_SOCKET=1: the instances reach PostgreSQL through its Unix socket (same machine).
        const databaseUrl = PG_SOCKET ? `${db.url}?host=${encodeURIComponent(PG_SOCKET)}` : db.url;
        const deployment: DeploymentEnv = { databaseUrl, graphOrigin: platforms.graphOrigin, extra: INSTANCE_SETTINGS };
        const instances: Instance[] = [];
        // One after the other: the first applies the migrations.
        for (let i = 0; i < count; i++) instances.push(await startInstance(`pg${count}-${i}`, deployment, { nodeArgs: round === 1 ? nodeArgs(`pg${count}-${i}`) : [] }));
        const workload = messengerWorkload('Sportello, PostgreSQL', instances, graphReplies, true);
        await passes(`Sportello PostgreSQL ×${count}`, workload, count, round);
        await Promise.all(instances.map((i) => i.stop()));
        await db.drop();
        cleanups.pop();
      }
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
    platforms.stop();
  }
  writeReport(results, startedAt, load);
}

function childEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir() };
}

/** Everything after this line in bench/results/e2e.md is kept across runs. */
const ANALYSIS_MARKER = '<!-- analysis: kept across runs -->';

function writeReport(results: PassResult[], startedAt: Date, load: number[]): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let postgres = 'not measured';
  try {
    postgres = execSync('psql -h 127.0.0.1 -U postgres -Atc "show server_version"', { encoding: 'utf8' }).trim();
  } catch (err) {
    postgres = `unknown (${(err as Error).message.split('\n')[0]})`;
  }
  const cpuCell = (r: PassResult) => (Number.isFinite(r.pgCpuMsPerMessage) ? `${fmt(r.cpuMsPerMessage, 2)} + ${fmt(r.pgCpuMsPerMessage, 2)}` : fmt(r.cpuMsPerMessage, 2));
  const perCore = (r: PassResult) => fmt(1000 / (r.cpuMsPerMessage + (Number.isFinite(r.pgCpuMsPerMessage) ? r.pgCpuMsPerMessage : 0)), 0);
  const row = (r: PassResult) =>
    `| ${r.name} | ${r.mode} | ${fmt(r.ackPerSecond, 0)} | ${fmt(r.ack.p50)} | ${fmt(r.ack.p99)} | ${Number.isFinite(r.replyPerSecond) ? fmt(r.replyPerSecond, 0) : '–'} | ${fmt(r.reply.p50)} | ${fmt(r.reply.p99)} | ${r.failed} | ${r.backlog > 0 ? `${r.backlog} (${fmt(r.drainMs / 1000)} s)` : '0'} | ${Number.isFinite(r.replyPerSecond) ? `${r.replies}/${r.sent}` : '–'} | ${cpuCell(r)} | ${perCore(r)} | ${fmt(r.loadCpuMsPerMessage, 2)} + ${fmt(r.platformCpuMsPerMessage, 2)} |`;
  // One row per system and load: the round with the median rate (an actual run, not a blend).
  const groups = new Map<string, PassResult[]>();
  for (const r of results) {
    const key = `${r.name}\u0000${r.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rate = (r: PassResult) => (Number.isFinite(r.replyPerSecond) ? r.replyPerSecond : r.ackPerSecond);
  // A fixed-rate pass has the same rate every round: its representative is the round with the median reply p99 (ack p99 without replies).
  const tail = (r: PassResult) => (Number.isFinite(r.reply.p99) ? r.reply.p99 : r.ack.p99);
  const medianOf = (list: PassResult[]) =>
    [...list].sort((a, b) => (a.mode === 'max' ? rate(a) - rate(b) : tail(a) - tail(b)))[Math.floor((list.length - 1) / 2)]!;
  const representative = [...groups.values()].map(medianOf);
  const byRound = (name: string, mode = 'max') => (groups.get(`${name}\u0000${mode}`) ?? []).sort((a, b) => a.round - b.round);
  const median = (values: number[]) => {
    const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const rounds = [...new Set(results.map((r) => r.round))].sort((a, b) => a - b);
  const inRound = (name: string, round: number, mode = 'max') => results.find((r) => r.name === name && r.mode === mode && r.round === round);
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**missed**');
  const totalCpu = (r: PassResult) => r.cpuMsPerMessage + (Number.isFinite(r.pgCpuMsPerMessage) ? r.pgCpuMsPerMessage : 0);
  /** Per round: Sportello's replies/s ÷ the echo bot's in the same round (and the same per CPU core). */
  const ratios = (name: string) =>
    rounds.flatMap((round) => {
      const a = inRound(name, round);
      const b = inRound('botbuilder echo bot', round);
      return a && b ? [{ rate: a.replyPerSecond / b.replyPerSecond, core: totalCpu(b) / totalCpu(a) }] : [];
    });
  const target = (name: string, label: string, goal: number) => {
    const list = ratios(name);
    if (list.length === 0) return `- ${label} ≥ ${goal} × the echo bot (replies/s): not measured`;
    const m = median(list.map((x) => x.rate));
    return `- ${label} ≥ ${goal} × the echo bot (replies/s): median ${fmt(m, 2)} × over ${list.length} round(s) (${list.map((x) => fmt(x.rate, 2)).join(', ')}) → ${verdict(m >= goal)} (per CPU core: median ${fmt(median(list.map((x) => x.core)), 2)} ×)`;
  };
  const latencyTargets = [...new Set(results.filter((r) => r.mode !== 'max' && r.name.startsWith('Sportello')).map((r) => r.name))].map((name) => {
    const list = byRound(name, `${RATE} msg/s`);
    const ack = median(list.map((r) => r.ack.p99));
    const reply = median(list.map((r) => r.reply.p99));
    return `- p99 ≤ 50 ms at ${RATE} msg/s, ${name}: ack p99 median ${fmt(ack)} ms (${list.map((r) => fmt(r.ack.p99)).join(', ')}) → ${verdict(ack <= 50)}; reply p99 median ${fmt(reply)} ms (${list.map((r) => fmt(r.reply.p99)).join(', ')}) → ${verdict(reply <= 50)}`;
  });
  const roundRows = rounds.map((round) => {
    const cell = (name: string) => {
      const r = inRound(name, round);
      return r ? fmt(r.replyPerSecond, 0) : '–';
    };
    const ratioCell = (name: string) => {
      const a = inRound(name, round);
      const b = inRound('botbuilder echo bot', round);
      return a && b ? `${fmt(a.replyPerSecond / b.replyPerSecond, 2)} ×` : '–';
    };
    return `| ${round} | ${cell('botbuilder echo bot')} | ${cell('Sportello lowdb ×1')} | ${ratioCell('Sportello lowdb ×1')} | ${cell('Sportello PostgreSQL ×1')} | ${cell('Sportello PostgreSQL ×2')} | ${ratioCell('Sportello PostgreSQL ×2')} |`;
  });
  const lines = [
    '# End-to-end benchmark: webhook in → classify → reply out',
    '',
    `Run ${startedAt.toISOString()} on ${os.cpus().length} × ${cpu}, Node ${process.version}, PostgreSQL ${postgres}, load average at start ${load.map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min; the machine is shared).`,
    '',
    `Command: \`npm run bench:e2e\` (= \`node --import tsx bench/e2e/run.ts\`; BENCH_ROUNDS=${ROUNDS} BENCH_DURATION=${DURATION} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_RATE=${RATE} BENCH_LEAD_IN=${LEAD_IN_SECONDS}${ONLY ? ` BENCH_ONLY=${ONLY.join(',')}` : ''}${Object.entries(INSTANCE_SETTINGS).map(([k, v]) => ` BENCH_SET_${k}=${v}`).join('')}).`,
    '',
    `${ROUNDS} round(s); in each, every system is started afresh and measured once. The main table shows, per system and load, the round with the median rate (at the fixed rate: the median reply p99). Each pass: autocannon, ${CONNECTIONS} connections (split evenly between instances), ${DURATION} s, after a ${WARMUP_SECONDS} s warm-up; then ${RATE} msg/s at evenly spaced moments for ${LEAD_IN_SECONDS} s not measured (the recovery from the saturating pass) and ${DURATION} s measured (open loop: each request's bytes written to an idle keep-alive connection, bench/e2e/open-loop.ts; latency counted from when each request was due, so the generator's own lateness counts, and is shown under the targets). Requests are built and signed before each pass.`,
    'Sportello gets real signed Messenger webhooks (`X-Hub-Signature-256`, one unique `mid` each, from 5,000 customers in turn, six FAQ questions in Italian and English) and',
    'sends each FAQ answer through the Send API of the fake Graph API; the echo bot gets Bot Framework activities and replies through a fake Bot Connector.',
    'Every server runs in its own process, the fake platforms in another and autocannon in a last one — all on the same two cores.',
    '',
    '- **ack**: HTTP response to the webhook (Sportello answers 200 once the message is durably recorded; processing continues after, except on PostgreSQL while few turns are under way, where the turn\'s own commit records the message).',
    '- **reply**: from sending the webhook to the reply reaching the fake platform (the figure the customer feels).',
    '- **msg/s (reply)**: replies that reached the platform during the pass ÷ its duration — the sustained end-to-end rate.',
    '- **backlog**: acknowledged messages still unanswered when the load stopped (and how long they took to be answered).',
    '- **CPU ms/msg**: CPU time (user + system, from /proc) the server processes used during the pass ÷ messages sent; for PostgreSQL, plus the CPU of all',
    '  `postgres` processes (other users of the server included). **msg/s per CPU core** = 1000 ÷ that: what one free core would sustain. On a shared',
    '  machine this is steadier than the rates, which depend on what else runs.',
    '',
    '| system | load | msg/s (ack) | ack p50 ms | ack p99 ms | msg/s (reply) | reply p50 ms | reply p99 ms | errors | backlog | replies/sent | CPU ms/msg (server + PostgreSQL) | msg/s per CPU core | CPU ms/msg (load generator + fake platforms) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...representative.map(row),
    '',
    `Replies/s under saturating load, round by round (each round runs every system once, in this order):`,
    '',
    '| round | echo bot | lowdb ×1 | lowdb ÷ echo | PostgreSQL ×1 | PostgreSQL ×2 | PostgreSQL ×2 ÷ echo |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...roundRows,
    '',
    '## Targets',
    '',
    target('Sportello lowdb ×1', 'lowdb', 2),
    target('Sportello PostgreSQL ×2', 'PostgreSQL with 2 instances', 1.5),
    ...latencyTargets,
    '',
    `How late the generator sent at ${RATE} msg/s (p99 of send time − due time, ms, round by round): ${[...new Set(results.filter((r) => Number.isFinite(r.generatorLagP99)).map((r) => r.name))]
      .map((name) => `${name} ${byRound(name, `${RATE} msg/s`).map((r) => fmt(r.generatorLagP99)).join(', ')}`)
      .join('; ')}.`,
    '',
  ];
  const file = join(ROOT, 'bench/results/e2e.md');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  // The hand-written analysis below the marker survives a new run.
  let analysis = '';
  try {
    const previous = readFileSync(file, 'utf8');
    const at = previous.indexOf(ANALYSIS_MARKER);
    if (at >= 0) analysis = previous.slice(at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(file, lines.join('\n') + (analysis ? `\n${analysis}` : ''));
  console.log(`\nwrote ${file}`);
}

await main();
