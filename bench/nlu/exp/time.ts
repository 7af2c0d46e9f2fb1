// Training time of Banking77 (wall and process CPU), for interleaved comparisons: node --import tsx bench/nlu/exp/time.ts [SET] [REPS]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '../../../src/classifier/model.js';
import { loadDataset } from '../../../src/classifier/datasets.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const set = process.argv[2] ?? 'banking77';
const reps = Number(process.argv[3] ?? 1);
const options = JSON.parse(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}');
const d = await loadDataset(path.join(root, 'bench/datasets', set));
for (let r = 0; r < reps; r++) {
  const c = createClassifier(options);
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  await c.train(d.train);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(u0);
  let right = 0;
  for (const t of d.test) if (c.classify(t.text).ranked[0]?.label === t.label) right++;
  console.log(`${set} wall ${wall.toFixed(2)} cpu ${((u.user + u.system) / 1e6).toFixed(2)} acc ${(100 * right / d.test.length).toFixed(2)}`);
}
