/**
 * @module classifier/model
 * The trainable classifier behind the `Classifier` port: word-stem, stem-bigram and
 * character n-gram features, a multinomial logistic regression trained by sparse SGD, a
 * temperature fitted on held-out data (calibration), and a coverage/similarity signal that
 * lowers confidence on messages whose vocabulary the training data does not know
 * (out of scope), which a softmax over few labels cannot do by itself.
 */
import type { Classification, Classifier, LabelScore, TrainingExample } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { detectLanguage } from './language.js';
import { createNormaliser, STOPWORDS, type Normaliser } from './normalise.js';

/** Tuning knobs; the defaults are what the benchmarks in bench/results/nlu.md used. */
export interface ModelOptions {
  /** Passes over the training data (default: more for small corpora). */
  epochs?: number;
  /** Initial SGD learning rate. */
  learningRate?: number;
  /** L2 penalty per update. */
  l2?: number;
  /** Smallest and largest character n-gram. */
  charGrams?: [number, number];
  /** Weight of each feature group (after normalising each group to unit length). */
  weights?: { words: number; bigrams: number; chars: number };
  /** Language used when examples and hints say nothing and detection has no clue. */
  defaultLanguage?: Language;
  /** How many ranked labels `classify` returns. */
  topK?: number;
  /** Random seed for shuffling (training is deterministic for one seed). */
  seed?: number;
  /** Fit a softmax temperature on a held-out tenth when there are at least this many examples. */
  calibrateFrom?: number;
}

interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

interface Trained {
  labels: string[];
  labelLanguages: Array<ReadonlySet<Language> | undefined>;
  featureIndex: Map<string, number>;
  weights: Float32Array;
  bias: Float32Array;
  temperature: number;
  /** Stems seen in training (for coverage). */
  vocabulary: ReadonlySet<string>;
  /** Normalised training vectors per label, kept for small corpora (nearest-example similarity). */
  examplesByLabel: SparseVector[][] | undefined;
  /** When all training text is one language, every message is analysed as that language. */
  onlyLanguage: Language | undefined;
  /** Function words as terms (stemmed like the text), per language. */
  stopTerms: Record<Language, ReadonlySet<string>>;
}

const DEFAULTS = {
  learningRate: 0.6,
  l2: 1e-6,
  charGrams: [2, 5] as [number, number],
  weights: { words: 1, bigrams: 0.5, chars: 1 },
  topK: 10,
  seed: 42,
  calibrateFrom: 400,
};

/** Small corpora keep their examples for nearest-neighbour similarity (cheap below this size). */
const SIMILARITY_MAX_EXAMPLES = 3000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Extracts the feature strings of a text, grouped, for one language. */
function createFeaturiser(normaliser: Normaliser, charGrams: [number, number]) {
  const gramMemo = new Map<string, string[]>();
  const grams = (word: string): string[] => {
    let out = gramMemo.get(word);
    if (out) return out;
    out = [];
    const padded = `<${word}>`;
    for (let n = charGrams[0]; n <= charGrams[1]; n++) {
      for (let i = 0; i + n <= padded.length; i++) out.push(padded.slice(i, i + n));
    }
    if (gramMemo.size < 200_000) gramMemo.set(word, out);
    return out;
  };
  return (text: string, language: Language) => {
    const { surface, terms } = normaliser.analyse(text, language);
    const wordFeatures = terms.map((t) => `w ${t}`);
    const bigramFeatures: string[] = [];
    for (let i = 0; i + 1 < terms.length; i++) bigramFeatures.push(`b ${terms[i]} ${terms[i + 1]}`);
    if (terms.length > 0) {
      bigramFeatures.push(`b ^ ${terms[0]}`);
    }
    const charFeatures: string[] = [];
    for (const w of surface.slice(0, 400)) for (const g of grams(w)) charFeatures.push(`c${g}`);
    return { terms, groups: [wordFeatures, bigramFeatures, charFeatures] as const };
  };
}

function vectorise(
  groups: readonly (readonly string[])[],
  weights: readonly number[],
  index: Map<string, number>,
  grow: boolean,
): SparseVector {
  const acc = new Map<number, number>();
  groups.forEach((features, g) => {
    const unique = new Set(features);
    const ids: number[] = [];
    for (const f of unique) {
      let id = index.get(f);
      if (id === undefined && grow) {
        id = index.size;
        index.set(f, id);
      }
      if (id !== undefined) ids.push(id);
    }
    if (ids.length === 0) return;
    // Binary features, each group scaled to length `weight`: long texts do not drown short ones.
    const value = (weights[g] ?? 1) / Math.sqrt(unique.size);
    for (const id of ids) acc.set(id, (acc.get(id) ?? 0) + value);
  });
  const idx = new Int32Array(acc.size);
  const val = new Float32Array(acc.size);
  let k = 0;
  let norm = 0;
  for (const [id, v] of acc) {
    idx[k] = id;
    val[k] = v;
    norm += v * v;
    k++;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i] = val[i]! / norm;
  return { idx, val };
}

function dot(a: SparseVector, b: SparseVector): number {
  // Both are short; a map lookup per entry is fine for the small corpora this is used on.
  let s = 0;
  const m = new Map<number, number>();
  for (let i = 0; i < b.idx.length; i++) m.set(b.idx[i]!, b.val[i]!);
  for (let i = 0; i < a.idx.length; i++) s += a.val[i]! * (m.get(a.idx[i]!) ?? 0);
  return s;
}

function logits(x: SparseVector, weights: Float32Array, bias: Float32Array, out: Float64Array): void {
  const C = bias.length;
  for (let c = 0; c < C; c++) out[c] = bias[c]!;
  for (let k = 0; k < x.idx.length; k++) {
    const base = x.idx[k]! * C;
    const v = x.val[k]!;
    for (let c = 0; c < C; c++) out[c] = out[c]! + v * weights[base + c]!;
  }
}

function softmaxInPlace(z: Float64Array, temperature: number): void {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c]! > max) max = z[c]!;
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    const e = Math.exp((z[c]! - max) / temperature);
    z[c] = e;
    sum += e;
  }
  for (let c = 0; c < z.length; c++) z[c] = z[c]! / sum;
}

function trainWeights(
  xs: SparseVector[],
  ys: Int32Array,
  featureCount: number,
  classCount: number,
  opts: { epochs: number; learningRate: number; l2: number; seed: number },
): { weights: Float32Array; bias: Float32Array } {
  const C = classCount;
  const weights = new Float32Array(featureCount * C);
  const bias = new Float32Array(C);
  const z = new Float64Array(C);
  const order = Array.from(xs.keys());
  const random = mulberry32(opts.seed);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffle(order, random);
    const lr = opts.learningRate / (1 + epoch * 0.35);
    const decay = 1 - lr * opts.l2;
    for (const i of order) {
      const x = xs[i]!;
      const y = ys[i]!;
      logits(x, weights, bias, z);
      softmaxInPlace(z, 1);
      z[y] = z[y]! - 1;
      for (let c = 0; c < C; c++) {
        const g = z[c]!;
        // Most classes have near-zero probability after the first pass: skipping them is the speed-up.
        if (g > -1e-4 && g < 1e-4) continue;
        const step = lr * g;
        bias[c] = bias[c]! - step * 0.1;
        for (let k = 0; k < x.idx.length; k++) {
          const w = x.idx[k]! * C + c;
          weights[w] = weights[w]! * decay - step * x.val[k]!;
        }
      }
    }
  }
  return { weights, bias };
}

/** Finds the temperature minimising the negative log-likelihood of held-out labels. */
function fitTemperature(logitRows: Float64Array[], ys: number[]): number {
  const nll = (t: number) => {
    let total = 0;
    const z = new Float64Array(logitRows[0]?.length ?? 0);
    logitRows.forEach((row, i) => {
      z.set(row);
      softmaxInPlace(z, t);
      total -= Math.log(Math.max(1e-12, z[ys[i]!]!));
    });
    return total;
  };
  let lo = 0.2;
  let hi = 5;
  for (let step = 0; step < 30; step++) {
    const m1 = lo + (hi - lo) / 3;
    const m2 = hi - (hi - lo) / 3;
    if (nll(m1) < nll(m2)) hi = m2;
    else lo = m1;
  }
  return (lo + hi) / 2;
}

/** The classifier plus what the understander needs to know about the trained corpus. */
export interface TrainableClassifier extends Classifier {
  /** Labels the model knows, with the languages their examples are in (empty: unknown). */
  labels(): Array<{ label: string; languages: Language[] }>;
}

/** Creates an untrained classifier; `train` must finish before `classify`. */
export function createClassifier(options: ModelOptions = {}): TrainableClassifier {
  const charGrams = options.charGrams ?? DEFAULTS.charGrams;
  const groupWeights = options.weights ?? DEFAULTS.weights;
  const weightList = [groupWeights.words, groupWeights.bigrams, groupWeights.chars];
  const defaultLanguage = options.defaultLanguage ?? 'it';
  const topK = options.topK ?? DEFAULTS.topK;
  let trained: Trained | undefined;
  let normaliser = createNormaliser();
  let featurise = createFeaturiser(normaliser, charGrams);

  const languageOf = (text: string, given: Language | undefined, model: Trained | undefined): Language =>
    model?.onlyLanguage ?? given ?? detectLanguage(text, undefined, defaultLanguage);

  async function train(examples: readonly TrainingExample[]): Promise<void> {
    if (examples.length === 0) throw new Error('cannot train a classifier on no examples');
    normaliser = createNormaliser();
    featurise = createFeaturiser(normaliser, charGrams);
    const labels: string[] = [];
    const labelId = new Map<string, number>();
    const languagesByLabel = new Map<string, Set<Language>>();
    const exampleLanguages = examples.map((e) => e.language ?? detectLanguage(e.text, undefined, defaultLanguage));
    const counts = { it: 0, en: 0 };
    exampleLanguages.forEach((l) => counts[l]++);
    // A corpus (almost) all in one language is analysed as that language: detection errors on
    // a few words would otherwise give train and test text different stems.
    const untagged = examples.every((e) => e.language === undefined);
    const onlyLanguage: Language | undefined =
      untagged && counts.en / examples.length >= 0.9 ? 'en' : untagged && counts.it / examples.length >= 0.9 ? 'it' : undefined;

    const featureIndex = new Map<string, number>();
    const vocabulary = new Set<string>();
    const xs: SparseVector[] = [];
    const ys = new Int32Array(examples.length);
    examples.forEach((e, i) => {
      if (typeof e.text !== 'string' || typeof e.label !== 'string' || e.label.length === 0) {
        throw new Error(`training example ${i} needs a text and a label`);
      }
      let id = labelId.get(e.label);
      if (id === undefined) {
        id = labels.length;
        labels.push(e.label);
        labelId.set(e.label, id);
      }
      if (e.language) {
        const set = languagesByLabel.get(e.label) ?? new Set<Language>();
        set.add(e.language);
        languagesByLabel.set(e.label, set);
      }
      const language = onlyLanguage ?? exampleLanguages[i]!;
      const f = featurise(e.text, language);
      for (const t of f.terms) vocabulary.add(t);
      xs.push(vectorise(f.groups, weightList, featureIndex, true));
      ys[i] = id;
    });

    const epochs = options.epochs ?? (examples.length < 1000 ? 40 : examples.length < 5000 ? 12 : 8);
    const sgd = {
      epochs,
      learningRate: options.learningRate ?? DEFAULTS.learningRate,
      l2: options.l2 ?? DEFAULTS.l2,
      seed: options.seed ?? DEFAULTS.seed,
    };

    let temperature = 1;
    if (examples.length >= (options.calibrateFrom ?? DEFAULTS.calibrateFrom)) {
      const random = mulberry32(sgd.seed + 1);
      const holdout = new Set(shuffle(Array.from(xs.keys()), random).slice(0, Math.floor(xs.length / 10)));
      const trainIdx = Array.from(xs.keys()).filter((i) => !holdout.has(i));
      const part = trainWeights(
        trainIdx.map((i) => xs[i]!),
        Int32Array.from(trainIdx.map((i) => ys[i]!)),
        featureIndex.size,
        labels.length,
        sgd,
      );
      const rows: Float64Array[] = [];
      const held: number[] = [];
      for (const i of holdout) {
        const z = new Float64Array(labels.length);
        logits(xs[i]!, part.weights, part.bias, z);
        rows.push(z);
        held.push(ys[i]!);
      }
      temperature = fitTemperature(rows, held);
    }
    const { weights, bias } = trainWeights(xs, ys, featureIndex.size, labels.length, sgd);

    let examplesByLabel: SparseVector[][] | undefined;
    if (examples.length <= SIMILARITY_MAX_EXAMPLES) {
      examplesByLabel = labels.map(() => []);
      xs.forEach((x, i) => examplesByLabel![ys[i]!]!.push(x));
    }
    trained = {
      labels,
      labelLanguages: labels.map((l) => languagesByLabel.get(l)),
      featureIndex,
      weights,
      bias,
      temperature,
      vocabulary,
      examplesByLabel,
      onlyLanguage,
      stopTerms: {
        it: new Set(normaliser.analyse([...STOPWORDS.it].join(' '), 'it').terms),
        en: new Set(normaliser.analyse([...STOPWORDS.en].join(' '), 'en').terms),
      },
    };
  }

  function classify(text: string, hint?: { language?: Language }): Classification {
    const model = trained;
    if (!model) throw new Error('the classifier is not trained yet: call train() first');
    const input = typeof text === 'string' ? text : '';
    const language = languageOf(input, hint?.language, model);
    const f = featurise(input, language);
    const x = vectorise(f.groups, weightList, model.featureIndex, false);
    if (x.idx.length === 0) return { ranked: [] };
    const C = model.labels.length;
    const z = new Float64Array(C);
    logits(x, model.weights, model.bias, z);
    softmaxInPlace(z, model.temperature);

    // Condition on the customer's language: P(label | text, language) over labels that exist in it.
    if (hint?.language) {
      let inLanguage = 0;
      for (let c = 0; c < C; c++) {
        const langs = model.labelLanguages[c];
        if (!langs || langs.has(hint.language)) inLanguage += z[c]!;
      }
      if (inLanguage > 0) {
        for (let c = 0; c < C; c++) {
          const langs = model.labelLanguages[c];
          z[c] = !langs || langs.has(hint.language) ? z[c]! / inLanguage : 0;
        }
      }
    }

    const scope = scopeFactor(f.terms, language, model, x, z);
    const order = Array.from(z.keys()).sort((a, b) => z[b]! - z[a]!);
    const ranked: LabelScore[] = [];
    for (const c of order.slice(0, topK)) {
      if (z[c]! <= 0) break;
      ranked.push({ label: model.labels[c]!, confidence: Number((z[c]! * scope).toFixed(4)) });
    }
    return { ranked };
  }

  return {
    train,
    classify,
    labels: () =>
      (trained?.labels ?? []).map((label, c) => ({ label, languages: [...(trained?.labelLanguages[c] ?? [])] })),
  };
}

/**
 * How much the training data covers this message, 0 … 1: the share of its content words the
 * training data knows and, for small corpora, how close it is to the nearest example of the
 * best label. Multiplies every confidence, so text about something else gets low confidence.
 */
function scopeFactor(terms: string[], language: Language, model: Trained, x: SparseVector, p: Float64Array): number {
  const stop = model.stopTerms[language];
  const content = terms.filter((t) => t !== '<num>' && !stop.has(t) && t.length > 1);
  const considered = content.length > 0 ? content : terms;
  if (considered.length === 0) return 0.5;
  const known = considered.filter((t) => model.vocabulary.has(t)).length;
  const coverage = known / considered.length;
  // Full coverage from about two thirds of the content words known: paraphrases add words.
  let factor = Math.min(1, coverage / 0.67);
  if (model.examplesByLabel) {
    let best = 0;
    for (let c = 0; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    let sim = 0;
    for (const e of model.examplesByLabel[best] ?? []) sim = Math.max(sim, dot(x, e));
    // Near-duplicates of an example (sim ≥ 0.45) keep full confidence.
    factor *= Math.min(1, 0.35 + sim / 0.45);
  }
  return Math.max(0, Math.min(1, factor));
}
