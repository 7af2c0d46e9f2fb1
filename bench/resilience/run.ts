/**
 * `npm run bench:resilience`: what users feel when Sportello is attacked or a platform fails.
 * Each scenario is a module of this folder exporting an async function that returns its figures;
 * this runner runs them one after the other and writes bench/results/resilience.md.
 * BENCH_ONLY=name,… runs some of them (graph-hang, webchat-flood, login-flood). Login flood options (env):
 * BENCH_SECONDS per measured phase (10), BENCH_WEBHOOK_RATE per second (50), BENCH_LOGINS concurrent logins (200).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../tests/e2e/harness.js';
import { graphHang, type GraphHangFigures } from './graph-hang.js';
import { webchatFlood, type WebchatFloodFigures } from './webchat-flood.js';
import { measureLoginFlood, type LatencyFigures } from './login-flood.js';

const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const wanted = (name: string) => !ONLY || ONLY.includes(name);

const statuses = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, n]) => `${n.toLocaleString('en')} × ${status}`)
    .join(', ');

function floodTable(runs: WebchatFloodFigures[]): string {
  const rows = runs.map(
    (r) =>
      `| ${r.limits} | ${statuses(r.sessions)} | ${statuses(r.streams)} | ${statuses(r.messages)} in ${r.messagesSeconds} s | ${r.visitorReplyMs ?? 'none in 30 s'} | ${r.rssMb.before} | ${r.rssMb.peak} | ${r.rssMb.after} |`,
  );
  return [
    '## Web chat flood (`webchat-flood.ts`)',
    '',
    'One anonymous client (127.0.0.1) against `sportello start` (lowdb, web chat only): 300 session attempts, 1,000 event-stream',
    'attempts (accepted ones held open), 3,000 messages of 4 KB over 50 connections; meanwhile a visitor on 127.0.0.2 asks',
    '"come posso pagare?" halfway through the messages. Resident memory of the server process (MB, VmRSS): before, peak',
    'during the flood, 10 s after (streams closed). `raised`: every web chat limit set out of reach.',
    '',
    '| limits | sessions | streams | messages | visitor\'s reply (ms) | RSS before | RSS peak | RSS after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '—');

function graphHangSection(f: GraphHangFigures): string {
  return [
    `## ${f.scenario} (target ≤ ${f.targetMs / 1000} s): ${f.met ? 'met' : 'NOT met'}`,
    '',
    `${f.messengerCustomers} Messenger customers write at once while the fake Graph API accepts every connection and never answers; then ${f.visitors} web chat visitors ask one after another (a FAQ question each, Italian and English), and the time from their POST to the reply on their event stream is measured. Production settings: Messenger 128 send slots, web chat 256, Graph calls given up after 10 s, circuit opening after 5 failures. Graph calls hanging when the first visitor asked: ${f.graphOpenAtStart}; at the end: ${f.graphOpenAtEnd}; Messenger's circuit at the end: ${f.messengerCircuit}. Whole run: ${(f.durationMs / 1000).toFixed(1)} s.`,
    '',
    '| visitors | replies | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${f.visitors} | ${f.replies} | ${ms(f.p50Ms)} | ${ms(f.p95Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} |`,
    '',
  ].join('\n');
}

const sections: string[] = [];
if (wanted('graph-hang')) {
  const figures = await graphHang();
  console.log(JSON.stringify(figures));
  sections.push(graphHangSection(figures));
}
if (wanted('webchat-flood')) {
  const runs = [await webchatFlood({ limits: 'default' }), await webchatFlood({ limits: 'raised' })];
  for (const r of runs) console.log(JSON.stringify(r));
  sections.push(floodTable(runs));
}

const row = (name: string, f: LatencyFigures) => `| ${name} | ${f.count} | ${f.failed} | ${f.p50} | ${f.p90} | ${f.p99} | ${f.max} |`;
if (wanted('login-flood')) {
  const login = await measureLoginFlood({
    seconds: Number(process.env.BENCH_SECONDS ?? 10),
    webhookRate: Number(process.env.BENCH_WEBHOOK_RATE ?? 50),
    concurrentLogins: Number(process.env.BENCH_LOGINS ?? 200),
  });
  console.log(JSON.stringify(login, null, 2));
  sections.push(`## Webhook acknowledgement during a login flood

A real \`sportello start\` (embedded store, Messenger on the fake Graph API). Signed Messenger
webhooks at ${login.webhookRate}/s, evenly spaced, for ${login.seconds} s: first alone, then while
${login.concurrentLogins} logins with made-up names are in flight at every moment (each answered
login is replaced at once). Latency is from when each delivery was due to its 200.

| phase | deliveries | failed | p50 ms | p90 ms | p99 ms | max ms |
| --- | --- | --- | --- | --- | --- | --- |
${row('alone', login.quiet)}
${row(`during ${login.concurrentLogins} concurrent logins`, login.flood)}

Logins answered during the flood: ${login.logins.total} (${login.logins.perSecond}/s; median ${login.logins.medianMs} ms), by status:
${Object.entries(login.logins.byStatus)
  .map(([status, count]) => `${status} × ${count}`)
  .join(', ')} (401: the password was checked — one scrypt at a time; 503: refused at once, with \`Retry-After\`, the hashing pool being full).

**Target: p99 ≤ ${login.targetP99Ms} ms during the flood — ${login.met ? 'met' : 'NOT met'}** (p99 ${login.flood.p99} ms).
Before the hashing pool (issue 18), 120 such logins pushed the acknowledgement from ~10 ms to 4–13 s.
`);
}

const header = [
  '# Resilience',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min) at the end (on a shared machine read ratios, not absolute figures).`,
  '',
].join('\n');
writeFileSync(join(ROOT, 'bench/results/resilience.md'), `${header}\n${sections.join('\n')}`);
console.log('wrote bench/results/resilience.md');
