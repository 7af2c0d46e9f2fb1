/**
 * @module pipeline/opt-out
 * The customer asks the brand not to write to them first any more: "stop" (the answer a survey
 * names), or in their own words anywhere ("non scrivetemi più", "stop messaging me", "no more
 * surveys"). Recorded on the customer (`surveyOptOutAt`): no satisfaction survey goes to them again.
 */

const STOP = /^\s*stop\s*[.!]*\s*$/i;

/** "Stop" alone: to a survey, or anywhere, the customer opts out. */
export function saysStop(text: string): boolean {
  return STOP.test(text);
}

/**
 * "Non scrivetemi più", "stop messaging me", "no more surveys": asking the brand not to write first
 * any more, in any conversation (not only as the answer to a survey, where "stop" is enough).
 * Imperatives only: "non mi scrivete più" is as often a complaint ("you no longer answer me").
 */
const OPT_OUT = new RegExp(
  [
    String.raw`(?<![\p{L}])non\s+(?:scrivetemi|scrivermi|contattatemi|contattarmi)\s+(?:più|piu)(?![\p{L}])`,
    // Not "non mandatemi più email" (the newsletter, an FAQ question): messages or surveys only.
    String.raw`(?<![\p{L}])non\s+(?:mandatemi|mandarmi|inviatemi|inviarmi)\s+(?:più|piu)\s+(?:messaggi|sondaggi|questionari|domande)(?![\p{L}])`,
    String.raw`(?<![\p{L}])smettete(?:la)?\s+di\s+(?:scrivermi|contattarmi)(?![\p{L}])`,
    String.raw`(?<![\p{L}])smettete(?:la)?\s+di\s+(?:mandarmi|inviarmi)\s+(?:messaggi|sondaggi|questionari)(?![\p{L}])`,
    String.raw`(?<![\p{L}])non\s+voglio\s+(?:più\s+|piu\s+)?ricevere\s+(?:più\s+|piu\s+|altri\s+|altre\s+)?(?:messaggi|sondaggi|questionari|domande|notifiche)(?![\p{L}])`,
    String.raw`(?<![\p{L}])basta\s+(?:con\s+(?:i|questi)\s+)?(?:messaggi|sondaggi|questionari)(?![\p{L}])`,
    // Not "stop sending me emails" (the newsletter, an FAQ question): messages or surveys only.
    String.raw`\bstop\s+(?:messaging|texting|contacting|writing\s+to)\s+me\b`,
    String.raw`\bstop\s+sending\s+me\s+(?:messages|surveys|questionnaires|these)\b`,
    String.raw`\b(?:don['’]?t|do\s+not|never)\s+(?:message|text|contact|write\s+to|dm)\s+me\s+(?:again|any\s*more)\b`,
    String.raw`\bno\s+more\s+(?:messages|surveys|questionnaires)\b`,
    String.raw`\bi\s+(?:don['’]?t|do\s+not)\s+want\s+(?:any\s+more|more|any\s+other)\s+(?:messages|surveys)\b`,
    String.raw`\bunsubscribe\s+me\s+from\s+(?:these|your|the|all)\s+(?:messages|surveys|chats?)\b`,
  ].join('|'),
  'iu',
);
/** An opt-out is said in a few words; a longer message asks something else. */
const OPT_OUT_MAX_WORDS = 14;

/** True when a message asks the brand not to write to the customer first any more ("stop" alone too). */
export function optsOut(text: string): boolean {
  if (saysStop(text)) return true;
  if (text.includes('?') || text.trim().split(/\s+/).length > OPT_OUT_MAX_WORDS) return false;
  return OPT_OUT.test(text);
}
