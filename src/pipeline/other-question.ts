/**
 * @module pipeline/other-question
 * A second question in the same message, answered beside the first (a step of turn-effects.ts).
 */
import { faqLabel, type Corpus, type FaqEntry } from '../core/corpus.js';
import type { Language } from '../core/types.js';
import { sameAnswerGroups } from '../corpus/load.js';
import { pointOf } from './courtesy.js';
import { resolveLabel } from './labels.js';
import type { TurnInput } from './turn-plan.js';

/**
 * A message of two questions or more ("Quali sono gli orari? E fate spedizioni in Svizzera?"), each
 * ending with "?": the FAQ entry one of the others asks for, understood alone, when it is confident,
 * another entry than the one answered, answered without a person or a custom action (no escalation,
 * no handler), and plain unless `privateToo` (a private entry's request is taken up beside a plain
 * answer, never beside another request for data). One more answer at most: a message is not a
 * questionnaire.
 */
export async function otherQuestionAnswered(
  input: TurnInput,
  text: string,
  answered: FaqEntry,
  language: Language,
  corpus: Corpus,
  threshold: number,
  privateToo: boolean,
): Promise<{ entry: FaqEntry; first: boolean } | undefined> {
  const questions = (pointOf(text).match(/[^?.!\n]*\?/g) ?? []).map((q) => q.trim()).filter((q) => q.split(/\s+/).length >= 2);
  if (questions.length < 2) return undefined;
  for (const [i, question] of questions.entries()) {
    const best = (await input.understandText(question, language)).classification.ranked[0];
    if (!best || best.confidence < threshold || !best.label.startsWith('faq:')) continue;
    const entry = resolveLabel(best.label, best.confidence, corpus, language).entry;
    // `first`: asked before the others (the entry answered for the whole message is one of them).
    if (entry && entry.id !== answered.id && (privateToo || !entry.private) && !entry.escalate && entry.handler === undefined && !sameAnswer(corpus, entry, answered)) return { entry, first: i === 0 };
  }
  return undefined;
}

/** The same answer in another language (twins linked by `same_as`, the corpus's own grouping). */
function sameAnswer(corpus: Corpus, a: FaqEntry, b: FaqEntry): boolean {
  const groups = sameAnswerGroups(corpus);
  const group = groups.get(faqLabel(a.id));
  return group !== undefined && group === groups.get(faqLabel(b.id));
}
