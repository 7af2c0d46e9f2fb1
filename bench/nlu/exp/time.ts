// Training time of Banking77 (wall and process CPU), for interleaved comparisons: node --import tsx bench/nlu/exp/time.ts [SET] [REPS]
import path from 'node:path';
import { readFileSync } from 'node:fs';
/** This (main) thread's CPU seconds, from Linux's per-thread counters (ticks of 10 ms). */
const mainCpu = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
import { fileURLToPath } from 'node:url';
import { createClassifier } from '../../../src/classifier/model.js';
import { loadDataset, trainingExamples } from '../../../src/classifier/datasets.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const set = process.argv[2] ?? 'banking77';
const reps = Number(process.argv[3] ?? 1);
const options = JSON.parse(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}');
const d = await loadDataset(path.join(root, 'bench/datasets', set));
for (let r = 0; r < reps; r++) {
  const c = createClassifier({ ...(d.oosLabel !== undefined ? { outOfScopeLabel: d.oosLabel } : {}), ...options });
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const m0 = mainCpu();
  await c.train(trainingExamples(d));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(u0);
  const main = mainCpu() - m0;
  let right = 0;
  for (const t of d.test) if (c.classify(t.text).ranked[0]?.label === t.label) right++;
  const c0 = process.cpuUsage();
  const mc0 = mainCpu();
  let n = 0;
  for (let k = 0; k < 3; k++) for (const t of d.test) { c.classify(t.text); n++; }
  const cu = process.cpuUsage(c0);
  const perCpu = Math.round(n / ((cu.user + cu.system) / 1e6));
  const perMain = Math.round(n / (mainCpu() - mc0));
  console.log(`${set} wall ${wall.toFixed(2)} cpu ${((u.user + u.system) / 1e6).toFixed(2)} main-thread cpu ${main.toFixed(2)} acc ${(100 * right / d.test.length).toFixed(2)} classify/cpu-s ${perCpu} per main-thread cpu-s ${perMain} rss ${Math.round(process.resourceUsage().maxRSS / 1024)}`);
}
