/**
 * @module handoff/suggested-answers
 * The FAQ answers suggested to an operator for a conversation (issue 21): they consider the
 * whole customer side, not only the last message ("hello?" after "where is my parcel?" still
 * suggests the parcel's answer). The customer's recent messages are classified one by one (an
 * older one counts a little less: ×0.85 per later message) and together; each FAQ entry keeps
 * its best score and the message that gave it.
 */
import { faqLabel, type Knowledge } from '../core/corpus.js';
import type { Language } from '../core/types.js';

/** Customer messages considered, the most recent ones. */
const RECENT = 8;
/** How much less a message counts for each later one. */
const DECAY = 0.85;

/** One suggestion. */
export interface SuggestedAnswer {
  faqId: string;
  confidence: number;
  locale: Language;
  question: string;
  answer: string;
  answerShort?: string;
  /** The customer message it answers best (null: the messages taken together). */
  messageId: string | null;
}

/** Suggests up to `limit` FAQ answers for the customer's messages (oldest first). */
export function suggestAnswers(
  messages: ReadonlyArray<{ id: string; text: string }>,
  knowledge: Knowledge,
  options: { previousLanguage?: Language; minConfidence: number; limit?: number },
): { language?: Language; suggestions: SuggestedAnswer[] } {
  const recent = messages.filter((m) => m.text.trim().length > 0).slice(-RECENT);
  if (recent.length === 0) return { suggestions: [] };
  const context = { previousLanguage: options.previousLanguage };
  const whole = knowledge.understander.understand(recent.map((m) => m.text).join('\n'), context);
  const best = new Map<string, { confidence: number; messageId: string | null }>();
  const consider = (label: string, confidence: number, messageId: string | null) => {
    if (!label.startsWith('faq:')) return;
    const seen = best.get(label);
    if (!seen || confidence > seen.confidence) best.set(label, { confidence, messageId });
  };
  for (const r of whole.classification.ranked) consider(r.label, r.confidence, null);
  recent.forEach((m, i) => {
    const weight = DECAY ** (recent.length - 1 - i);
    const understood = knowledge.understander.understand(m.text, { previousLanguage: whole.language });
    for (const r of understood.classification.ranked) consider(r.label, r.confidence * weight, m.id);
  });
  const suggestions = [...best.entries()]
    .sort((a, b) => b[1].confidence - a[1].confidence)
    .map(([label, { confidence, messageId }]): SuggestedAnswer | undefined => {
      const matches = knowledge.corpus.faq.filter((e) => faqLabel(e.id) === label);
      const entry = matches.find((e) => e.locale === whole.language) ?? matches[0];
      if (!entry) return undefined;
      return { faqId: entry.id, confidence, locale: entry.locale, question: entry.questions[0] ?? '', answer: entry.answer, ...(entry.answer_short ? { answerShort: entry.answer_short } : {}), messageId };
    })
    // Guesses the classifier gives almost no chance are noise to an operator.
    .filter((s): s is SuggestedAnswer => s !== undefined && s.confidence >= options.minConfidence)
    .slice(0, options.limit ?? 3);
  return { language: whole.language, suggestions };
}
