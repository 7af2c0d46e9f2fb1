import { jest } from '@jest/globals';
import path from 'node:path';
import { createClassifier, fitConfidenceMap, fitTemperatureToAccuracy, type ModelSnapshot } from '../../src/classifier/model.js';
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

describe('fitConfidenceMap (Platt scaling)', () => {
  it('finds the logistic curve in ln p the answers were drawn from', () => {
    const random = seededRandom(5);
    const confidences: number[] = [];
    const right: boolean[] = [];
    for (let i = 0; i < 20000; i++) {
      const p = 0.05 + 0.95 * random();
      confidences.push(p);
      right.push(random() < 1 / (1 + Math.exp(-(2.5 * Math.log(p) + 1.2))));
    }
    const map = fitConfidenceMap(confidences, right)!;
    expect(map.slope).toBeCloseTo(2.5, 0);
    expect(map.intercept).toBeCloseTo(1.2, 0);
    expect(Math.abs(map.slope - 2.5)).toBeLessThan(0.2);
    expect(Math.abs(map.intercept - 1.2)).toBeLessThan(0.15);
  });

  it('with the out-of-scope probability, finds the logistic curve in ln p and ln p(oos) the answers were drawn from', () => {
    const random = seededRandom(6);
    const confidences: number[] = [];
    const oos: number[] = [];
    const right: boolean[] = [];
    for (let i = 0; i < 40000; i++) {
      const p = 0.05 + 0.95 * random();
      // The out-of-scope label's probability, spread over orders of magnitude (and at times under the clamp, 1e-6).
      const q = Math.exp(-1 - 14 * random());
      confidences.push(p);
      oos.push(q);
      right.push(random() < 1 / (1 + Math.exp(-(2.5 * Math.log(p) - 0.3 * Math.log(Math.max(q, 1e-6)) - 1))));
    }
    const map = fitConfidenceMap(confidences, right, { index: 7, probabilities: oos })!;
    expect(Math.abs(map.slope - 2.5)).toBeLessThan(0.2);
    expect(Math.abs(map.outOfScope!.slope + 0.3)).toBeLessThan(0.03);
    expect(Math.abs(map.intercept + 1)).toBeLessThan(0.2);
    expect(map.outOfScope!.index).toBe(7);
    // The same answers without the second input: the plain curve in ln p alone.
    const plain = fitConfidenceMap(confidences, right)!;
    expect(plain.outOfScope).toBeUndefined();
    expect(plain.slope).toBeGreaterThan(0);
  });

  it('gives none when every answer is right, or none is, or there are none', () => {
    expect(fitConfidenceMap([0.9, 0.8], [true, true])).toBeUndefined();
    expect(fitConfidenceMap([0.9, 0.8], [false, false])).toBeUndefined();
    expect(fitConfidenceMap([], [])).toBeUndefined();
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

describe('held-out examples (a validation split)', () => {
  // 40 training examples per label (calibrated, with the network) and 10 others per label held out.
  let train: TrainingExample[];
  let heldOut: TrainingExample[];
  const trained = async (examples: TrainingExample[]) => {
    const classifier = createClassifier();
    await classifier.train(examples);
    return classifier;
  };
  /** Trained on `train` with `heldOut` held out. */
  let a: ModelSnapshot;
  let classifierA: Awaited<ReturnType<typeof trained>>;
  beforeAll(async () => {
    const banking = await bankingSubset();
    train = sampleKShot(banking, 40, 1);
    const rest = banking.filter((e) => !train.includes(e));
    heldOut = sampleKShot(rest, 10, 2).map((e) => ({ ...e, heldOut: true }));
    classifierA = await trained([...train, ...heldOut]);
    a = classifierA.snapshot();
  });

  it('are not learnt: the models learn all the training examples and nothing of them', async () => {
    const labels = [...new Set(train.map((e) => e.label))];
    // Other held-out questions, one of a made-up word: the same weights, vocabulary and questions known word for word.
    const other = labels.map((label, i) => ({ text: i === 0 ? 'zorblatt quuxed my card' : `${label.replace(/_/g, ' ')} please`, label, heldOut: true }));
    const b = (await trained([...train, ...other])).snapshot();
    expect(b.weights).toEqual(a.weights);
    expect(b.bias).toEqual(a.bias);
    expect(b.network?.net.w1).toEqual(a.network?.net.w1);
    expect(b.featureIndex).toEqual(a.featureIndex);
    expect(a.knownWords.en.has('zorblatt')).toBe(false);
    expect(b.knownWords.en.has('zorblatt')).toBe(false);
    // Not questions known word for word either (the exact-question layer).
    expect(b.exactLabels.has('zorblatt quuxed my card')).toBe(false);
    expect(b.exactLabels).toEqual(a.exactLabels);
    // Without held-out examples a twentieth of the training examples is held out instead: other weights.
    const carved = (await trained(train)).snapshot();
    expect(carved.weights).not.toEqual(a.weights);
  });

  it('are what the temperatures are fitted on', async () => {
    const right = a;
    // The same questions under wrong labels: the models are wrong on all of them, so they must be far less sure.
    const labels = [...new Set(train.map((e) => e.label))];
    const wrong = heldOut.map((e) => ({ ...e, label: labels[(labels.indexOf(e.label) + 1) % labels.length]! }));
    const unsure = (await trained([...train, ...wrong])).snapshot();
    expect(unsure.weights).toEqual(right.weights);
    expect(unsure.temperature).toBeGreaterThan(right.temperature * 2);
    expect(unsure.network!.net.temperature).toBeGreaterThan(right.network!.net.temperature * 2);
  });

  it('Platt-scale the confidences: on them, an answer is right as often as its confidence says', async () => {
    expect(a.confidenceMap).toBeDefined();
    const answers = heldOut.map((e) => ({ top: classifierA.classify(e.text).ranked[0]!, gold: e.label }));
    const accuracy = answers.filter((x) => x.top.label === x.gold).length / answers.length;
    const meanConfidence = answers.reduce((sum, x) => sum + x.top.confidence, 0) / answers.length;
    // Maximum likelihood with an intercept: the mean confidence is the share right (to rounding).
    expect(Math.abs(meanConfidence - accuracy)).toBeLessThan(0.002);
    expect(accuracy).toBeLessThan(1);
    // Not so without the map.
    const unmapped = createClassifier();
    unmapped.restore({ ...a, confidenceMap: undefined });
    const rawMean = heldOut.reduce((sum, e) => sum + unmapped.classify(e.text).ranked[0]!.confidence, 0) / heldOut.length;
    expect(Math.abs(rawMean - accuracy)).toBeGreaterThan(0.01);
    // The model cache keeps the map.
    const { restored, model } = await throughModelCache(classifierA);
    expect(model.confidenceMap).toEqual(a.confidenceMap);
    expect(restored.classify(heldOut[0]!.text)).toEqual(classifierA.classify(heldOut[0]!.text));
    // Without held-out examples there is none: the carved twentieth fits the temperatures only.
    expect((await trained(train)).snapshot().confidenceMap).toBeUndefined();
  });

  it('with an out-of-scope label, Platt-scale on ln p and the probability of that label', async () => {
    // Any label of the data may be the out-of-scope one (CLINC150's `oos`); here Banking77's first.
    const label = [...new Set(train.map((e) => e.label))].sort()[0]!;
    const classifier = createClassifier({ outOfScopeLabel: label });
    await classifier.train([...train, ...heldOut]);
    const b = classifier.snapshot();
    // The same models (the option changes the map only) ...
    expect(b.weights).toEqual(a.weights);
    expect(b.temperature).toBe(a.temperature);
    // ... and a map with the second input, on that label's class.
    expect(b.confidenceMap!.outOfScope!.index).toBe(b.labels.indexOf(label));
    expect(b.confidenceMap!.outOfScope!.slope).not.toBe(0);
    expect(a.confidenceMap!.outOfScope).toBeUndefined();
    // It is used: without the second input (the plain slope and intercept kept) other confidences,
    // and no change in which label comes first (the map rises with p for a given p(oos)).
    const without = createClassifier();
    without.restore({ ...b, confidenceMap: { slope: b.confidenceMap!.slope, intercept: b.confidenceMap!.intercept } });
    const differs = heldOut.filter((e) => classifier.classify(e.text).ranked[0]!.confidence !== without.classify(e.text).ranked[0]!.confidence);
    expect(differs.length).toBeGreaterThan(heldOut.length / 2);
    for (const e of heldOut) expect(classifier.classify(e.text).ranked.map((r) => r.label)).toEqual(without.classify(e.text).ranked.map((r) => r.label));
    // Maximum likelihood with an intercept: on the held-out examples the mean confidence is still the share right.
    const answers = heldOut.map((e) => ({ top: classifier.classify(e.text).ranked[0]!, gold: e.label }));
    const accuracy = answers.filter((x) => x.top.label === x.gold).length / answers.length;
    const meanConfidence = answers.reduce((sum, x) => sum + x.top.confidence, 0) / answers.length;
    expect(Math.abs(meanConfidence - accuracy)).toBeLessThan(0.002);
    // The model cache keeps it.
    const { restored, model } = await throughModelCache(classifier);
    expect(model.confidenceMap).toEqual(b.confidenceMap);
    for (const e of heldOut.slice(0, 20)) expect(restored.classify(e.text)).toEqual(classifier.classify(e.text));
    // Without held-out examples the option changes nothing (no map at all).
    const carved = createClassifier({ outOfScopeLabel: label });
    await carved.train(train);
    expect(carved.snapshot().confidenceMap).toBeUndefined();
    expect(carved.snapshot().weights).toEqual((await trained(train)).snapshot().weights);
  });

  it('refuse an out-of-scope label the training examples do not have', async () => {
    await expect(createClassifier({ outOfScopeLabel: 'oos' }).train(train)).rejects.toThrow(/the out-of-scope label "oos" is not a label of the training examples/);
  });

  it('must have labels the training examples have', async () => {
    await expect(trained([...train, { text: 'what is the weather', label: 'weather', heldOut: true }])).rejects.toThrow(/held-out example 0 needs a text and a label the training examples have \(got "weather"\)/);
  });

  it('change nothing where the model does not calibrate (a few examples per label)', async () => {
    const few = sampleKShot(train, 5, 1);
    const plain = (await trained(few)).snapshot();
    const withHeldOut = (await trained([...few, ...heldOut])).snapshot();
    expect(withHeldOut.weights).toEqual(plain.weights);
    expect(withHeldOut.temperature).toBe(plain.temperature);
  });
});

describe('classifying', () => {
  it("gives a message the same answer whatever was read before it (the per-word caches change speed, not answers)", async () => {
    const d = await loadDataset(path.resolve('bench/datasets/banking77'));
    const labels = [...new Set(d.train.map((e) => e.label))].slice(0, 12);
    const trained = createClassifier();
    await trained.train(sampleKShot(d.train.filter((e) => labels.includes(e.label)), 40, 2));
    const snapshot = trained.snapshot();
    // Words repeated and words sharing character n-grams ("top", "topped", "top-up"), then test questions.
    const texts = [
      'top up top up topped up my top-up',
      'card card cards carded',
      ...d.test.filter((e) => labels.includes(e.label)).slice(0, 120).map((e) => e.text),
    ];
    const warm = texts.map((text) => trained.classify(text));
    const again = texts.map((text) => trained.classify(text));
    expect(again).toEqual(warm);
    texts.forEach((text, i) => {
      const cold = createClassifier();
      cold.restore(snapshot);
      expect(cold.classify(text)).toEqual(warm[i]);
    });
    expect(warm.filter((c) => c.ranked.length > 0).length).toBeGreaterThan(100);
  });
});
