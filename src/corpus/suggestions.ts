/**
 * @module corpus/suggestions
 * The FAQ feedback loop: a case an operator resolved becomes a suggestion (a new question for an
 * existing entry, or a new entry), with private data replaced by placeholders and names and
 * signatures removed; a reviewer approves it and it is written back into the YAML with the
 * `yaml` Document API, so comments and formatting of everything else stay as they were.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { faqLabel, type Corpus, type Knowledge } from '../core/corpus.js';
import { CorpusError, SportelloError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';
import type { Customer, FaqSuggestion, Language, Operator } from '../core/types.js';
import { detectEntities, redactEntities } from '../classifier/entities.js';
import { inspectCorpus, listYamlFiles } from './load.js';
import { KEBAB_CASE } from './schema.js';

/** Confidence above which a customer's question is taken as a new way to ask an existing entry. */
export const ADD_QUESTION_CONFIDENCE = 0.8;

/** Input of `suggestFromCase`. */
export interface SuggestFromCaseInput {
  caseId: string;
  /** What the customer wrote, in order. */
  customerMessages: string[];
  /** What the operator answered (the last or most complete reply). */
  operatorAnswer: string;
  operator: Operator;
  customer?: Customer;
  knowledge: Knowledge;
  language: Language;
  clock: Clock;
  /** The brand's order-number pattern (config ORDER_NUMBER_PATTERN), besides the default one. */
  orderNumberPattern?: string;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Name parts worth removing: the full name, and each part of 3+ letters. */
function nameParts(...names: (string | undefined)[]): string[] {
  const parts = new Set<string>();
  for (const name of names) {
    const clean = name?.replace(/^@/, '').trim();
    if (!clean) continue;
    parts.add(clean);
    for (const part of clean.split(/[\s_.]+/)) if (part.length >= 3) parts.add(part);
  }
  return [...parts].sort((a, b) => b.length - a.length);
}

/**
 * Tidies text after removals: spaces before punctuation, doubled punctuation, stray leading commas.
 * A pattern on a run of characters starts only where the run starts (`(?<!…)`): linear time.
 */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+/g, ' ')
    .replace(/(?<!\s)\s+([,.;:!?])/g, '$1')
    .replace(/([,;:])(?:\s*[,;:])+/g, '$1')
    .replace(/^[\s,;:.!?-]+/, '')
    .replace(/(?<![\s,;:–—-])[\s,;:–—-]+$/, (m) => (m.includes('.') ? '.' : ''))
    .replace(/\(\s*\)/g, '')
    .trim();
}

/** Replaces private data with placeholders (`{email}`, `{order_number}`, …). */
function redactPrivate(text: string, knowledge: Knowledge, orderNumberPattern?: string): string {
  // The understander knows the brand's configured patterns; the default detector catches the rest.
  const first = redactEntities(text, knowledge.understander.understand(text).entities);
  const second = redactEntities(first, detectEntities(first));
  return orderNumberPattern ? redactEntities(second, detectEntities(second, { orderNumberPattern })) : second;
}

/** Removes self-introductions ("sono Marta", "I'm Tom", "mi chiamo Elena") of the given names. */
function removeIntroductions(text: string, names: string[]): string {
  if (names.length === 0) return text;
  const alternatives = names.map(escapeRegExp).join('|');
  const intro = `\\b(?:sono|qui|mi chiamo|I'm|I am|this is|it's|my name is)\\s+(?:${alternatives})(?:\\s+[A-Z]\\.?)?\\s*[,:;.!]?`;
  return text.replace(new RegExp(intro, 'giu'), '');
}

/** Removes @mentions and the customer's name and handle from a text. */
function removePeople(text: string, names: string[]): string {
  let out = removeIntroductions(text.replace(/(^|[^\w@])@\w{1,30}/g, '$1'), names);
  for (const name of names) out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(name)}(?![\\p{L}\\p{N}])`, 'giu'), '');
  return out;
}

/**
 * Removes the operator's signature ("^MR", "— Marta", "Marta R.") and self-introduction ("sono Marta").
 * Each pattern that takes the spaces before it starts only where a run of spaces starts
 * (`(?<!\s)`), and has no two runs of spaces next to each other that could share the same spaces:
 * the time stays linear in the text, also on long runs of spaces (tests: 50,000).
 */
function removeSignature(text: string, operator: Operator): string {
  const names = nameParts(operator.name).map(escapeRegExp).join('|');
  let out = text;
  if (operator.initials) out = out.replace(new RegExp(`(?<!\\s)\\s*[\\^/]\\s*${escapeRegExp(operator.initials)}\\b`, 'g'), '');
  out = out.replace(/(?<!\s)\s*\^[A-Z]{1,3}\s*$/u, '');
  if (names) {
    // "sono Marta", "I'm Marta", "this is Marta", "qui Marta" (with the punctuation after it).
    out = removeIntroductions(out, nameParts(operator.name));
    // "— Marta", "- Marta R.", "Marta dal servizio clienti" at the end.
    const closing = '(?:[-–—~]|\\bcon affetto,?|\\bcheers,?|\\bsaluti,?|\\bregards,?)';
    out = out.replace(new RegExp(`(?<!\\s)\\s*(?:${closing}\\s*)?(?:${names})(?:\\s+[A-Z]\\.?)?\\s*$`, 'iu'), '');
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])(?:${names})(?![\\p{L}\\p{N}])`, 'giu'), '');
  }
  return out;
}

/** A text safe to put in the FAQ: private data as placeholders, no people's names, no signature. */
export function cleanForFaq(
  text: string,
  context: { knowledge: Knowledge; customer?: Customer; operator: Operator; orderNumberPattern?: string },
): string {
  const redacted = redactPrivate(text, context.knowledge, context.orderNumberPattern);
  const withoutPeople = removePeople(redacted, nameParts(context.customer?.name, context.customer?.handle));
  return tidy(removeSignature(withoutPeople, context.operator));
}

const STOPWORDS = new Set(
  (
    'il lo la i gli le un uno una di del della dei delle da dal dalla dai dalle in nel nella nei nelle con col su sul sulla sui sulle sugli per tra fra a al alla ai agli alle e ed o ' +
    'che chi come cosa quando dove perché perche non mi ti si ci vi è e\' ho hai ha abbiamo avete hanno sono sei siete ' +
    'posso potete può puoi vorrei voglio mio mia miei mie tuo tua vostro vostra vostri ma se anche ancora già gia ' +
    'the a an of to in on at for with and or is are was be do does did can could i my me you your we our it this that ' +
    'how what when where why which please hi hello ciao buongiorno salve grazie thanks fate fare fa avete have has'
  ).split(' '),
);

/** A kebab-case id proposed from a question: its significant words, accents removed, at most 4. */
export function proposeId(question: string, taken: ReadonlySet<string>): string {
  const words = question
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\{[a-z_]+\}/g, ' ')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 1 && !STOPWORDS.has(w));
  const base = (words.slice(0, 4).join('-') || 'domanda').slice(0, 60).replace(/-+$/, '');
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * True when a message is no question for the FAQ according to the understander: small talk
 * (greeting, thanks, "solved") or only a request for a person ("voglio parlare con un operatore").
 */
function isSmallTalk(text: string, knowledge: Knowledge): boolean {
  const top = knowledge.understander.understand(text).classification.ranked[0];
  if (!top || top.confidence < 0.5) return false;
  const intent = knowledge.corpus.intents.find((i) => `intent:${i.name}` === top.label);
  return intent?.action === 'greet' || intent?.action === 'thank' || intent?.action === 'resolve' || intent?.action === 'withdraw' || intent?.name === 'human_request';
}

/** A question's key for "the same question": folded, lower case, words only (as the classifier's exact layer). */
export function questionKey(text: string): string {
  return text.toLowerCase().normalize('NFD').replace(/\p{M}+/gu, '').replace(/[^\p{L}\p{N}{}_]+/gu, ' ').trim();
}

/**
 * Turns a resolved case into an FAQ suggestion; it always holds the customer's question and the
 * operator's answer (`operatorAnswer`). `add_question` when the question confidently matches an
 * existing entry that lacks it; `update_answer` when that entry already has it word for word (the
 * operator's answer is proposed as its new answer, shown as a before/after when reviewing); else
 * `new_entry` (its proposed id in `entryId`).
 */
export function suggestFromCase(input: SuggestFromCaseInput): FaqSuggestion {
  const { knowledge, language } = input;
  const context = { knowledge, customer: input.customer, operator: input.operator, orderNumberPattern: input.orderNumberPattern };
  const cleaned = input.customerMessages.map((m) => cleanForFaq(m, context)).filter((m) => m.length > 0);
  const meaningful = cleaned.filter((m) => !isSmallTalk(m, knowledge) && /\p{L}{3}/u.test(m.replace(/\{[a-z_]+\}/g, '')));
  const question = meaningful[0] ?? cleaned[0] ?? '';
  const operatorAnswer = cleanForFaq(input.operatorAnswer, context);
  const now = input.clock.now().toISOString();
  const base = {
    id: `sg_${input.clock.now().getTime().toString(36)}_${randomBytes(4).toString('hex')}`,
    caseId: input.caseId,
    locale: language,
    questions: question ? [question] : [],
    status: 'pending' as const,
    createdAt: now,
    createdBy: input.operator.id,
    ...(operatorAnswer ? { operatorAnswer } : {}),
  };

  const top = question ? knowledge.understander.understand(question).classification.ranked[0] : undefined;
  const entry = top && top.confidence >= ADD_QUESTION_CONFIDENCE ? knowledge.corpus.faq.find((e) => faqLabel(e.id) === top.label) : undefined;
  if (entry) {
    const known = entry.questions.some((q) => questionKey(q) === questionKey(question));
    if (known) return { ...base, kind: 'update_answer', entryId: entry.id, locale: entry.locale, ...(operatorAnswer ? { answer: operatorAnswer } : {}) };
    return { ...base, kind: 'add_question', entryId: entry.id, locale: entry.locale };
  }
  const taken = new Set(knowledge.corpus.faq.map((e) => e.id));
  return {
    ...base,
    kind: 'new_entry',
    entryId: proposeId(question, taken),
    answer: operatorAnswer,
  };
}

// ───────────────────────────── review: editing, and what an approval changes ─────────────────────────────

/** A reviewer's changes to a pending suggestion (all optional; an empty `answer`/`answerShort` removes it). */
export interface SuggestionEdits {
  questions?: string[];
  answer?: string;
  answerShort?: string;
  /** A new entry's id, or the existing entry to change. */
  entryId?: string;
  locale?: Language;
}

const LOCALES: readonly Language[] = ['it', 'en'];

/**
 * Applies a reviewer's edits to a pending suggestion and returns the change to store (keys set
 * to undefined are removed). Pointing `entryId` at an existing entry makes the suggestion a change
 * of that entry (its questions are added; the answer replaces the entry's only when given in the
 * same edit or already proposed for it); pointing it at an id no entry has makes it a new entry
 * (answer: the one given, or the operator's). Throws SuggestionError on bad input; nothing is changed then.
 */
export function editSuggestion(s: FaqSuggestion, edits: SuggestionEdits, corpus: Corpus): Partial<FaqSuggestion> {
  if (s.status !== 'pending') throw new SuggestionError(`suggestion ${s.id} is already ${s.status}`);
  const change: Partial<FaqSuggestion> = {};
  let questions = s.questions;
  if (edits.questions !== undefined) {
    const byKey = new Map<string, string>();
    for (const q of edits.questions.map((text) => text.trim())) if (q.length > 0 && !byKey.has(questionKey(q))) byKey.set(questionKey(q), q);
    questions = [...byKey.values()];
    if (questions.length === 0) throw new SuggestionError('a suggestion needs at least one question');
    change.questions = questions;
  }
  if (edits.locale !== undefined && !LOCALES.includes(edits.locale)) throw new SuggestionError(`locale "${edits.locale}" is not one of ${LOCALES.join(', ')}`);
  const entryId = edits.entryId?.trim() ?? s.entryId;
  if (entryId !== undefined && !KEBAB_CASE.test(entryId)) throw new SuggestionError(`entry id "${entryId}" must be kebab-case (lower-case words joined by "-")`);
  const wasExisting = s.kind !== 'new_entry';
  const found = entryId === undefined ? undefined : corpus.faq.find((e) => e.id === entryId);
  // Without a new entry id the kind stays: a new entry stays new (approving refuses an id now taken).
  const target = edits.entryId !== undefined || wasExisting ? found : undefined;
  const given = (text: string | undefined) => (text === undefined ? undefined : text.trim());
  const answerEdit = given(edits.answer);
  const shortEdit = given(edits.answerShort);

  let answer: string | undefined;
  if (target) {
    if (edits.locale !== undefined && edits.locale !== target.locale) {
      throw new SuggestionError(`entry "${target.id}" is in locale ${target.locale}: a suggestion for it cannot be ${edits.locale}`);
    }
    change.locale = target.locale;
    // Moving a new entry into an existing one adds its questions; its answer replaces the entry's only when given now.
    answer = answerEdit !== undefined ? answerEdit || undefined : wasExisting ? s.answer : undefined;
    change.kind = answer ? 'update_answer' : 'add_question';
  } else {
    if (wasExisting && edits.entryId === undefined) throw new SuggestionError(`FAQ entry "${s.entryId}" no longer exists: give another entry, or a new entry's id`);
    if (edits.locale !== undefined) change.locale = edits.locale;
    answer = answerEdit !== undefined ? answerEdit : s.answer ?? s.operatorAnswer;
    if (!answer) throw new SuggestionError('a new entry needs an answer');
    change.kind = 'new_entry';
  }
  if (entryId === undefined) throw new SuggestionError(`suggestion ${s.id} names no entry: give one`);
  change.entryId = entryId;
  change.answer = answer;
  if (shortEdit !== undefined) change.answerShort = shortEdit || undefined;
  if (edits.questions === undefined && questions.length === 0) throw new SuggestionError('a suggestion needs at least one question: give one');
  return change;
}

/** What approving a suggestion changes in the FAQ (shown before approving). */
export interface SuggestionChange {
  entryId: string;
  /** True when an existing entry changes; false for a new entry. */
  existing: boolean;
  /** Questions the entry gains. */
  addedQuestions: string[];
  /** Questions the entry already has (nothing to add). */
  knownQuestions: string[];
  /** The answer, when it is new or changes: `before` is the entry's current one. */
  answer?: { before?: string; after: string };
  answerShort?: { before?: string; after: string };
  /** The answer changes but the entry's `answer_short` stays as it is (check it still fits). */
  answerShortKept?: string;
  /** Approving would change nothing. */
  empty: boolean;
  /** The entry to change no longer exists. */
  missing?: boolean;
}

/** Computes what approving `s` would change in `corpus`. */
export function previewChange(s: FaqSuggestion, corpus: Corpus): SuggestionChange {
  const entryId = s.entryId ?? '';
  if (s.kind === 'new_entry') {
    return {
      entryId,
      existing: false,
      addedQuestions: s.questions,
      knownQuestions: [],
      ...(s.answer ? { answer: { after: s.answer } } : {}),
      ...(s.answerShort ? { answerShort: { after: s.answerShort } } : {}),
      empty: false,
    };
  }
  const entry = corpus.faq.find((e) => e.id === entryId);
  if (!entry) return { entryId, existing: true, missing: true, addedQuestions: [], knownQuestions: [], empty: true };
  const have = new Set(entry.questions.map(questionKey));
  const addedQuestions = s.questions.filter((q) => !have.has(questionKey(q)));
  const knownQuestions = s.questions.filter((q) => have.has(questionKey(q)));
  const answer = s.answer && s.answer.trim() !== entry.answer.trim() ? { before: entry.answer, after: s.answer } : undefined;
  const answerShort = s.answerShort && s.answerShort.trim() !== entry.answer_short?.trim() ? { ...(entry.answer_short ? { before: entry.answer_short } : {}), after: s.answerShort } : undefined;
  return {
    entryId,
    existing: true,
    addedQuestions,
    knownQuestions,
    ...(answer ? { answer } : {}),
    ...(answerShort ? { answerShort } : {}),
    ...(answer && !answerShort && entry.answer_short ? { answerShortKept: entry.answer_short } : {}),
    empty: addedQuestions.length === 0 && !answer && !answerShort,
  };
}

// ───────────────────────────── approval: writing the YAML back ─────────────────────────────

/** Options of `approveSuggestion`. */
export interface ApproveOptions {
  faqDir: string;
  reviewer: string;
  clock: Clock;
  /** The reviewer's changes before writing (`id`: the new entry's id, or the entry to change). */
  edits?: { questions?: string[]; answer?: string; answerShort?: string; id?: string };
  /** The intents folder, to re-validate the whole corpus (default: a sibling `intents/`). */
  intentsDir?: string;
}

/** The suggestion cannot be applied (entry gone, no answer, already reviewed). */
export class SuggestionError extends SportelloError {}

interface LoadedFile {
  rel: string;
  source: string;
  doc: Document.Parsed;
}

async function loadFaqFiles(faqDir: string): Promise<LoadedFile[]> {
  const files: LoadedFile[] = [];
  for (const rel of await listYamlFiles(faqDir)) {
    const source = await readFile(path.join(faqDir, rel), 'utf8');
    files.push({ rel, source, doc: parseDocument(source) });
  }
  return files;
}

function entriesOf(doc: Document.Parsed): YAMLSeq | undefined {
  const entries = doc.get('entries', true);
  return isSeq(entries) ? entries : undefined;
}

/** How the file indents: the writer copies it so untouched lines stay byte-identical. */
function styleOf(source: string): { indent: number; indentSeq: boolean } {
  const indentSeq = !/^[\w-]+:[ \t]*\r?\n-[ \t]/m.test(source);
  const firstIndented = /^( +)\S/m.exec(source)?.[1]?.length ?? 2;
  return { indent: indentSeq ? firstIndented : Math.max(2, firstIndented), indentSeq };
}

function render(file: LoadedFile): string {
  const style = styleOf(file.source);
  return file.doc.toString({ lineWidth: 0, flowCollectionPadding: false, indent: style.indent, indentSeq: style.indentSeq });
}

/**
 * Writes an approved suggestion into the FAQ: `add_question` / `update_answer` append the
 * questions the entry lacks and, when the suggestion has an answer (or answer_short) that differs,
 * replace the entry's (refused when nothing would change); `new_entry` appends an entry (with `source: {kind: learned, …}`) to the first
 * file of its locale, or to `learned-<locale>.yaml`. The corpus is re-validated first: a file
 * that would not load is never written (CorpusError). Returns the path of the written file.
 */
export async function approveSuggestion(s: FaqSuggestion, options: ApproveOptions): Promise<{ file: string }> {
  if (s.status !== 'pending') throw new SuggestionError(`suggestion ${s.id} is already ${s.status}`);
  const files = await loadFaqFiles(options.faqDir);
  const edits = options.edits ?? {};
  const questions = (edits.questions ?? s.questions).map((q) => q.trim()).filter((q) => q.length > 0);
  let target: LoadedFile;
  let added: string[] = [];
  let targetId = '';

  if (s.kind !== 'new_entry') {
    const entryId = edits.id ?? s.entryId;
    if (!entryId) throw new SuggestionError(`suggestion ${s.id} names no entry`);
    const found = files
      .map((file) => ({ file, index: entriesOf(file.doc)?.items.findIndex((item) => isMap(item) && item.get('id') === entryId) ?? -1 }))
      .find((f) => f.index >= 0);
    if (!found) throw new SuggestionError(`FAQ entry "${entryId}" no longer exists`);
    target = found.file;
    const entry = entriesOf(target.doc)!.items[found.index] as YAMLMap;
    const existing = entry.get('questions', true);
    const have = new Set((isSeq(existing) ? existing.toJSON() as unknown[] : []).map((q) => questionKey(String(q))));
    const fresh = questions.filter((q) => !have.has(questionKey(q)));
    for (const q of fresh) target.doc.addIn(['entries', found.index, 'questions'], q);
    added = fresh;
    let changed = fresh.length > 0;
    const answer = (edits.answer ?? s.answer)?.trim();
    if (answer && answer !== String(entry.get('answer') ?? '').trim()) {
      target.doc.setIn(['entries', found.index, 'answer'], answer);
      changed = true;
    }
    const short = (edits.answerShort ?? s.answerShort)?.trim();
    if (short && short !== String(entry.get('answer_short') ?? '').trim()) {
      target.doc.setIn(['entries', found.index, 'answer_short'], short);
      changed = true;
    }
    if (!changed) throw new SuggestionError(`approving ${s.id} would change nothing: entry "${entryId}" already has ${questions.length ? 'these questions' : 'its questions'} and this answer (edit it, or reject it)`);
    targetId = entryId;
  } else {
    const answer = (edits.answer ?? s.answer)?.trim();
    if (!answer) throw new SuggestionError(`suggestion ${s.id} has no answer: give one with --answer`);
    if (questions.length === 0) throw new SuggestionError(`suggestion ${s.id} has no question`);
    const id = edits.id ?? s.entryId ?? proposeId(questions[0]!, new Set());
    if (!KEBAB_CASE.test(id)) throw new SuggestionError(`id "${id}" must be kebab-case`);
    const existing = files.find((f) => f.doc.get('locale') === s.locale && entriesOf(f.doc) !== undefined);
    if (existing) {
      target = existing;
    } else {
      const rel = `learned-${s.locale}.yaml`;
      const source = `# FAQ entries of locale "${s.locale}" learned from resolved conversations (written by Sportello).\nlocale: ${s.locale}\nentries: []\n`;
      target = files.find((f) => f.rel === rel) ?? { rel, source, doc: parseDocument(source) };
    }
    const seq = entriesOf(target.doc);
    if (!seq) throw new SuggestionError(`${target.rel} has no entries list`);
    const short = (edits.answerShort ?? s.answerShort)?.trim();
    const node = target.doc.createNode({
      id,
      questions,
      answer,
      ...(short ? { answer_short: short } : {}),
      source: { kind: 'learned', case: s.caseId, approved_by: options.reviewer, at: options.clock.now().toISOString() },
    }) as YAMLMap;
    const sourceNode = node.get('source', true);
    if (isMap(sourceNode)) sourceNode.flow = true;
    if (seq.items.some((item) => isMap(item) && item.spaceBefore)) node.spaceBefore = true;
    if (seq.flow && seq.items.length === 0) seq.flow = false;
    seq.items.push(node);
    added = questions;
    targetId = id;
  }

  const text = render(target);
  const intentsDir = options.intentsDir ?? path.join(path.dirname(path.resolve(options.faqDir)), 'intents');
  const inspection = await inspectCorpus({ faqDir: options.faqDir, intentsDir, overrides: new Map([[target.rel, text]]) });
  const own = inspection.problems.filter((p) => !p.message.startsWith('the intents folder'));
  if (own.length > 0) throw new CorpusError(own);
  // Every FAQ question is answered by its own entry: a question another entry has is refused.
  for (const q of added) {
    const other = inspection.corpus.faq.find((e) => e.id !== targetId && e.questions.some((x) => questionKey(x) === questionKey(q)));
    if (other) throw new SuggestionError(`"${q}" is already a question of entry "${other.id}": remove it from this suggestion, or approve it into "${other.id}"`);
  }

  const absolute = path.join(options.faqDir, target.rel);
  const temp = path.join(path.dirname(absolute), `.${path.basename(absolute)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text, 'utf8');
  await rename(temp, absolute);
  return { file: absolute };
}
