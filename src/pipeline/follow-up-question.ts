/**
 * @module pipeline/follow-up-question
 * Short questions that lean on the one before: "e in contrassegno?" after "posso pagare con
 * PayPal?", "what about sale items?" after a returns answer, "come faccio?" after "vorrei fare un
 * reso". Alone they say too little to be understood (or sound off topic); read together with the
 * question the bot answered last in the conversation, they are. Only the FAQ's own question is
 * used as context, never the customer's earlier words, so nothing personal is kept for it.
 */
import type { Corpus, FaqEntry } from '../core/corpus.js';
import type { Conversation, Language } from '../core/types.js';
import { searchWords } from '../util/fold.js';
import { withoutMentions } from './courtesy.js';

/** How long after an answer a short message may lean on it. */
export const FOLLOW_UP_MINUTES = 30;
/** Longer messages say what they are about. */
const MAX_WORDS = 6;

/** How a follow-up opens: "and…", "what about…", "how do I do that?". */
const OPENERS: Record<Language, RegExp> = {
  it: /^(?:(?:(?:no|scusa|scusate|aspetta|anzi|ops)[\s,!.]+)*(?:intendevo|volevo dire)|e|ed|ma|anche|invece|però|pero|quindi|allora|oppure|o|e se|come faccio|come si fa|come posso fare|in che senso|cioè|cioe|tipo)(?=$|[\s,?!.'’])/i,
  en: /^(?:(?:(?:no|sorry|wait|oops|actually)[\s,!.]+)*i\s+meant|and|but|also|so|or|what about|how about|and if|what if|how do i do (?:it|that|this)|how do i|how can i do (?:it|that)|meaning|i mean|like)(?=$|[\s,?!.'’])/i,
};

/** "E adesso?", "what now?", "ok fatto, e poi?": the step after the answer just given, and nothing else. */
const NEXT_STEP: Record<Language, RegExp> = {
  it: /^(?:(?:ok|okay|fatto|va bene|sì|si|perfetto)[\s,!.]+)*(?:e\s+)?(?:adesso|ora|poi|dopo|quindi)(?:\s+(?:che|cosa)\s+(?:faccio|devo fare|succede))?\s*[?!.]*$/iu,
  en: /^(?:(?:ok|okay|done|yes|alright|cool)[\s,!.]+)*(?:(?:and\s+)?(?:now what|what now|what next|what's next|whats next|then what|now)|what do i do now|what should i do now|what happens now)\s*[?!.]*$/iu,
};

/** True when a message asks only for the next step ("e adesso?", "what now?"). */
export function asksNextStep(text: string, language: Language): boolean {
  return NEXT_STEP[language].test(withoutMentions(text).trim());
}

/** A follow-up that only asks for the same again, said another way: "come faccio?", "how do I do that?". */
const AGAIN: Record<Language, RegExp> = {
  it: /^(?:e\s+)?(?:come faccio|come si fa|come posso fare|in che senso|cioè|cioe|e quindi|quindi)\s*[?!.]*$/i,
  en: /^(?:and\s+|so\s+)?(?:how do i do (?:it|that|this)|how do i|how can i do (?:it|that)|meaning|what do you mean)\s*[?!.]*$/i,
};

/** What a short question may ask about the last answer without naming its topic. */
type Aspect = 'time' | 'cost' | 'use';
const ALL_ASPECTS = ['time', 'cost', 'use'] as const;

/**
 * What a short question asks about the last answer when it names no topic of its own: how long
 * ("quanto tempo ho?", "how long?"), how much ("quanto costa?", "is it free?"), or how to use what
 * the answer spoke of ("come si usa?", "how do I use it?" after the gift cards: read alone, it was
 * off topic or "did you mean…?").
 */
const ASPECTS: Record<Aspect, Record<Language, RegExp>> = {
  time: {
    it: /(?<![\p{L}\p{N}])(?:quanto tempo|quanti (?:giorni|ore|mesi)|quante (?:ore|settimane)|entro quando|fino a quando|tra quanto|in quanto tempo|quanto ci (?:vuole|mette|metto|mettete)|quanto dura|(?:ha una |c'è una |c’è una )?scadenza|scad(?:e|ono))(?![\p{L}\p{N}])/iu,
    en: /\b(?:how long|how much time|how many (?:days|hours|weeks|months)|by when|until when|within how long|how soon|(?:does|do|will) (?:it|they|that|this) expire|expiry(?: date)?)\b/i,
  },
  cost: {
    it: /(?<![\p{L}\p{N}])(?:quanto (?:costa|costano|viene|vengono|si paga|pago|devo pagare)|quanto(?=\s*\?*\s*$)|a quanto|che prezzo|qual (?:è|e) il prezzo|(?:è|e) (?:gratis|gratuit[oa])|costa qualcosa|ci sono costi|a pagamento|si paga)(?![\p{L}\p{N}])/iu,
    en: /\b(?:how much(?! time)(?:\s+(?:is|are|does|do|will|would)\s+(?:it|they|that|this|these|those|one|them)(?:\s+cost)?|\s+(?:do|will|would) i pay|(?=\s*\?*\s*$))|what (?:does|do|will) (?:it|they|that|this|these|one) cost|what(?:'s| is) the (?:price|cost)|does it cost|is it free|any (?:fee|charge|cost)s?|do i (?:have to )?pay)\b/i,
  },
  use: {
    it: /(?<![\p{L}\p{N}])come (?:(?:si|lo|la|li|le|l'|l’|posso|devo|faccio a|si può|si puo|ci si)\s*)*(?:us[aoi]\p{L}*|utilizz\p{L}*|attiv\p{L}*|funzion\p{L}*|inserisc\p{L}*|applic\p{L}*|spend\p{L}*)(?![\p{L}\p{N}])/iu,
    en: /\bhow (?:do|can|should|would) (?:i|you|we) (?:use|redeem|apply|activate|enter|spend) (?:it|them|that|this|one)\b|\bhow (?:does|do|will) (?:it|that|this|they) work\b/i,
  },
};

/**
 * How an answer says how long or how much: "entro 30 giorni", "within 14 days"; "€ 5", "gratuito",
 * "free"; or how to use something: "per usarlo inserisci il codice al checkout", "enter the code".
 */
const SAYS: Record<Aspect, RegExp> = {
  time: /\b\d+(?:\s*[-–]\s*\d+)?\s*(?:giorni|giorno|ore|ora|settiman[ae]|mes[ei]|minuti|(?:working |business )?(?:days?|hours?|weeks?|months?|minutes?))\b|\bentro\b|\bwithin\b/i,
  cost: /€|\beur(?:o|os)?\b|gratuit|gratis|\bfree\b|\bcost|\bprezz|\bprice|\bfees?\b|a pagamento|\bcharged?\b/i,
  use: /\b(?:usar(?:e|l[oaie])|utilizz\w*|inserisci|clicca|scegli\w*|avvia|vai su|al checkout|use it|to use|enter|click|choos(?:e|ing)|start|go to|at checkout|redeem|apply)\b/i,
};

/** The aspects a message asks about. */
function aspectsAsked(text: string, language: Language): Aspect[] {
  return ALL_ASPECTS.filter((aspect) => ASPECTS[aspect][language].test(text));
}

/** The aspects a message asks about or names ("quanto tempo ho?", "e i tempi?", "and the cost?"). */
function aspectsOf(text: string, language: Language): Aspect[] {
  return ALL_ASPECTS.filter((aspect) => ASPECTS[aspect][language].test(text) || NAMED[aspect][language].test(text));
}

/** An aspect named by a noun ("e i tempi?", "and the cost?"): which sentences of an answer it points to. */
const NAMED: Record<Aspect, Record<Language, RegExp>> = {
  time: {
    it: /(?<![\p{L}])(?:tempi|tempistic\p{L}*|durata)(?![\p{L}])/iu,
    en: /\b(?:timings?|time\s*frames?|times|how\s+long)\b/i,
  },
  cost: {
    it: /(?<![\p{L}])(?:cost[oi]|prezz[oi]|spese|tariff[ae])(?![\p{L}])/iu,
    en: /\b(?:costs?|prices?|fees?|charges?)\b/i,
  },
  use: {
    it: /(?<![\p{L}])(?:istruzioni|utilizzo)(?![\p{L}])/iu,
    en: /\b(?:instructions|usage)\b/i,
  },
};

/** Words of a message that say what it is about (four letters or more), folded, cut to their first five letters. */
function topicWords(text: string): string[] {
  return [...new Set(searchWords(text).map((w) => SAME_TOPIC.get(w) ?? w).filter((w) => w.length >= 4 && /^\p{L}+$/u.test(w)).map((w) => w.slice(0, 5)))];
}

/** Words that name the same place to shop ("sul sito", "on the website": the answer says "online"). */
const SAME_TOPIC = new Map(['sito', 'website', 'site', 'internet', 'web', 'ecommerce'].map((w) => [w, 'online']));

/**
 * True when reading a follow-up with the last answer's question found `entry`, and answering it
 * is right: another entry than the one just given; or the same again when the customer asked for
 * it again ("come faccio?") or when its answer speaks of what the follow-up asks about ("e in
 * contrassegno?" after the payment methods, whose answer says cash on delivery is not available).
 * Otherwise ("e per i saldi?" after the returns answer) it is not repeated: the bot says it has
 * nothing more than that answer, and how to reach a person (decide.ts, `beyondAnswer`).
 */
export function followUpAnswers(text: string, language: Language, conversation: Pick<Conversation, 'lastAnswer'>, entry: FaqEntry): boolean {
  if (conversation.lastAnswer?.faqId !== entry.id) return true;
  if (AGAIN[language].test(withoutMentions(text))) return true;
  // "quanto tempo ho?" after "il cambio è gratuito entro 30 giorni": the answer says it.
  const aspects = aspectsOf(withoutMentions(text), language);
  if (aspects.length > 0 && aspects.every((aspect) => SAYS[aspect].test(entry.answer))) return true;
  // What the answer itself says, not the questions that lead to it: "e per la svizzera?" after the
  // shipping answer got the same answer again because a question of the entry named Switzerland,
  // while the answer did not; repeated, it read as not listening.
  const asked = topicWords(withoutMentions(text).replace(OPENERS[language], ''));
  const own = new Set(topicWords(entry.answer));
  return asked.length > 0 && asked.every((w) => own.has(w));
}

/**
 * The sentences of the answer just given that speak of what a follow-up asks about, when the
 * follow-up is answered by that same entry again and they are not the whole answer: "Il contrassegno
 * non è disponibile." to "e in contrassegno?" after the payment methods, the sentence naming
 * Switzerland to "e per la Svizzera?" after the shipping answer. The part that answers, not the
 * same message twice. Undefined when the customer asked for it again ("come faccio?") or every
 * sentence speaks of it.
 */
export function answerPart(text: string, language: Language, entry: FaqEntry): string | undefined {
  const bare = withoutMentions(text);
  if (AGAIN[language].test(bare)) return undefined;
  // "how does it work?": the words that ask how ("does", "work") name nothing the answer speaks of
  // ("We don't work with other buy-now-pay-later services" is no part of how to pay in instalments).
  // Nor do the words that ask about using it ("posso usarlo in negozio?": "usarlo" is in the sentence
  // that says how to use it, "negozio" in the one that says where).
  const asking = bare
    .replace(OPENERS[language], '')
    .replace(everywhere(ASPECTS.use[language]), ' ')
    .replace(everywhere(USES_IT[language]), ' ');
  const asked = new Set(topicWords(asking));
  // "e i tempi?", "quanto tempo ho?": the sentences that say how long (or how much), whatever their
  // words; "how do I use it?", which names nothing: the sentences that say how.
  const aspects = aspectsOf(bare, language);
  if (asked.size === 0 && aspects.length === 0) return undefined;
  const sentences = entry.answer.split(/(?<=[.!?])\s+(?=\p{Lu})/u);
  const speaking = sentences.filter((s) => topicWords(s).some((w) => asked.has(w)) || aspects.some((a) => SAYS[a].test(s)));
  return speaking.length > 0 && speaking.length < sentences.length ? speaking.join(' ') : undefined;
}

/**
 * True when a short message asks how long, how much or how to use something and names nothing else
 * ("how does it work?", "come si usa?", "does it expire?"): it can only be about what was just
 * answered, even when read alone it looks like something else ("how does it work?" leaned on the
 * jobs entry, "work", at 0.88).
 */
export function asksOnlyAboutIt(text: string, language: Language): boolean {
  const rest = besidesAsking(text, language);
  return rest !== undefined && topicWords(rest).filter((w) => !PRONOUN_WORDS.has(w)).length === 0;
}

/** What a message says besides its opener and how long / how much / how to use it asked; undefined when it asks none of those. */
function besidesAsking(text: string, language: Language): string | undefined {
  const bare = withoutMentions(text);
  if (aspectsAsked(bare, language).length === 0) return undefined;
  let rest = bare.replace(OPENERS[language], '');
  for (const aspect of ALL_ASPECTS) rest = rest.replace(everywhere(ASPECTS[aspect][language]), ' ');
  return rest;
}

/** The same pattern, matching every occurrence. */
function everywhere(re: RegExp): RegExp {
  return new RegExp(re.source, `${re.flags}g`);
}

/**
 * Using "it" somewhere or somehow: "can I use it in the shop?", "posso usarlo anche in negozio?",
 * "si può spendere online?". "It" is what was just answered about (the gift card), not whatever
 * the other words alone read as (the shop's address, at 0.99).
 */
const USES_IT: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?:(?:usar|utilizzar|spender)(?:l[oaie]|ne)|(?:lo|la|li|le|l['’])\s*(?:(?:posso|si può|si puo|possono|potete|puoi|si)\s+)?(?:us|utilizz|spend)\p{L}*|si\s+(?:può|puo|possono)\s+(?:usare|utilizzare|spendere)|(?:vale|valgono)\s+anche)(?![\p{L}])/iu,
  en: /\b(?:use|spend|redeem)\s+(?:it|them|one)\b|\b(?:is it|are they)\s+(?:valid|usable|good)\b/i,
};
/** Questions about using "it" say a little more than a follow-up: "can I use it in the Milan shop too?". */
const USES_IT_MAX_WORDS = 10;

/** True when a message asks about using what was just answered about, somewhere or somehow. */
export function usesIt(text: string, language: Language): boolean {
  const bare = withoutMentions(text);
  return bare.split(/\s+/).length <= USES_IT_MAX_WORDS && USES_IT[language].test(bare);
}

/** Short words that name nothing: pronouns, articles, "ok", "then" (Italian and English). */
const FILLERS = new Set(['it', 'its', 'this', 'that', 'them', 'they', 'these', 'those', 'one', 'so', 'then', 'ok', 'okay', 'and', 'but', 'a', 'an', 'the', 'to', 'is', 'do', 'i', 'lo', 'la', 'li', 'le', 'l', 'gli', 'ci', 'si', 'ne', 'il', 'e', 'ma', 'poi', 'allora', 'quindi', 'questo', 'questa', 'quello', 'quella', 'mi', 'ti', 'me', 'te', 'è', 'ha', 'c']);

/**
 * True when a message asks how long, how much or how to use something and has no other word at
 * all, however short ("how does it work?", "quanto costa?"; not "quanto costa il kWh?"): with no
 * answer before it, it is about nothing yet.
 */
export function asksAboutNothing(text: string, language: Language): boolean {
  const onlyFillers = (rest: string) => (rest.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).every((w) => FILLERS.has(w) || WHEN_WORDS.has(w));
  const rest = besidesAsking(text, language);
  if (rest !== undefined && onlyFillers(rest)) return true;
  // A bare opener ("and?", "and now?", "e allora?", "so?"): read alone it leaned on whatever entry has
  // the word ("and": click and collect at 0.58) or on "solved" ("and now?": "glad it's sorted").
  const bare = withoutMentions(text).trim();
  if (ANY_NEWS[language].test(bare)) return true;
  const opened = OPENERS[language].exec(bare);
  return opened !== null && onlyFillers(bare.slice(opened[0].length));
}

/** "Novità?", "any news?": about the customer's own request, which nothing before names (off topic at 0.8 alone). */
const ANY_NEWS: Record<Language, RegExp> = {
  it: /^(?:e\s+|allora\s+)?(?:ci\s+sono\s+|qualche\s+|delle\s+|nessuna\s+)?(?:novità|novita|aggiornamenti|notizie)\s*[?!.]*$/iu,
  en: /^(?:so\s+|and\s+)?(?:any\s+)?(?:news|updates?)\s*[?!.]*$/iu,
};

/** Words of time that name nothing ("and now?", "e poi?"). */
const WHEN_WORDS = new Set(['now', 'then', 'next', 'ora', 'adesso', 'poi', 'dopo']);

/** Words of four letters or more (cut to five) that point back rather than name a topic. */
const PRONOUN_WORDS = new Set(['this', 'that', 'them', 'they', 'these', 'those', 'quest', 'quell', 'anche', 'also', 'then', 'does', 'dura', 'work']);

/**
 * True when a follow-up names nothing of its own after its opening ("e in L?", "e poi?", "and?"):
 * unclear without the answer before it, never a question about something else.
 */
export function namesNothing(text: string, language: Language): boolean {
  return topicWords(withoutMentions(text).replace(OPENERS[language], '')).length === 0;
}

/**
 * The question to read a message with, when it is a short follow-up of the answer the bot gave
 * in this conversation within FOLLOW_UP_MINUTES ("e …", "what about …", asking how long or how
 * much: "quanto tempo ho?", or about using it: "can I use it in the shop?"); otherwise undefined.
 */
export function followUpContext(text: string, language: Language, conversation: Pick<Conversation, 'lastAnswer'>, corpus: Corpus, now: Date): string | undefined {
  const last = conversation.lastAnswer;
  if (!last || now.getTime() - Date.parse(last.at) > FOLLOW_UP_MINUTES * 60_000) return undefined;
  const trimmed = withoutMentions(text);
  if (!usesIt(trimmed, language)) {
    if (trimmed.split(/\s+/).length > MAX_WORDS) return undefined;
    if (!OPENERS[language].test(trimmed) && aspectsAsked(trimmed, language).length === 0) return undefined;
  }
  return corpus.faq.find((e) => e.id === last.faqId)?.questions[0];
}

/** What says a step cannot be done: "non si stampa", "non ho la stampante", "the link doesn't work". */
const OBSTACLE: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?:non|nessun[oa]?|niente|senza|impossibile|errore|rott[oaie]|bloccat[oaie])(?![\p{L}])/iu,
  en: /\b(?:not|no|without|can['’]?t|cannot|unable|error|broken|stuck)\b|n['’]t\b/i,
};
/** An obstacle is told in a sentence or two; a longer message says what it is about. */
const OBSTACLE_MAX_WORDS = 16;

/**
 * True when a message, soon after an answer, tells of an obstacle to what that answer says to do:
 * "ma l'etichetta non si stampa, non ho la stampante" after "stampa l'etichetta prepagata", "I
 * can't find My orders on the website" after "start the return from My orders on our website". It
 * names something the answer itself names (words as in `followUpAnswers`), with a "not", "no",
 * "without", and asks nothing. Read alone it was off topic ("I can't help with that": a printer), while the
 * customer is stuck on the answer's own step.
 */
export function obstacleTo(text: string, language: Language, entry: FaqEntry): boolean {
  const bare = withoutMentions(text);
  // A question with "not" is often only a polite one ("non spedite in Giappone?", "don't you ship to
  // Japan?"): asked about, not a customer stuck.
  if (bare.includes('?') || bare.split(/\s+/).length > OBSTACLE_MAX_WORDS || !OBSTACLE[language].test(bare)) return false;
  const own = new Set(topicWords(entry.answer));
  return topicWords(bare).some((w) => own.has(w));
}
