/**
 * @module bench/resilience/graph-hang
 * Scenario: web chat reply latency while the Graph API hangs (target ≤ 2 s).
 *
 * A real Sportello (createSportello: lowdb, the project's FAQ, Messenger and the web chat on,
 * production time limits and send slots) talks to the fake Graph API, which accepts every
 * connection and never answers. Messenger customers write first (more replies than Messenger has
 * send slots, and more than the single 128-slot window there used to be), so every Graph call
 * hangs; then web chat visitors ask, one every `intervalMs` for `visitors` visitors, each over its
 * own event stream, and the time from POST /chat/api/messages to the reply on the stream is
 * measured. The run spans the Graph calls' timeout (10 s) and the circuit opening.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSportello } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/ports.js';
import { createSilentLogger } from '../../src/util/logger.js';
import { messengerEnv, PAGE_ID, startFakeGraph } from '../../tests/channels/messenger/helpers.js';
import { pageWebhook, textEvent } from '../../tests/fakes/graph-api/payloads.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');
const QUESTIONS = ['Quali sono i vostri orari?', 'what are your opening hours?', 'come posso pagare?', 'how long does shipping take?'];

/** What the scenario measured. */
export interface GraphHangFigures {
  scenario: string;
  targetMs: number;
  messengerCustomers: number;
  visitors: number;
  replies: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Graph calls held open (no answer) when the first visitor asked, and at the end. */
  graphOpenAtStart: number;
  graphOpenAtEnd: number;
  /** Messenger's circuit at the end (open: paused after the timeouts). */
  messengerCircuit: string;
  durationMs: number;
  met: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One visitor: opens the event stream, asks, and resolves with the ms until the reply arrived (undefined: none within 30 s). */
async function visitorLatency(base: string, text: string): Promise<number | undefined> {
  const controller = new AbortController();
  const killer = setTimeout(() => controller.abort(), 30_000);
  try {
    const opened = await fetch(`${base}/chat/api/sessions`, { method: 'POST', signal: controller.signal });
    if (opened.status !== 201) return undefined;
    const { session } = (await opened.json()) as { session: string };
    const stream = await fetch(`${base}/chat/api/events?session=${session}`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    const started = performance.now();
    const posted = await fetch(`${base}/chat/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session, id: `bench-${randomUUID()}`, text }),
      signal: controller.signal,
    });
    if (posted.status !== 202) return undefined;
    let received = '';
    while (!received.includes('event: reply')) {
      const next = await reader.read();
      if (next.done) return undefined;
      received += new TextDecoder().decode(next.value);
    }
    return performance.now() - started;
  } catch {
    return undefined;
  } finally {
    clearTimeout(killer);
    controller.abort();
  }
}

/** Runs the scenario; resolves with its figures. */
export async function graphHang(options: { messengerCustomers?: number; visitors?: number; intervalMs?: number } = {}): Promise<GraphHangFigures> {
  const messengerCustomers = options.messengerCustomers ?? 200;
  const visitors = options.visitors ?? 60;
  const intervalMs = options.intervalMs ?? 250;
  const graph = await startFakeGraph(systemClock);
  const dir = mkdtempSync(join(tmpdir(), 'sportello-bench-resilience-'));
  const config = loadConfig({
    SPORTELLO_DATA: join(dir, 'data.json'),
    FAQ_DIR: join(ROOT, 'faq'),
    INTENTS_DIR: join(ROOT, 'intents'),
    FAQ_WATCH: 'false',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...messengerEnv(graph.origin),
    // Every visitor comes from 127.0.0.1 here: the web chat's per-address limits are not what this measures.
    WEBCHAT_ADDRESS_SESSIONS_PER_HOUR: '100000',
    WEBCHAT_ADDRESS_MESSAGES_PER_MINUTE: '100000',
    WEBCHAT_ADDRESS_STREAMS: '100000',
  });
  const app = await createSportello({ config, logger: createSilentLogger() });
  const started = performance.now();
  try {
    const base = await app.listen(0, '127.0.0.1');
    graph.hang('before');
    const psids = Array.from({ length: messengerCustomers }, (_, i) => `6200${String(i).padStart(10, '0')}`);
    for (const psid of psids) graph.userWrote(psid, new Date());
    const delivered = await graph.deliver(
      `${base}/webhooks/messenger`,
      pageWebhook(PAGE_ID, { messaging: psids.map((psid, i) => textEvent(PAGE_ID, psid, QUESTIONS[i % QUESTIONS.length]!, { mid: `m_bench_${psid}` })) }),
    );
    if (delivered.status !== 200) throw new Error(`the Messenger webhook answered ${delivered.status}`);
    await app.pipeline.idle();
    // Wait (on the fake's own count, not a fixed sleep) until Graph calls hang.
    while (graph.openRequests() === 0) await new Promise((r) => setTimeout(r, 10));
    const graphOpenAtStart = graph.openRequests();

    const runs: Array<Promise<number | undefined>> = [];
    for (let i = 0; i < visitors; i++) {
      runs.push(visitorLatency(base, QUESTIONS[i % QUESTIONS.length]!));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const latencies = (await Promise.all(runs)).filter((l): l is number => l !== undefined).sort((a, b) => a - b);
    const figures: GraphHangFigures = {
      scenario: 'web chat reply latency while the Graph API hangs',
      targetMs: 2000,
      messengerCustomers,
      visitors,
      replies: latencies.length,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      graphOpenAtStart,
      graphOpenAtEnd: graph.openRequests(),
      messengerCircuit: app.sender.health()['messenger']?.circuit ?? 'unknown',
      durationMs: performance.now() - started,
      met: false,
    };
    figures.met = figures.replies === visitors && figures.p99Ms <= figures.targetMs;
    return figures;
  } finally {
    graph.hang(false);
    graph.dropHeld();
    await app.close();
    await graph.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
