/**
 * @module cli/faq
 * `sportello faq lint` (every problem as file:line:column, plus warnings: repeated questions,
 * questions the classifier confuses with another entry's, answers too long for a channel's
 * public post without `answer_short`, entries that look like translations but have no
 * `same_as`) and `sportello faq review` (the suggestions learned from resolved cases).
 */
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClassifier, trainUnderstander } from '../classifier/index.js';
import { faqLabel, type Corpus } from '../core/corpus.js';
import { ConfigError, CorpusError, type CorpusProblem } from '../core/errors.js';
import { loadActions } from '../actions/index.js';
import type { Clock, Store, TrainingExample } from '../core/ports.js';
import type { FaqSuggestion, Language } from '../core/types.js';
import { corpusToExamples, corpusTwins, inspectCorpus, type CorpusInspection, type SourcePosition } from '../corpus/load.js';
import { approveSuggestion, editSuggestion, previewChange, SuggestionError, type SuggestionChange, type SuggestionEdits } from '../corpus/suggestions.js';
import { CHANNELS } from '../channels/catalog.js';
import { recordApproval, type EventRecorder } from '../events/recorder.js';
import type { AnyChannelDefinition } from '../channels/definition.js';
import { auditCli } from './audit.js';

/** The streams a command writes to (the CLI's `Io`). */
export interface FaqIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A lint finding that does not stop the corpus from loading. */
export interface LintWarning extends SourcePosition {
  message: string;
}

const normaliseQuestion = (q: string): string =>
  q
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * Questions asked the same way in two entries, in any language (or twice in one): a question
 * written in the FAQ is answered by its own entry word for word only when no other entry has it.
 */
export function findRepeatedQuestions(corpus: Corpus, inspection: CorpusInspection): LintWarning[] {
  const seen = new Map<string, { id: string; index: number }>();
  const warnings: LintWarning[] = [];
  for (const entry of corpus.faq) {
    entry.questions.forEach((question, index) => {
      const key = normaliseQuestion(question);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, { id: entry.id, index });
        return;
      }
      const at = inspection.questionPosition(entry.id, index) ?? inspection.entryPosition(entry.id);
      if (!at) return;
      const where = first.id === entry.id ? 'twice in this entry' : `also a question of "${first.id}" (two entries share it: neither is sure to answer it)`;
      warnings.push({ ...at, message: `warning: question "${question}" is ${where}` });
    });
  }
  return warnings;
}

/**
 * Answers longer than one public post of a channel (its `maxLength.public`, measured as the
 * channel measures: X weighs characters and links) that have no (fitting) `answer_short`.
 */
export function findAnswersTooLong(corpus: Corpus, inspection: CorpusInspection, channels: readonly AnyChannelDefinition[] = CHANNELS): LintWarning[] {
  const warnings: LintWarning[] = [];
  for (const entry of corpus.faq) {
    const at = inspection.entryPosition(entry.id);
    if (!at) continue;
    for (const { title, capabilities } of channels) {
      if (!capabilities.publicReplies) continue;
      const max = capabilities.maxLength.public;
      const length = capabilities.measure(entry.answer);
      if (length > max && !entry.answer_short) {
        const then = capabilities.maxThread > 1 ? 'it will be sent as a thread' : 'it will be shortened';
        warnings.push({ ...at, message: `warning: entry "${entry.id}": the answer is ${length}/${max} characters on ${title} and has no answer_short (${then})` });
      }
      const short = entry.answer_short ? capabilities.measure(entry.answer_short) : 0;
      if (short > max) {
        warnings.push({ ...at, message: `warning: entry "${entry.id}": answer_short is ${short}/${max} characters, too long for ${title}` });
      }
    }
  }
  return warnings;
}

/**
 * Cross-validation: each question is held out in turn (one question per entry per fold), the
 * classifier is trained on the rest and asked to classify it; questions it confidently (at least
 * `threshold`, default 0.5 like ANSWER_THRESHOLD) gives to another label are warnings.
 */
export async function findConfusedQuestions(
  corpus: Corpus,
  inspection: CorpusInspection,
  options: { folds: number; threshold?: number; train?: (examples: readonly TrainingExample[]) => Promise<{ understand(text: string): { classification: { ranked: { label: string; confidence: number }[] } } }> },
): Promise<LintWarning[]> {
  // Trained as the server trains (twins as one answer), so a warning is about what the bot would do.
  const twins = corpusTwins(corpus);
  const train = options.train ?? ((examples: readonly TrainingExample[]) => trainUnderstander(examples, { model: { twins } }));
  const all = corpusToExamples(corpus);
  // Fold of each FAQ question: its index within its entry, modulo the number of folds.
  const folds = Math.max(2, options.folds);
  const held: { id: string; index: number; text: string; fold: number }[] = [];
  for (const entry of corpus.faq) {
    if (entry.questions.length < 2) continue; // a lone question cannot be held out
    entry.questions.forEach((text, index) => held.push({ id: entry.id, index, text, fold: index % folds }));
  }
  const threshold = options.threshold ?? 0.5;
  const warnings: LintWarning[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const out = held.filter((h) => h.fold === fold);
    if (out.length === 0) continue;
    const excluded = new Set(out.map((h) => `${faqLabel(h.id)}\u0000${h.text}`));
    const understander = await train(all.filter((e) => !excluded.has(`${e.label}\u0000${e.text}`)));
    for (const h of out) {
      const top = understander.understand(h.text).classification.ranked[0];
      // Only a wrong label the bot would act on counts; a low-confidence miss is merely "not known".
      if (!top || top.label === faqLabel(h.id) || top.confidence < threshold) continue;
      const at = inspection.questionPosition(h.id, h.index) ?? inspection.entryPosition(h.id);
      if (!at) continue;
      const other = top.label.replace(/^faq:/, 'entry ').replace(/^intent:/, 'intent ');
      warnings.push({ ...at, message: `warning: question "${h.text}" of "${h.id}" is taken for ${other} (confidence ${top.confidence.toFixed(2)}) when left out of training: the two are easily confused` });
    }
  }
  return warnings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/**
 * Entries of different languages that look like translations of each other but are not linked
 * by `same_as`: a classifier trained on every question (its language left to detection, so the
 * two languages share character n-grams and lexicon concepts) ranks each entry's questions; the
 * entry of another language ranked first for most of them is its likely twin, when that holds
 * both ways. One warning per pair, at the first entry.
 */
export async function findUnlinkedTwins(corpus: Corpus, inspection: CorpusInspection): Promise<LintWarning[]> {
  const locales = new Set(corpus.faq.map((e) => e.locale));
  if (locales.size < 2) return [];
  const byLabel = new Map(corpus.faq.map((e) => [faqLabel(e.id), e]));
  const classifier = createClassifier();
  await classifier.train(corpus.faq.flatMap((e) => e.questions.map((text) => ({ text, label: faqLabel(e.id) }))));
  const twinOf = new Map<string, string>();
  for (const entry of corpus.faq) {
    const votes = new Map<string, number>();
    for (const q of entry.questions) {
      const other = classifier.classify(q).ranked.map((r) => byLabel.get(r.label)).find((e) => e !== undefined && e.locale !== entry.locale);
      if (other) votes.set(other.id, (votes.get(other.id) ?? 0) + 1);
    }
    const [best, count] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
    if (best !== undefined && count * 2 > entry.questions.length) twinOf.set(entry.id, best);
  }
  const linked = (a: string, b: string) => byLabel.get(faqLabel(a))?.same_as === b || byLabel.get(faqLabel(b))?.same_as === a;
  const warnings: LintWarning[] = [];
  const seen = new Set<string>();
  for (const entry of corpus.faq) {
    const twin = twinOf.get(entry.id);
    if (twin === undefined || twinOf.get(twin) !== entry.id || seen.has(twin) || linked(entry.id, twin)) continue;
    if (entry.same_as !== undefined || byLabel.get(faqLabel(twin))?.same_as !== undefined) continue;
    seen.add(entry.id);
    const at = inspection.entryPosition(entry.id);
    if (!at) continue;
    warnings.push({ ...at, message: `warning: entry "${entry.id}" and "${twin}" (${byLabel.get(faqLabel(twin))!.locale}) look like translations of each other: link them with \`same_as: ${twin}\`` });
  }
  return warnings;
}

const formatProblem = (p: CorpusProblem | LintWarning): string => `${p.file}:${p.line}:${p.column}: ${p.message}`;

/** `sportello faq lint [--folds N] [--threshold C] [--no-cross-validation] [--strict]`: exit 1 on errors (or warnings with --strict). */
export async function runFaqLint(argv: string[], io: FaqIo, env: Record<string, string | undefined>): Promise<number> {
  let values: { folds?: string; threshold?: string; 'no-cross-validation'?: boolean; strict?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { folds: { type: 'string' }, threshold: { type: 'string' }, 'no-cross-validation': { type: 'boolean' }, strict: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }));
  } catch (err) {
    io.stderr.write(`sportello faq lint: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write('usage: sportello faq lint [--folds N] [--threshold 0.5] [--no-cross-validation] [--strict]\n  FAQ_DIR (default faq) and INTENTS_DIR (default intents) say where the corpus is;\n  ACTIONS_DIR (default actions) holds the custom actions FAQ entries name with handler:.\n');
    return 0;
  }
  const folds = values.folds === undefined ? 4 : Number(values.folds);
  if (!Number.isInteger(folds) || folds < 2) {
    io.stderr.write('sportello faq lint: --folds must be a whole number of at least 2\n');
    return 2;
  }
  const threshold = values.threshold === undefined ? Number(env.ANSWER_THRESHOLD ?? 0.5) : Number(values.threshold);
  if (!(threshold >= 0 && threshold <= 1)) {
    io.stderr.write('sportello faq lint: --threshold must be a number between 0 and 1\n');
    return 2;
  }
  const faqDir = env.FAQ_DIR || 'faq';
  const intentsDir = env.INTENTS_DIR || 'intents';
  // The custom actions an entry's `handler` may name: those of the actions folder.
  let handlers: ReadonlySet<string> | undefined;
  let actionProblems: readonly string[] = [];
  try {
    handlers = (await loadActions(env.ACTIONS_DIR || 'actions')).names;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    actionProblems = err.problems;
  }
  const inspection = await inspectCorpus({ faqDir, intentsDir, handlers });
  for (const p of actionProblems) io.stdout.write(`${p}\n`);
  for (const p of inspection.problems) io.stdout.write(`${formatProblem(p)}\n`);
  const { corpus } = inspection;
  const warnings = [...findRepeatedQuestions(corpus, inspection), ...findAnswersTooLong(corpus, inspection)];
  if (inspection.problems.length === 0 && !values['no-cross-validation']) {
    warnings.push(...(await findConfusedQuestions(corpus, inspection, { folds, threshold })));
    warnings.push(...(await findUnlinkedTwins(corpus, inspection)));
  }
  for (const w of warnings) io.stdout.write(`${formatProblem(w)}\n`);
  const errors = inspection.problems.length + actionProblems.length;
  io.stdout.write(
    `${corpus.faq.length} FAQ entr${corpus.faq.length === 1 ? 'y' : 'ies'}, ${corpus.intents.length} intent${corpus.intents.length === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}\n`,
  );
  if (errors > 0) return 1;
  return values.strict && warnings.length > 0 ? 1 : 0;
}

// ───────────────────────────── review ─────────────────────────────

/** What `faq review` needs. */
export interface FaqReviewDeps {
  store: Store;
  faqDir: string;
  clock: Clock;
  /** For re-validating the corpus before a write (default: `intents/` next to the FAQ folder). */
  intentsDir?: string;
  /** Makes an approval's outbound event deliveries (faq.approved), written with it. */
  recorder: EventRecorder;
}

export const REVIEW_USAGE = `usage: sportello faq review [list]
       sportello faq review show ID
       sportello faq review edit ID [--question TEXT]... [--answer TEXT] [--answer-short TEXT] [--entry ID] [--locale it|en]
       sportello faq review approve ID [--reviewer NAME] [--id ENTRY_ID] [--answer TEXT] [--answer-short TEXT] [--question TEXT]...
       sportello faq review reject ID [--reviewer NAME]
  edit: --question replaces the questions (repeat it for several); an empty --answer or --answer-short
  removes it; --entry names a new entry's id, or an existing entry the questions (and answer) go into.
`;

function kindLabel(s: FaqSuggestion): string {
  if (s.kind === 'add_question') return `add question to ${s.entryId}`;
  if (s.kind === 'update_answer') return `update answer of ${s.entryId}`;
  return `new entry ${s.entryId ?? ''}`.trim();
}

function describe(s: FaqSuggestion): string {
  return `${s.id}  ${s.status.padEnd(8)}  ${s.locale}  ${kindLabel(s)}  "${s.questions[0] ?? ''}"`;
}

function indented(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}

/** What approving changes, as the reviewer reads it: added questions, answers before and after. */
function changeLines(change: SuggestionChange): string[] {
  if (change.missing) return [`approving changes: nothing, entry "${change.entryId}" no longer exists (edit it with --entry)`];
  const lines = [`approving ${change.existing ? `changes entry "${change.entryId}"` : `adds entry "${change.entryId}"`}:`];
  for (const q of change.addedQuestions) lines.push(`  + question: ${q}`);
  for (const q of change.knownQuestions) lines.push(`  = question (already there): ${q}`);
  for (const [label, diff] of [['answer', change.answer], ['answer_short', change.answerShort]] as const) {
    if (!diff) continue;
    if (diff.before !== undefined) lines.push(`  - ${label} (now):`, indented(indented(diff.before)));
    lines.push(`  + ${label}${change.existing ? ' (after)' : ''}:`, indented(indented(diff.after)));
  }
  if (change.existing && !change.answer) lines.push('  = answer unchanged');
  if (change.answerShortKept) lines.push(`  = answer_short unchanged (check it still fits the new answer): ${change.answerShortKept}`);
  if (change.empty) lines.push('  (nothing would change: edit it, or reject it)');
  return lines;
}

function details(s: FaqSuggestion, change?: SuggestionChange): string {
  const lines = [
    `id:        ${s.id}`,
    `status:    ${s.status}`,
    `kind:      ${s.kind}`,
    `${s.kind === 'new_entry' ? 'new id:   ' : 'entry:    '} ${s.entryId ?? '(none)'}`,
    `locale:    ${s.locale}`,
    `case:      ${s.caseId}`,
    `created:   ${s.createdAt} by ${s.createdBy}`,
    'questions:',
    ...s.questions.map((q) => `  - ${q}`),
  ];
  if (s.answer) lines.push('answer:', indented(s.answer));
  if (s.answerShort) lines.push('answer_short:', indented(s.answerShort));
  if (s.operatorAnswer && s.operatorAnswer !== s.answer) lines.push("operator's answer in the case:", indented(s.operatorAnswer));
  if (s.reviewedBy) lines.push(`reviewed:  ${s.reviewedAt ?? ''} by ${s.reviewedBy}`);
  if (change) lines.push(...changeLines(change));
  return `${lines.join('\n')}\n`;
}

/** The FAQ as it is on disk (for `show` and `edit`); its problems do not stop a review. */
async function currentCorpus(deps: FaqReviewDeps) {
  const intentsDir = deps.intentsDir ?? path.join(path.dirname(path.resolve(deps.faqDir)), 'intents');
  return (await inspectCorpus({ faqDir: deps.faqDir, intentsDir })).corpus;
}

function defaultReviewer(): string {
  try {
    return userInfo().username;
  } catch (err) {
    return `cli (${(err as Error).message})`;
  }
}

/** `sportello faq review list | show ID | edit ID | approve ID | reject ID`; returns the exit code. */
export async function runFaqReview(argv: string[], io: FaqIo, deps: FaqReviewDeps): Promise<number> {
  let parsed: ReturnType<typeof parseReviewArgs>;
  try {
    parsed = parseReviewArgs(argv);
  } catch (err) {
    io.stderr.write(`sportello faq review: ${(err as Error).message}\n${REVIEW_USAGE}`);
    return 2;
  }
  const { command, id, values } = parsed;
  if (command === 'list') {
    const pending = await deps.store.suggestions.list({ status: 'pending' });
    if (pending.length === 0) io.stdout.write('no pending suggestions\n');
    for (const s of pending) io.stdout.write(`${describe(s)}\n`);
    return 0;
  }
  if (!id) {
    io.stderr.write(`sportello faq review ${command}: which suggestion? give its ID\n${REVIEW_USAGE}`);
    return 2;
  }
  const all = await deps.store.suggestions.list();
  const suggestion = all.find((s) => s.id === id);
  if (!suggestion) {
    io.stderr.write(`sportello faq review: no suggestion with id ${id}\n`);
    return 1;
  }
  if (command === 'show') {
    io.stdout.write(details(suggestion, suggestion.status === 'pending' ? previewChange(suggestion, await currentCorpus(deps)) : undefined));
    return 0;
  }
  if (suggestion.status !== 'pending') {
    io.stderr.write(`sportello faq review: suggestion ${id} is already ${suggestion.status}\n`);
    return 1;
  }
  const reviewer = values.reviewer ?? defaultReviewer();
  const reviewedAt = deps.clock.now().toISOString();
  if (command === 'reject') {
    await deps.store.suggestions.update(id, { status: 'rejected', reviewedBy: reviewer, reviewedAt });
    await auditCli(deps, 'faq.reject', id);
    io.stdout.write(`rejected ${id}\n`);
    return 0;
  }
  if (command === 'edit') {
    const edits: SuggestionEdits = {
      ...(values.question !== undefined ? { questions: values.question } : {}),
      ...(values.answer !== undefined ? { answer: values.answer } : {}),
      ...(values['answer-short'] !== undefined ? { answerShort: values['answer-short'] } : {}),
      ...(values.entry !== undefined ? { entryId: values.entry } : {}),
      ...(values.locale !== undefined ? { locale: values.locale as Language } : {}),
    };
    if (Object.keys(edits).length === 0) {
      io.stderr.write(`sportello faq review edit: nothing to change: give --question, --answer, --answer-short, --entry or --locale\n${REVIEW_USAGE}`);
      return 2;
    }
    const corpus = await currentCorpus(deps);
    let change: Partial<FaqSuggestion>;
    try {
      change = editSuggestion(suggestion, edits, corpus);
    } catch (err) {
      if (err instanceof SuggestionError) {
        io.stderr.write(`sportello faq review edit: ${err.message} (nothing changed)\n`);
        return 1;
      }
      throw err;
    }
    const updated = await deps.store.suggestions.update(id, change);
    if (!updated) {
      io.stderr.write(`sportello faq review: no suggestion with id ${id}\n`);
      return 1;
    }
    await auditCli(deps, 'faq.edit', id);
    io.stdout.write(`edited ${id}\n${details(updated, previewChange(updated, corpus))}`);
    return 0;
  }
  if (values.entry !== undefined || values.locale !== undefined) {
    io.stderr.write(`sportello faq review ${command}: --entry and --locale belong to "faq review edit ${id}" (approve takes --id)\n`);
    return 2;
  }
  try {
    const edits = {
      ...(values.id !== undefined ? { id: values.id } : {}),
      ...(values.answer !== undefined ? { answer: values.answer } : {}),
      ...(values['answer-short'] !== undefined ? { answerShort: values['answer-short'] } : {}),
      ...(values.question !== undefined ? { questions: values.question } : {}),
    };
    const { file } = await approveSuggestion(suggestion, { faqDir: deps.faqDir, intentsDir: deps.intentsDir, reviewer, clock: deps.clock, edits });
    await recordApproval(deps.store, deps.recorder, suggestion, {
      status: 'approved',
      reviewedBy: reviewer,
      reviewedAt,
      ...(values.id !== undefined ? { entryId: values.id } : {}),
      ...(values.answer !== undefined ? { answer: values.answer } : {}),
      ...(values['answer-short'] !== undefined ? { answerShort: values['answer-short'] } : {}),
      ...(values.question !== undefined ? { questions: values.question } : {}),
    });
    await auditCli(deps, 'faq.approve', id);
    io.stdout.write(`approved ${id}: written to ${file}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CorpusError) {
      io.stderr.write(`sportello faq review: not written, the FAQ would not load:\n${err.message}\n`);
      return 1;
    }
    if (err instanceof SuggestionError) {
      io.stderr.write(`sportello faq review: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function parseReviewArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      reviewer: { type: 'string' },
      id: { type: 'string' },
      answer: { type: 'string' },
      'answer-short': { type: 'string' },
      question: { type: 'string', multiple: true },
      entry: { type: 'string' },
      locale: { type: 'string' },
    },
  });
  const [command = 'list', id, ...rest] = positionals;
  if (!['list', 'show', 'edit', 'approve', 'reject'].includes(command)) throw new Error(`unknown review command "${command}"`);
  if (rest.length > 0) throw new Error(`unexpected arguments: ${rest.join(' ')}`);
  return { command: command as 'list' | 'show' | 'edit' | 'approve' | 'reject', id, values };
}

/** Lints a corpus folder pair in-process (for tests and tools): errors and warnings, no output. */
export async function lintCorpus(options: { faqDir: string; intentsDir: string; folds?: number; threshold?: number; crossValidate?: boolean }): Promise<{ errors: CorpusProblem[]; warnings: LintWarning[] }> {
  const inspection = await inspectCorpus(options);
  const warnings = [...findRepeatedQuestions(inspection.corpus, inspection), ...findAnswersTooLong(inspection.corpus, inspection)];
  if (inspection.problems.length === 0 && options.crossValidate !== false) {
    warnings.push(...(await findConfusedQuestions(inspection.corpus, inspection, { folds: options.folds ?? 4, threshold: options.threshold })));
    warnings.push(...(await findUnlinkedTwins(inspection.corpus, inspection)));
  }
  return { errors: inspection.problems, warnings };
}
