/**
 * @module bench/resilience/run
 * The resilience bench: runs each scenario (a module of this folder exporting an async function
 * that returns its figures) and writes bench/results/resilience.md. `npm run bench:resilience`;
 * `BENCH_ONLY=graph-hang` runs one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { graphHang, type GraphHangFigures } from './graph-hang.js';

const ROOT = resolve(import.meta.dirname ?? '.', '../..');

/** A scenario: its name, how to run it, and how its figures read in the results. */
interface Scenario<F> {
  name: string;
  run(): Promise<F>;
  report(figures: F): string;
}

const ms = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '—');

const graphHangScenario: Scenario<GraphHangFigures> = {
  name: 'graph-hang',
  run: () => graphHang(),
  report: (f) =>
    [
      `## ${f.scenario} (target ≤ ${f.targetMs / 1000} s): ${f.met ? 'met' : 'NOT met'}`,
      '',
      `${f.messengerCustomers} Messenger customers write at once while the fake Graph API accepts every connection and never answers; then ${f.visitors} web chat visitors ask one after another (a FAQ question each, Italian and English), and the time from their POST to the reply on their event stream is measured. Production settings: Messenger 64 send slots, web chat 256, Graph calls given up after 10 s, circuit opening after 5 failures. Graph calls hanging when the first visitor asked: ${f.graphOpenAtStart}; at the end: ${f.graphOpenAtEnd}; Messenger's circuit at the end: ${f.messengerCircuit}. Whole run: ${(f.durationMs / 1000).toFixed(1)} s.`,
      '',
      '| visitors | replies | p50 | p95 | p99 | max |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${f.visitors} | ${f.replies} | ${ms(f.p50Ms)} | ${ms(f.p95Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} |`,
      '',
    ].join('\n'),
};

const SCENARIOS: Array<Scenario<any>> = [graphHangScenario];

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
  const sections: string[] = [];
  for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
    process.stdout.write(`resilience: ${scenario.name}…\n`);
    const figures = await scenario.run();
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    sections.push(scenario.report(figures));
  }
  const text = [
    '# Resilience benchmark: what users feel when a platform misbehaves',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load average at start ${load} (1/5/15 min; the machine is shared).`,
    '',
    'Command: `npm run bench:resilience` (= `node --import tsx bench/resilience/run.ts`). Each scenario runs a real Sportello in this process against the fake platforms of `tests/fakes/`.',
    '',
    ...sections,
  ].join('\n');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/resilience.md'), text);
  process.stdout.write('written bench/results/resilience.md\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
