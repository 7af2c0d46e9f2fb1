/**
 * @module listening/classify
 * What a heard post is: a care request (a customer with a problem or a question: it goes into
 * the normal pipeline), praise, opinion/noise (recorded, not answered one by one) or spam. Built
 * on the pipeline's own understanding (language, the FAQ/intent classifier, sentiment and anger,
 * entities) plus a few cues of how people write a request ("il mio ordine", "non riesco",
 * "how do I", a question to the brand) and of spam (promotions with links, hashtag walls, the
 * same text again and again). Pure functions, except the small memory of repeated texts.
 */
import { fold } from '../classifier/normalise.js';
import type { Understanding } from '../core/ports.js';

/** The four classes of a heard item. */
export const HEARD_CLASSES = ['care', 'praise', 'noise', 'spam'] as const;
export type HeardClass = (typeof HEARD_CLASSES)[number];

/** Asking the brand for something: a request by itself. */
const REQUEST_CUES = [
  // Italian
  'aiuto', 'aiutatemi', 'aiutarmi', 'potete', 'potreste', 'come faccio', 'come posso', 'come si fa', 'quando arriva', 'quando arrivera',
  'dove e il mio', 'dove e la mia', 'rispondetemi', 'vorrei', 'voglio il rimborso', 'voglio parlare', 'mi spiegate', 'sapete dirmi',
  'mi dite', 'non riesco', 'non ho ricevuto', 'aspetto da', 'sto aspettando', 'ho un problema', 'mi avete addebitato', 'addebitato due volte',
  // English
  'help me', 'can you', 'could you', 'how do i', 'how can i', 'where is my', 'when will my', 'please help', 'anyone help', 'i would like',
  'i want my', 'i can t', 'i cant', 'i cannot', 'i haven t received', 'i didn t receive', 'still waiting', 'charged me', 'i was charged',
  'i have a problem', 'need help', 'help with', 'contact me', 'contattatemi', 'contattarmi', 'mi contattate', 'chi mi aiuta',
  // Asking how long, or whether something can be done (not the rhetorical "ma è possibile che…").
  'quanto tempo', 'quanto ci vuole', 'quanto ci mette', 'how long', 'rispondermi', 'e possibile cambiare', 'e possibile avere',
  'e possibile modificare', 'e possibile annullare', 'e possibile restituire', 'e possibile ricevere', 'e possibile pagare',
  'posso cambiare', 'posso modificare', 'posso annullare', 'posso restituire', 'posso avere', 'posso pagare', 'is it possible to',
  'can i', 'i need to', 'need to change', 'i want to change', 'devo cambiare', 'devo modificare',
];

/** Someone speaking of their own purchase or account: care when it comes with a problem or a question. */
const PERSONAL_CUES = [
  'il mio', 'la mia', 'i miei', 'le mie', 'mio ordine', 'ho ordinato', 'ho comprato', 'ho pagato', 'ho bisogno', 'mi serve', 'non mi',
  'mi hanno', 'my order', 'my account', 'my package', 'my parcel', 'my card', 'my refund', 'my money', 'i ordered', 'i bought', 'i paid',
  'i need', 'ho ricevuto', 'avevo ordinato', 'i received', 'i got', 'i ordered',
];

/** Asking other people, not the brand ("anche a voi?"). */
const PEER_CUES = [
  'anche a voi', 'anche voi', 'anche a te', 'qualcun altro', 'qualcuno sa', 'anyone else', 'anyone know', 'you too', 'is it just me', 'solo a me',
  // Showing something to the readers, not asking the brand ("ma avete visto la pubblicità?").
  'avete visto', 'avete letto', 'avete sentito', 'have you seen', 'did you see', 'have you heard', 'did you hear',
  // Checking with the readers whether a problem is everyone's ("is it broken for everyone or just me?").
  'just me', 'only me', 'for everyone', 'for anyone', 'per tutti', 'solo io', 'qualcuno lo', 'qualcuno ha',
];

/** Problems people report, beyond the sentiment lexicon (outages, errors, blocks). */
const PROBLEM_CUES = [
  'down', 'bloccata', 'bloccato', 'bloccati', 'bloccate', 'blocca', 'errore', 'errori', 'non va', 'non funziona', 'non funzionano',
  'disservizio', 'guasto', 'crash', 'crasha', 'impossibile', 'non carica', 'non si apre', 'fuori uso', 'ko', 'rubato', 'rubati',
  'doppio addebito', 'bug', 'outage', 'error', 'errors', 'can t', 'cannot', 'doesn t work', 'not loading', 'won t load', 'keeps crashing',
  'stuck', 'blocked', 'failed', 'failing', 'boicott', 'boicottare', 'boycott', 'vergogna', 'schifo', 'pessimo', 'pessimi', 'ritardo',
  'ritardi', 'annullato', 'cancelled', 'canceled', 'hacked', 'leak', 'scandalo', 'scandal', 'non e arrivato', 'non e ancora arrivato',
  'non arrivato', 'non ricevuto', 'non ancora ricevuto', 'hasn t arrived', 'has not arrived', 'didn t arrive', 'not arrived', 'not received',
  'never received', 'delusione', 'disastro', 'disastroso', 'caos', 'non si apre', 'non va',
  // Waiting with nothing come ("still no refund", "l'email non arriva mai").
  'still no', 'still not', 'never came', 'never comes', 'never arrives', 'never arrived', 'ancora nessun', 'ancora nessuna', 'ancora niente',
  'mai arrivato', 'mai arrivata', 'mai arrivati', 'non arriva', 'non arrivano', 'non arriva mai',
  // What comes damaged, wrong or short.
  'damaged', 'broken', 'defective', 'faulty', 'wrong item', 'wrong size', 'missing', 'danneggiato', 'danneggiata', 'rotto', 'rotta',
  'difettoso', 'difettosa', 'sbagliato', 'sbagliata', 'manca', 'mancante', 'mancano',
  // What does not show up, or stands still.
  'nothing arrived', 'nothing came', 'non e arrivato nulla', 'non e arrivato niente', 'not showing', 'isn t showing', 'doesn t show',
  'non risulta', 'non compare', 'was charged', 'charged twice', 'e fermo', 'e ferma', 'fermo da', 'ferma da',
  // The same problems in the other forms people write them.
  'crashes', 'crashed', 'crashing', 'fails', 'broke', 'went wrong', 'andato storto', 'got charged', 'been charged', 'declined',
  'rifiutata', 'rifiutato', 'in tilt', 'al posto del', 'al posto della', 'al posto dei', 'al posto delle', 'instead of the',
  // Put out of one's account, held up.
  'logs me out', 'logged me out', 'logging me out', 'logged out', 'signs me out', 'signing me out', 'signed me out', 'kicked out',
  'kicks me out', 'session expired', 'sessione scaduta', 'disconnette', 'disconnessa', 'disconnesso', 'sloggato', 'sloggata', 'slogga',
  'scollegarmi', 'mi scollega', 'butta fuori', 'mi fa uscire', 'delayed', 'in ritardo',
];

/** Outrage beyond the sentiment lexicon (a polemic's words): it makes an opinion negative, not a request. */
const OUTRAGE_CUES = [
  'imbarazzante', 'imbarazzanti', 'sessista', 'sessisti', 'sessismo', 'razzista', 'razzismo', 'volgare', 'volgarita', 'offensivo',
  'offensiva', 'offensivi', 'vergognatevi', 'indignazione', 'bufera', 'polemica', 'ritiratelo', 'ritirate', 'non comprero piu',
  'mai piu', 'cringe', 'embarrassing', 'sexist', 'racist', 'offensive', 'tone deaf', 'outrage', 'backlash', 'not buying',
];

/** Warm words beyond the sentiment lexicon, in their inflections ("perfette", "stupendi", "consigliatissime"). */
const PRAISE_CUES = [
  'bella', 'belle', 'belli', 'bellissima', 'bellissime', 'bellissimi', 'perfette', 'perfetti', 'ottime', 'ottimi', 'stupendo', 'stupenda',
  'stupendi', 'stupende', 'splendido', 'splendida', 'splendidi', 'meraviglia', 'meraviglioso', 'meravigliosa', 'impeccabile', 'promossi',
  'promossa', 'promosso', 'brava', 'bravo', 'complimenti', 'consigliatissimo', 'consigliatissima', 'consigliatissimi', 'consigliatissime',
  'comodissimo', 'comodissima', 'comodissimi', 'morbidissimo', 'morbidissima', 'caldissimo', 'emozionante', 'orgoglioso', 'orgogliosa',
  'bel gesto', 'bella iniziativa', 'bella notizia', 'impressive', 'heaven', 'cosy', 'cozy', 'comfy', 'well done', 'respect', 'lovely',
  'beautiful', 'gorgeous', 'superb', 'recommend', 'kudos', 'shout out', 'bravo', 'class', 'top notch', 'spot on', 'delighted',
];

/** Irony that turns warm words around ("Oh great, … 🙄"): never praise. */
const IRONY_RE = /[\u{1F644}\u{1F643}\u{1F612}\u{1F611}]|(?<![\p{L}])(?:oh (?:great|wonderful|perfect|brilliant)|yeah right|what a surprise|che sorpresa|proprio un bel|ma bravi)(?![\p{L}])/u;

/** What customers buy and use: a problem reported calmly about one of these is a care request. */
const PURCHASE_WORDS = [
  'ordine', 'ordini', 'pacco', 'pacchi', 'rimborso', 'reso', 'spedizione', 'consegna', 'account', 'addebito', 'fattura',
  'order', 'orders', 'package', 'parcel', 'refund', 'return', 'delivery', 'shipment', 'invoice', 'charge',
  // What was bought, and what people ask for instead.
  'articolo', 'prodotto', 'taglia', 'sostituzione', 'cambio', 'codice sconto', 'coupon', 'item', 'product', 'size', 'replacement',
  'exchange', 'discount code', 'promo code',
];

/**
 * The brand's app and site, where people log in, pay and check out: shared by everyone, so a problem
 * with them said about the brand ("acme checkout is down lol", news of an outage) is the outage's
 * chatter, and a request when the author says it is theirs ("I can't pay") or says it to the brand.
 */
const SERVICE_WORDS = [
  'app', 'sito', 'accesso', 'accedere', 'login', 'password', 'carrello', 'pagare', 'pagamento', 'pagamenti', 'website', 'site', 'log in',
  'sign in', 'cart', 'checkout', 'pay', 'paying', 'payment', 'payments', 'carta', 'card',
];

/** The author speaking of themself, by language (Italian "i" is an article, "sono" also "they are"). */
const FIRST_PERSON_RE: Record<string, RegExp> = {
  en: /(?<![\p{L}])(?:i|me|my|mine)(?![\p{L}])/u,
  it: /(?<![\p{L}])(?:io|mi|mio|mia|miei|mie|ho|riesco|provo|sto)(?![\p{L}])/u,
};

/** A retweet ("RT @someone: …"): the words are another person's; retweeting them is not asking or praising. */
const RETWEET_RE = /^\s*RT\s+@\w+/i;

/** Thanking the brand: "grazie per l'aiuto" is not a request for help. */
const THANKS_CUES = ['grazie', 'thanks', 'thank you', 'thx', 'ty'];

/** "help" alone is a request when it comes with a problem or a question ("the app keeps crashing, help"). */
const HELP_CUES = ['help', 'helpp', 'sos'];

/** Promotions and bait. */
const SPAM_CUES = [
  'giveaway', 'follow back', 'followback', 'seguimi', 'segui e vinci', 'vinci', 'gratis', 'free followers', 'free', 'bitcoin', 'crypto',
  'guadagna', 'guadagnare', 'earn money', 'make money', 'click here', 'clicca qui', 'link in bio', 'promo', 'onlyfans', 'casino',
  'scommesse', 'betting', 'dm for', 'scrivimi in dm', 'airdrop', 'forex', 'investi', 'invest now', 'sconto del 90', '90% off', 'xxx',
  'solo oggi', 'only today', 'today only', 'limited offer', 'offerta limitata',
];

/** A price or a discount beside a link is a promotion ("a 9,99€", "80% off", "al 90% di sconto"). */
const PROMO_RE = /\d+\s?%\s?(?:off|di sconto|sconto)|(?:€|\$|£)\s?\d|\d+[.,]\d{2}\s?(?:€|euro)/u;

function phraseRegex(phrases: readonly string[]): RegExp {
  const alternatives = phrases.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+')).join('|');
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives})(?![\\p{L}\\p{N}])`, 'gu');
}

const REQUEST_RE = phraseRegex(REQUEST_CUES);
const PERSONAL_RE = phraseRegex(PERSONAL_CUES);
const PEER_RE = phraseRegex(PEER_CUES);
const PROBLEM_RE = phraseRegex(PROBLEM_CUES);
const SPAM_RE = phraseRegex(SPAM_CUES);
const PURCHASE_RE = phraseRegex(PURCHASE_WORDS);
const SERVICE_RE = phraseRegex(SERVICE_WORDS);
const OUTRAGE_RE = phraseRegex(OUTRAGE_CUES);
const PRAISE_RE = phraseRegex(PRAISE_CUES);
const THANKS_RE = phraseRegex(THANKS_CUES);
const HELP_RE = phraseRegex(HELP_CUES);
const SECOND_PERSON_RE = /(?<![\p{L}])(?:voi|vostro|vostra|vostri|vostre|avete|siete|potete|you|your|you re)(?![\p{L}])/gu;

/** Intents that are a request for care by themselves. */
const CARE_INTENTS = new Set(['intent:human_request', 'intent:order_status', 'intent:complaint']);

/** Folds a text for the cue lists: lower case, accents and apostrophes away, one space. */
function plain(text: string): string {
  return fold(text.toLowerCase())
    .replace(/https?:\/\/\S+/g, ' http ')
    .replace(/['’`]/g, ' ')
    .replace(/\s+/g, ' ');
}

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/** How a heard item was judged. */
export interface HeardJudgement {
  class: HeardClass;
  /** −1 … 1: the classifier's sentiment, pulled down by reported problems it does not know. */
  sentiment: number;
  /** Sentiment at or below −0.2: counts towards a topic's negative share. */
  negative: boolean;
}

/** Options of the classification. */
export interface ClassifyOptions {
  /** Confidence from which the FAQ/intent classifier's top label counts (the pipeline's answer threshold). */
  answerThreshold: number;
  /**
   * Whether the post was addressed to the brand (a mention, a comment on its page, a DM) rather than
   * heard about it; unset: when the text names someone with an @handle.
   */
  addressed?: boolean;
  /**
   * Labels that are a request for care by themselves besides the request intents: the FAQ's private
   * entries (`privateEntryLabels`), about the customer's own order, account or data ("my order still
   * says processing").
   */
  careLabels?: ReadonlySet<string>;
}

/** Remembers recent texts per author, to tell a spammer's repeats. */
export interface RepeatMemory {
  /** How many times this author already posted this text (in the memory's span). */
  seen(authorId: string, text: string): number;
}

/** A bounded memory of (author, text) pairs: the oldest are forgotten first. */
export function createRepeatMemory(capacity = 20_000): RepeatMemory {
  const counts = new Map<string, number>();
  return {
    seen(authorId, text) {
      const key = `${authorId}\u0000${plain(text).trim()}`;
      const n = counts.get(key) ?? 0;
      counts.delete(key);
      counts.set(key, n + 1);
      if (counts.size > capacity) counts.delete(counts.keys().next().value!);
      return n;
    },
  };
}

/**
 * Judges one heard item from its text and its understanding. `repeats`: how many times the same
 * author already posted the same text (see RepeatMemory).
 */
export function classifyHeard(text: string, understanding: Understanding, options: ClassifyOptions, repeats = 0): HeardJudgement {
  const p = plain(text);
  const problems = count(p, PROBLEM_RE);
  const outrage = count(p, OUTRAGE_RE) + count(p, /(?<![\p{L}])#?boicott\p{L}*|#?boycott\p{L}*/gu);
  const irony = IRONY_RE.test(text) || IRONY_RE.test(p);
  // Warm words the lexicon does not know lift a post that reports no problem and is not ironic.
  const warmth = problems === 0 && outrage === 0 && !irony ? Math.min(count(p, PRAISE_RE), 2) : 0;
  const raw = understanding.sentiment - 0.35 * Math.min(problems + outrage, 3) + 0.3 * warmth;
  // Irony: warm words are not praise ("Grazie acme, ora so cosa regalare a Natale: niente 🙃").
  const sentiment = Number(Math.max(-1, Math.min(1, irony ? Math.min(-0.25, -Math.abs(raw)) : raw)).toFixed(3));
  const negative = sentiment <= -0.2;
  const judged = (cls: HeardClass): HeardJudgement => ({ class: cls, sentiment, negative });

  const links = count(p, / http /g);
  const hashtags = (text.match(/#[\p{L}\p{N}_]+/gu) ?? []).length;
  const spamCues = count(p, SPAM_RE);
  const promo = links > 0 && PROMO_RE.test(p);
  if ((spamCues > 0 && (links > 0 || hashtags >= 3)) || spamCues >= 2 || hashtags >= 6 || promo || repeats >= 2) return judged('spam');
  // A retweet passes on another person's words: counted (it spreads a topic), not answered nor thanked.
  if (RETWEET_RE.test(text)) return judged('noise');

  const top = understanding.classification.ranked[0];
  const confident = top !== undefined && top.confidence >= options.answerThreshold;
  const question = /\?/.test(text);
  const addressed = options.addressed ?? /(^|\s)@\w/.test(text);
  // Thanks with no problem and no question is not a request, whatever words it shares with one ("grazie per l'aiuto").
  const thanking = count(p, THANKS_RE) > 0 && problems === 0 && !question;
  const request = !thanking && (count(p, REQUEST_RE) > 0 || (count(p, HELP_RE) > 0 && problems > 0));
  const personal = count(p, PERSONAL_RE) > 0;
  const peers = count(p, PEER_RE) > 0;
  const secondPerson = count(p, SECOND_PERSON_RE) > 0 && !peers;
  const privateData = understanding.entities.some((e) => e.private);
  const ownProblem = personal && (problems > 0 || question || sentiment < 0);
  // Calm, not a rant: a problem with an order or a payment reported plainly, or asked about.
  const calm = understanding.anger < 0.3;
  // Not when asked of other people ("anche a voi l'app non va?"): that is the polemic's chatter. A
  // problem with what everyone uses (the app, the checkout) is a request when it is the author's or
  // told to the brand; said about the brand, it is the outage's chatter ("acme checkout is down lol").
  const ownThing = count(p, PURCHASE_RE) > 0;
  const service = count(p, SERVICE_RE) > 0 && (addressed || (FIRST_PERSON_RE[understanding.language] ?? FIRST_PERSON_RE.en!).test(p));
  const reported = calm && problems > 0 && !peers && (ownThing || service || question);
  // A private entry's match is a request unless the post is praise ("my order arrived today, love it!").
  const pleased = sentiment >= 0.25 && problems === 0;
  const careLabel = CARE_INTENTS.has(top?.label ?? '') || (options.careLabels?.has(top?.label ?? '') === true && !pleased);
  const careIntent = confident && careLabel && (personal || question || secondPerson);
  const faqQuestion = confident && top.label.startsWith('faq:') && question && !peers;
  // A question put to the brand: to it by name or handle ("@acme si può fare il reso in negozio?"), not to the readers.
  const askedOfBrand = question && !peers && (secondPerson || addressed);
  if (request || ownProblem || reported || privateData || careIntent || faqQuestion || askedOfBrand) return judged('care');

  if (pleased && !irony) return judged('praise');
  return judged('noise');
}
