/**
 * @module corpus/load
 * Reads `faq/**\/*.yaml` and `intents/**\/*.yaml`, validates them with zod and reports every
 * problem of every file at once as `file:line:column: message` (a CorpusError).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { faqLabel, intentLabel, type Corpus, type FaqEntry, type IntentDef } from '../core/corpus.js';
import { CorpusError, type CorpusProblem } from '../core/errors.js';
import type { TrainingExample } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { faqEntrySchema, faqFileSchema, intentFileSchema, intentSchema, LOCALES } from './schema.js';

/** Where the corpus lives. */
export interface CorpusLocation {
  faqDir: string;
  intentsDir: string;
  /**
   * The custom actions an entry's `handler` may name (the actions loaded at start): an unknown
   * name is a problem. Absent: names are not checked (the conversation-test runner checks its own).
   */
  handlers?: ReadonlySet<string>;
}

/** Options of `inspectCorpus`. */
export interface InspectOptions extends CorpusLocation {
  /** FAQ file contents to use instead of the disk's, by path relative to `faqDir` (checking a write before making it). */
  overrides?: ReadonlyMap<string, string>;
}

/** A position in a corpus file, as shown to people (`file` relative to the working directory). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Everything learned while reading a corpus, valid or not (the linter needs positions too). */
export interface CorpusInspection {
  /** The corpus built from what was valid (complete only when `problems` is empty). */
  corpus: Corpus;
  problems: CorpusProblem[];
  /** Where a FAQ entry's id is written (its first occurrence). */
  entryPosition(id: string): SourcePosition | undefined;
  /** Where each question is written: `positionOfQuestion(id, index)`. */
  questionPosition(id: string, index: number): SourcePosition | undefined;
}

type PathKey = string | number;

interface ParsedFile {
  rel: string;
  display: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The entries (or intents), each still to be checked; undefined when the file is unusable. */
  items: unknown[] | undefined;
  /** The file's default locale, when valid. */
  locale: Language | undefined;
  /** The file sets a locale, but not a valid one (already reported). */
  localeInvalid: boolean;
}

/** The first alias whose anchor is not set before it (where `toJS` fails), if any. */
function findUnresolvedAlias(doc: Document.Parsed): { range?: [number, number, number] | null } | undefined {
  const anchors = new Set<string>();
  let found: { range?: [number, number, number] | null } | undefined;
  visit(doc, {
    Node(_key, node) {
      if (found) return visit.BREAK;
      if (isAlias(node)) {
        if (!anchors.has(node.source)) found = node;
      } else if (node.anchor) anchors.add(node.anchor);
      return undefined;
    },
  });
  return found;
}

/** Lists `*.yaml` / `*.yml` files under `dir`, recursively, sorted, relative with `/`. */
export async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name) && !e.name.startsWith('.'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(absolute: string): string {
  const rel = path.relative(process.cwd(), absolute);
  return rel.startsWith('..') || path.isAbsolute(rel) ? absolute : rel.split(path.sep).join('/');
}

function positionOf(file: ParsedFile, offset: number): SourcePosition {
  const { line, col } = file.lineCounter.linePos(offset);
  return { file: file.display, line, column: col };
}

/** Finds the best node for a path: the value itself, else the key of its pair, else the nearest ancestor. */
export function locatePath(doc: Document.Parsed, lineCounter: LineCounter, keys: readonly PathKey[]): { line: number; col: number; present: boolean } {
  const node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
  if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
    return { ...lineCounter.linePos(node.range[0] as number), present: true };
  }
  if (keys.length > 0) {
    const parent = keys.length === 1 ? doc.contents : doc.getIn(keys.slice(0, -1), true);
    const last = keys[keys.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === last);
      if (pair && isScalar(pair.key) && pair.key.range) {
        return { ...lineCounter.linePos(pair.key.range[0]), present: true };
      }
    }
    const up = locatePath(doc, lineCounter, keys.slice(0, -1));
    return { ...up, present: false };
  }
  return { line: 1, col: 1, present: false };
}

function formatPath(keys: readonly PathKey[]): string {
  let out = '';
  for (const k of keys) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

const KNOWN_KEYS: Record<string, readonly string[]> = {
  faqFile: ['locale', 'entries'],
  faqEntry: ['id', 'locale', 'questions', 'answer', 'answer_short', 'private', 'escalate', 'asks_for', 'handler', 'tags', 'source', 'same_as'],
  source: ['kind', 'case', 'approved_by', 'at'],
  intentFile: ['locale', 'intents'],
  intent: ['name', 'locale', 'action', 'examples', 'answer'],
};

function knownKeysAt(kind: 'faq' | 'intents', keys: readonly PathKey[]): readonly string[] {
  if (keys.length === 0) return kind === 'faq' ? KNOWN_KEYS.faqFile! : KNOWN_KEYS.intentFile!;
  if (keys.length === 2) return kind === 'faq' ? KNOWN_KEYS.faqEntry! : KNOWN_KEYS.intent!;
  return KNOWN_KEYS.source!;
}

function didYouMean(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = levenshtein(key.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

/** Finds the key of `key` in the map at `parentKeys` (for unknown keys), else the map itself. */
export function locateKey(doc: Document.Parsed, lineCounter: LineCounter, parentKeys: readonly PathKey[], key: string): { line: number; col: number } {
  const parent = parentKeys.length === 0 ? doc.contents : doc.getIn(parentKeys, true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (pair && isScalar(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]);
  }
  return locatePath(doc, lineCounter, parentKeys);
}

function zodProblems(kind: 'faq' | 'intents', file: ParsedFile, error: z.ZodError, prefix: readonly PathKey[] = []): CorpusProblem[] {
  const problems: CorpusProblem[] = [];
  for (const issue of error.issues) {
    const keys = [...prefix, ...issue.path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number')];
    const where = formatPath(keys);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = locateKey(file.doc, file.lineCounter, keys, key);
        const hint = didYouMean(key, knownKeysAt(kind, keys));
        problems.push({ file: file.display, line: at.line, column: at.col, message: `${where ? `${where}: ` : ''}unknown key "${key}"${hint}` });
      }
      continue;
    }
    const at = locatePath(file.doc, file.lineCounter, keys);
    const last = keys[keys.length - 1];
    const message =
      !at.present && typeof last === 'string'
        ? `${formatPath(keys.slice(0, -1)) || 'file'}: missing required "${last}"`
        : `${where ? `${where}: ` : ''}${issue.message}`;
    problems.push({ file: file.display, line: at.line, column: at.col, message });
  }
  return problems;
}

/**
 * Where the quote a "Missing closing quote" error is about was opened: the last line before the
 * error whose value opens that quote and does not close it (1-based line and column).
 */
function openingQuote(source: string, message: string, errorLine: number): { line: number; column: number } | undefined {
  const quote = /Missing closing "quote/.test(message) ? '"' : /Missing closing 'quote/.test(message) ? "'" : undefined;
  if (!quote) return undefined;
  const lines = source.split('\n');
  for (let i = Math.min(errorLine, lines.length) - 1; i >= 0; i--) {
    const m = new RegExp(String.raw`^(\s*(?:-\s+)?(?:[^\s:#"'][^:#]*:\s+)?)${quote}`).exec(lines[i]!);
    if (!m) continue;
    const rest = lines[i]!.slice(m[1]!.length + 1);
    const closed = quote === '"' ? /(?<!\\)"/.test(rest) : /'(?!')/.test(rest.replace(/''/g, ''));
    if (!closed) return { line: i + 1, column: m[1]!.length + 1 };
  }
  return undefined;
}

async function parseYamlFile(
  kind: 'faq' | 'intents',
  dir: string,
  rel: string,
  schema: typeof faqFileSchema | typeof intentFileSchema,
  problems: CorpusProblem[],
  hash: ReturnType<typeof createHash>,
  override?: string,
): Promise<ParsedFile> {
  const absolute = path.join(dir, rel);
  const source = override ?? (await readFile(absolute, 'utf8'));
  hash.update(`${kind}/${rel}\u0000${source}\u0000`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const file: ParsedFile = { rel, display: displayPath(absolute), doc, lineCounter, items: undefined, locale: undefined, localeInvalid: false };
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const { line, col } = lineCounter.linePos(err.pos[0]);
      const firstLine = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
      // The parser finds a missing closing quote where the file ends; the care team needs the line
      // where the quote was opened.
      const opened = err.code === 'MISSING_CHAR' ? openingQuote(source, firstLine, line) : undefined;
      problems.push(
        opened
          ? { file: file.display, line: opened.line, column: opened.column, message: `YAML syntax error: ${firstLine}: the quote opened here is never closed` }
          : { file: file.display, line, column: col, message: `YAML syntax error: ${firstLine}` },
      );
    }
    return file;
  }
  if (doc.contents === null) {
    problems.push({ file: file.display, line: 1, column: 1, message: 'the file is empty' });
    return file;
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // Parsed, but not turned into data: an alias before its anchor, too many aliases (a YAML bomb).
    const node = findUnresolvedAlias(doc);
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    problems.push({ file: file.display, line, column: col, message: `YAML error: ${(err as Error).message.split('\n')[0]}` });
    return file;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) {
    file.items = 'entries' in parsed.data ? parsed.data.entries : parsed.data.intents;
    file.locale = parsed.data.locale;
    return file;
  }
  problems.push(...zodProblems(kind, file, parsed.error));
  // Salvage the list, so that the problems of its items are reported in the same run.
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const record = raw as Record<string, unknown>;
    const list = record[kind === 'faq' ? 'entries' : 'intents'];
    if (Array.isArray(list)) file.items = list;
    const locale = LOCALES.find((l) => l === record.locale);
    file.locale = locale;
    file.localeInvalid = record.locale !== undefined && locale === undefined;
  }
  return file;
}

async function listDir(dir: string, label: string, problems: CorpusProblem[]): Promise<string[]> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      problems.push({ file: displayPath(dir), line: 1, column: 1, message: `the ${label} folder is not a folder` });
      return [];
    }
  } catch (err) {
    problems.push({ file: displayPath(path.resolve(dir)), line: 1, column: 1, message: `the ${label} folder cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
    return [];
  }
  return listYamlFiles(dir);
}

/** Reads and validates the corpus, collecting every problem instead of throwing. */
export async function inspectCorpus(options: InspectOptions): Promise<CorpusInspection> {
  const problems: CorpusProblem[] = [];
  const hash = createHash('sha256');
  const faq: FaqEntry[] = [];
  const intents: IntentDef[] = [];
  // Where each id was first seen; positions are computed only when a message needs them.
  const entryFile = new Map<string, { file: ParsedFile; index: number }>();
  const positionIn = (file: ParsedFile, keys: PathKey[]): SourcePosition => {
    const at = locatePath(file.doc, file.lineCounter, keys);
    return { file: file.display, line: at.line, column: at.col };
  };

  const onDisk = await listDir(options.faqDir, 'FAQ', problems);
  const faqFiles = [...new Set([...onDisk, ...(options.overrides?.keys() ?? [])])].sort();
  if (faqFiles.length === 0 && problems.length === 0) {
    problems.push({ file: displayPath(path.resolve(options.faqDir)), line: 1, column: 1, message: 'the FAQ folder has no .yaml files' });
  }
  const field = (raw: unknown, key: string): unknown =>
    raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)[key] : undefined;

  for (const rel of faqFiles) {
    const file = await parseYamlFile('faq', options.faqDir, rel, faqFileSchema, problems, hash, options.overrides?.get(rel));
    if (!file.items) continue;
    file.items.forEach((raw, index) => {
      const parsed = faqEntrySchema.safeParse(raw);
      if (!parsed.success) problems.push(...zodProblems('faq', file, parsed.error, ['entries', index]));
      // Ids are checked even on broken entries, so every duplicate shows up in the same run.
      const id = field(raw, 'id');
      const position = () => positionIn(file, ['entries', index, 'id']);
      if (typeof id === 'string') {
        const seen = entryFile.get(id);
        if (seen) {
          const first = positionIn(seen.file, ['entries', seen.index, 'id']);
          problems.push({ ...position(), message: `duplicate id "${id}": already used at ${first.file}:${first.line}:${first.column}` });
          return;
        }
        entryFile.set(id, { file, index });
      }
      if (!parsed.success) return;
      const { locale: ownLocale, ...entry } = parsed.data;
      const locale: Language | undefined = ownLocale ?? file.locale;
      if (!locale) {
        if (!file.localeInvalid) problems.push({ ...position(), message: `entries[${index}]: no locale: set \`locale\` on the file or on the entry` });
        return;
      }
      faq.push({ ...entry, locale, file: rel });
    });
  }

  const intentFiles = await listDir(options.intentsDir, 'intents', problems);
  const intentPositions = new Map<string, SourcePosition>();
  for (const rel of intentFiles) {
    const file = await parseYamlFile('intents', options.intentsDir, rel, intentFileSchema, problems, hash);
    if (!file.items) continue;
    file.items.forEach((raw, index) => {
      const parsed = intentSchema.safeParse(raw);
      if (!parsed.success) problems.push(...zodProblems('intents', file, parsed.error, ['intents', index]));
      const name = field(raw, 'name');
      const ownLocale = LOCALES.find((l) => l === field(raw, 'locale'));
      const locale: Language | undefined = ownLocale ?? file.locale;
      const at = locatePath(file.doc, file.lineCounter, ['intents', index, 'name']);
      const position = { file: file.display, line: at.line, column: at.col };
      if (typeof name === 'string') {
        const key = `${locale ?? '?'}:${name}`;
        const first = intentPositions.get(key);
        if (first) {
          problems.push({ ...position, message: `duplicate intent "${name}"${locale ? ` for locale ${locale}` : ''}: already defined at ${first.file}:${first.line}:${first.column}` });
          return;
        }
        intentPositions.set(key, position);
      }
      if (!parsed.success) return;
      if (!locale) {
        if (!file.localeInvalid) problems.push({ ...position, message: `intents[${index}]: no locale: set \`locale\` on the file or on the intent` });
        return;
      }
      const { locale: _own, ...intent } = parsed.data;
      intents.push({ ...intent, locale, file: rel });
    });
  }

  // `same_as` links an entry to its twin in the other language: the twin must exist and differ.
  const byId = new Map(faq.map((e) => [e.id, e]));
  for (const entry of faq) {
    if (entry.same_as === undefined) continue;
    const where = entryFile.get(entry.id)!;
    const at = () => positionIn(where.file, ['entries', where.index, 'same_as']);
    const twin = byId.get(entry.same_as);
    if (entry.same_as === entry.id) problems.push({ ...at(), message: `same_as: an entry cannot be its own twin` });
    else if (!twin) problems.push({ ...at(), message: `same_as: no entry with id "${entry.same_as}"` });
    else if (twin.locale === entry.locale) {
      problems.push({ ...at(), message: `same_as: "${entry.same_as}" is in the same language (${entry.locale}); same_as links an entry to its translation` });
    }
  }

  // `handler` names a custom action: it must be one that was loaded.
  if (options.handlers) {
    const known = [...options.handlers].sort();
    for (const entry of faq) {
      if (entry.handler === undefined || options.handlers.has(entry.handler)) continue;
      const where = entryFile.get(entry.id)!;
      const have = known.length > 0 ? `actions: ${known.join(', ')}` : 'no actions are loaded: see ACTIONS_DIR';
      problems.push({ ...positionIn(where.file, ['entries', where.index, 'handler']), message: `handler: no action named "${entry.handler}" (${have})` });
    }
  }

  // Files in the order they were read, then by position within each file.
  const order = new Map<string, number>();
  problems.forEach((p) => order.has(p.file) || order.set(p.file, order.size));
  problems.sort((a, b) => order.get(a.file)! - order.get(b.file)! || a.line - b.line || a.column - b.column);

  return {
    corpus: { faq, intents, version: hash.digest('hex').slice(0, 16) },
    problems,
    entryPosition(id) {
      const where = entryFile.get(id);
      return where ? positionIn(where.file, ['entries', where.index, 'id']) : undefined;
    },
    questionPosition(id, index) {
      const where = entryFile.get(id);
      if (!where) return undefined;
      const at = locatePath(where.file.doc, where.file.lineCounter, ['entries', where.index, 'questions', index]);
      return { file: where.file.display, line: at.line, column: at.col };
    },
  };
}

/** Loads the corpus; throws CorpusError listing every problem of every file. */
export async function loadCorpus(options: CorpusLocation): Promise<Corpus> {
  const inspection = await inspectCorpus(options);
  if (inspection.problems.length > 0) throw new CorpusError(inspection.problems);
  return inspection.corpus;
}

/**
 * Labels that give the same answer: each FAQ label linked by `same_as` (in either direction,
 * transitively) maps to one name for its group. Labels without a twin are not in the map.
 */
export function sameAnswerGroups(corpus: Corpus): ReadonlyMap<string, string> {
  // Asked at every turn (is this the answer given last?): computed once per loaded corpus.
  let groups = answerGroups.get(corpus.faq);
  if (!groups) answerGroups.set(corpus.faq, (groups = groupTwins(corpus)));
  return groups;
}

/** `sameAnswerGroups` per loaded corpus (its entries' array: a corpus is not changed once loaded). */
const answerGroups = new WeakMap<Corpus['faq'], ReadonlyMap<string, string>>();

function groupTwins(corpus: Corpus): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (id: string): string => {
    let root = id;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    return root;
  };
  const ids = new Set(corpus.faq.map((e) => e.id));
  for (const entry of corpus.faq) {
    if (entry.same_as === undefined || !ids.has(entry.same_as)) continue;
    const a = find(entry.id);
    const b = find(entry.same_as);
    if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    if (!parent.has(a < b ? a : b)) parent.set(a < b ? a : b, a < b ? a : b);
  }
  const groups = new Map<string, string>();
  for (const id of parent.keys()) groups.set(faqLabel(id), faqLabel(find(id)));
  return groups;
}

/**
 * The twins as the classifier trains them (`ModelOptions.twins`): each FAQ label linked by `same_as`
 * to its group's name, so an entry and its translation are one class learning from both languages'
 * questions; undefined when the corpus links none. Everything that trains the server's model passes it.
 */
export function corpusTwins(corpus: Corpus): Record<string, string> | undefined {
  const groups = sameAnswerGroups(corpus);
  return groups.size > 0 ? Object.fromEntries(groups) : undefined;
}

/** The classifier's training set: every FAQ question (`faq:<id>`) and intent example (`intent:<name>`). */
export function corpusToExamples(corpus: Corpus): TrainingExample[] {
  const examples: TrainingExample[] = [];
  for (const entry of corpus.faq) {
    for (const text of entry.questions) examples.push({ text, label: faqLabel(entry.id), language: entry.locale });
  }
  for (const intent of corpus.intents) {
    for (const text of intent.examples) {
      examples.push({ text, label: intentLabel(intent.name), language: intent.locale, ...(intent.match === 'exact' ? { exact: true } : {}) });
    }
  }
  return examples;
}
