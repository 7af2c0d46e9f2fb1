import path from 'node:path';
import { bayesLeaveOneOut, bayesLogits, foldBayes, trainBayes, type SparseInput } from '../../src/classifier/bayes.js';
import { createClassifier } from '../../src/classifier/model.js';
import { loadDataset, sampleKShot } from '../../src/classifier/datasets.js';
import type { TrainingExample } from '../../src/core/ports.js';
import { seededRandom } from '../../src/util/random.js';
import { bankingSubset, throughModelCache, weightsOf } from '../helpers/banking.js';

/** Random sparse vectors over `features` features, `classes` labels. */
function randomData(n: number, features: number, classes: number, seed: number): { xs: SparseInput[]; ys: Int32Array } {
  const random = seededRandom(seed);
  const xs: SparseInput[] = [];
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ids = [...new Set(Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * features)))].sort((a, b) => a - b);
    xs.push({ idx: Int32Array.from(ids), val: Float32Array.from(ids, () => 0.1 + random()) });
    ys[i] = i % classes;
  }
  return { xs, ys };
}

describe('naive Bayes (bayes.ts)', () => {
  const F = 12;
  const C = 3;
  const alpha = 0.1;
  const { xs, ys } = randomData(30, F, C, 5);

  it('scores the multinomial log-likelihood up to a term shared by every class', () => {
    const nb = trainBayes(xs, ys, F, C, alpha);
    const counts = Array.from({ length: C }, () => new Float64Array(F));
    xs.forEach((x, i) => x.idx.forEach((f, k) => (counts[ys[i]!]![f]! += x.val[k]!)));
    const direct = (x: SparseInput, c: number) => {
      const total = counts[c]!.reduce((a, b) => a + b, 0) + alpha * F;
      let s = 0;
      x.idx.forEach((f, k) => (s += x.val[k]! * Math.log((counts[c]![f]! + alpha) / total)));
      return s;
    };
    const z = new Float64Array(C);
    for (const x of xs.slice(0, 5)) {
      bayesLogits(x, nb, z);
      // The difference from the direct log-likelihood is the same for every class.
      const shift = direct(x, 0) - z[0]!;
      for (let c = 1; c < C; c++) expect(direct(x, c) - z[c]!).toBeCloseTo(shift, 4);
    }
  });

  it('gives each example the scores of a model trained without it', () => {
    const nb = trainBayes(xs, ys, F, C, alpha);
    const loo = bayesLeaveOneOut(xs, ys, nb, 0.5);
    const z = new Float64Array(C);
    for (const i of [0, 7, 13, 29]) {
      const others = xs.filter((_, j) => j !== i);
      const without = trainBayes(others, ys.filter((_, j) => j !== i), F, C, alpha);
      bayesLogits(xs[i]!, without, z);
      for (let c = 0; c < C; c++) expect(loo[i * C + c]!).toBeCloseTo(0.5 * z[c]!, 3);
    }
  });

  it('folds into linear weights: their logits gain the scaled scores', () => {
    const nb = trainBayes(xs, ys, F, C, alpha);
    const weights = new Float32Array(F * C);
    foldBayes(nb, weights, 0.3);
    const z = new Float64Array(C);
    for (const x of xs.slice(0, 5)) {
      bayesLogits(x, nb, z);
      for (let c = 0; c < C; c++) {
        let s = 0;
        x.idx.forEach((f, k) => (s += x.val[k]! * weights[f * C + c]!));
        expect(s).toBeCloseTo(0.3 * z[c]!, 4);
      }
    }
  });
});

describe('the naive Bayes prior of the classifier', () => {
  let banking: TrainingExample[];
  beforeAll(async () => {
    banking = await bankingSubset();
  });

  it('is used on calibrated corpora, deterministically, and leaves no state the cache could lose', async () => {
    const many = sampleKShot(banking, 40, 1); // 480 examples: calibrated (400 and more)
    const byDefault = await weightsOf(many);
    expect(await weightsOf(many)).toEqual(byDefault);
    expect(await weightsOf(many, { naiveBayes: false })).not.toEqual(byDefault);
    const a = createClassifier();
    await a.train(many);
    // Folded into the weights: the snapshot has the same fields with it as without it.
    const off = createClassifier({ naiveBayes: false });
    await off.train(many);
    expect(Object.keys(a.snapshot()).sort()).toEqual(Object.keys(off.snapshot()).sort());
    const { restored: cached } = await throughModelCache(a);
    for (const text of ['my card has not arrived yet', 'why was I charged a fee?', 'how do I top up?']) {
      expect(cached.classify(text)).toEqual(a.classify(text));
    }
  });

  it('is not used below calibration size', async () => {
    const few = sampleKShot(banking, 10, 1); // 120 examples
    expect(await weightsOf(few)).toEqual(await weightsOf(few, { naiveBayes: false }));
  });

  it('is not used on a few-shot corpus of calibration size (a brand FAQ: 30 examples per label or fewer)', async () => {
    const d = await loadDataset(path.resolve('bench/datasets/banking77'));
    const fewShot = sampleKShot(d.train, 20, 1); // 77 labels × 20 = 1,540 examples
    expect(fewShot.length).toBeGreaterThanOrEqual(400);
    expect(await weightsOf(fewShot)).toEqual(await weightsOf(fewShot, { naiveBayes: false }));
  });
});
