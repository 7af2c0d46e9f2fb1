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
import { CARE_LEXICON } from './lexicon.js';
import { createMasker } from './mask.js';
import { createNormaliser, isEnglishWord, STOPWORDS, words as wordsOf, type Normaliser } from './normalise.js';
import { createSpeller, type Speller } from './spelling.js';
import { seededRandom } from '../util/random.js';
import { networkInput, networkLogits, trainNetworkConcurrently, wordInputs, type Network } from './mlp.js';
import { bayesLeaveOneOut, foldBayes, trainBayes, type NaiveBayes } from './bayes.js';

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
  /** Weight features by inverse document frequency. */
  idf?: boolean;
  /** Add skip-bigrams (stems two apart) to the bigram group. */
  skipGrams?: boolean;
  /**
   * Above this many labels (a catalogue-sized FAQ) the model is a nearest-centroid retriever over an
   * inverted index: training and classifying cost no longer grow with examples × labels.
   */
  maxSoftmaxLabels?: number;
  /** Learning rate of the label priors relative to the weights (0: every label equally likely a priori). */
  biasRate?: number;
  /** Drop features found in fewer training examples than this (default 2 from 2,000 examples). */
  minCount?: number;
  /**
   * Fit a softmax temperature on a held-out twentieth when there are at least this many examples
   * (on the held-out examples, `TrainingExample.heldOut`, when the training data has some).
   */
  calibrateFrom?: number;
  /**
   * Share of an example's features left out at random each time SGD sees it (input dropout, the
   * kept ones scaled up to make up): no label may rest on a few features, which is what a corpus
   * with many examples per label rewards. Default 0.3 above 30 examples per label (where the
   * lexicon stops), 0 below: with a few examples per label every feature is needed. Measured over
   * seeds 42/1/2/3 (bench/nlu/notes.md): 0.5 learns more (Banking77 92.1, 0.3 91.9, none 91.7) but
   * leaves CLINC150's out-of-scope recall at 0.5 lower (69.2, 0.3 71.2, none 70.8).
   */
  dropout?: number;
  /**
   * The brand's order-number pattern: order numbers, like emails, phones, IBANs, cards and codici
   * fiscali, are taken out of every text before features (mask.ts), so data never dilutes a question.
   */
  orderNumberPattern?: string;
  /** Add care-lexicon concept features (lexicon.ts); default: with up to 30 examples per label. */
  lexicon?: boolean;
  /** Take private data out of texts before features (default true). */
  maskPrivateData?: boolean;
  /**
   * Train on each label's name as one more example of it ("faq:lavora-con-noi" → "lavora con noi",
   * "card_arrival" → "card arrival"): names are written by people and say what the label is about,
   * which counts where examples are few. Default: with up to 30 examples per label, like `lexicon`.
   */
  labelNames?: boolean;
  /**
   * Labels that give the same answer in different languages (an FAQ entry and its translation,
   * linked by `same_as`): each label to the name of its group (`sameAnswerGroups` of the corpus).
   * The twins are one class in training, so the questions of both languages teach it (shared
   * names, brands, character n-grams and lexicon concepts), and the class is reported under the
   * label of the message's language. Plain data (it is part of the model cache's key).
   */
  twins?: Readonly<Record<string, string>>;
  /**
   * A small neural network beside the linear model (mlp.ts: words and stem bigrams, a ReLU hidden
   * layer of `hidden` units, Adam), for corpora above 30 examples per label that are calibrated
   * (few-shot corpora and the sample FAQ are untouched). It learns on the calibration split, gets
   * its own temperature on the same held-out twentieth (or held-out examples), and the answer's probabilities are
   * (1 − weight) × the linear model's + weight × its own. `false`: the linear model alone.
   * Measured (bench/results/nlu.md, "Sixteenth session") with the defaults (48 units, weight 0.3, 5 epochs, rate 0.003):
   * Banking77 91.8 → 92.9 (seeds 42/1/2/3: 92.9 / 92.8 / 92.9 / 92.9); CLINC150 in scope / out-of-scope
   * recall at 0.5, mean of seeds 42/1/2/3, 91.75 / 71.2 → 91.9 / 73.4 (seed 42: 92.0 / 69.6 → 92.1 / 71.3);
   * xSID-it, the few-shot sets and the sample corpus unchanged (not used there). Cost on Banking77:
   * training +1.0–1.4 s (bundled: 2.7–3.1 → 4.0–4.4 s wall on a loaded 2-core machine), +12 MB peak
   * memory, classification about a quarter slower. Logits summed before one temperature instead of
   * averaged probabilities: Banking77 as good, but CLINC150 out-of-scope recall 69.6 → 57–62.
   * Averaging logits of the linear model and a network of 64 units over all features
   * (character n-grams too): 93.1 / 92.1 / 68.9 but twice the training time.
   * It trains in a worker thread while this one trains the linear model (mlp.ts,
   * `trainNetworkConcurrently`; the same weights): Banking77's main-thread training CPU 4.5 → 3.6 s
   * with naive Bayes added (bench/nlu/notes.md, nineteenth session).
   */
  ensemble?: { hidden?: number; weight?: number; epochs?: number; learningRate?: number } | false;
  /**
   * Multinomial naive Bayes as a prior of the linear model (bayes.ts), for calibrated corpora (at
   * least `calibrateFrom` examples) above 30 examples per label (not a brand's few-shot FAQ: there it
   * made one-word messages sure — "pagamento" answered instead of asked about): one pass counts every feature per class; the regression learns
   * with `scale` × naive Bayes's leave-one-out scores added to its logits (it learns what naive Bayes
   * gets wrong), is calibrated with them, and afterwards they are added into its weights (they are
   * linear in the features): no new state, no cost at classification. With it, a model trained with
   * dropout gets its temperature by likelihood (by accuracy, CLINC150 seed 42 sat at 92.3 / 72.4 on
   * the better curve). `false`: the regression alone.
   * Measured (bench/results/nlu.md) with the defaults (scale 0.3, α 0.1): CLINC150 in scope /
   * out-of-scope recall at 0.5, seeds 42/1/2/3, 92.1 / 71.3, 91.6 / 76.7, 91.9 / 72.7, 92.0 / 72.8 →
   * 92.4 / 70.7, 92.1 / 75.3, 92.2 / 73.5, 92.1 / 75.0 (mean 91.9 / 73.4 → 92.2 / 73.6); the
   * likelihood temperature alone 92.2 / 68.7 (seed 42, the old curve). Banking77 92.9 → 92.8 (seeds
   * 1/2/3: 92.8 / 92.9 / 92.9 → 93.0 / 92.8 / 92.8), 10 per label 80.0 both; CLINC150 10 per label
   * 78.6 / 77.4 → 79.4 / 76.9 and own corpus 80.5 → 80.6 (en 80.4 → 80.9, it 80.6 → 80.3) when it was
   * used there (now not: both unchanged); xSID-it unchanged (300 examples). Banking77 training +0.25–0.35 s (the leave-one-out scores), ~5 MB,
   * counted while the network trains in its worker thread (the same figures again in the nineteenth session, bench/nlu/notes.md).
   * Naive Bayes over words and bigrams only (accuracy temperature): mean 92.0 / 73.35. Naive Bayes (or complement naive
   * Bayes) mixed into the probabilities with its own temperature: CLINC150 along the same curve,
   * xSID-it (fixed weights) 92.0–93.6 against 93.2.
   */
  naiveBayes?: { scale?: number; alpha?: number } | false;
  /**
   * The training data's out-of-scope label (a dataset's, e.g. CLINC150's `oos`: text the system
   * must not answer, learnt as a label). With held-out examples, the confidence map then has a
   * second input, the probability of this label (`ConfidenceMap.outOfScope`). Without held-out
   * examples it changes nothing. Must be a label of the training examples.
   */
  outOfScopeLabel?: string;
}

interface SparseVector {
  idx: Int32Array;
  val: Float32Array;
}

interface Trained {
  labels: string[];
  labelLanguages: Array<ReadonlySet<Language> | undefined>;
  /** For a class made of twins (`ModelOptions.twins`): its label in each language; undefined without twins. */
  twinLabels: Array<Partial<Record<Language, string>> | undefined> | undefined;
  featureIndex: Map<string, number>;
  weights: Float32Array;
  bias: Float32Array;
  temperature: number;
  /** The neural ensemble member (`ModelOptions.ensemble`) and the share of the probabilities it gives. */
  network?: { net: Network; weight: number } | undefined;
  /** Stems seen in training (for coverage). */
  vocabulary: ReadonlySet<string>;
  /**
   * Words of the training examples per language (lower case, as `words` gives them) and the number
   * of examples each is in: what a misspelt word is corrected to (spelling.ts).
   */
  knownWords: Record<Language, ReadonlyMap<string, number>>;
  /**
   * Platt scaling of the model's confidences, fitted on held-out examples given to training (a
   * validation split): a confidence p is given as 1 / (1 + e^-(slope·ln p + intercept)), the chance,
   * on those examples, that an answer given with p is right; with an out-of-scope label
   * (`ModelOptions.outOfScopeLabel`), 1 / (1 + e^-(slope·ln p + outOfScope.slope·ln p(oos) + intercept)).
   * Undefined: the confidences as they are.
   */
  confidenceMap?: ConfidenceMap | undefined;
  /** Normalised training vectors per label, kept for small corpora (nearest-example similarity). */
  examplesByLabel: SparseVector[][] | undefined;
  /** Language of each training question (by `exactKey`), when all its copies agree: a known question is read in its own language. */
  exactLanguage: Map<string, Language>;
  /**
   * The exact-question layer: each training text (masked, by `exactKey`) to its label, when all
   * its copies have one label. A message the training data has word for word gets that label
   * first, at confidence 1, whatever the weights learnt: every FAQ question is answered by its own
   * entry after any retraining.
   */
  exactLabels: Map<string, number>;
  /** Phrases recognised word for word only, not learnt (`TrainingExample.exact`): their key to their label. */
  phrases: Map<string, string>;
  /** Care-lexicon concepts, when the model uses them. */
  concepts: ConceptIndex | undefined;
  /** When all training text is one language, every message is analysed as that language. */
  onlyLanguage: Language | undefined;
  /** With very many labels: label centroids in an inverted index instead of softmax weights. */
  retrieval: CentroidIndex | undefined;
  /** Inverse document frequencies, when the model weights features by them. */
  idf: Float32Array | undefined;
  /** Per-feature marks for deduplication at classification, and the current mark. */
  stamp: Int32Array;
  generation: number;
  /** Known character n-gram ids per word, filled as messages come. */
  gramCache: Map<string, WordGrams>;
  /** A zeroed vector as long as the feature space, for similarity (zeroed again after each use). */
  scratch: Float32Array;
  /** The vocabulary's long terms with one letter left out (built at first use, for misspellings). */
  nearVocabulary?: ReadonlySet<string>;
  /** Per language, the look-up of `knownWords` (built at the first unknown word of that language). */
  spellers?: Partial<Record<Language, Speller>>;
  /** Per language, unknown words met and what they were read as (null: left as they are). */
  spellCache?: Record<Language, Map<string, string | null>>;
  /** Function words as terms (stemmed like the text), per language. */
  stopTerms: Record<Language, ReadonlySet<string>>;
}

const DEFAULTS = {
  learningRate: 2,
  l2: 1e-6,
  charGrams: [3, 5] as [number, number],
  weights: { words: 1, bigrams: 0.5, chars: 1 },
  topK: 10,
  seed: 42,
  calibrateFrom: 400,
  maxSoftmaxLabels: 500,
  biasRate: 0.1,
  skipGrams: false,
  idf: true,
  dropout: 0.3,
  ensemble: { hidden: 48, weight: 0.3, epochs: 5, learningRate: 0.003 },
  naiveBayes: { scale: 0.3, alpha: 0.1 },
};

/**
 * Corpora with few examples per label keep their examples for nearest-example similarity: there
 * the softmax alone is over-confident. With more examples per label the calibrated softmax does.
 */
const SIMILARITY_MAX_PER_LABEL = 15;

/**
 * A label name's vector is this long (an example's is 1): a name is a short phrase, not a question,
 * and its words must not outweigh the examples ("customer area": a message that only gives a
 * customer code got that answer at 0.5 weight). Measured, seed 1 (weight 1 / 0.5 / 0.3 / 0.2):
 * Banking77 10 per label 79.8 / 80.1 / 80.0 / 79.7; own corpus CV 68.3 / 70.8 / 69.2 / 67.8.
 */
const LABEL_NAME_WEIGHT = 0.3;

/** Corpora smaller than this are trained again on every pass after calibration (see `train`). */
const SMALL_CORPUS = 5000;
/** The care lexicon is used by default up to this many examples per label on average. */
const LEXICON_MAX_PER_LABEL = 30;
/** Few-shot classes are balanced (`balanceWeights`) when the largest has more than this many times the median's examples. */
const BALANCE_FROM = 2;
/** Passes over all the data after calibration, for small corpora. */
const REJOIN_SMALL = 8;

const ASCII_RE = /^[\x00-\x7f]*$/;

/** A text's key for exact-question lookup: folded, lower case, words only. */
function exactKey(text: string): string {
  // Most messages are plain ASCII: no accents to take off, letters and digits are a-z and 0-9 (the same key, faster).
  if (ASCII_RE.test(text)) return text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return text.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '').replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/**
 * The label of a message that is one of the phrases (`TrainingExample.exact`) word for word, or a
 * few of them of one label in a row, parted by punctuation ("lascia stare, non importa", "bye, see you!").
 */
function phraseOf(phrases: ReadonlyMap<string, string>, text: string): string | undefined {
  const whole = phrases.get(exactKey(text));
  if (whole !== undefined) return whole;
  // Most messages are one sentence ("quali sono gli orari?"): nothing to split.
  const pieces = text.split(/[,.;:!?…]+/).filter((p) => /[\p{L}\p{N}]/u.test(p));
  if (pieces.length < 2) return undefined;
  const label = phrases.get(exactKey(pieces[0]!));
  return label !== undefined && pieces.every((p) => phrases.get(exactKey(p)) === label) ? label : undefined;
}

/**
 * A label's name as words, or undefined when it says nothing: the kind prefix ("faq:", "intent:")
 * goes, separators and camel case become spaces; names under 4 letters and "oos" are left out.
 */
export function labelNameText(label: string): string | undefined {
  const name = label
    .replace(/^[a-z]+:/, '')
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/[_\-/.]+/g, ' ')
    .toLowerCase()
    .trim();
  return name.replace(/\s/g, '').length < 4 || name === 'oos' ? undefined : name;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Character n-grams of one word, padded with `<` and `>`, prefixed as features. */
function wordGrams(word: string, charGrams: [number, number]): string[] {
  const out: string[] = [];
  const padded = `<${word}>`;
  for (let n = charGrams[0]; n <= charGrams[1]; n++) {
    for (let i = 0; i + n <= padded.length; i++) out.push(`c${padded.slice(i, i + n)}`);
  }
  return out;
}

/** What a text gives the model: stems (coverage), word and bigram features, and surface words. */
interface TextFeatures {
  terms: string[];
  words: string[];
  bigrams: string[];
  surface: string[];
}

/** Per language, the concepts of each term (stem) of the care lexicon. */
type ConceptIndex = Record<Language, Map<string, string[]>>;

function buildConcepts(normaliser: Normaliser): ConceptIndex {
  const index: ConceptIndex = { it: new Map(), en: new Map() };
  normaliser.prepare(Object.values(CARE_LEXICON).flatMap((byLanguage) => byLanguage.en.map((word) => ({ text: word, language: 'en' as const }))));
  for (const [concept, byLanguage] of Object.entries(CARE_LEXICON)) {
    for (const language of ['it', 'en'] as const) {
      for (const word of byLanguage[language]) {
        const { terms } = normaliser.analyse(word, language);
        if (terms.length !== 1) continue;
        const list = index[language].get(terms[0]!) ?? [];
        if (!list.includes(concept)) list.push(concept);
        index[language].set(terms[0]!, list);
      }
    }
  }
  return index;
}

function featurise(
  normaliser: Normaliser,
  text: string,
  language: Language,
  skipGrams: boolean,
  exactWords = false,
  concepts?: ConceptIndex,
  correct?: (word: string, terms: readonly string[]) => string | undefined,
): TextFeatures {
  const { surface, terms } = normaliser.analyse(text, language, correct);
  const words = terms.map((t) => `w ${t}`);
  if (concepts) for (const t of terms) for (const c of concepts[language].get(t) ?? []) words.push(`k ${c}`);
  // Catalogue-sized FAQs name products and models: "ribalo" and "ribala" share a stem, not a name.
  if (exactWords) for (const w of surface) if (w.length >= 3) words.push(`u ${w}`);
  const bigrams: string[] = [];
  for (let i = 0; i + 1 < terms.length; i++) bigrams.push(`b ${terms[i]} ${terms[i + 1]}`);
  if (skipGrams) for (let i = 0; i + 2 < terms.length; i++) bigrams.push(`s ${terms[i]} ${terms[i + 2]}`);
  if (terms.length > 0) bigrams.push(`b ^ ${terms[0]}`);
  return { terms, words, bigrams, surface: surface.length > 400 ? surface.slice(0, 400) : surface };
}

/**
 * Turns features into a sparse vector: binary features, each group scaled to length `weight`
 * (long texts do not drown short ones), then the whole vector to unit length.
 * `charIds` gives the feature ids of a word's character n-grams.
 */
function vectorise(
  f: TextFeatures,
  weights: readonly number[],
  lookup: (feature: string) => number | undefined,
  charIds: (word: string) => ArrayLike<number>,
): SparseVector {
  const acc = new Map<number, number>();
  const addGroup = (ids: Set<number>, weight: number) => {
    if (ids.size === 0) return;
    const value = weight / Math.sqrt(ids.size);
    for (const id of ids) acc.set(id, (acc.get(id) ?? 0) + value);
  };
  const idsOf = (features: string[]) => {
    const ids = new Set<number>();
    for (const feature of features) {
      const id = lookup(feature);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  };
  addGroup(idsOf(f.words), weights[0] ?? 1);
  addGroup(idsOf(f.bigrams), weights[1] ?? 1);
  const chars = new Set<number>();
  for (const w of f.surface) {
    const ids = charIds(w);
    for (let i = 0; i < ids.length; i++) chars.add(ids[i]!);
  }
  addGroup(chars, weights[2] ?? 1);
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

/**
 * A word's known character n-grams (`Trained.gramCache`): their ids, each once, and, computed at
 * the word's first classification, the sum of their rows of the linear weights, each times its idf.
 * A message's character part of the logits is then the sum of its words' rows, not of all its
 * n-grams': about a tenth of the additions, the same sums (`messageLogits`).
 */
interface WordGrams {
  ids: Int32Array;
  /** Σ idf[g] · weights[g] over `ids`, one per class; undefined until first needed. */
  rows: Float64Array | undefined;
}

/** A message as the linear model reads it (`vectoriseKnown`): its vector and how its character part adds up. */
interface MessageVector extends SparseVector {
  /** Where the character n-grams start in `idx`. */
  charFrom: number;
  /** The value of a character n-gram with idf 1 (each one's value is this times its idf). */
  charScale: number;
  /** The message's distinct words' n-grams. */
  charWords: WordGrams[];
  /** N-grams met again in a later word (once per extra word): their rows are taken off the words' sums. */
  charRepeats: number[];
}

/**
 * `vectorise` for classification, without maps or sets: feature ids are deduplicated with a
 * stamp array as long as the feature space (each id belongs to one group, by its prefix).
 */
function vectoriseKnown(f: TextFeatures, weights: readonly number[], model: Trained, gramsOf: (word: string) => WordGrams): MessageVector {
  const stamp = model.stamp;
  const idf = model.idf;
  const featureIndex = model.featureIndex;
  let ids = idScratch;
  let n = 0;
  const push = (id: number): void => {
    if (n === ids.length) {
      const grown = new Int32Array(ids.length * 2);
      grown.set(ids);
      ids = idScratch = grown;
    }
    ids[n++] = id;
  };
  const mark = (): number => {
    model.generation = (model.generation + 1) | 0;
    if (model.generation === 0) {
      stamp.fill(0);
      model.generation = 1;
    }
    return model.generation;
  };
  // Words, then bigrams: each group's features scaled to length `weight` (before idf).
  const groupEnds = [0, 0];
  const groups = [f.words, f.bigrams];
  for (let g = 0; g < 2; g++) {
    const gen = mark();
    for (const feature of groups[g]!) {
      const id = featureIndex.get(feature);
      if (id !== undefined && stamp[id] !== gen) {
        stamp[id] = gen;
        push(id);
      }
    }
    groupEnds[g] = n;
  }
  // Character n-grams: each distinct one once, whichever words it is in.
  const gen = mark();
  const charFrom = n;
  const charWords: WordGrams[] = [];
  const charRepeats: number[] = [];
  let idfSquares = 0;
  for (let w = 0; w < f.surface.length; w++) {
    const word = f.surface[w]!;
    if (f.surface.indexOf(word) < w) continue;
    const grams = gramsOf(word);
    const gramIds = grams.ids;
    if (gramIds.length === 0) continue;
    charWords.push(grams);
    for (let i = 0; i < gramIds.length; i++) {
      const id = gramIds[i]!;
      if (stamp[id] === gen) charRepeats.push(id);
      else {
        stamp[id] = gen;
        push(id);
        const d = idf ? idf[id]! : 1;
        idfSquares += d * d;
      }
    }
  }
  const val = new Float32Array(n);
  let norm = 0;
  let from = 0;
  for (let g = 0; g < 2; g++) {
    const to = groupEnds[g]!;
    const value = (weights[g] ?? 1) / Math.sqrt(to - from || 1);
    for (let i = from; i < to; i++) {
      const v = value * (idf ? idf[ids[i]!]! : 1);
      val[i] = v;
      norm += v * v;
    }
    from = to;
  }
  const charValue = (weights[2] ?? 1) / Math.sqrt(n - charFrom || 1);
  norm = Math.sqrt(norm + charValue * charValue * idfSquares) || 1;
  for (let i = 0; i < charFrom; i++) val[i] = val[i]! / norm;
  const charScale = charValue / norm;
  for (let i = charFrom; i < n; i++) val[i] = charScale * (idf ? idf[ids[i]!]! : 1);
  return { idx: ids.slice(0, n), val, charFrom, charScale, charWords, charRepeats };
}

/** `vectoriseKnown`'s growing list of feature ids (classification is synchronous: one message at a time). */
let idScratch = new Int32Array(512);

/** Inverse document frequency of each feature: words every example has say little. */
function computeIdf(xs: readonly SparseVector[], featureCount: number): Float32Array {
  const df = new Int32Array(featureCount);
  for (const x of xs) for (let k = 0; k < x.idx.length; k++) df[x.idx[k]!]!++;
  const idf = new Float32Array(featureCount);
  for (let id = 0; id < featureCount; id++) idf[id] = Math.log((xs.length + 1) / (df[id]! + 1)) + 1;
  return idf;
}

/** Multiplies a training vector by the idf and scales it back to unit length. */
function applyIdf(x: SparseVector, idf: Float32Array): SparseVector {
  let norm = 0;
  for (let k = 0; k < x.idx.length; k++) {
    x.val[k] = x.val[k]! * idf[x.idx[k]!]!;
    norm += x.val[k]! * x.val[k]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < x.val.length; k++) x.val[k] = x.val[k]! / norm;
  return x;
}

/** Label centroids (unit-length mean of their examples) as postings per feature. */
interface CentroidIndex {
  /** Postings of feature f are [start[f], start[f + 1]). */
  start: Int32Array;
  label: Int32Array;
  value: Float32Array;
}

function buildCentroidIndex(xs: readonly SparseVector[], ys: Int32Array, labelCount: number, featureCount: number): CentroidIndex {
  const sums: Array<Map<number, number>> = Array.from({ length: labelCount }, () => new Map());
  xs.forEach((x, i) => {
    const sum = sums[ys[i]!]!;
    for (let k = 0; k < x.idx.length; k++) sum.set(x.idx[k]!, (sum.get(x.idx[k]!) ?? 0) + x.val[k]!);
  });
  // Features shared by a large share of the labels ("<co", "quanto") barely tell labels apart but
  // make the longest postings: leaving them out keeps classification fast on catalogue-sized FAQs.
  const labelsWith = new Int32Array(featureCount);
  for (const sum of sums) for (const f of sum.keys()) labelsWith[f]!++;
  const maxPostings = Math.max(50, Math.floor(labelCount * 0.03));
  for (const sum of sums) for (const f of [...sum.keys()]) if (labelsWith[f]! > maxPostings) sum.delete(f);
  const counts = new Int32Array(featureCount + 1);
  for (const sum of sums) for (const f of sum.keys()) counts[f + 1]!++;
  for (let f = 0; f < featureCount; f++) counts[f + 1] = counts[f + 1]! + counts[f]!;
  const start = counts.slice();
  const fill = counts.slice(0, featureCount);
  const label = new Int32Array(start[featureCount]!);
  const value = new Float32Array(start[featureCount]!);
  sums.forEach((sum, l) => {
    let norm = 0;
    for (const v of sum.values()) norm += v * v;
    norm = Math.sqrt(norm) || 1;
    for (const [f, v] of sum) {
      const at = fill[f]!++;
      label[at] = l;
      value[at] = v / norm;
    }
  });
  return { start, label, value };
}

/** How sharply centroid similarity turns into probability (a 0.1 cosine lead ≈ 7× the odds). */
const RETRIEVAL_TEMPERATURE = 0.05;
/** Labels that share the probability in retrieval mode (the rest get 0). */
const RETRIEVAL_CANDIDATES = 20;

/** Fills `out` with probabilities over the labels whose centroids are nearest the message. */
function retrievalScores(x: SparseVector, index: CentroidIndex, out: Float64Array): void {
  out.fill(0);
  for (let k = 0; k < x.idx.length; k++) {
    const f = x.idx[k]!;
    const v = x.val[k]!;
    for (let p = index.start[f]!; p < index.start[f + 1]!; p++) out[index.label[p]!] = out[index.label[p]!]! + v * index.value[p]!;
  }
  const top: number[] = [];
  for (let c = 0; c < out.length; c++) {
    if (out[c]! <= 0) continue;
    if (top.length < RETRIEVAL_CANDIDATES) top.push(c);
    else if (out[c]! > out[top[top.length - 1]!]!) top[top.length - 1] = c;
    else continue;
    for (let k = top.length - 1; k > 0 && out[top[k]!]! > out[top[k - 1]!]!; k--) [top[k], top[k - 1]] = [top[k - 1]!, top[k]!];
  }
  const best = top.length > 0 ? out[top[0]!]! : 0;
  let sum = 0;
  const probs = top.map((c) => {
    const e = Math.exp((out[c]! - best) / RETRIEVAL_TEMPERATURE);
    sum += e;
    return e;
  });
  out.fill(0);
  top.forEach((c, i) => (out[c] = probs[i]! / sum));
}

/** Dot product of a dense scratch vector (the message) with a sparse vector (an example). */
function dotDense(dense: Float32Array, b: SparseVector): number {
  let s = 0;
  for (let i = 0; i < b.idx.length; i++) s += dense[b.idx[i]!]! * b.val[i]!;
  return s;
}

/** Fills `out` with the bias plus the rows of x's features (its first `count`, by default all) times their values. */
function logits(x: SparseVector, weights: Float32Array, bias: Float32Array, out: Float64Array, count = x.idx.length): void {
  const C = bias.length;
  for (let c = 0; c < C; c++) out[c] = bias[c]!;
  const idx = x.idx;
  const val = x.val;
  // Four classes a step: the same sums in the same order, about a fifth less training time.
  const C4 = C - (C % 4);
  for (let k = 0; k < count; k++) {
    const base = idx[k]! * C;
    const v = val[k]!;
    let c = 0;
    for (; c < C4; c += 4) {
      out[c] = out[c]! + v * weights[base + c]!;
      out[c + 1] = out[c + 1]! + v * weights[base + c + 1]!;
      out[c + 2] = out[c + 2]! + v * weights[base + c + 2]!;
      out[c + 3] = out[c + 3]! + v * weights[base + c + 3]!;
    }
    for (; c < C; c++) out[c] = out[c]! + v * weights[base + c]!;
  }
}

/**
 * The linear model's logits for a message read by `vectoriseKnown`: its word and bigram features
 * row by row, its character n-grams as the sum of its words' rows (`WordGrams.rows`, computed at a
 * word's first message) less the rows of n-grams two words share, times their common scale.
 */
function messageLogits(x: MessageVector, model: Trained, out: Float64Array): void {
  const { weights, bias, idf } = model;
  const C = bias.length;
  logits(x, weights, bias, out, x.charFrom);
  if (x.charWords.length === 0) return;
  const sum = new Float64Array(C);
  const C4 = C - (C % 4);
  for (const word of x.charWords) {
    let rows = word.rows;
    if (!rows) {
      rows = new Float64Array(C);
      for (let i = 0; i < word.ids.length; i++) {
        const id = word.ids[i]!;
        const d = idf ? idf[id]! : 1;
        const base = id * C;
        for (let c = 0; c < C; c++) rows[c] = rows[c]! + d * weights[base + c]!;
      }
      word.rows = rows;
    }
    let c = 0;
    for (; c < C4; c += 4) {
      sum[c] = sum[c]! + rows[c]!;
      sum[c + 1] = sum[c + 1]! + rows[c + 1]!;
      sum[c + 2] = sum[c + 2]! + rows[c + 2]!;
      sum[c + 3] = sum[c + 3]! + rows[c + 3]!;
    }
    for (; c < C; c++) sum[c] = sum[c]! + rows[c]!;
  }
  for (const id of x.charRepeats) {
    const d = idf ? idf[id]! : 1;
    const base = id * C;
    for (let c = 0; c < C; c++) sum[c] = sum[c]! - d * weights[base + c]!;
  }
  const scale = x.charScale;
  for (let c = 0; c < C; c++) out[c] = out[c]! + scale * sum[c]!;
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
  opts: {
    epochs: number;
    learningRate: number;
    l2: number;
    seed: number;
    biasRate: number;
    dropout: number;
    firstEpoch?: number;
    exampleWeights?: Float32Array;
    /** Added to the logits of example i: C values from `offsets.rows[i]` × C (or i × C without rows). */
    offsets?: { values: Float32Array; rows?: Int32Array };
  },
  start?: { weights: Float32Array; bias: Float32Array },
): { weights: Float32Array; bias: Float32Array } {
  const C = classCount;
  const weights = start?.weights ?? new Float32Array(featureCount * C);
  const bias = start?.bias ?? new Float32Array(C);
  const z = new Float64Array(C);
  const active = new Int32Array(C);
  const steps = new Float64Array(C);
  const order = Array.from(xs.keys());
  const random = seededRandom(opts.seed);
  // Input dropout: the kept features of the example being learnt, scaled by 1 / (1 - dropout).
  const dropout = opts.dropout;
  const keepScale = 1 / (1 - dropout);
  const dropRandom = seededRandom(opts.seed + 7);
  let longest = 0;
  if (dropout > 0) for (const x of xs) longest = Math.max(longest, x.idx.length);
  const keptIdx = new Int32Array(longest);
  const keptVal = new Float32Array(longest);
  const kept: SparseVector = { idx: keptIdx, val: keptVal };
  const offsets = opts.offsets?.values;
  const offsetRows = opts.offsets?.rows;
  for (let epoch = opts.firstEpoch ?? 0; epoch < opts.epochs; epoch++) {
    shuffle(order, random);
    const baseLr = opts.learningRate / (1 + epoch * 0.35);
    const decay = 1 - baseLr * opts.l2;
    for (const i of order) {
      let x = xs[i]!;
      let count = x.idx.length;
      const y = ys[i]!;
      const lr = opts.exampleWeights ? baseLr * opts.exampleWeights[i]! : baseLr;
      if (dropout > 0) {
        let m = 0;
        for (let k = 0; k < x.idx.length; k++) {
          if (dropRandom() < dropout) continue;
          keptIdx[m] = x.idx[k]!;
          keptVal[m++] = x.val[k]! * keepScale;
        }
        x = kept;
        count = m;
      }
      logits(x, weights, bias, z, count);
      if (offsets) {
        const base = (offsetRows ? offsetRows[i]! : i) * C;
        for (let c = 0; c < C; c++) z[c] = z[c]! + offsets[base + c]!;
      }
      softmaxInPlace(z, 1);
      z[y] = z[y]! - 1;
      let n = 0;
      for (let c = 0; c < C; c++) {
        const g = z[c]!;
        // Most classes have near-zero probability after the first pass: skipping them is the speed-up.
        if (g > -1e-3 && g < 1e-3) continue;
        const step = lr * g;
        bias[c] = bias[c]! - step * opts.biasRate;
        active[n] = c;
        steps[n++] = step;
      }
      // Feature by feature, the active classes' weights of one feature are side by side in memory.
      for (let k = 0; k < count; k++) {
        const base = x.idx[k]! * C;
        const v = x.val[k]!;
        for (let a = 0; a < n; a++) {
          const w = base + active[a]!;
          weights[w] = weights[w]! * decay - steps[a]! * v;
        }
      }
    }
  }
  return { weights, bias };
}

/**
 * Per-example learning weights of a few-shot corpus: a class with many more examples than the
 * typical class (a background intent of off-topic messages, a big intent) learns each of them at
 * sqrt(median / size), so its size does not make it the default answer of every message with
 * little evidence. Classes at or below the median keep weight 1; label-name examples keep 1.
 */
function balanceWeights(ys: Int32Array, realCount: number, classCount: number): Float32Array | undefined {
  const sizes = new Int32Array(classCount);
  for (let i = 0; i < realCount; i++) sizes[ys[i]!]!++;
  const present = Array.from(sizes).filter((n) => n > 0).sort((a, b) => a - b);
  const median = present[Math.floor(present.length / 2)] ?? 0;
  if (median === 0 || present[present.length - 1]! <= median * BALANCE_FROM) return undefined;
  const weights = new Float32Array(ys.length).fill(1);
  for (let i = 0; i < realCount; i++) {
    const size = sizes[ys[i]!]!;
    if (size > median) weights[i] = Math.sqrt(median / size);
  }
  return weights;
}

/** Removes features present in fewer than `minCount` examples, renumbering the rest in place. */
function pruneRareFeatures(xs: SparseVector[], featureIndex: Map<string, number>, minCount: number): void {
  const counts = new Int32Array(featureIndex.size);
  for (const x of xs) for (let k = 0; k < x.idx.length; k++) counts[x.idx[k]!]!++;
  const remap = new Int32Array(featureIndex.size).fill(-1);
  let next = 0;
  for (let id = 0; id < counts.length; id++) if (counts[id]! >= minCount) remap[id] = next++;
  for (const [feature, id] of [...featureIndex]) {
    const to = remap[id]!;
    if (to < 0) featureIndex.delete(feature);
    else featureIndex.set(feature, to);
  }
  xs.forEach((x, i) => {
    const keep: number[] = [];
    for (let k = 0; k < x.idx.length; k++) if (remap[x.idx[k]!]! >= 0) keep.push(k);
    const idx = new Int32Array(keep.length);
    const val = new Float32Array(keep.length);
    let norm = 0;
    keep.forEach((k, j) => {
      idx[j] = remap[x.idx[k]!]!;
      val[j] = x.val[k]!;
      norm += x.val[k]! * x.val[k]!;
    });
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < val.length; j++) val[j] = val[j]! / norm;
    xs[i] = { idx, val };
  });
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

/** Platt scaling of a confidence (`Trained.confidenceMap`). */
export interface ConfidenceMap {
  slope: number;
  intercept: number;
  /** The second input: the out-of-scope label's class (its index in `labels`) and the slope on ln p(oos). */
  outOfScope?: { index: number; slope: number } | undefined;
}

/** Probabilities are read as logarithms no lower than ln 1e-6 (an answer or out-of-scope label all but ruled out). */
const lnClamped = (p: number): number => Math.log(Math.max(p, 1e-6));

/** A confidence through its map (identity without one), given the out-of-scope label's probability; 0 stays 0. */
function mapConfidence(map: ConfidenceMap | undefined, p: number, pOutOfScope: number): number {
  if (!map || p <= 0) return p;
  const oos = map.outOfScope ? map.outOfScope.slope * lnClamped(pOutOfScope) : 0;
  return 1 / (1 + Math.exp(-(map.slope * lnClamped(p) + oos + map.intercept)));
}

/**
 * Logistic regression by maximum likelihood (Newton's method, the step halved while it does not
 * lower the loss; a small ridge keeps the Hessian invertible): the weights of `rows` (each ending
 * with the constant 1) that best give `right`. Deterministic.
 */
function fitLogistic(rows: readonly Float64Array[], right: readonly boolean[], start: readonly number[]): number[] | undefined {
  const d = start.length;
  const w = Float64Array.from(start);
  const loss = (v: Float64Array): number => {
    let sum = 0;
    rows.forEach((x, i) => {
      let t = 0;
      for (let j = 0; j < d; j++) t += v[j]! * x[j]!;
      // −ln σ(±t), written to stay finite for large |t|.
      const m = right[i] ? -t : t;
      sum += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
    });
    return sum;
  };
  let current = loss(w);
  for (let step = 0; step < 50; step++) {
    const g = new Float64Array(d);
    const h = Array.from({ length: d }, (_, j) => {
      const row = new Float64Array(d + 1);
      row[j] = 1e-6;
      return row;
    });
    rows.forEach((x, i) => {
      let t = 0;
      for (let j = 0; j < d; j++) t += w[j]! * x[j]!;
      const q = 1 / (1 + Math.exp(-t));
      const r = q - (right[i] ? 1 : 0);
      const v = q * (1 - q);
      for (let j = 0; j < d; j++) {
        g[j] = g[j]! + r * x[j]!;
        const hj = h[j]!;
        for (let k = 0; k < d; k++) hj[k] = hj[k]! + v * x[j]! * x[k]!;
      }
    });
    // Solve H·δ = g (Gaussian elimination with partial pivoting on the augmented rows).
    for (let j = 0; j < d; j++) h[j]![d] = g[j]!;
    for (let j = 0; j < d; j++) {
      let pivot = j;
      for (let k = j + 1; k < d; k++) if (Math.abs(h[k]![j]!) > Math.abs(h[pivot]![j]!)) pivot = k;
      [h[j], h[pivot]] = [h[pivot]!, h[j]!];
      for (let k = j + 1; k < d; k++) {
        const hk = h[k]!;
        const hj = h[j]!;
        const f = hk[j]! / hj[j]!;
        for (let l = j; l <= d; l++) hk[l] = hk[l]! - f * hj[l]!;
      }
    }
    const delta = new Float64Array(d);
    for (let j = d - 1; j >= 0; j--) {
      let t = h[j]![d]!;
      for (let k = j + 1; k < d; k++) t -= h[j]![k]! * delta[k]!;
      delta[j] = t / h[j]![j]!;
    }
    if (delta.some((v) => !Number.isFinite(v))) return undefined;
    let scale = 1;
    let next = w.map((v, j) => v - delta[j]!);
    let after = loss(next);
    while (after > current && scale > 1e-4) {
      scale /= 2;
      next = w.map((v, j) => v - scale * delta[j]!);
      after = loss(next);
    }
    if (after > current) break;
    w.set(next);
    const moved = delta.reduce((sum, v) => sum + Math.abs(v), 0) * scale;
    current = after;
    if (moved < 1e-10) break;
  }
  return w.every(Number.isFinite) ? [...w] : undefined;
}

/**
 * Platt scaling by maximum likelihood: the logistic curve in ln p that best gives whether each
 * answer was right; with `outOfScope` (the out-of-scope label's class and its probability for each
 * answer), in ln p and ln p(oos). Undefined when the data cannot fit one (every answer right, or
 * none, or a curve that would not rise with p); with `outOfScope`, the plain curve if only that fits.
 */
export function fitConfidenceMap(
  confidences: readonly number[],
  right: readonly boolean[],
  outOfScope?: { index: number; probabilities: readonly number[] },
): ConfidenceMap | undefined {
  const n = confidences.length;
  const hits = right.filter(Boolean).length;
  if (n === 0 || hits === 0 || hits === n) return undefined;
  if (outOfScope) {
    const rows = confidences.map((p, i) => Float64Array.of(lnClamped(p), lnClamped(outOfScope.probabilities[i]!), 1));
    const w = fitLogistic(rows, right, [1, 0, 0]);
    if (w && w[0]! > 0) return { slope: w[0]!, intercept: w[2]!, outOfScope: { index: outOfScope.index, slope: w[1]! } };
  }
  const w = fitLogistic(confidences.map((p) => Float64Array.of(lnClamped(p), 1)), right, [1, 0]);
  return w && w[0]! > 0 ? { slope: w[0]!, intercept: w[1]! } : undefined;
}

/**
 * The temperature at which the mean top probability on held-out rows equals the share of them the
 * model gets right (calibration in the large), by bisection (the mean falls as the temperature rises).
 * Used for models trained with dropout: fitted by likelihood, their temperature left them surer of
 * text about something else (CLINC150 with dropout 0.5, seeds 42/1/2: out-of-scope recall at 0.5
 * 68.3 by likelihood, 70.7 this way; 70.5 without dropout).
 */
export function fitTemperatureToAccuracy(logitRows: readonly Float64Array[], ys: readonly number[]): number {
  if (logitRows.length === 0) return 1;
  let correct = 0;
  logitRows.forEach((row, i) => {
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    if (best === ys[i]) correct++;
  });
  const accuracy = correct / logitRows.length;
  const z = new Float64Array(logitRows[0]!.length);
  const meanTop = (t: number) => {
    let total = 0;
    for (const row of logitRows) {
      z.set(row);
      softmaxInPlace(z, t);
      let top = 0;
      for (let c = 0; c < z.length; c++) if (z[c]! > top) top = z[c]!;
      total += top;
    }
    return total / logitRows.length;
  };
  let lo = 0.05;
  let hi = 5;
  for (let step = 0; step < 30; step++) {
    const mid = (lo + hi) / 2;
    if (meanTop(mid) > accuracy) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * A trained model as plain data (maps, sets, typed arrays; no functions): what `snapshot` gives and
 * `restore` takes, so a worker thread receives the main thread's model (structured clone) and a
 * restart with an unchanged corpus reads it from the model cache (model-cache.ts) instead of training.
 */
export type ModelSnapshot = Omit<Trained, 'stamp' | 'generation' | 'gramCache' | 'scratch' | 'nearVocabulary' | 'spellers' | 'spellCache'>;

/** The classifier plus what the understander needs to know about the trained corpus. */
export interface TrainableClassifier extends Classifier {
  /** Labels the model knows, with the languages their examples are in (empty: unknown). */
  labels(): Array<{ label: string; languages: Language[] }>;
  /** The trained model as data (throws before `train`); `restore` on a classifier with the same options answers alike. */
  snapshot(): ModelSnapshot;
  /** Takes a model made by `snapshot` of a classifier created with the same options, instead of training. */
  restore(model: ModelSnapshot): void;
}

/** Creates an untrained classifier; `train` must finish before `classify`. */
export function createClassifier(options: ModelOptions = {}): TrainableClassifier {
  const charGrams = options.charGrams ?? DEFAULTS.charGrams;
  const groupWeights = options.weights ?? DEFAULTS.weights;
  const weightList = [groupWeights.words, groupWeights.bigrams, groupWeights.chars];
  const defaultLanguage = options.defaultLanguage ?? 'it';
  const topK = options.topK ?? DEFAULTS.topK;
  const skipGrams = options.skipGrams ?? DEFAULTS.skipGrams;
  let trained: Trained | undefined;
  let normaliser = createNormaliser();
  /** Scratch of the ensemble's network at classification (its logits and hidden layer). */
  const networkScratch = { z: new Float64Array(0), h: new Float64Array(0) };
  const mask =
    options.maskPrivateData === false
      ? (text: string) => text
      : createMasker(options.orderNumberPattern !== undefined ? { orderNumberPattern: options.orderNumberPattern } : {});

  // Per word, its known character n-grams (each once) and their rows' sum: most words repeat, so this is the speed-up.
  const knownGrams = (model: Trained, word: string): WordGrams => {
    let grams = model.gramCache.get(word);
    if (!grams) {
      const found = new Set<number>();
      for (const g of wordGrams(word, charGrams)) {
        const id = model.featureIndex.get(g);
        if (id !== undefined) found.add(id);
      }
      grams = { ids: Int32Array.from(found), rows: undefined };
      // Bounded: at most GRAM_CACHE_MAX words (with their rows, some 5–10 MB for a FAQ); later new words are read afresh each time.
      if (model.gramCache.size < GRAM_CACHE_MAX) model.gramCache.set(word, grams);
    }
    return grams;
  };

  const languageOf = (text: string, given: Language | undefined, model: Trained | undefined): Language =>
    model?.onlyLanguage ?? given ?? detectLanguage(text, undefined, defaultLanguage);

  async function train(all: readonly TrainingExample[]): Promise<void> {
    // Phrases recognised word for word only ("ok", "bye"): kept aside, not learnt. Held-out
    // examples (a dataset's validation split) are not learnt either: the temperatures are fitted on them.
    const examples = all.filter((e) => !e.exact && !e.heldOut);
    const heldOut = all.filter((e) => e.heldOut && !e.exact);
    if (examples.length === 0) throw new Error('cannot train a classifier on no examples');
    const twins = options.twins ?? {};
    const classOf = (label: string): string => (Object.hasOwn(twins, label) ? twins[label]! : label);
    const labelCount = new Set(examples.map((e) => classOf(e.label))).size;
    // Examples per label are counted per label as written: twins are one class, but each has its own
    // questions (the sample FAQ: 578 questions, 66 labels, 36 classes), so they are no less few-shot.
    const labelsWritten = new Set(examples.map((e) => e.label)).size;
    const maxSoftmaxLabels = options.maxSoftmaxLabels ?? DEFAULTS.maxSoftmaxLabels;
    const retrievalMode = labelCount > maxSoftmaxLabels;
    normaliser = createNormaliser({ englishRoots: !retrievalMode });
    const labels: string[] = [];
    const labelId = new Map<string, number>();
    const members: Array<Map<Language, string>> = [];
    const languagesByLabel = new Map<string, Set<Language>>();
    const exampleLanguages = examples.map((e) => e.language ?? detectLanguage(e.text, undefined, defaultLanguage));
    const counts = { it: 0, en: 0 };
    exampleLanguages.forEach((l) => counts[l]++);
    // A corpus (almost) all in one language is analysed as that language: detection errors on
    // a few words would otherwise give train and test text different stems.
    const tagged = examples.filter((e) => e.language !== undefined).length;
    const share = tagged === examples.length ? 1 : 0.9;
    const onlyLanguage: Language | undefined =
      counts.en / examples.length >= share ? 'en' : counts.it / examples.length >= share ? 'it' : undefined;

    // Synonyms help where examples are few; with many per label the data has the paraphrases
    // (on CLINC150's 100 per label the lexicon cost out-of-scope recall).
    const fewShot = examples.length <= labelsWritten * LEXICON_MAX_PER_LABEL;
    const concepts = (options.lexicon ?? fewShot) && !retrievalMode ? buildConcepts(normaliser) : undefined;
    const featureIndex = new Map<string, number>();
    const gramIdsByWord = new Map<string, number[]>();
    const trainingGrams = (word: string): number[] => {
      let ids = gramIdsByWord.get(word);
      if (!ids) {
        ids = wordGrams(word, charGrams).map(grow);
        gramIdsByWord.set(word, ids);
      }
      return ids;
    };
    const grow = (feature: string): number => {
      let id = featureIndex.get(feature);
      if (id === undefined) {
        id = featureIndex.size;
        featureIndex.set(feature, id);
      }
      return id;
    };
    const vocabulary = new Set<string>();
    const knownWords: Record<Language, Map<string, number>> = { it: new Map(), en: new Map() };
    /** Counts the words of one training text (once per text) for spelling correction. */
    const countWords = (text: string, language: Language) => {
      const known = knownWords[language];
      for (const w of new Set(wordsOf(text, language))) known.set(w, (known.get(w) ?? 0) + 1);
    };
    const xs: SparseVector[] = [];
    let ys = new Int32Array(examples.length);
    const masked = examples.map((e) => (typeof e.text === 'string' ? mask(e.text) : ''));
    // The examples' new words analysed together (the same analyses, a fraction of the time).
    normaliser.prepare(masked.map((text, i) => ({ text, language: onlyLanguage ?? exampleLanguages[i]! })));
    examples.forEach((e, i) => {
      if (typeof e.text !== 'string' || typeof e.label !== 'string' || e.label.length === 0) {
        throw new Error(`training example ${i} needs a text and a label`);
      }
      // Twins are one class, named after the first of them met; `members` keeps each one's label by language.
      const key = classOf(e.label);
      let id = labelId.get(key);
      if (id === undefined) {
        id = labels.length;
        labels.push(e.label);
        labelId.set(key, id);
        members.push(new Map());
      }
      const language = onlyLanguage ?? exampleLanguages[i]!;
      if (!members[id]!.has(language)) members[id]!.set(language, e.label);
      if (e.language) {
        const set = languagesByLabel.get(labels[id]!) ?? new Set<Language>();
        set.add(e.language);
        languagesByLabel.set(labels[id]!, set);
      }
      const f = featurise(normaliser, masked[i]!, language, skipGrams, retrievalMode, concepts);
      for (const t of f.terms) vocabulary.add(t);
      if (!retrievalMode) countWords(masked[i]!, language);
      xs.push(vectorise(f, weightList, grow, trainingGrams));
      ys[i] = id;
    });
    // Label names as examples where examples are few (not as exact questions, nor for the
    // nearest-example similarity). With many examples per label they add nothing (measured on
    // full CLINC150: in-scope +0.1, out-of-scope recall -0.4).
    const realCount = xs.length;
    const extraXs: SparseVector[] = [];
    const extraYs: number[] = [];
    if ((options.labelNames ?? fewShot) && !retrievalMode) {
      labels.forEach((first, c) => {
        // A class of twins has each twin's name, in its own language.
        const twinNames = new Set(members[c]!.values()).size > 1 ? [...members[c]!] : undefined;
        for (const [own, label] of twinNames ?? [[undefined, first] as const]) {
          const name = labelNameText(label);
          if (name === undefined) continue;
          // A one-language corpus whose names are in another language (xSID: English names over
          // Italian examples) gets nothing from them but noise (measured: xSID-it 93.2 -> 92.8 with them).
          if (onlyLanguage && detectLanguage(name, undefined, onlyLanguage) !== onlyLanguage) continue;
          const langs = languagesByLabel.get(label);
          const language = onlyLanguage ?? own ?? (langs?.size === 1 ? [...langs][0]! : detectLanguage(name, undefined, defaultLanguage));
          const f = featurise(normaliser, name, language, skipGrams, false, concepts);
          // Its words are known words (coverage, `scopeFactor`): a question in them is in scope.
          for (const t of f.terms) vocabulary.add(t);
          countWords(name, language);
          extraXs.push(vectorise(f, weightList, grow, trainingGrams));
          extraYs.push(c);
        }
      });
    }
    if (extraXs.length > 0) {
      xs.push(...extraXs);
      const all = new Int32Array(xs.length);
      all.set(ys);
      all.set(extraYs, realCount);
      ys = all;
    }

    // Features seen in one example only of a large corpus are noise that costs memory and time.
    const minCount = options.minCount ?? (examples.length >= 2000 ? 2 : 1);
    if (minCount > 1) pruneRareFeatures(xs, featureIndex, minCount);
    const useIdf = options.idf ?? DEFAULTS.idf;
    const idf = useIdf ? computeIdf(xs, featureIndex.size) : undefined;
    if (idf) for (const x of xs) applyIdf(x, idf);
    for (let i = realCount; i < xs.length; i++) {
      const x = xs[i]!;
      for (let k = 0; k < x.val.length; k++) x.val[k] = x.val[k]! * LABEL_NAME_WEIGHT;
    }

    const epochs = options.epochs ?? (examples.length < 1000 ? 40 : examples.length < 5000 ? 12 : 8);
    const sgd = {
      epochs,
      learningRate: options.learningRate ?? DEFAULTS.learningRate,
      l2: options.l2 ?? DEFAULTS.l2,
      seed: options.seed ?? DEFAULTS.seed,
      biasRate: options.biasRate ?? DEFAULTS.biasRate,
      dropout: options.dropout ?? (fewShot ? 0 : DEFAULTS.dropout),
    };
    const exampleWeights = fewShot && !retrievalMode ? balanceWeights(ys, realCount, labels.length) : undefined;
    // Calibration needs this many examples' worth of evidence (a big class's examples count as their weight).
    let evidence = examples.length;
    if (exampleWeights) {
      evidence = 0;
      for (let i = 0; i < realCount; i++) evidence += exampleWeights[i]!;
    }

    let temperature = 1;
    let warm: { weights: Float32Array; bias: Float32Array } | undefined;
    /** The linear model trained on all the examples already (held-out examples given: nothing to rejoin). */
    let whole: { weights: Float32Array; bias: Float32Array } | undefined;
    const ensemble = options.ensemble === false ? undefined : { ...DEFAULTS.ensemble, ...options.ensemble };
    let network: Network | undefined;
    /** The network's training, running in a worker thread meanwhile, and what its calibration needs. */
    let networkJob: { promise: Promise<{ network: Network }>; inputMap: Int32Array; holdout: number[]; held: number[] } | undefined;
    const calibrated = !retrievalMode && evidence >= (options.calibrateFrom ?? DEFAULTS.calibrateFrom);
    // Naive Bayes as a prior (`ModelOptions.naiveBayes`): its leave-one-out scores, C per example.
    const naiveBayes = options.naiveBayes === false || !calibrated || fewShot ? undefined : { ...DEFAULTS.naiveBayes, ...options.naiveBayes };
    let nb: NaiveBayes | undefined;
    let priors: Float32Array | undefined;
    const fitLinearTemperature = (rows: Float64Array[], held: number[]) =>
      sgd.dropout > 0 && !nb ? fitTemperatureToAccuracy(rows, held) : fitTemperature(rows, held);
    /** Held-out examples given (`TrainingExample.heldOut`): the models learn all the rest, and are calibrated on these. */
    // Held-out examples are used only where the model calibrates (not few-shot corpora), but checked always.
    const given = calibrated && heldOut.length > 0;
    heldOut.forEach((e, i) => {
      if (typeof e.text !== 'string' || typeof e.label !== 'string' || !labelId.has(classOf(e.label))) {
        throw new Error(`held-out example ${i} needs a text and a label the training examples have (got ${JSON.stringify(e.label)})`);
      }
    });
    const outOfScope = options.outOfScopeLabel;
    if (outOfScope !== undefined && !labelId.has(classOf(outOfScope))) {
      throw new Error(`the out-of-scope label ${JSON.stringify(outOfScope)} is not a label of the training examples`);
    }
    if (calibrated) {
      const random = seededRandom(sgd.seed + 1);
      // Without held-out examples, a twentieth of the training examples is held out for calibration.
      const holdout = given ? new Set<number>() : new Set(shuffle(Array.from({ length: realCount }, (_, i) => i), random).slice(0, Math.floor(realCount / 20)));
      const trainIdx = given ? Array.from(xs.keys()) : Array.from(xs.keys()).filter((i) => !holdout.has(i));
      // The network learns on the calibration split only (no pass over all the data after it), in
      // a worker thread while this one trains the linear model (mlp.ts, `trainNetworkConcurrently`):
      // on two cores the pair takes about the linear model's time. Its temperature is fitted
      // afterwards on the same held-out examples as the linear model's.
      if (ensemble && !fewShot && ensemble.weight > 0) {
        const inputs = wordInputs(featureIndex);
        networkJob = {
          promise: trainNetworkConcurrently(
            trainIdx.map((i) => networkInput(xs[i]!, inputs.map)),
            Int32Array.from(trainIdx.map((i) => ys[i]!)),
            inputs.rows,
            labels.length,
            inputs.map,
            { hidden: ensemble.hidden, epochs: ensemble.epochs, learningRate: ensemble.learningRate, dropout: sgd.dropout, seed: sgd.seed },
          ),
          inputMap: inputs.map,
          holdout: [...holdout],
          held: [...holdout].map((i) => ys[i]!),
        };
      }
      if (naiveBayes && naiveBayes.scale > 0) {
        nb = trainBayes(xs, ys, featureIndex.size, labels.length, naiveBayes.alpha);
        priors = bayesLeaveOneOut(xs, ys, nb, naiveBayes.scale);
      }
      const part = trainWeights(
        trainIdx.map((i) => xs[i]!),
        Int32Array.from(trainIdx.map((i) => ys[i]!)),
        featureIndex.size,
        labels.length,
        {
          ...sgd,
          ...(exampleWeights ? { exampleWeights: Float32Array.from(trainIdx.map((i) => exampleWeights[i]!)) } : {}),
          ...(priors ? { offsets: { values: priors, rows: Int32Array.from(trainIdx) } } : {}),
        },
      );
      const rows: Float64Array[] = [];
      const held: number[] = [];
      const C = labels.length;
      // Given held-out examples are read once the model is whole (below), as a message is.
      for (const i of holdout) {
        const z = new Float64Array(C);
        logits(xs[i]!, part.weights, part.bias, z);
        // A held-out question's naive Bayes scores without it: as if naive Bayes had not seen it either.
        if (priors) for (let c = 0; c < C; c++) z[c] = z[c]! + priors[i * C + c]!;
        rows.push(z);
        held.push(ys[i]!);
      }
      if (given) whole = part;
      else {
        temperature = fitLinearTemperature(rows, held);
        warm = part;
      }
    }
    // After calibration, the held-out twentieth joins in the last three passes over all the data
    // instead of training again from zero (half the training time, same accuracy on large data).
    // A small corpus (a brand's FAQ, a few examples per label) takes REJOIN_SMALL passes over all
    // the data with the learning rate started again: three late passes at a low rate left its
    // held-out questions unlearnt (measured: exact FAQ questions got another answer).
    const rejoin = examples.length < SMALL_CORPUS ? { epochs: REJOIN_SMALL, firstEpoch: 0 } : { firstEpoch: Math.max(0, sgd.epochs - 3) };
    const offsets = priors ? { offsets: { values: priors } } : {};
    const { weights, bias } = retrievalMode
      ? { weights: new Float32Array(0), bias: new Float32Array(labels.length) }
      : whole
        ? whole
          : warm
          ? trainWeights(xs, ys, featureIndex.size, labels.length, { ...sgd, ...rejoin, exampleWeights, ...offsets }, warm)
          : trainWeights(xs, ys, featureIndex.size, labels.length, { ...sgd, exampleWeights, ...offsets });
    // Naive Bayes's scores are linear in the features: into the weights, the model is one linear model again.
    if (nb) foldBayes(nb, weights, naiveBayes!.scale);
    if (networkJob) {
      ({ network } = await networkJob.promise);
      const h = new Float64Array(network.hidden);
      const netRows = networkJob.holdout.map((i) => {
        const z = new Float64Array(labels.length);
        networkLogits(networkInput(xs[i]!, networkJob!.inputMap), network!, z, h);
        return z;
      });
      if (!given) network.temperature = fitTemperatureToAccuracy(netRows, networkJob.held);
    }
    const retrieval = retrievalMode ? buildCentroidIndex(xs, ys, labels.length, featureIndex.size) : undefined;

    let examplesByLabel: SparseVector[][] | undefined;
    if (examples.length <= labelsWritten * SIMILARITY_MAX_PER_LABEL) {
      examplesByLabel = labels.map(() => []);
      xs.forEach((x, i) => {
        if (i < realCount) examplesByLabel![ys[i]!]!.push(x);
      });
    }
    const exactLanguage = new Map<string, Language>();
    const ambiguous = new Set<string>();
    if (!onlyLanguage) examples.forEach((e, i) => {
      const key = exactKey(e.text);
      const language = exampleLanguages[i]!;
      const seen = exactLanguage.get(key);
      if (seen !== undefined && seen !== language) ambiguous.add(key);
      else exactLanguage.set(key, language);
    });
    for (const key of ambiguous) exactLanguage.delete(key);
    const exactLabels = new Map<string, number>();
    const clashing = new Set<string>();
    examples.forEach((e, i) => {
      const key = exactKey(mask(e.text));
      if (key.length === 0) return;
      const seen = exactLabels.get(key);
      if (seen !== undefined && seen !== ys[i]) clashing.add(key);
      else exactLabels.set(key, ys[i]!);
    });
    for (const key of clashing) exactLabels.delete(key);
    const phrases = new Map<string, string>();
    const clashingPhrases = new Set<string>();
    for (const e of all) {
      if (!e.exact) continue;
      const key = exactKey(mask(e.text));
      // A question the model learnt word for word keeps its own label.
      if (key.length === 0 || exactLabels.has(key)) continue;
      const seen = phrases.get(key);
      if (seen !== undefined && seen !== e.label) clashingPhrases.add(key);
      else phrases.set(key, e.label);
    }
    for (const key of clashingPhrases) phrases.delete(key);
    trained = {
      phrases,
      concepts,
      exactLanguage,
      exactLabels,
      labels,
      labelLanguages: labels.map((l) => languagesByLabel.get(l)),
      twinLabels: members.some((m) => new Set(m.values()).size > 1)
        ? members.map((m) => (new Set(m.values()).size > 1 ? Object.fromEntries(m) : undefined))
        : undefined,
      featureIndex,
      weights,
      bias,
      temperature,
      network: network && ensemble ? { net: network, weight: ensemble.weight } : undefined,
      vocabulary,
      knownWords,
      examplesByLabel,
      onlyLanguage,
      gramCache: new Map(),
      idf,
      retrieval,
      stamp: new Int32Array(featureIndex.size),
      generation: 0,
      scratch: new Float32Array(examplesByLabel ? featureIndex.size : 0),
      stopTerms: {
        it: new Set(normaliser.analyse([...STOPWORDS.it].join(' '), 'it').terms),
        en: new Set(normaliser.analyse([...STOPWORDS.en].join(' '), 'en').terms),
      },
    };
    if (given) {
      // The held-out examples read as messages are (`read`: the whole model, spelling included),
      // their logits under each model, and each model's temperature fitted on them.
      const model = trained;
      const C = labels.length;
      const rows: Float64Array[] = [];
      const netRows: Float64Array[] = [];
      const held: number[] = [];
      const h = new Float64Array(network?.hidden ?? 0);
      for (const e of heldOut) {
        const { x } = read(model, mask(e.text), e.language ? { language: e.language } : undefined);
        // A message with no known feature gets no answer at any temperature.
        if (x.idx.length === 0) continue;
        const z = new Float64Array(C);
        messageLogits(x, model, z);
        rows.push(z);
        held.push(labelId.get(classOf(e.label))!);
        if (network && networkJob) {
          const zn = new Float64Array(C);
          networkLogits(networkInput(x, networkJob.inputMap), network, zn, h);
          netRows.push(zn);
        }
      }
      model.temperature = fitLinearTemperature(rows, held);
      if (network) network.temperature = fitTemperatureToAccuracy(netRows, held);
      // Then the answers' confidences, as `classify` gives them, Platt-scaled on the same examples
      // (with the out-of-scope label's probability as a second input, when the data has that label).
      const oosIndex = outOfScope === undefined ? undefined : labelId.get(classOf(outOfScope))!;
      const confidences: number[] = [];
      const oosProbabilities: number[] = [];
      const right: boolean[] = [];
      for (const e of heldOut) {
        const input = mask(e.text);
        // Word-for-word answers (phrases, known questions) are sure by design: not the model's confidence.
        if (phraseOf(model.phrases, input) !== undefined || model.exactLabels.has(exactKey(input))) continue;
        const scored = probabilities(model, input, e.language ? { language: e.language } : undefined);
        if (!scored.z) continue;
        let best = 0;
        for (let c = 1; c < C; c++) if (scored.z[c]! > scored.z[best]!) best = c;
        if (!(scored.z[best]! > 0)) continue;
        confidences.push(scored.z[best]! * scored.scope);
        if (oosIndex !== undefined) oosProbabilities.push(scored.z[oosIndex]! * scored.scope);
        right.push(best === labelId.get(classOf(e.label)));
      }
      model.confidenceMap = fitConfidenceMap(confidences, right, oosIndex === undefined ? undefined : { index: oosIndex, probabilities: oosProbabilities });
    }
  }

  /** How the model reads a (masked) message: its language, features and vector. */
  function read(model: Trained, input: string, hint: { language?: Language } | undefined) {
    // A question the corpus has word for word is read in the language it was written in:
    // "hiya" alone looks Italian to detection, but it is an English greeting of the corpus.
    const known = model.onlyLanguage ? undefined : model.exactLanguage.get(exactKey(input));
    if (known !== undefined) hint = { ...hint, language: known };
    const language = languageOf(input, hint?.language, model);
    // Catalogue-sized FAQs (retrieval) name products and models one letter apart: never corrected.
    const f = featurise(normaliser, input, language, skipGrams, model.retrieval !== undefined, model.concepts, model.retrieval ? undefined : (w, terms) => meantWord(model, language, w, terms));
    const x = vectoriseKnown(f, weightList, model, (w) => knownGrams(model, w));
    return { hint, language, f, x };
  }

  /**
   * The model's probabilities for a (masked) message: each label's, conditioned on the language,
   * and the coverage factor that multiplies them (`scopeFactor`); `z` undefined when the message
   * has no known feature. Before the confidence map.
   */
  function probabilities(model: Trained, input: string, hint: { language?: Language } | undefined) {
    const message = read(model, input, hint);
    ({ hint } = message);
    const { language, f, x } = message;
    if (x.idx.length === 0) return { language, z: undefined, scope: 0 };
    const C = model.labels.length;
    const z = new Float64Array(C);
    if (model.retrieval) retrievalScores(x, model.retrieval, z);
    else {
      messageLogits(x, model, z);
      softmaxInPlace(z, model.temperature);
      if (model.network) {
        // The ensemble: the two models' calibrated probabilities, averaged.
        const { net, weight } = model.network;
        if (networkScratch.z.length !== C) networkScratch.z = new Float64Array(C);
        if (networkScratch.h.length !== net.hidden) networkScratch.h = new Float64Array(net.hidden);
        const zn = networkScratch.z;
        networkLogits(networkInput(x, net.inputMap), net, zn, networkScratch.h);
        softmaxInPlace(zn, net.temperature);
        for (let c = 0; c < C; c++) z[c] = (1 - weight) * z[c]! + weight * zn[c]!;
      }
    }

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
    return { language, z, scope: scopeFactor(f.terms, language, model, x, z) };
  }

  function classify(text: string, hint?: { language?: Language }): Classification {
    const model = trained;
    if (!model) throw new Error('the classifier is not trained yet: call train() first');
    const input = typeof text === 'string' ? mask(text) : '';
    const phrase = model.phrases.size > 0 ? phraseOf(model.phrases, input) : undefined;
    if (phrase !== undefined) return { ranked: [{ label: phrase, confidence: 1 }] };
    const { language, z, scope } = probabilities(model, input, hint);
    const exact = model.exactLabels.get(exactKey(input));
    // A class of twins answers with the label of the message's language.
    const nameOf = (c: number): string => model.twinLabels?.[c]?.[language] ?? model.labels[c]!;
    if (!z) return { ranked: exact === undefined ? [] : [{ label: nameOf(exact), confidence: 1 }] };
    const C = model.labels.length;
    const order: number[] = [];
    for (let c = 0; c < C; c++) {
      if (z[c]! <= 0) continue;
      if (order.length < topK) order.push(c);
      else if (z[c]! > z[order[order.length - 1]!]!) order[order.length - 1] = c;
      else continue;
      for (let k = order.length - 1; k > 0 && z[order[k]!]! > z[order[k - 1]!]!; k--) {
        [order[k], order[k - 1]] = [order[k - 1]!, order[k]!];
      }
    }
    const outOfScope = model.confidenceMap?.outOfScope;
    const pOutOfScope = outOfScope ? z[outOfScope.index]! * scope : 0;
    const ranked: LabelScore[] = [];
    for (const c of order) {
      if (z[c]! <= 0) break;
      ranked.push({ label: nameOf(c), confidence: Number(mapConfidence(model.confidenceMap, z[c]! * scope, pOutOfScope).toFixed(4)) });
    }
    if (exact !== undefined) {
      // The exact-question layer: a training question word for word is its own label's, first and sure.
      const label = nameOf(exact);
      return { ranked: [{ label, confidence: 1 }, ...ranked.filter((r) => r.label !== label)].slice(0, topK) };
    }
    return { ranked };
  }

  function snapshot(): ModelSnapshot {
    if (!trained) throw new Error('the classifier is not trained yet: call train() first');
    const { stamp: _stamp, generation: _generation, gramCache: _gramCache, scratch: _scratch, nearVocabulary: _near, spellers: _spellers, spellCache: _spellCache, ...model } = trained;
    return model;
  }

  function restore(model: ModelSnapshot): void {
    // The normaliser is the one `train` picks for the model's size (retrieval: Snowball roots for English).
    normaliser = createNormaliser({ englishRoots: model.retrieval === undefined });
    trained = {
      ...model,
      stamp: new Int32Array(model.featureIndex.size),
      generation: 0,
      gramCache: new Map(),
      scratch: new Float32Array(model.examplesByLabel ? model.featureIndex.size : 0),
    };
  }

  return {
    train,
    classify,
    snapshot,
    restore,
    labels: () =>
      [
        ...(trained?.labels ?? []).flatMap((label, c) => {
          const twins = trained?.twinLabels?.[c];
          if (twins) return Object.entries(twins).map(([language, twin]) => ({ label: twin, languages: [language as Language] }));
          return [{ label, languages: [...(trained?.labelLanguages[c] ?? [])] }];
        }),
        ...[...new Set(trained?.phrases.values() ?? [])].filter((label) => !trained?.labels.includes(label)).map((label) => ({ label, languages: [] as Language[] })),
      ],
  };
}

/** Bounds the memo of words' character n-grams (`Trained.gramCache`). */
const GRAM_CACHE_MAX = 20_000;

/** Bounds the memo of unknown words met (`Trained.spellCache`). */
const SPELL_CACHE_MAX = 50_000;

/**
 * The word a customer meant when `word` is unknown to the model (none of its terms seen in
 * training) and one edit from a training word of the language (spelling.ts); undefined otherwise.
 */
function meantWord(model: Trained, language: Language, word: string, terms: readonly string[]): string | undefined {
  for (let i = 0; i < terms.length; i++) if (terms[i] === '<num>' || model.vocabulary.has(terms[i]!)) return undefined;
  const cache = (model.spellCache ??= { it: new Map(), en: new Map() })[language];
  const cached = cache.get(word);
  if (cached !== undefined) return cached ?? undefined;
  const spellers = (model.spellers ??= {});
  const speller = (spellers[language] ??= createSpeller(model.knownWords[language]));
  let meant = speller.correct(word);
  // An English word compromise knows is a word of its own ("sell" is not "spell", "white" not "write").
  if (meant !== undefined && language === 'en' && isEnglishWord(word)) meant = undefined;
  if (cache.size < SPELL_CACHE_MAX) cache.set(word, meant ?? null);
  return meant;
}

/** Terms this long or longer may be misspellings of known ones. */
const NEAR_MIN_LENGTH = 6;

/** The term with each letter left out in turn. */
function oneLetterOut(term: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < term.length; i++) out.push(term.slice(0, i) + term.slice(i + 1));
  return out;
}

/**
 * True when `term` is one edit from a long term of the vocabulary: a letter added, missing,
 * changed, or two swapped ("spedizone" for "spedizione"), by comparing the words with one letter
 * left out (symmetric deletion).
 */
function isNearKnown(term: string, model: Trained): boolean {
  if (term.length < NEAR_MIN_LENGTH || term === '<num>') return false;
  let near = model.nearVocabulary;
  if (!near) {
    const built = new Set<string>();
    for (const t of model.vocabulary) {
      if (t.length < NEAR_MIN_LENGTH) continue;
      built.add(t);
      for (const d of oneLetterOut(t)) built.add(d);
    }
    near = model.nearVocabulary = built;
  }
  if (near.has(term)) return true;
  return oneLetterOut(term).some((d) => near.has(d));
}

/**
 * How much the training data covers this message, 0 … 1: the share of its content words the
 * training data knows and, for small corpora, how close it is to the nearest example of the
 * best label. Multiplies every confidence, so text about something else gets low confidence.
 */
function scopeFactor(terms: string[], language: Language, model: Trained, x: SparseVector, p: Float64Array): number {
  // With many examples per label the calibrated softmax (and an out-of-scope label, if trained)
  // does better alone: coverage would cost in-scope accuracy (measured on CLINC150).
  if (!model.examplesByLabel) return 1;
  const stop = model.stopTerms[language];
  const content = terms.filter((t) => t !== '<num>' && !stop.has(t) && t.length > 1);
  // Numbers alone ("123", an order number without its prefix) say nothing about which answer is meant.
  if (content.length === 0 && terms.length > 0 && terms.every((t) => t === '<num>')) return 0.1;
  const considered = content.length > 0 ? content : terms;
  if (considered.length === 0) return 0.5;
  // A word corrected to a corpus word (spelling.ts: "spedizone" read as "spedizione") is known by
  // now; one left as typed but one letter away from a known term counts half.
  let known = 0;
  for (const t of considered) known += model.vocabulary.has(t) ? 1 : isNearKnown(t, model) ? 0.5 : 0;
  const coverage = known / considered.length;
  // Full coverage from about two thirds of the content words known: paraphrases add words. Below
  // that, squared: a message half of whose content words the corpus never saw is mostly about
  // something else, whatever its one known word ("cancella le sveglie", "how long does it take to
  // learn to swim?"). Measured on the sample FAQ with the off_topic intent (bench/nlu/off-topic.ts):
  // off-topic answered at >= 0.5 (held-out set / xSID-it / CLINC150 oos) 5.7 / 8.2 / 6.3% linear,
  // 2.8 / 7.4 / 4.8% squared; paraphrases right at 0.5 95.8% both; FAQ questions cross-validated,
  // right at 0.5, 68.8 / 67.6%. CLINC150 10 per label (in scope / oos recall): 79.2 / 74.1 -> 78.6 / 77.5.
  const covered = Math.min(1, coverage / 0.67);
  let factor = covered * covered;
  {
    let best = 0;
    for (let c = 0; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    const dense = model.scratch;
    for (let i = 0; i < x.idx.length; i++) dense[x.idx[i]!] = x.val[i]!;
    let sim = 0;
    for (const e of model.examplesByLabel[best] ?? []) sim = Math.max(sim, dotDense(dense, e));
    for (let i = 0; i < x.idx.length; i++) dense[x.idx[i]!] = 0;
    // Near-duplicates of an example (sim ≥ 0.45) keep full confidence. A message of function words
    // and single letters only ("and in L?", "e poi?") is known word for word whatever it asks:
    // only its likeness to an example of the answer counts.
    factor *= Math.min(1, (content.length > 0 ? 0.35 : 0) + sim / 0.45);
  }
  return Math.max(0, Math.min(1, factor));
}
