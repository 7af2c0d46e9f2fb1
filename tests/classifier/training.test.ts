import { jest } from '@jest/globals';
import path from 'node:path';
import { createClassifier, fitTemperatureToAccuracy } from '../../src/classifier/model.js';
import { loadDataset, sampleKShot } from '../../src/classifier/datasets.js';
import type { TrainingExample } from '../../src/core/ports.js';
import { seededRandom } from '../../src/util/random.js';
import { trainNetwork, trainNetworkConcurrently, type SparseInput } from '../../src/classifier/mlp.js';
import { bankingSubset, throughModelCache, weightsOf } from '../helpers/banking.js';

describe('fitTemperatureToAccuracy', () => {
  // Rows of 5 logits, the gold label's raised by a random amount: some rows right, some wrong.
  const random = seededRandom(3);
  const rows: Float64Array[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 300; i++) {
    const row = Float64Array.from({ length: 5 }, () => random() * 2);
    const y = i % 5;
    row[y] = row[y]! + random() * 2;
    rows.push(row);
    ys.push(y);
  }
  const meanTop = (t: number) =>
    rows.reduce((sum, row) => {
      const e = [...row].map((v) => Math.exp(v / t));
      return sum + Math.max(...e) / e.reduce((a, b) => a + b, 0);
    }, 0) / rows.length;
  const accuracy = rows.filter((row, i) => row.indexOf(Math.max(...row)) === ys[i]).length / rows.length;

  it('gives the temperature at which the mean top probability is the share of rows right', () => {
    expect(accuracy).toBeGreaterThan(0.5);
    expect(accuracy).toBeLessThan(1);
    const t = fitTemperatureToAccuracy(rows, ys);
    expect(meanTop(t)).toBeCloseTo(accuracy, 3);
    // Not any temperature would do: the model is surer at half of it and less sure at twice.
    expect(meanTop(t / 2)).toBeGreaterThan(accuracy + 0.05);
    expect(meanTop(t * 2)).toBeLessThan(accuracy - 0.05);
  });
});

describe('input dropout', () => {
  let banking: TrainingExample[];
  beforeAll(async () => {
    banking = await bankingSubset();
  });

  it('is on by default with many examples per label, and training stays deterministic', async () => {
    const many = sampleKShot(banking, 40, 1); // 40 per label: above the few-shot bound of 30
    const byDefault = await weightsOf(many);
    expect(await weightsOf(many)).toEqual(byDefault);
    expect(await weightsOf(many, { dropout: 0.3 })).toEqual(byDefault);
    expect(await weightsOf(many, { dropout: 0 })).not.toEqual(byDefault);
  });

  it('is off by default with a few examples per label', async () => {
    const few = sampleKShot(banking, 10, 1);
    expect(await weightsOf(few)).toEqual(await weightsOf(few, { dropout: 0 }));
    expect(await weightsOf(few, { dropout: 0.3 })).not.toEqual(await weightsOf(few, { dropout: 0 }));
  });
});

describe('the neural ensemble member', () => {
  let banking: TrainingExample[];
  beforeAll(async () => {
    const d = await loadDataset(path.resolve('bench/datasets/banking77'));
    const labels = [...new Set(d.train.map((e) => e.label))].slice(0, 12);
    banking = d.train.filter((e) => labels.includes(e.label));
  });

  it('is trained above 30 examples per label, deterministically, and comes back with a snapshot', async () => {
    const many = sampleKShot(banking, 40, 1);
    const a = createClassifier();
    await a.train(many);
    const b = createClassifier();
    await b.train(many);
    const network = a.snapshot().network;
    expect(network).toBeDefined();
    expect(b.snapshot().network?.net.w1).toEqual(network!.net.w1);
    const restored = createClassifier();
    restored.restore(structuredClone(a.snapshot()));
    for (const text of ['my card has not arrived yet', 'why was I charged a fee?', 'how do I top up?']) {
      expect(restored.classify(text)).toEqual(a.classify(text));
    }
    // The model cache checks and keeps it.
    const { restored: cached, model } = await throughModelCache(a);
    expect(cached.classify('my card has not arrived yet')).toEqual(a.classify('my card has not arrived yet'));
    expect(model.network?.net.w2).toEqual(network!.net.w2);
    const off = createClassifier({ ensemble: false });
    await off.train(many);
    expect(off.snapshot().network).toBeUndefined();
  });

  it('trains in a worker thread to the very weights it gets in this one', async () => {
    // Random sparse inputs over 200 rows, 6 classes, the options the model uses.
    const random = seededRandom(11);
    const xs: SparseInput[] = Array.from({ length: 300 }, () => {
      const ids = [...new Set(Array.from({ length: 3 + Math.floor(random() * 8) }, () => Math.floor(random() * 200)))];
      return { idx: Int32Array.from(ids), val: Float32Array.from(ids, () => 1 / Math.sqrt(ids.length)) };
    });
    const ys = Int32Array.from(xs, (_, i) => i % 6);
    const inputMap = Int32Array.from({ length: 250 }, (_, i) => (i < 200 ? i : -1));
    const opts = { hidden: 16, epochs: 3, learningRate: 0.003, dropout: 0.3, seed: 7 };
    const { network, inWorker } = await trainNetworkConcurrently(xs, ys, 200, 6, inputMap, opts);
    expect(inWorker).toBe(true);
    expect(network).toEqual(trainNetwork(xs, ys, 200, 6, inputMap, opts));
    expect(network.inputMap).toBe(inputMap);
    // The inputs were packed for the worker, not taken from the caller.
    expect(xs.every((x) => x.idx.length > 0)).toBe(true);
  });

  it('trains here, to the same weights and with a warning, when the worker cannot start', async () => {
    const random = seededRandom(12);
    const xs: SparseInput[] = Array.from({ length: 120 }, () => {
      const ids = [...new Set(Array.from({ length: 2 + Math.floor(random() * 6) }, () => Math.floor(random() * 80)))];
      return { idx: Int32Array.from(ids), val: Float32Array.from(ids, () => 1 / Math.sqrt(ids.length)) };
    });
    const ys = Int32Array.from(xs, (_, i) => i % 4);
    const inputMap = Int32Array.from({ length: 80 }, (_, i) => i);
    // A function in the options cannot be copied to a worker thread: the worker is refused at once.
    const opts = { hidden: 8, epochs: 2, learningRate: 0.003, dropout: 0.3, seed: 5, uncopyable: () => 0 };
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { network, inWorker } = await trainNetworkConcurrently(xs, ys, 80, 4, inputMap, opts);
      expect(inWorker).toBe(false);
      expect(network).toEqual(trainNetwork(xs, ys, 80, 4, inputMap, opts));
      expect(warn.mock.calls.some(([message]) => String(message).includes('trains in the main thread'))).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it('is not trained with a few examples per label', async () => {
    const classifier = createClassifier();
    await classifier.train(sampleKShot(banking, 10, 1));
    expect(classifier.snapshot().network).toBeUndefined();
  });
});
