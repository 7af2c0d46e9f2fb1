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
import { faqLabel, type Knowledge } from '../core/corpus.js';
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

/** Tidies text after removals: spaces before punctuation, doubled punctuation, stray leading commas. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]+/g, ' ')
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/([,;:])(?:\s*[,;:])+/g, '$1')
    .replace(/^[\s,;:.!?-]+/, '')
    .replace(/[\s,;:–—-]+$/, (m) => (m.includes('.') ? '.' : ''))
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

/** Removes the operator's signature ("^MR", "— Marta", "Marta R.") and self-introduction ("sono Marta"). */
function removeSignature(text: string, operator: Operator): string {
  const names = nameParts(operator.name).map(escapeRegExp).join('|');
  let out = text;
  if (operator.initials) out = out.replace(new RegExp(`\\s*[\\^/]\\s*${escapeRegExp(operator.initials)}\\b`, 'g'), '');
  out = out.replace(/\s*\^[A-Z]{1,3}\s*$/u, '');
  if (names) {
    // "sono Marta", "I'm Marta", "this is Marta", "qui Marta" (with the punctuation after it).
    out = removeIntroductions(out, nameParts(operator.name));
    // "— Marta", "- Marta R.", "Marta dal servizio clienti" at the end.
    out = out.replace(new RegExp(`\\s*(?:[-–—~]|\\bcon affetto,?|\\bcheers,?|\\bsaluti,?|\\bregards,?)?\\s*(?:${names})(?:\\s+[A-Z]\\.?)?\\s*$`, 'iu'), '');
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

/** True when a message is only small talk (greeting, thanks) according to the understander. */
function isSmallTalk(text: string, knowledge: Knowledge): boolean {
  const top = knowledge.understander.understand(text).classification.ranked[0];
  if (!top || top.confidence < 0.5) return false;
  const intent = knowledge.corpus.intents.find((i) => `intent:${i.name}` === top.label);
  return intent?.action === 'greet' || intent?.action === 'thank';
}

/**
 * Turns a resolved case into an FAQ suggestion: `add_question` when the customer's question
 * confidently matches an existing entry, else `new_entry` (its proposed id in `entryId`).
 */
export function suggestFromCase(input: SuggestFromCaseInput): FaqSuggestion {
  const { knowledge, language } = input;
  const context = { knowledge, customer: input.customer, operator: input.operator, orderNumberPattern: input.orderNumberPattern };
  const cleaned = input.customerMessages.map((m) => cleanForFaq(m, context)).filter((m) => m.length > 0);
  const meaningful = cleaned.filter((m) => !isSmallTalk(m, knowledge) && /\p{L}{3}/u.test(m.replace(/\{[a-z_]+\}/g, '')));
  const question = meaningful[0] ?? cleaned[0] ?? '';
  const now = input.clock.now().toISOString();
  const base = {
    id: `sg_${input.clock.now().getTime().toString(36)}_${randomBytes(4).toString('hex')}`,
    caseId: input.caseId,
    locale: language,
    questions: question ? [question] : [],
    status: 'pending' as const,
    createdAt: now,
    createdBy: input.operator.id,
  };

  const top = question ? knowledge.understander.understand(question).classification.ranked[0] : undefined;
  const entry = top && top.confidence >= ADD_QUESTION_CONFIDENCE ? knowledge.corpus.faq.find((e) => faqLabel(e.id) === top.label) : undefined;
  if (entry) {
    const known = entry.questions.some((q) => q.trim().toLowerCase() === question.toLowerCase());
    return { ...base, kind: 'add_question', entryId: entry.id, locale: entry.locale, questions: known ? [] : [question] };
  }
  const taken = new Set(knowledge.corpus.faq.map((e) => e.id));
  return {
    ...base,
    kind: 'new_entry',
    entryId: proposeId(question, taken),
    answer: cleanForFaq(input.operatorAnswer, context),
  };
}

// ───────────────────────────── approval: writing the YAML back ─────────────────────────────

/** Options of `approveSuggestion`. */
export interface ApproveOptions {
  faqDir: string;
  reviewer: string;
  clock: Clock;
  /** The reviewer's changes before writing. */
  edits?: { questions?: string[]; answer?: string; id?: string };
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
 * Writes an approved suggestion into the FAQ: `add_question` appends to the entry's
 * `questions`; `new_entry` appends an entry (with `source: {kind: learned, …}`) to the first
 * file of its locale, or to `learned-<locale>.yaml`. The corpus is re-validated first: a file
 * that would not load is never written (CorpusError). Returns the path of the written file.
 */
export async function approveSuggestion(s: FaqSuggestion, options: ApproveOptions): Promise<{ file: string }> {
  if (s.status !== 'pending') throw new SuggestionError(`suggestion ${s.id} is already ${s.status}`);
  const files = await loadFaqFiles(options.faqDir);
  const edits = options.edits ?? {};
  const questions = (edits.questions ?? s.questions).map((q) => q.trim()).filter((q) => q.length > 0);
  let target: LoadedFile;

  if (s.kind === 'add_question') {
    const entryId = edits.id ?? s.entryId;
    if (!entryId) throw new SuggestionError(`suggestion ${s.id} names no entry`);
    const found = files
      .map((file) => ({ file, index: entriesOf(file.doc)?.items.findIndex((item) => isMap(item) && item.get('id') === entryId) ?? -1 }))
      .find((f) => f.index >= 0);
    if (!found) throw new SuggestionError(`FAQ entry "${entryId}" no longer exists`);
    target = found.file;
    const entry = entriesOf(target.doc)!.items[found.index] as YAMLMap;
    const existing = entry.get('questions', true);
    const have = new Set((isSeq(existing) ? existing.toJSON() as unknown[] : []).map((q) => String(q).toLowerCase()));
    const fresh = questions.filter((q) => !have.has(q.toLowerCase()));
    if (fresh.length === 0) throw new SuggestionError(`entry "${entryId}" already has ${questions.length ? 'these questions' : 'no new question to add'}`);
    for (const q of fresh) target.doc.addIn(['entries', found.index, 'questions'], q);
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
    const node = target.doc.createNode({
      id,
      questions,
      answer,
      source: { kind: 'learned', case: s.caseId, approved_by: options.reviewer, at: options.clock.now().toISOString() },
    }) as YAMLMap;
    const sourceNode = node.get('source', true);
    if (isMap(sourceNode)) sourceNode.flow = true;
    if (seq.items.some((item) => isMap(item) && item.spaceBefore)) node.spaceBefore = true;
    if (seq.flow && seq.items.length === 0) seq.flow = false;
    seq.items.push(node);
  }

  const text = render(target);
  const intentsDir = options.intentsDir ?? path.join(path.dirname(path.resolve(options.faqDir)), 'intents');
  const inspection = await inspectCorpus({ faqDir: options.faqDir, intentsDir, overrides: new Map([[target.rel, text]]) });
  const own = inspection.problems.filter((p) => !p.message.startsWith('the intents folder'));
  if (own.length > 0) throw new CorpusError(own);

  const absolute = path.join(options.faqDir, target.rel);
  const temp = path.join(path.dirname(absolute), `.${path.basename(absolute)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text, 'utf8');
  await rename(temp, absolute);
  return { file: absolute };
}
