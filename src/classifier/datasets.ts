/**
 * @module classifier/datasets
 * Readers of public intent datasets for evaluation: Banking77-style CSV (`train.csv`, `test.csv`),
 * CLINC150 JSON, xSID CoNLL, MASSIVE JSON lines (one locale's file) and the common folder format
 * (`train/seq.in` + `train/label`, `test/…`, optional `valid/`).
 * Evaluation only: the product never needs these at run time.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { TrainingExample } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { seededRandom } from '../util/random.js';
import { detectLanguage } from './language.js';

/** A labelled text of a test split. */
export interface LabelledText {
  text: string;
  label: string;
}

/** One dataset, split for training and testing. */
export interface Dataset {
  name: string;
  train: TrainingExample[];
  /**
   * The validation split, where the data has one (CLINC150's `val` and `oos_val`, MASSIVE's `dev`):
   * held out from training to calibrate the classifier's confidence (`trainingExamples`).
   */
  validation?: TrainingExample[];
  test: LabelledText[];
  /** The label of out-of-scope items, where the data has them (CLINC150: `oos`). */
  oosLabel?: string;
  /** Language of the text, where known. */
  language?: Language;
}

const clincSchema = z.object({
  train: z.array(z.tuple([z.string(), z.string()])),
  test: z.array(z.tuple([z.string(), z.string()])),
  val: z.array(z.tuple([z.string(), z.string()])).optional(),
  oos_train: z.array(z.tuple([z.string(), z.string()])).optional(),
  oos_val: z.array(z.tuple([z.string(), z.string()])).optional(),
  oos_test: z.array(z.tuple([z.string(), z.string()])).optional(),
});

/** CSV columns taken as the text and as the label, first found first (Banking77: text, category). */
const CSV_TEXT = ['text', 'utterance', 'sentence', 'query'];
const CSV_LABEL = ['category', 'label', 'intent'];

/** One line of a MASSIVE locale file (Amazon MASSIVE 1.x, `data/<locale>.jsonl`). */
const massiveLineSchema = z.looseObject({ utt: z.string(), intent: z.string().min(1), partition: z.string(), locale: z.string().optional() });

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function toItems(rows: Array<[string, string]>): LabelledText[] {
  return rows.map(([text, label]) => ({ text, label }));
}

/** Reads a CSV with a header: the text column (text, utterance, sentence or query) and the label column (category, label or intent). */
export async function readCsv(file: string): Promise<LabelledText[]> {
  const rows = parseCsv(await readFile(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const header = Object.keys(rows[0] ?? {});
  const textColumn = CSV_TEXT.find((c) => header.includes(c));
  const labelColumn = CSV_LABEL.find((c) => header.includes(c));
  if (!textColumn || !labelColumn) {
    throw new Error(`${file}: expected a CSV header with a text column (${CSV_TEXT.join(', ')}) and a label column (${CSV_LABEL.join(', ')}); found ${header.join(', ') || 'none'}`);
  }
  return rows.map((r, i) => {
    const text = r[textColumn] ?? '';
    const label = r[labelColumn] ?? '';
    if (!label) throw new Error(`${file}: row ${i + 2} has no ${labelColumn}`);
    return { text, label };
  });
}

/** Reads one locale's MASSIVE file: the `train` partition to train on, `dev` to calibrate (the validation split), `test` to test. */
async function readMassive(file: string, name: string, language: Language | undefined): Promise<Dataset> {
  const train: TrainingExample[] = [];
  const dev: TrainingExample[] = [];
  const test: LabelledText[] = [];
  let locale: string | undefined;
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    const parsed = massiveLineSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${file}:${i + 1}: expected a MASSIVE line with utt, intent and partition (${parsed.error.issues[0]?.message})`);
    locale ??= parsed.data.locale;
    const item = { text: parsed.data.utt, label: parsed.data.intent };
    if (parsed.data.partition === 'train') train.push(item);
    else if (parsed.data.partition === 'dev') dev.push(item);
    else if (parsed.data.partition === 'test') test.push(item);
  });
  if (train.length === 0 || test.length === 0) throw new Error(`${file}: a MASSIVE file needs lines of the partitions "train" and "test"`);
  const lang = language ?? languageOfLocale(locale);
  return {
    name,
    train: train.map((e) => ({ ...e, ...langOf(lang) })),
    ...(dev.length > 0 ? { validation: dev.map((e) => ({ ...e, ...langOf(lang) })) } : {}),
    test,
    ...langOf(lang),
  };
}

/** "it-IT" → it, "en-US" → en; other languages are left to detection. */
function languageOfLocale(locale: string | undefined): Language | undefined {
  const code = locale?.slice(0, 2).toLowerCase();
  return code === 'it' || code === 'en' ? code : undefined;
}

/** The language most of the texts are written in (detection on up to 300 of them, English when unsure). */
function languageOfTexts(texts: readonly string[]): Language {
  let it = 0;
  const sample = texts.slice(0, 300);
  for (const t of sample) if (detectLanguage(t, undefined, 'en') === 'it') it++;
  return it * 2 > sample.length ? 'it' : 'en';
}

/** Reads xSID CoNLL: one item per block, from its `# text =` and `# intent =` lines. */
export async function readConll(file: string): Promise<LabelledText[]> {
  const items: LabelledText[] = [];
  let text: string | undefined;
  let label: string | undefined;
  const flush = () => {
    if (text !== undefined && label !== undefined) items.push({ text, label });
    text = undefined;
    label = undefined;
  };
  for (const line of (await readFile(file, 'utf8')).split(/\r?\n/)) {
    if (line.trim() === '') flush();
    else if (line.startsWith('# text =')) text = line.slice('# text ='.length).trim();
    else if (line.startsWith('# intent =')) label = line.slice('# intent ='.length).trim();
  }
  flush();
  if (items.length === 0) throw new Error(`${file}: no "# text =" / "# intent =" blocks found`);
  return items;
}

async function readSplitFolder(dir: string): Promise<LabelledText[]> {
  const texts = (await readFile(path.join(dir, 'seq.in'), 'utf8')).split(/\r?\n/);
  const labels = (await readFile(path.join(dir, 'label'), 'utf8')).split(/\r?\n/);
  while (texts.length > 0 && texts[texts.length - 1] === '') texts.pop();
  while (labels.length > 0 && labels[labels.length - 1] === '') labels.pop();
  if (texts.length !== labels.length) {
    throw new Error(`${dir}: seq.in has ${texts.length} lines but label has ${labels.length}`);
  }
  return texts.map((text, i) => ({ text, label: labels[i]!.trim() }));
}

/**
 * Loads a dataset from a path: a Banking77 folder (train.csv + test.csv), a CLINC150 JSON file
 * or folder, an xSID folder (`<lang>.valid.conll` is the training data, `<lang>.test.conll` the
 * test) or a folder with `train/` and `test/` in the seq.in/label format.
 */
export async function loadDataset(location: string, options: { language?: Language } = {}): Promise<Dataset> {
  const info = await stat(location).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot read dataset ${location}: ${e.code === 'ENOENT' ? 'no such file or folder' : e.message}`);
  });
  const name = path.basename(location.replace(/[/\\]+$/, ''));
  if (info.isFile() && location.endsWith('.json')) return readClinc(location, name.replace(/\.json$/, ''));
  if (info.isFile() && location.endsWith('.jsonl')) return readMassive(location, name.replace(/\.jsonl$/, ''), options.language);
  if (!info.isDirectory()) throw new Error(`${location}: expected a dataset folder, a CLINC150 .json file or a MASSIVE .jsonl file`);

  if (await exists(path.join(location, 'train', 'seq.in'))) {
    return {
      name,
      train: (await readSplitFolder(path.join(location, 'train'))).map((e) => ({ ...e, ...langOf(options.language) })),
      test: await readSplitFolder(path.join(location, 'test')),
      ...langOf(options.language),
    };
  }
  if (await exists(path.join(location, 'train.csv'))) {
    const train = await readCsv(path.join(location, 'train.csv'));
    const language = options.language ?? languageOfTexts(train.map((e) => e.text));
    return { name, train, test: await readCsv(path.join(location, 'test.csv')), language };
  }
  if (await exists(path.join(location, 'data_full.json'))) return readClinc(path.join(location, 'data_full.json'), name);

  const files = await readdir(location);
  const language = options.language ?? (files.includes('it.valid.conll') ? 'it' : 'en');
  const trainFile = files.includes(`${language}.train.conll`) ? `${language}.train.conll` : `${language}.valid.conll`;
  if (files.includes(trainFile) && files.includes(`${language}.test.conll`)) {
    return {
      name: `${name}-${language}`,
      train: (await readConll(path.join(location, trainFile))).map((e) => ({ ...e, language })),
      test: await readConll(path.join(location, `${language}.test.conll`)),
      language,
    };
  }
  throw new Error(
    `${location}: not a known dataset layout (train.csv/test.csv as Banking77's, CLINC150 data_full.json, xSID <lang>.valid.conll/<lang>.test.conll, train/seq.in + train/label, or a MASSIVE <locale>.jsonl file)`,
  );
}

function langOf(language: Language | undefined): { language?: Language } {
  return language ? { language } : {};
}

async function readClinc(file: string, name: string): Promise<Dataset> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = clincSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: not CLINC150 data (${parsed.error.issues[0]?.message})`);
  const d = parsed.data;
  const hasOos = (d.oos_test?.length ?? 0) > 0 || d.test.some(([, l]) => l === 'oos');
  const validation = toItems([...(d.val ?? []), ...(d.oos_val ?? [])]);
  return {
    name,
    // The "full" setting of Larson et al.: out-of-scope training examples are one more label.
    train: toItems([...d.train, ...(d.oos_train ?? [])]),
    ...(validation.length > 0 ? { validation } : {}),
    test: toItems([...d.test, ...(d.oos_test ?? [])]),
    ...(hasOos ? { oosLabel: 'oos' } : {}),
    language: 'en',
  };
}


/**
 * The few-shot split of a training set: `k` examples per label drawn reproducibly with `seed`
 * (a label with fewer keeps all of them; an out-of-scope label is a label like the others).
 * The drawn examples keep the order they had in the training set.
 */
export function sampleKShot<T extends { label: string }>(train: readonly T[], k: number, seed = 1): T[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a whole number ≥ 1 (got ${k})`);
  const byLabel = new Map<string, number[]>();
  train.forEach((e, i) => {
    const list = byLabel.get(e.label);
    if (list) list.push(i);
    else byLabel.set(e.label, [i]);
  });
  const random = seededRandom(seed);
  const keep = new Set<number>();
  // Labels in order of first appearance, each shuffled (Fisher–Yates) and cut to k.
  for (const indices of byLabel.values()) {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    }
    for (const i of indices.slice(0, k)) keep.add(i);
  }
  return train.filter((_, i) => keep.has(i));
}

/**
 * The dataset with its training split cut to `k` examples per label (`sampleKShot`), and no
 * validation split: a few-shot setting has k examples per label in all.
 */
export function kShotDataset(dataset: Dataset, k: number, seed = 1): Dataset {
  const { validation: _validation, ...rest } = dataset;
  return { ...rest, name: `${dataset.name} (${k}-shot, seed ${seed})`, train: sampleKShot(dataset.train, k, seed) };
}

/**
 * What a classifier trains on for a dataset: its training examples and, marked held out
 * (`TrainingExample.heldOut`: not learnt, read to calibrate confidence), its validation split.
 */
export function trainingExamples(dataset: Dataset): TrainingExample[] {
  return [...dataset.train, ...(dataset.validation ?? []).map((e) => ({ ...e, heldOut: true }))];
}
