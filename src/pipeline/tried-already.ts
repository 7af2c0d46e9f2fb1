/**
 * @module pipeline/tried-already
 * "I checked spam already", «ho già provato, non va», "still doesn't work": said soon after an FAQ
 * answer, the customer tells that what it says did not solve it. Read alone such a message is off
 * topic ("please rephrase"); the decision table sends it to a person instead (row 6).
 */
import type { FaqEntry } from '../core/corpus.js';
import type { Conversation, Language } from '../core/types.js';
import { obstacleTo } from './follow-up-question.js';

/** How long after an FAQ answer a message may be about it. */
const AFTER_ANSWER_MS = 30 * 60_000;

const SAYS: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?:gi[aà]\s+(?:fatto|provato|controllato|guardato|verificato|cercato|seguito|tentato)|l'ho\s+gi[aà]|ho\s+(?:gi[aà]\s+)?(?:provato|riprovato|controllato|verificato|tentato)|non\s+(?:funziona|va|è\s+servito|ha\s+funzionato|mi\s+arriva|arriva|c'è)|ancora\s+(?:niente|nulla|non)|niente\s+da\s+fare|nessun\s+risultato)(?![\p{L}])/iu,
  en: /\b(?:already\s+(?:did|done|tried|checked|looked|followed)|(?:did|done|tried|checked|looked)\s+(?:that|this|it)\s+already|(?:checked|looked\s+in|tried)\s+(?:the\s+|my\s+)?\w+\s+already|i\s+(?:have\s+|'ve\s+)?(?:already\s+)?(?:tried|checked|done\s+that)|(?:doesn['’]?t|does\s+not|didn['’]?t|did\s+not|won['’]?t)\s+work|not\s+working|still\s+(?:nothing|not|no|doesn['’]?t|didn['’]?t|can['’]?t)|no\s+luck|nothing\s+(?:came|arrived|happened))\b/i,
};

/**
 * True when `text`, within half an hour of an FAQ answer in this conversation, says it was tried
 * and did not help, or tells of an obstacle to a step the answer gives ("ma l'etichetta non si
 * stampa, non ho la stampante" after "print the prepaid label": `obstacleTo`).
 */
export function triedAlready(text: string, language: Language, conversation: Pick<Conversation, 'lastAnswer'>, now: Date, faq: readonly FaqEntry[] = []): boolean {
  const last = conversation.lastAnswer;
  if (!last || now.getTime() - new Date(last.at).getTime() > AFTER_ANSWER_MS) return false;
  if ((SAYS[language] ?? SAYS.en).test(text)) return true;
  const entry = faq.find((e) => e.id === last.faqId);
  return entry !== undefined && obstacleTo(text, language, entry);
}
