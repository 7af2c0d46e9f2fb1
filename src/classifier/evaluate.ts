/**
 * @module classifier/evaluate
 * Measures a classifier on a dataset: accuracy, macro-F1, out-of-scope recall/precision at a
 * confidence threshold, the most confused pairs, training time, classifications per second
 * and peak memory. Any system with `train` and `predict` can be measured (the bench uses it
 * for NLP.js too), so both libraries are scored by the same code.
 */
import type { TrainingExample } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { sampleKShot, trainingExamples, type Dataset, type LabelledText } from './datasets.js';
import { createClassifier, type ModelOptions } from './model.js';

/** Something that can be trained and asked for its best label. */
export interface EvaluatedSystem {
  /** Learns the examples; those marked `heldOut` are not to be learnt (a system that calibrates may read them). */
  train(examples: readonly TrainingExample[]): Promise<void>;
  /** The best label and its confidence; undefined when the system has no guess. `language`: the text's, when known. */
  predict(text: string, language?: Language): Promise<{ label: string; confidence: number } | undefined> | { label: string; confidence: number } | undefined;
}

/** What `sportello eval --json` prints (null where the figure does not apply). */
export interface EvalReport {
  dataset: string;
  accuracy: number;
  macro_f1: number;
  in_scope_accuracy: number | null;
  oos_recall: number | null;
  oos_precision: number | null;
  train_seconds: number;
  classify_per_second: number;
  peak_rss_mb: number;
  /** CPU time of training (user + system): what the wall-clock figure would be on an idle machine. */
  train_cpu_seconds?: number;
  /** Classifications per CPU second. */
  classify_per_cpu_second?: number;
  train_size: number;
  /** Held-out examples of the dataset's validation split, calibration only (not learnt). */
  validation_size?: number;
  test_size: number;
  threshold: number | null;
  confused: Array<{ gold: string; predicted: string; count: number }>;
  /** Cross-validation of a bilingual corpus: each language on its own. */
  by_language?: Partial<Record<Language, LanguageFigures>>;
  /** Out-of-scope trade-off at other thresholds, when asked for (data with out-of-scope items only). */
  sweep?: Array<{ threshold: number; in_scope_accuracy: number | null; oos_recall: number | null; oos_precision: number | null }>;
}

/** One scored test item. */
export interface Prediction {
  gold: string;
  predicted: string;
  confidence: number;
}

/** The label scored for "not answered" on data with out-of-scope items. */
export const OUT_OF_SCOPE = 'oos';

const round = (n: number, digits = 4) => Number(n.toFixed(digits));

/**
 * Scores predictions. With `oosLabel`, an item counts as predicted out of scope when the
 * system's best label is that label or its confidence is below `threshold`.
 */
export function scorePredictions(
  predictions: readonly Prediction[],
  options: { oosLabel?: string; threshold?: number } = {},
): Pick<EvalReport, 'accuracy' | 'macro_f1' | 'in_scope_accuracy' | 'oos_recall' | 'oos_precision' | 'confused'> {
  const oos = options.oosLabel;
  const decided = predictions.map((p) => {
    if (oos === undefined) return { gold: p.gold, predicted: p.predicted };
    const below = options.threshold !== undefined && p.confidence < options.threshold;
    return { gold: p.gold, predicted: below || p.predicted === oos ? oos : p.predicted };
  });
  const n = decided.length || 1;
  const accuracy = decided.filter((d) => d.gold === d.predicted).length / n;

  const labels = new Set<string>(decided.map((d) => d.gold));
  let f1Sum = 0;
  for (const label of labels) {
    const tp = decided.filter((d) => d.gold === label && d.predicted === label).length;
    const fp = decided.filter((d) => d.gold !== label && d.predicted === label).length;
    const fn = decided.filter((d) => d.gold === label && d.predicted !== label).length;
    f1Sum += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  const macro_f1 = f1Sum / (labels.size || 1);

  let in_scope_accuracy: number | null = null;
  let oos_recall: number | null = null;
  let oos_precision: number | null = null;
  if (oos !== undefined) {
    const inScope = decided.filter((d) => d.gold !== oos);
    const outScope = decided.filter((d) => d.gold === oos);
    const predictedOos = decided.filter((d) => d.predicted === oos);
    in_scope_accuracy = inScope.filter((d) => d.predicted === d.gold).length / (inScope.length || 1);
    oos_recall = outScope.length > 0 ? outScope.filter((d) => d.predicted === oos).length / outScope.length : null;
    oos_precision = predictedOos.length > 0 ? predictedOos.filter((d) => d.gold === oos).length / predictedOos.length : null;
  } else {
    in_scope_accuracy = accuracy;
  }

  const pairs = new Map<string, number>();
  for (const d of decided) {
    if (d.gold === d.predicted) continue;
    const key = `${d.gold}\u0000${d.predicted}`;
    pairs.set(key, (pairs.get(key) ?? 0) + 1);
  }
  const confused = [...pairs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([key, count]) => {
      const [gold, predicted] = key.split('\u0000') as [string, string];
      return { gold, predicted, count };
    });

  return {
    accuracy: round(accuracy),
    macro_f1: round(macro_f1),
    in_scope_accuracy: in_scope_accuracy === null ? null : round(in_scope_accuracy),
    oos_recall: oos_recall === null ? null : round(oos_recall),
    oos_precision: oos_precision === null ? null : round(oos_precision),
    confused,
  };
}

async function predictAll(
  system: EvaluatedSystem,
  test: ReadonlyArray<LabelledText & { language?: Language }>,
): Promise<Prediction[]> {
  const out: Prediction[] = [];
  for (const item of test) {
    const top = await system.predict(item.text, item.language);
    out.push({ gold: item.label, predicted: top?.label ?? OUT_OF_SCOPE, confidence: top?.confidence ?? 0 });
  }
  return out;
}

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

/** Classifications per second (wall and CPU) over the test texts, repeating small sets to time at least half a second. */
async function measureSpeed(system: EvaluatedSystem, texts: readonly string[]): Promise<{ wall: number; cpu: number }> {
  if (texts.length === 0) return { wall: 0, cpu: 0 };
  let count = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  do {
    for (const t of texts) await system.predict(t);
    count += texts.length;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < 0.5);
  return { wall: count / elapsed, cpu: count / (cpuSeconds(cpuStart) || 1e-9) };
}

/** Peak resident memory of this process so far, in MB. */
export function peakRssMb(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1);
}

/**
 * Trains on the dataset's train split (its validation split, if any, held out to calibrate) and scores its test split.
 * `createSystem` is told the dataset's out-of-scope label, if it has one (CLINC150's `oos`).
 */
export async function evaluateSystem(
  dataset: Dataset,
  createSystem: (context: { outOfScopeLabel?: string }) => EvaluatedSystem,
  options: { threshold?: number; sweep?: readonly number[] } = {},
): Promise<EvalReport> {
  const system = createSystem(dataset.oosLabel !== undefined ? { outOfScopeLabel: dataset.oosLabel } : {});
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  await system.train(trainingExamples(dataset));
  const train_seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const train_cpu_seconds = cpuSeconds(cpuStart);
  const predictions = await predictAll(system, dataset.test);
  const speed = await measureSpeed(
    system,
    dataset.test.map((t) => t.text),
  );
  const threshold = dataset.oosLabel !== undefined ? options.threshold : undefined;
  return {
    dataset: dataset.name,
    ...scorePredictions(predictions, { ...(dataset.oosLabel ? { oosLabel: dataset.oosLabel } : {}), ...(threshold !== undefined ? { threshold } : {}) }),
    train_seconds: round(train_seconds, 2),
    classify_per_second: Math.round(speed.wall),
    peak_rss_mb: peakRssMb(),
    train_cpu_seconds: round(train_cpu_seconds, 2),
    classify_per_cpu_second: Math.round(speed.cpu),
    train_size: dataset.train.length,
    ...(dataset.validation ? { validation_size: dataset.validation.length } : {}),
    test_size: dataset.test.length,
    threshold: threshold ?? null,
    ...(dataset.oosLabel !== undefined && options.sweep
      ? {
          sweep: options.sweep.map((t) => {
            const s = scorePredictions(predictions, { oosLabel: dataset.oosLabel!, threshold: t });
            return { threshold: t, in_scope_accuracy: s.in_scope_accuracy, oos_recall: s.oos_recall, oos_precision: s.oos_precision };
          }),
        }
      : {}),
  };
}

/** Figures of one language in a cross-validation of a bilingual corpus. */
export interface LanguageFigures {
  accuracy: number;
  macro_f1: number;
  test_size: number;
}

/** Options of `crossValidate`. */
export interface CrossValidationOptions {
  folds?: number;
  /**
   * Labels that give the same answer (an Italian FAQ entry and its English twin, linked by
   * `same_as`): each label maps to the name of its group. A prediction of the twin counts as right.
   */
  sameAnswer?: ReadonlyMap<string, string>;
  /** Train the twins of `sameAnswer` as one class (ModelOptions.twins; default, as the server trains), or with false apart, only scored as one answer. */
  trainTwins?: boolean;
  /** Train each fold on at most this many examples per label (drawn with `seed`). */
  kshot?: number;
  seed?: number;
}

/**
 * Stratified k-fold cross-validation on one set of examples (the project's own corpus). With
 * examples in more than one language it reports each language on its own (`by_language`).
 */
export async function crossValidate(
  name: string,
  given: readonly TrainingExample[],
  createSystem: (context: { twins?: Record<string, string> }) => EvaluatedSystem,
  options: CrossValidationOptions | number = {},
): Promise<EvalReport> {
  const opts = typeof options === 'number' ? { folds: options } : options;
  const folds = opts.folds ?? 5;
  // Phrases recognised word for word (`exact`: "ok", "bye") are not learnt, so there is nothing to
  // cross-validate: they are in every training fold and never held out.
  const phrases = given.filter((e) => e.exact);
  const examples = given.filter((e) => !e.exact);
  const byLabel = new Map<string, number[]>();
  examples.forEach((e, i) => byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), i]));
  const foldOf = new Int32Array(examples.length);
  for (const indices of byLabel.values()) indices.forEach((i, k) => (foldOf[i] = k % folds));
  const same = (label: string) => opts.sameAnswer?.get(label) ?? label;

  const predictions: Array<Prediction & { language?: Language }> = [];
  let trainSeconds = 0;
  let speedSum = 0;
  let trainSize = 0;
  for (let f = 0; f < folds; f++) {
    let train = [...examples.filter((_, i) => foldOf[i] !== f), ...phrases];
    const test = examples.filter((_, i) => foldOf[i] === f);
    if (test.length === 0 || train.length === 0) continue;
    if (opts.kshot !== undefined) train = sampleKShot(train, opts.kshot, (opts.seed ?? 1) + f);
    trainSize += train.length;
    // Twins are trained as one answer, as the server trains them (ModelOptions.twins).
    const system = createSystem(opts.sameAnswer && opts.sameAnswer.size > 0 && opts.trainTwins !== false ? { twins: Object.fromEntries(opts.sameAnswer) } : {});
    const started = process.hrtime.bigint();
    await system.train(train);
    trainSeconds += Number(process.hrtime.bigint() - started) / 1e9;
    const predicted = await predictAll(system, test);
    predicted.forEach((p, i) => {
      const language = test[i]!.language;
      predictions.push({ gold: same(p.gold), predicted: same(p.predicted), confidence: p.confidence, ...(language ? { language } : {}) });
    });
    speedSum += (await measureSpeed(system, test.map((t) => t.text))).wall;
  }
  const languages = [...new Set(predictions.map((p) => p.language).filter((l): l is Language => l !== undefined))].sort();
  const by_language: Partial<Record<Language, LanguageFigures>> = {};
  if (languages.length > 1) {
    for (const language of languages) {
      const own = predictions.filter((p) => p.language === language);
      const s = scorePredictions(own);
      by_language[language] = { accuracy: s.accuracy, macro_f1: s.macro_f1, test_size: own.length };
    }
  }
  return {
    dataset: name,
    ...scorePredictions(predictions),
    train_seconds: round(trainSeconds / folds, 3),
    classify_per_second: Math.round(speedSum / folds),
    peak_rss_mb: peakRssMb(),
    train_size: Math.round(trainSize / folds),
    test_size: predictions.length,
    threshold: null,
    ...(languages.length > 1 ? { by_language } : {}),
  };
}

/**
 * Sportello's classifier as an evaluated system (`sportello eval`, bench/nlu). Here, beside the
 * scoring, so a benchmark process loads the classifier alone (not the configuration and the
 * channels' libraries it would bring in through the CLI).
 */
export function sportelloSystem(options: Pick<ModelOptions, 'twins' | 'outOfScopeLabel'> = {}): EvaluatedSystem {
  const classifier = createClassifier(options);
  return {
    train: (examples) => classifier.train(examples),
    // The pipeline passes the detected language; cross-validation passes each example's own.
    predict: (text, language) => classifier.classify(text, language ? { language } : undefined).ranked[0],
  };
}
