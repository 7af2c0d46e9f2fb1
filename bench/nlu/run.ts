/**
 * `npm run bench:nlu`: Sportello and NLP.js side by side on Banking77, CLINC150 and xSID-it,
 * each measurement in its own process, one after the other (a 2-core machine), in the same run.
 * Writes bench/results/nlu.md.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { loadConfig } from '../../src/config/config.js';
import type { EvalReport } from '../../src/classifier/evaluate.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const datasets = process.env.SPORTELLO_DATASETS ?? path.join(root, 'bench/datasets');
const threshold = loadConfig(process.env).nlu.answerThreshold;

const targets = [
  { name: 'Banking77', path: path.join(datasets, 'banking77') },
  { name: 'CLINC150', path: path.join(datasets, 'clinc150') },
  { name: 'xSID-it', path: path.join(datasets, 'xsid_it') },
];
const systems = ['sportello', 'nlpjs'] as const;

// The worker is bundled to plain JavaScript first, so memory and speed are the libraries' own,
// not those of the TypeScript loader (tsx adds ~40 MB to every process).
const bundled = path.join(root, 'node_modules/.cache/sportello-bench/nlu-worker.mjs');
await build({
  entryPoints: [path.join(here, 'worker.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: bundled,
  logLevel: 'warning',
});

type Row = EvalReport & { system: string };
const rows: Array<{ dataset: string; report: Row }> = [];
const started = new Date();
const loadAtStart = os.loadavg();
for (const target of targets) {
  for (const system of systems) {
    process.stderr.write(`${target.name} / ${system} …\n`);
    const { stdout } = await run(process.execPath, [bundled, system, target.path, String(threshold)], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 15 * 60 * 1000,
    });
    const last = stdout.trim().split('\n').pop() ?? '';
    const report = JSON.parse(last) as Row;
    rows.push({ dataset: target.name, report });
    process.stderr.write(`  ${last}\n`);
  }
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}`);
const name = (s: string) => (s === 'nlpjs' ? 'NLP.js 4.27' : 'Sportello');
const lines = [
  '# NLU benchmark: Sportello vs NLP.js',
  '',
  `Produced by \`npm run bench:nlu\` on ${started.toISOString()} — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}.`,
  'Both libraries measured in the same run, each (library, dataset) in its own process, trained on the train split',
  '(xSID-it: `it.valid`, tested on `it.test`; CLINC150: the "full" setting, out-of-scope training examples are one more label).',
  `Out of scope = best label \`oos\` or confidence below ANSWER_THRESHOLD (${threshold}), the same threshold for both.`,
  'Classifications per second: one at a time, on the test texts. Peak memory: the process’s max RSS, including Node itself and loading the data;',
  'the worker is bundled to plain JavaScript with esbuild so the TypeScript loader is not counted. Times are wall-clock on a machine shared with other work.',
  '',
  `Machine load average (1/5/15 min) when the run started: ${loadAtStart.map((l) => l.toFixed(1)).join(' / ')} on ${os.cpus().length} cores;`,
  'wall-clock figures suffer when it is above the core count, so CPU-time figures are given too.',
  '',
  '| dataset | library | accuracy % | macro-F1 % | in-scope acc. % | OOS recall % | OOS precision % | train s (wall) | train s (CPU) | classif./s (wall) | classif./CPU-s | peak MB |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    ({ dataset, report: r }) =>
      `| ${dataset} | ${name(r.system)} | ${pct(r.accuracy)} | ${pct(r.macro_f1)} | ${pct(r.in_scope_accuracy)} | ${pct(r.oos_recall)} | ${pct(r.oos_precision)} | ${r.train_seconds.toFixed(1)} | ${(r.train_cpu_seconds ?? 0).toFixed(1)} | ${r.classify_per_second.toLocaleString('en')} | ${(r.classify_per_cpu_second ?? 0).toLocaleString('en')} | ${r.peak_rss_mb.toFixed(0)} |`,
  ),
  '',
  'Targets: Banking77 accuracy ≥ 90; CLINC150 in-scope accuracy ≥ 91 with OOS recall ≥ 50 at the same threshold;',
  'xSID-it accuracy ≥ 92; Banking77 training ≤ 5 s; ≥ 20,000 classifications/s; peak memory ≤ 200 MB.',
  '',
  '## Out-of-scope trade-off on CLINC150 (in-scope accuracy % / OOS recall % by threshold)',
  '',
  ...rows
    .filter((r) => r.report.sweep)
    .map(({ report: r }) => `- ${name(r.system)}: ${(r.sweep ?? []).map((s) => `${s.threshold}: ${pct(s.in_scope_accuracy)} / ${pct(s.oos_recall)}`).join(' · ')}`),
  '',
  '## Most confused pairs (Sportello)',
  '',
  ...rows
    .filter((r) => r.report.system === 'sportello')
    .flatMap(({ dataset, report }) => [
      `- ${dataset}: ${report.confused.map((c) => `${c.gold} → ${c.predicted} (${c.count})`).join('; ') || 'none'}`,
    ]),
  '',
  'Data: Banking77 (PolyAI, CC BY 4.0), CLINC150 (Larson et al. 2019, CC BY 3.0), xSID 0.6 (van der Goot et al. 2021, CC BY-SA 4.0).',
  '',
];
const out = path.join(root, 'bench/results/nlu.md');
await writeFile(out, lines.join('\n'));
process.stderr.write(`wrote ${out}\n`);
