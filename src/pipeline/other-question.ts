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
  const questions = questionsOf(text);
  if (questions.length < 2) return undefined;
  for (const [i, question] of questions.entries()) {
    const best = (await input.understandText(question, language)).classification.ranked[0];
    if (!best || best.confidence < threshold || !best.label.startsWith('faq:')) continue;
    const entry = resolveLabel(best.label, best.confidence, corpus, language).entry;
    // `first`: asked before the others (the entry answered for the whole message is one of them).
    if (entry && entry.id !== answered.id && (privateToo || !entry.private) && !entry.escalate && entry.handler === undefined && !sameAnswer(corpus, entry.id, answered.id)) return { entry, first: i === 0 };
  }
  return undefined;
}

/**
 * The questions a message asks: each ending with "?", and one that asks two things split where "and"
 * / "e" opens another ("what are your opening hours and do you ship to Switzerland?", "dove si trova
 * il negozio e che orari fate?"); parts of one word are not questions.
 */
export function questionsOf(text: string): string[] {
  const asked = (pointOf(text).match(/[^?.!\n]*\?/g) ?? []).map((q) => q.trim());
  return (asked.length > 0 ? asked : [pointOf(text).trim()]).flatMap(splitAsks).filter((q) => q.split(/\s+/).length >= 2);
}

/** The same entry, or the same answer in another language (twins linked by `same_as`, the corpus's own grouping). */
export function sameAnswer(corpus: Corpus, a: string, b: string): boolean {
  if (a === b) return true;
  const groups = sameAnswerGroups(corpus);
  const group = groups.get(faqLabel(a));
  return group !== undefined && group === groups.get(faqLabel(b));
}

/** Words that open a question, or an indirect one ("se fate…", "if you ship…"). */
const OPENER = String.raw`(?:what|how|when|where|which|who|why|do|does|did|can|could|is|are|will|would|should|if|se|come|quando|dove|che|cosa|qual[ei]?|quant[oiae]|perch[ée]|fate|avete|potete|posso|si\s+pu[òo]|[èe]\s+possibile|c'[èe]|ci\s+sono|accettate|spedite|vendete)(?=[\s,?']|$)`;
/** A question, or a message that announces one ("vorrei sapere…", "can you tell me…"), after a greeting. */
const ASKING = new RegExp(
  String.raw`^(?:(?:ciao|salve|buongiorno|buonasera|hi|hello|hey)[\s,!]+)?(?:vorrei\s+sapere|volevo\s+sapere|sapete\s+dirmi|mi\s+(?:sapete\s+)?dite|potete\s+dirmi|i'?d\s+like\s+to\s+know|i\s+wanted\s+to\s+know|(?:can|could)\s+you\s+tell\s+me|${OPENER})`,
  'iu',
);
/** "and" / "e" that opens another question. */
const AND_ASKS = new RegExp(String.raw`[\s,]+(?:and(?:\s+also)?|also|e|ed|e\s+poi|inoltre)\s+(?=${OPENER})`, 'iu');

/** A part that speaks of what the one before names ("…and when will it arrive?"): no question of its own. */
const REFERS_BACK = /\b(?:it|its|they|them|that\s+one|this\s+one)\b/iu;

/**
 * A question that asks two things, as two ("what are your opening hours" and "do you ship to
 * Switzerland?"); else itself. A part that refers back ("where is my order and when will it
 * arrive?") is not read alone: alone, "when will it arrive" was the restock answer.
 */
function splitAsks(question: string): string[] {
  if (!ASKING.test(question)) return [question];
  const [first, ...rest] = question.split(AND_ASKS).map((q) => q.trim()).filter((q) => q !== '');
  return [first ?? question, ...rest.filter((q) => !REFERS_BACK.test(q))];
}
