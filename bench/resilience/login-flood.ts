/**
 * @module bench/resilience/login-flood
 * What Meta feels while someone floods the login route: the Messenger webhook's acknowledgement
 * latency (signed POST → 200) at a steady rate, first alone, then during a flood of 200
 * concurrent logins with made-up names (each answered login is replaced at once, so 200 stay in
 * flight). The server is a real `sportello start` process on the embedded store, the Messenger
 * channel pointed at the fake Graph API on 127.0.0.1. Target: p99 ≤ 1 s during the flood (Meta
 * gives 20 s; before the hashing pool, 120 such logins pushed it to 4–13 s).
 */
import { performance } from 'node:perf_hooks';
import { signedDelivery, startGraph, startInstance, tempDataDir } from '../../tests/e2e/harness.js';

/** What one run measured. */
export interface LoginFloodFigures {
  scenario: string;
  /** Webhook deliveries per second, evenly spaced. */
  webhookRate: number;
  /** Seconds each phase lasted. */
  seconds: number;
  concurrentLogins: number;
  /** Acknowledgement latency (ms) without the flood. */
  quiet: LatencyFigures;
  /** Acknowledgement latency (ms) during the flood. */
  flood: LatencyFigures;
  /** Login answers during the flood, by status, and their median latency (ms). */
  logins: { byStatus: Record<string, number>; total: number; perSecond: number; medianMs: number };
  /** Target on the flood's p99 (ms), and whether it was met. */
  targetP99Ms: number;
  met: boolean;
}

export interface LatencyFigures {
  count: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function figures(latencies: number[], failed: number): LatencyFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { count: sorted.length, failed, p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1] ?? NaN) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sends signed webhooks at `rate` per second for `seconds`; the acknowledgement latencies. */
async function webhooks(url: string, rate: number, seconds: number, prefix: string): Promise<LatencyFigures> {
  const latencies: number[] = [];
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const psid = `77${String(i % 50).padStart(13, '0')}`;
    const delivery = signedDelivery(psid, 'quali sono i vostri orari?', `m_${prefix}_${i}`);
    // Latency from when the delivery was due, so a stalled sender counts too.
    pending.push(
      fetch(`${url}/webhooks/messenger`, { method: 'POST', headers: delivery.headers, body: delivery.raw })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) latencies.push(performance.now() - due);
          else failed += 1;
        })
        .catch(() => {
          failed += 1;
        }),
    );
  }
  await Promise.all(pending);
  return figures(latencies, failed);
}

/** Measures webhook acknowledgement latency alone and during a flood of `concurrentLogins` logins. */
export async function measureLoginFlood(options: { webhookRate?: number; seconds?: number; concurrentLogins?: number; targetP99Ms?: number } = {}): Promise<LoginFloodFigures> {
  const webhookRate = options.webhookRate ?? 50;
  const seconds = options.seconds ?? 10;
  const concurrentLogins = options.concurrentLogins ?? 200;
  const targetP99Ms = options.targetP99Ms ?? 1000;
  const graph = await startGraph();
  const data = tempDataDir();
  const instance = await startInstance('login-flood', { dataFile: data.dataFile, graphOrigin: graph.origin });
  try {
    for (let i = 0; i < 50; i++) graph.userWrote(`77${String(i).padStart(13, '0')}`, new Date());
    // Warm-up: the first requests compile code paths.
    await webhooks(instance.url, webhookRate, 2, 'warm');
    const quiet = await webhooks(instance.url, webhookRate, seconds, 'quiet');

    let flooding = true;
    const byStatus: Record<string, number> = {};
    const loginLatencies: number[] = [];
    let n = 0;
    const floodStart = performance.now();
    const loginWorker = async () => {
      while (flooding) {
        const started = performance.now();
        const i = n++;
        try {
          const res = await fetch(`${instance.url}/api/operator/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin: instance.url },
            body: JSON.stringify({ name: `made-up-${i}-${Math.random().toString(36).slice(2)}`, password: 'a-long-guess-123456' }),
          });
          await res.arrayBuffer();
          byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
        } catch {
          byStatus.error = (byStatus.error ?? 0) + 1;
        }
        loginLatencies.push(performance.now() - started);
      }
    };
    const workers = Array.from({ length: concurrentLogins }, loginWorker);
    // Let the flood build up before measuring.
    await sleep(1000);
    const flood = await webhooks(instance.url, webhookRate, seconds, 'flood');
    flooding = false;
    await Promise.all(workers);
    const floodSeconds = (performance.now() - floodStart) / 1000;
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    loginLatencies.sort((a, b) => a - b);
    return {
      scenario: `webhook acknowledgement p99 during a flood of ${concurrentLogins} concurrent logins`,
      webhookRate,
      seconds,
      concurrentLogins,
      quiet,
      flood,
      logins: { byStatus, total, perSecond: Math.round(total / floodSeconds), medianMs: Math.round(percentile(loginLatencies, 50) * 10) / 10 },
      targetP99Ms,
      met: flood.failed === 0 && flood.p99 <= targetP99Ms,
    };
  } finally {
    await instance.stop();
    await graph.close();
    data.cleanup();
  }
}
