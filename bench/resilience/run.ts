/**
 * `npm run bench:resilience`: what users feel when Sportello is attacked or a platform fails.
 * Each scenario is a module of this folder exporting an async function that returns its figures;
 * this runner runs them one after the other and writes bench/results/resilience.md.
 * BENCH_ONLY=name,… runs some of them (webchat-flood).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../tests/e2e/harness.js';
import { webchatFlood, type WebchatFloodFigures } from './webchat-flood.js';

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

const sections: string[] = [];
if (wanted('webchat-flood')) {
  const runs = [await webchatFlood({ limits: 'default' }), await webchatFlood({ limits: 'raised' })];
  for (const r of runs) console.log(JSON.stringify(r));
  sections.push(floodTable(runs));
}

const header = [
  '# Resilience',
  '',
  `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}.`,
  '',
].join('\n');
writeFileSync(join(ROOT, 'bench/results/resilience.md'), `${header}\n${sections.join('\n')}`);
console.log('wrote bench/results/resilience.md');
