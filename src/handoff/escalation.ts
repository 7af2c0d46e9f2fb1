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
  // Someone above the bot and the first line: "posso parlare con il responsabile?", "I want to speak
  // to a manager" (read alone, "did you mean Contacts?" or "please rephrase").
  /(?<![\p{L}])(?:parlare|chattare|sentire|scrivere)\s+(?:con|a)\s+(?:il\s+|la\s+|un\s+|una\s+|un'\s*|lo\s+|al\s+|alla\s+)?(?:vostr[oa]\s+)?(?:responsabile|direttore|direttrice|supervisore|superiore|manager|capo)(?![\p{L}])/iu,
  /(?<![\p{L}])(?:passami|passatemi|mi\s+passi|mi\s+passate|voglio|vorrei|chiamate|fatemi\s+parlare\s+con)\s+(?:il\s+|la\s+|un\s+|una\s+)?(?:vostr[oa]\s+)?(?:responsabile|direttore|direttrice|supervisore|manager)(?![\p{L}])/iu,
  /\b(?:speak|talk|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|the\s+|your\s+)?(?:manager|supervisor|boss|someone\s+in\s+charge|person\s+in\s+charge|team\s+leader)\b/i,
  /\b(?:get|put|transfer|connect)\s+me\s+(?:to\s+|through\s+to\s+|with\s+)?(?:a\s+|the\s+|your\s+)?(?:manager|supervisor)\b|\b(?:manager|supervisor)\s+please\b/i,
  // A call back asked for ("potete richiamarmi al 347…", "can you call me back?"): a person, who calls
  // or writes; read alone it was "please rephrase", or off topic.
  /(?<![\p{L}])(?:richiamatemi|richiamami|chiamatemi|chiamami|(?:potete|potreste|può|puoi|potresti)\s+(?:ri)?chiamarmi|mi\s+(?:potete|potreste|può|puoi|potresti)\s+(?:ri)?chiamare|mi\s+richiam(?:ate|i)|mi\s+fate\s+(?:ri)?chiamare)(?![\p{L}])/iu,
  /\b(?:(?:can|could|would|will)\s+(?:you|someone|somebody|anyone|one\s+of\s+you)\s+(?:please\s+)?(?:call|ring|phone)\s+me|(?:please\s+)?call\s+me\s+back|give\s+me\s+a\s+(?:call|ring)|(?:^|[.!,]\s*)(?:please\s+)?(?:call|ring|phone)\s+me)\b/i,
];
/**
 * The customer says they were not answered before: "nobody answers", "still no reply??", "è la
 * terza volta che scrivo", "ancora nessuna risposta, ci siete?". The brand has already let them
 * down somewhere the bot cannot see or mend, so a person takes over, as for a complaint. Read
 * alone, such messages got the newsletter answer (from "emails"), the contacts, or a greeting
 * (from "hello???"). Not when conditional ("if nobody answers I will…", "se nessuno risponde…").
 * Matched on folded text (lower case, no accents).
 */
const CHASES: RegExp[] = [
  /(?<![\p{L}])nessun[oa]?\s+(?:mi\s+|ci\s+)?(?:ha\s+(?:ancora\s+|mai\s+)?)?(?:mi\s+|ci\s+)?(?:risponde|rispondete|risposto|richiama|richiamato|aiuta|aiutato|si\s+fa\s+(?:viv[oa]|sentire)|si\s+e\s+fatt[oa]\s+(?:viv[oa]|sentire))(?![\p{L}])/u,
  /(?<![\p{L}])(?:ancora|tuttora|finora)\s+nessuna\s+(?:risposta|notizia|novita)(?![\p{L}])/u,
  /(?<![\p{L}])nessuna\s+risposta\s+(?:da\s+(?:voi|parte|giorni|settimane|una|un|due|tre)|dopo|alle?\s+mie|ai\s+miei|al\s+mio|alla\s+mia)(?![\p{L}])/u,
  /(?<![\p{L}])non\s+(?:mi\s+|ci\s+)?(?:rispondete|avete\s+(?:ancora\s+|mai\s+)?(?:risposto|richiamato)|richiamate|risponde\s+(?:mai\s+)?nessuno)(?![\p{L}])/u,
  /(?<![\p{L}])(?:seconda|terza|quarta|quinta|sesta|decima|ennesima|\d+\s*[ao°]?)\s+volta\s+che\s+(?:vi\s+|ti\s+|lo\s+)?(?:scrivo|chiedo|contatto|chiamo|sollecito|ripeto|scriviamo|segnalo)(?![\p{L}])/u,
  /(?<![\p{L}])vi\s+(?:ho\s+)?(?:gia\s+)?(?:scritto|chiamato|contattato|sollecitato)\s+(?:gia\s+)?(?:\d+|due|tre|quattro|cinque|diverse|varie|tante|mille|molte|piu)\s+volte(?![\p{L}])/u,
  /(?<![\p{L}])(?:mi|ci)\s+(?:state\s+)?ignor(?:ate|ando)(?![\p{L}])|(?<![\p{L}])(?:secondo|terzo|ennesimo|ulteriore)\s+sollecito(?![\p{L}])/u,
  /\b(?:nobody|no\s*-?\s*one|none\s+of\s+you)\s+(?:(?:ever|still|even)\s+)?(?:answers|replies|responds|helps|gets\s+back|calls\s+(?:me\s+)?back|(?:is|are)\s+(?:answering|replying|responding|helping))\b/,
  /\b(?:nobody|no\s*-?\s*one|none\s+of\s+you)\s+(?:(?:has|have)\s+(?:(?:ever|yet|still|even)\s+)?(?:answered|replied|responded|got(?:ten)?\s+back|called\s+(?:me\s+)?back|helped)|got\s+back\s+to\s+(?:me|us))\b/,
  /\bstill\s+(?:no|not\s+(?:a|any))\s+(?:answer|reply|response|word\s+from\s+you)s?\b/,
  /\bno\s+(?:answer|reply|response)s?\s+(?:yet|from\s+(?:you|anyone|anybody)|since|for\s+(?:days|weeks|\d+))\b/,
  /\b(?:(?:got|had|received|heard)\s+(?:no|nothing)\s+(?:answer|reply|response|back)|(?:haven'?t|have\s+not|never|didn'?t|did\s+not)\s+(?:heard|hear)\s+back|(?:haven'?t|have\s+not|never)\s+(?:got|gotten|received|had)\s+(?:an?\s+|any\s+)?(?:answer|reply|response))\b/,
  /\byou\s+(?:guys\s+|people\s+)?(?:never|don'?t|do\s+not|won'?t|will\s+not|haven'?t|have\s+not|still\s+haven'?t)\s+(?:ever\s+|even\s+)?(?:answer(?:ed)?|repl(?:y|ied)|respond(?:ed)?|get\s+back|got\s+back|call(?:ed)?\s+(?:me\s+)?back)\b(?!\s+(?:my|the|this)\s+question)/,
  /\b(?:second|third|fourth|fifth|tenth|\d+(?:st|nd|rd|th))\s+time\s+(?:that\s+)?(?:i'?m|i\s+am|i\s+have|i'?ve|i)\s+(?:writing|written|write|wrote|asking|asked|ask|contacting|contacted|messaging|messaged|emailing|emailed|calling|called|chasing)\b/,
  /\bi(?:'?ve|\s+have)\s+(?:already\s+)?(?:written|emailed|messaged|called|contacted\s+you|tweeted|dm'?e?d|asked|chased)\s+(?:you\s+|this\s+)?(?:\d+|two|three|four|five|several|many|multiple|countless|so\s+many)\s+times\b/,
  /\b(?:keep\s+)?ignor(?:ing|ed)\s+(?:me|us|my)\b|\bstill\s+waiting\s+(?:for|on)\s+(?:an?\s+|any\s+|your\s+)?(?:answer|reply|response)\b/,
  // "Sto ancora aspettando una risposta", "avete ricevuto la mia mail?", "vi ho scritto ieri";
  // "did you get my message?", "I already wrote yesterday".
  /(?<![\p{L}])(?:ancora|tuttora)\s+(?:sto\s+)?(?:aspettando|attendendo|aspetto|attendo)\s+(?:una\s+|la\s+|vostra\s+|una\s+vostra\s+)?risposta(?![\p{L}])|(?<![\p{L}])(?:aspetto|attendo|sto\s+aspettando)\s+(?:ancora\s+)?(?:una\s+|la\s+)?(?:vostra\s+)?risposta\s+da\s+(?:giorni|settimane|ieri|una|un|due|tre)(?![\p{L}])/u,
  /(?<![\p{L}])(?:avete|hai|ha)\s+(?:ricevuto|letto|visto)\s+(?:il\s+mio\s+messaggio|i\s+miei\s+messaggi|la\s+mia\s+(?:e-?mail|mail|richiesta|segnalazione)|le\s+mie\s+(?:e-?mail|mail))(?![\p{L}])/u,
  /(?<![\p{L}])(?:vi\s+|ti\s+)?ho\s+gia\s+(?:scritto|mandato\s+(?:una\s+)?(?:e-?mail|mail|messaggio)|contattato)\s+(?:anche\s+)?(?:ieri|stamattina|stamani|l'altro\s+ieri|la\s+settimana\s+scorsa|giorni\s+fa|\w+\s+giorni\s+fa|lunedi|martedi|mercoledi|giovedi|venerdi|sabato|domenica)(?![\p{L}])/u,
  /\bdid\s+(?:you|anyone|anybody|someone)\s+(?:get|receive|see|read)\s+my\s+(?:message|email|e-mail|dm|request|messages|emails)\b/,
  /\bi\s+(?:already\s+)?(?:wrote|emailed|messaged|dm'?e?d|contacted\s+you)\s+(?:to\s+you\s+|you\s+)?(?:already\s+)?(?:yesterday|this\s+morning|last\s+week|days\s+ago|\w+\s+days\s+ago|on\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b/,
];
/**
 * The customer threatens to take it public or to a review site: "I'll post this everywhere", "I'll
 * leave a 1 star review", "lo scrivo su tutti i social", "vi lascio una recensione negativa" (not a
 * review as such: "vi lascio una recensione a 5 stelle"). A
 * person takes over, as for a complaint (read alone: "please rephrase", off topic). Folded text.
 */
const THREATENS: RegExp[] = [
  /(?<![\p{L}])(?:lo|la|li|vi)\s+(?:scrivo|scriverò|scrivero|posto|pubblico|metto|racconto|sputtano|sputtanero)\s+(?:su\s+|sui\s+|in\s+|a\s+)?(?:tutti\s+i\s+social|social|tutti\s+i\s+gruppi|instagram|tiktok|internet|ovunque|dappertutto|in\s+giro|tutti)(?![\p{L}])/u,
  /(?<![\p{L}])(?:recensione|recensioni)\s+(?:negativ[ae]|pessim[ae]|da\s+una\s+stella)|(?:una|1)\s+stell(?:a|ina)\s+(?:su|nella|nelle)\s+(?:recensione|recensioni|google|trustpilot|amazon)(?![\p{L}])/u,
  /\b(?:i'?ll|i\s+will|i'?m\s+going\s+to|gonna)\s+(?:post|put|tell|spread|tweet)\s+(?:this|it|about\s+(?:this|it|you))\s+(?:everywhere|all\s+over|on\s+(?:every|all)\b|online|to\s+everyone|on\s+social\s+media)/,
  /\b(?:(?:i'?ll|i\s+will|i'?m\s+going\s+to|gonna)\s+(?:leave|write|post|give\s+you)\s+(?:a\s+|an\s+)?(?:(?:1|one)[\s-]*star|bad|negative|terrible|awful)\s+review|(?:1|one)[\s-]*star\s+review\s+(?:incoming|coming))\b/,
];

/** True when the text threatens to take the matter public or to reviews (see THREATENS). */
export function threatensToGoPublic(text: string): boolean {
  return saysUnconditionally(THREATENS, text);
}

const CONDITIONAL = /(?:\b(?:if|unless|in\s+case|se|qualora|nel\s+caso(?:\s+in\s+cui)?|caso\s+mai|casomai)\s+(?:\S+\s+){0,2})$/;

/** True when the text says earlier messages went unanswered (see CHASES). */
export function chasesAnAnswer(text: string): boolean {
  return saysUnconditionally(CHASES, text);
}

/** True when one of `patterns` matches the folded text, not right after "if …" / "se …". */
function saysUnconditionally(patterns: readonly RegExp[], text: string): boolean {
  const folded = fold(text).replace(/[’`]/g, "'");
  for (const re of patterns) {
    const m = re.exec(folded);
    if (m && !CONDITIONAL.test(folded.slice(Math.max(0, m.index - 30), m.index))) return true;
  }
  return false;
}
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
 * crisis keywords, an explicit request for a person, anger, a complaint or an earlier message
 * left unanswered, a VIP. Undefined when none fires.
 * (Low confidence, FAQ `escalate: true` and private cases depend on the conversation and are
 * decided in the pipeline's decision table.)
 */
export function findEscalation(input: EscalationInput, rules: EscalationRules): EscalationReason | undefined {
  if (findCrisisKeyword(input.text, rules.crisisKeywords)) return 'crisis';
  if (input.intent === 'human_request' || asksForPerson(input.text)) return 'human_request';
  if (input.understanding.anger >= rules.angerThreshold) return 'negative_sentiment';
  if (input.intent === 'complaint' || chasesAnAnswer(input.text) || threatensToGoPublic(input.text)) return 'negative_sentiment';
  // "Non ho capito", "that doesn't answer my question": the bot could not help, as after two misses.
  if (input.intent === 'not_helpful') return 'low_confidence';
  if (isVip(input.customer, rules)) return 'vip';
  return undefined;
}
