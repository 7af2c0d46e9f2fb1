/**
 * @module handoff/escalation
 * The rules that send a conversation to a person. Each rule is configurable and names its
 * `reason`; `findEscalation` returns the first rule that fires, most serious first.
 */
import type { Understanding } from '../core/ports.js';
import type { EscalationReason } from '../core/types.js';

/** The configurable thresholds and lists of the escalation rules. */
export interface EscalationRules {
  vipFollowers: number;
  vipHandles: readonly string[];
  crisisKeywords: readonly string[];
  angerThreshold: number;
  missesBeforeEscalation: number;
}

/** What the rules look at. */
export interface EscalationInput {
  text: string;
  understanding: Understanding;
  /** The confident intent, if any (e.g. `human_request`). */
  intent?: string;
  customer: { handle?: string; followers?: number };
}

/** Folds case and accents so "Intossicazióne" matches "intossicazione". */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Keywords folded once per list (the rules object lives as long as its configuration). */
const foldedKeywords = new WeakMap<readonly string[], Array<{ keyword: string; key: string }>>();

function foldKeywords(keywords: readonly string[]): Array<{ keyword: string; key: string }> {
  let folded = foldedKeywords.get(keywords);
  if (!folded) {
    folded = keywords
      .map((keyword) => ({ keyword, key: fold(keyword).replace(/[^\p{L}\p{N}]+/gu, ' ').trim() }))
      .filter((k) => k.key.length > 0);
    foldedKeywords.set(keywords, folded);
  }
  return folded;
}

/** A crisis keyword found in the text (word-bounded), if any. */
export function findCrisisKeyword(text: string, keywords: readonly string[]): string | undefined {
  const folded = ` ${fold(text).replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  return foldKeywords(keywords).find((k) => folded.includes(` ${k.key} `))?.keyword;
}

/** True when the customer is a VIP by reach or by the brand's list of handles. */
export function isVip(customer: { handle?: string; followers?: number }, rules: EscalationRules): boolean {
  const handle = customer.handle?.replace(/^@/, '').toLowerCase();
  return (
    (customer.followers !== undefined && customer.followers >= rules.vipFollowers) ||
    (handle !== undefined && rules.vipHandles.includes(handle))
  );
}

/**
 * An explicit request for a person inside a longer message, which the classifier reads as its
 * other question ("I was charged twice for my order, I want to speak to a human" got the
 * double-charge answer): "parlare con un operatore", "passatemi una persona", "speak to a human",
 * "get me an agent", "agent please". Not when negated ("non serve parlare con un operatore").
 */
const ASKS_FOR_PERSON: RegExp[] = [
  /(?<![\p{L}])(?:parlare|chattare|sentire|scrivere)\s+(?:con|a)\s+(?:un[ao]?\s+|un'\s*|una\s+)?(?:vero\s+|vera\s+)?(?:operator[ei]|operatrice|persona(?:\s+vera)?|umano|essere\s+umano|addett[oa]|qualcuno\s+(?:del|dello|della)\s+servizio\s+clienti)(?![\p{L}])/iu,
  /(?<![\p{L}])(?:passami|passatemi|mi\s+passi|mi\s+passate|voglio|vorrei)\s+(?:un[ao]?\s+|un'\s*)?(?:operator[ei]|operatrice|persona\s+vera|umano|essere\s+umano|addett[oa])(?![\p{L}])/iu,
  /\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a\s+|an\s+)?(?:real\s+|live\s+|actual\s+)?(?:human(?:\s+being)?|person|agent|operator|representative|rep)\b/i,
  /\b(?:get|connect|transfer|put)\s+me\s+(?:to\s+|through\s+to\s+|with\s+)?(?:a\s+|an\s+)?(?:real\s+|live\s+)?(?:human|person|agent|operator|representative)\b/i,
  /\b(?:human|agent|operator|representative)\s+please\b/i,
  // A call back asked for ("potete richiamarmi al 347…", "can you call me back?"): a person, who calls
  // or writes; read alone it was "please rephrase", or off topic.
  /(?<![\p{L}])(?:richiamatemi|richiamami|chiamatemi|chiamami|(?:potete|potreste|può|puoi|potresti)\s+(?:ri)?chiamarmi|mi\s+(?:potete|potreste|può|puoi|potresti)\s+(?:ri)?chiamare|mi\s+richiam(?:ate|i)|mi\s+fate\s+(?:ri)?chiamare)(?![\p{L}])/iu,
  /\b(?:(?:can|could|would|will)\s+(?:you|someone|somebody|anyone|one\s+of\s+you)\s+(?:please\s+)?(?:call|ring|phone)\s+me|(?:please\s+)?call\s+me\s+back|give\s+me\s+a\s+(?:call|ring)|(?:^|[.!,]\s*)(?:please\s+)?(?:call|ring|phone)\s+me)\b/i,
];
const NEGATED = /(?:\bnon\s+(?:\S+\s+){0,2}|\bno\s+need\s+to\s+|\b(?:don'?t|do\s+not|doesn'?t)\s+(?:\S+\s+){0,2})$/i;

/** True when the text asks for a person in so many words (see ASKS_FOR_PERSON). */
export function asksForPerson(text: string): boolean {
  for (const re of ASKS_FOR_PERSON) {
    const m = re.exec(text);
    if (m && !NEGATED.test(text.slice(Math.max(0, m.index - 40), m.index))) return true;
  }
  return false;
}

/**
 * The escalation a message triggers by itself, before any FAQ is considered:
 * crisis keywords, an explicit request for a person, anger, a VIP. Undefined when none fires.
 * (Low confidence, FAQ `escalate: true` and private cases depend on the conversation and are
 * decided in the pipeline's decision table.)
 */
export function findEscalation(input: EscalationInput, rules: EscalationRules): EscalationReason | undefined {
  if (findCrisisKeyword(input.text, rules.crisisKeywords)) return 'crisis';
  if (input.intent === 'human_request' || asksForPerson(input.text)) return 'human_request';
  if (input.understanding.anger >= rules.angerThreshold) return 'negative_sentiment';
  if (input.intent === 'complaint') return 'negative_sentiment';
  // "Non ho capito", "that doesn't answer my question": the bot could not help, as after two misses.
  if (input.intent === 'not_helpful') return 'low_confidence';
  if (isVip(input.customer, rules)) return 'vip';
  return undefined;
}
