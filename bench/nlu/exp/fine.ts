// Accuracy at two decimals for sweeps (accuracy.ts rounds to one): SPORTELLO_MODEL_OPTIONS=… node --import tsx bench/nlu/exp/fine.ts SET…
// Sets: b77 b77-10 clinc clinc-10 xsid. Prints accuracy, in-scope accuracy / out-of-scope recall at 0.5, and, to compare
// trade-off curves (not an operating rule), the in-scope accuracy where the threshold gives 70 / 72.5 / 75 % recall.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier, type ModelOptions } from '../../../src/classifier/model.js';
import { kShotDataset, loadDataset, trainingExamples } from '../../../src/classifier/datasets.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const options = JSON.parse(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}') as ModelOptions;
const sets: Record<string, [string, number]> = { b77: ['banking77', 0], 'b77-10': ['banking77', 10], clinc: ['clinc150', 0], 'clinc-10': ['clinc150', 10], xsid: ['xsid_it', 0] };
const f2 = (v: number) => (v * 100).toFixed(2);
for (const name of process.argv.slice(2)) {
  const [dir, k] = sets[name]!;
  let dataset = await loadDataset(path.join(root, 'bench/datasets', dir));
  if (k) dataset = kShotDataset(dataset, k, 1);
  const c = createClassifier({ ...(dataset.oosLabel !== undefined ? { outOfScopeLabel: dataset.oosLabel } : {}), ...options });
  const t0 = Date.now();
  await c.train(trainingExamples(dataset));
  const train = (Date.now() - t0) / 1000;
  const preds = dataset.test.map((t) => {
    const top = c.classify(t.text).ranked[0];
    return { gold: t.label, label: top?.label ?? 'oos', conf: top?.confidence ?? 0 };
  });
  const inScope = preds.filter((p) => p.gold !== 'oos');
  const out = preds.filter((p) => p.gold === 'oos');
  const at = (th: number) => ({
    in: inScope.filter((p) => p.label === p.gold && p.conf >= th).length / inScope.length,
    oos: out.length ? out.filter((p) => p.label === 'oos' || p.conf < th).length / out.length : NaN,
  });
  // Top-1 accuracy, no threshold (the out-of-scope label counts as a label).
  const acc = preds.filter((p) => p.label === p.gold).length / preds.length;
  let line = `${name} acc ${f2(acc)} at0.5 ${f2(at(0.5).in)}/${f2(at(0.5).oos)} train ${train}s`;
  if (out.length) {
    // Out-of-scope items the model does not label oos, by confidence: the threshold for recall R rejects the first ones.
    const answered = out.filter((p) => p.label !== 'oos').map((p) => p.conf).sort((a, b) => a - b);
    const labelled = out.length - answered.length;
    for (const r of [0.7, 0.725, 0.75]) {
      const need = Math.ceil(r * out.length) - labelled;
      const th = need <= 0 ? 0 : answered[need - 1]! + 1e-9;
      line += ` @${r * 100}: ${f2(at(th).in)} (th ${th.toFixed(3)})`;
    }
  }
  console.log(line);
}
