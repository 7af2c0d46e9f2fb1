/**
 * Accuracy only, quickly, for tuning: `node --import tsx bench/nlu/accuracy.ts [SET…]` trains Sportello's
 * classifier on each set (no speed or memory figures: those are `npm run bench:nlu`'s) and prints one line per set.
 * Sets: b77 b77-10 b77-5 clinc clinc-10 clinc-5 xsid xsid-10 xsid-5 own (default: all).
 * `SPORTELLO_MODEL_OPTIONS='{"…":…}'` passes model options (experiments; the product uses the defaults).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier, type ModelOptions } from '../../src/classifier/model.js';
import { kShotDataset, loadDataset } from '../../src/classifier/datasets.js';
import { crossValidate, evaluateSystem, type EvaluatedSystem } from '../../src/classifier/evaluate.js';
import { corpusToExamples, loadCorpus, sameAnswerGroups } from '../../src/corpus/load.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const datasets = path.join(root, 'bench/datasets');
const options = JSON.parse(process.env.SPORTELLO_MODEL_OPTIONS ?? '{}') as ModelOptions;
const system = (context: ModelOptions = {}): EvaluatedSystem => {
  const classifier = createClassifier({ ...context, ...options });
  return {
    train: (examples) => classifier.train(examples),
    predict: (text, language) => classifier.classify(text, language ? { language } : undefined).ranked[0],
  };
};
const sets: Record<string, [string, number]> = {
  b77: ['banking77', 0], 'b77-10': ['banking77', 10], 'b77-5': ['banking77', 5],
  clinc: ['clinc150', 0], 'clinc-10': ['clinc150', 10], 'clinc-5': ['clinc150', 5],
  xsid: ['xsid_it', 0], 'xsid-10': ['xsid_it', 10], 'xsid-5': ['xsid_it', 5],
};
const pct = (v: number | null | undefined) => (v == null ? '–' : (v * 100).toFixed(1));
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...Object.keys(sets), 'own'];
for (const name of wanted) {
  const t0 = Date.now();
  if (name === 'own') {
    const corpus = await loadCorpus({ faqDir: path.join(root, 'faq'), intentsDir: path.join(root, 'intents') });
    const r = await crossValidate('own', corpusToExamples(corpus), system, { sameAnswer: sameAnswerGroups(corpus) });
    const confused = r.confused.map((c) => `${c.gold}→${c.predicted} ${c.count}`).join('; ');
    console.log(`own      acc ${pct(r.accuracy)}  en ${pct(r.by_language?.en?.accuracy)}  it ${pct(r.by_language?.it?.accuracy)}  (${Date.now() - t0} ms)  ${confused}`);
    continue;
  }
  const [dir, k] = sets[name]!;
  let dataset = await loadDataset(path.join(datasets, dir));
  if (k) dataset = kShotDataset(dataset, k, 1);
  const r = await evaluateSystem(dataset, system, { threshold: 0.5, sweep: [0.3, 0.4, 0.5, 0.6, 0.7] });
  const sweep = r.sweep ? ' sweep ' + r.sweep.map((s) => `${s.threshold}:${pct(s.in_scope_accuracy)}/${pct(s.oos_recall)}`).join(' ') : '';
  console.log(`${name.padEnd(8)} acc ${pct(r.accuracy)}  in ${pct(r.in_scope_accuracy)}  oos ${pct(r.oos_recall)}  train ${r.train_seconds}s${sweep}`);
}
