/**
 * @module classifier/sentiment
 * Lexicon-based sentiment and anger for Italian and English social messages. Anger adds up
 * independent signs (insults and swearing, ALL CAPS, "!!!", angry emoji) as 1 − Π(1 − sᵢ),
 * so one sign alone stays below the default escalation threshold (0.6), and an insult with any
 * other sign ("è una vergogna!!!", "SIETE DEI LADRI") or two insults cross it. Capitals with
 * exclamation marks alone do not ("GRAZIE MILLE!!!" is not anger).
 */
import type { Language } from '../core/types.js';
import { fold } from './normalise.js';

const INSULTS: Record<Language, string[]> = {
  it: [
    'ladri', 'ladro', 'truffa', 'truffatori', 'truffati', 'truffato', 'vergogna', 'vergognatevi', 'vergognoso',
    'vergognosi', 'schifo', 'schifosi', 'fate schifo', 'incompetenti', 'incompetente', 'cazzo', 'cazzi', 'merda',
    'vaffanculo', 'fanculo', 'stronzi', 'stronzo', 'porca miseria', 'porca puttana', 'pessimi', 'pessimo',
    'ridicoli', 'ridicolo', 'scandaloso', 'scandalo', 'inaccettabile', 'assurdo', 'pazzesco', 'buffoni',
    'imbroglioni', 'disgustoso', 'mai piu', 'basta', 'incazzato', 'incazzata', 'arrabbiato', 'arrabbiata',
    'furioso', 'furiosa', 'deluso', 'delusa', 'vi denuncio', 'cialtroni', 'idioti', 'idiota', 'cretini',
    'inutile', 'inutili', 'presa in giro', 'prendete in giro', 'fregatura', 'mi avete fregato', 'ci avete fregato',
  ],
  en: [
    'scam', 'scammers', 'scammed', 'thieves', 'thief', 'fraud', 'disgrace', 'disgraceful', 'shame on you',
    'ridiculous', 'useless', 'worst', 'terrible', 'awful', 'pathetic', 'wtf', 'fuck', 'fucking', 'fucked',
    'shit', 'shitty', 'damn', 'crap', 'incompetent', 'unacceptable', 'disgusting', 'furious', 'angry', 'pissed',
    'never again', 'hate', 'idiots', 'idiot', 'clowns', 'joke', 'rip off', 'ripoff', 'liars', 'bullshit',
  ],
};

const POSITIVE: Record<Language, string[]> = {
  it: [
    'grazie', 'perfetto', 'perfetta', 'ottimo', 'ottima', 'bravi', 'bravissimi', 'gentili', 'gentilissimi',
    'gentilissimo', 'fantastico', 'fantastici', 'felice', 'contento', 'contenta', 'soddisfatto', 'soddisfatta',
    'bellissimo', 'bello', 'top', 'eccellente', 'super', 'veloci', 'velocissimi', 'consiglio', 'adoro', 'grande',
    'risolto', 'risolta', 'siete i migliori', 'sei il migliore', 'il miglior negozio', 'il miglior servizio',
    'complimenti', 'siete grandi', 'grandissimi', 'bravo', 'brava',
    'bravissima', 'bravissimo', 'efficienti', 'efficientissimi', 'puntuali', 'rapidi', 'rapidissimi',
    'velocissimo', 'velocissima', 'impeccabile', 'impeccabili', 'stupendo', 'stupenda', 'meraviglioso',
    'meravigliosa', 'professionali', 'cortesi', 'cortesissimi',
    'bellissima', 'bellissimi', 'bellissime', 'fantastica', 'fantastiche',
    'ottimi', 'ottime', 'eccezionale', 'eccezionali', 'stupendi', 'stupende', 'meravigliosi', 'meravigliose',
    'splendido', 'splendida', 'splendidi', 'splendide', 'favoloso', 'favolosa', 'favolosi', 'adoriamo',
    'innamorata', 'innamorato',
  ],
  en: [
    'thanks', 'thank you', 'great', 'perfect', 'excellent', 'awesome', 'amazing', 'love', 'happy', 'pleased',
    'good', 'nice', 'helpful', 'fantastic', 'wonderful', 'brilliant', 'cheers', 'kind', 'fast', 'best',
    'resolved', 'solved', 'sorted', 'lovely', 'impressed', 'superb', 'outstanding', 'well done', 'kudos',
    'efficient', 'prompt', 'spot on', 'top notch',
    'beautiful', 'gorgeous', 'stunning', 'adore', 'obsessed with', 'loved', 'loving',
  ],
};

const NEGATIVE: Record<Language, string[]> = {
  it: [
    'problema', 'problemi', 'rotto', 'rotta', 'ritardo', 'ancora niente', 'nessuno risponde', 'non funziona',
    'lamentela', 'reclamo', 'male', 'peggio', 'difettoso', 'difettosa', 'sbagliato', 'sbagliata', 'lento',
    'lentissimi', 'aspetto da', 'mai arrivato', 'non arriva', 'non risponde', 'triste', 'purtroppo',
    // A problem still open outweighs the word "risolto" it contains.
    'non risolto', 'non risolta', 'non e stato risolto', 'non e stata risolta', 'irrisolto', 'ancora da risolvere',
  ],
  en: [
    'problem', 'broken', 'late', 'delay', 'delayed', 'still waiting', 'nobody answers', 'not working',
    'complaint', 'bad', 'worse', 'faulty', 'wrong', 'slow', 'never arrived', 'disappointed', 'unhappy', 'sad',
    'annoyed', 'frustrated', 'unfortunately', 'no one answers', 'missing',
    'not resolved', 'not solved', 'unresolved', 'not sorted', 'still not fixed',
  ],
};

/**
 * The customer says they are angry ("sono furioso", "I'm fuming", "we are really pissed off"): a
 * person takes over on that alone, as a care team would, where a lexicon word ("furioso" among
 * the insults) is one sign of several. Not when denied ("non sono arrabbiato", "I'm not angry").
 */
const SELF_ANGER: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?<!non )(?:sono|siamo|so|sn)\s+(?:(?:davvero|proprio|molto|veramente|troppo|super|parecchio|tanto)\s+)?(?:furios[oaie]|incazzat[oaie]|arrabbiat[oaie]|inferocit[oaie]|fuori di me|esasperat[oaie])(?![\p{L}])/u,
  en: /(?<![\p{L}'])(?:i\s*'?\s*m|i am|we\s*'?\s*re|we are|am|so)\s+(?:(?:so|really|very|absolutely|totally|beyond|fucking|extremely)\s+)?(?:furious|livid|fuming|angry|pissed(?:\s+off)?|raging|outraged)(?![\p{L}])/u,
};

/**
 * A long wait stated ("aspetto da due settimane", "sono 10 giorni che aspetto", "I've been waiting
 * for 3 weeks", "two weeks and still nothing"): one sign of anger, so that with an insult ("your
 * service is useless, I've been waiting for 2 weeks") a person takes over, while alone ("dov'è il
 * mio ordine? aspetto da giorni") the bot still helps. Matched on folded text.
 */
const COUNT = '(?:\\d+|un[ao]?|due|tre|quattro|cinque|sei|sette|otto|dieci|quindici|venti|molti|tanti|parecchi[e]?|diversi|diverse|a|an|one|two|three|four|five|six|seven|eight|ten|fifteen|twenty|several|many)';
const LONG_WAIT = new RegExp(
  [
    `(?<![\\p{L}])aspett(?:o|iamo|ando)\\s+(?:ormai\\s+|gia\\s+|ancora\\s+)?da\\s+(?:(?:piu\\s+di|oltre|quasi)\\s+)?(?:${COUNT}\\s+)?(?:giorni|settimane|settimana|mesi|mese|una\\s+vita|secoli)(?![\\p{L}])`,
    `(?<![\\p{L}])(?:sono|e)\\s+(?:gia\\s+|ormai\\s+|quasi\\s+)?(?:${COUNT}\\s+)?(?:giorni|settimane|settimana|mesi|mese)\\s+che\\s+aspett`,
    `\\bwaiting\\s+(?:for\\s+)?(?:(?:over|more\\s+than|almost|nearly|about)\\s+)?(?:${COUNT}\\s+)?(?:days|weeks|week|months|month|ages|forever)\\b`,
    `\\b(?:${COUNT}\\s+)?(?:days|weeks|months)\\s+(?:and\\s+|later\\s+and\\s+)?(?:still|nothing)\\b`,
  ].join('|'),
  'u',
);

const ANGRY_EMOJI = /[\u{1F621}\u{1F92C}\u{1F620}\u{1F47F}\u{1F4A2}\u{1F595}\u{1F624}\u{1F92E}\u{1F44E}]/gu;
const HAPPY_EMOJI = /[\u{1F600}-\u{1F60D}\u{1F642}\u{1F917}\u{1F929}\u{2764}\u{1F44D}\u{1F64F}\u{1F970}\u{1F60A}]/gu;

/** One regular expression per lexicon: whole words or phrases, accents folded. */
function lexiconRegex(phrases: readonly string[]): RegExp {
  const alternatives = phrases.map((p) => fold(p).replace(/ /g, '\\s+')).join('|');
  return new RegExp(`(?<![\\p{L}])(?:${alternatives})(?![\\p{L}])`, 'gu');
}

const compile = (lexicon: Record<Language, string[]>) => ({ it: lexiconRegex(lexicon.it), en: lexiconRegex(lexicon.en) });
const INSULT_RE = compile(INSULTS);
const POSITIVE_RE = compile(POSITIVE);
const NEGATIVE_RE = compile(NEGATIVE);

function countPhrases(folded: string, re: RegExp): number {
  return folded.match(re)?.length ?? 0;
}

/**
 * Sentiment (−1 furious … +1 delighted) and anger (0 … 1) of a message. The lexicons of both
 * languages are consulted (customers mix them), the detected `language` first.
 */
export function analyseSentiment(text: string, language: Language): { sentiment: number; anger: number } {
  const sample = text.length > 5000 ? text.slice(0, 5000) : text;
  const folded = fold(sample.toLowerCase());
  const other: Language = language === 'it' ? 'en' : 'it';
  const insults = countPhrases(folded, INSULT_RE[language]) + countPhrases(folded, INSULT_RE[other]);
  const positive = countPhrases(folded, POSITIVE_RE[language]) + countPhrases(folded, POSITIVE_RE[other]);
  const negative = countPhrases(folded, NEGATIVE_RE[language]) + countPhrases(folded, NEGATIVE_RE[other]);

  const capsWords = (sample.match(/\b\p{Lu}{3,}\b/gu) ?? []).length;
  const allWords = (sample.match(/\b\p{L}{3,}\b/gu) ?? []).length;
  const capsRatio = allWords > 0 ? capsWords / allWords : 0;
  const bangs = (sample.match(/[!?]*!{2,}[!?]*|\?!|!\?/g) ?? []).length;
  const angryEmoji = (sample.match(ANGRY_EMOJI) ?? []).length;
  const happyEmoji = (sample.match(HAPPY_EMOJI) ?? []).length;

  const selfAnger = SELF_ANGER.it.test(folded) || SELF_ANGER.en.test(folded.replace(/[’]/g, "'")) ? 0.6 : 0;
  const signs = [
    selfAnger,
    Math.min(0.75, insults * 0.5),
    LONG_WAIT.test(folded) ? 0.3 : 0,
    capsWords >= 2 || (capsWords >= 1 && capsRatio >= 0.5) ? Math.min(0.4, 0.2 + capsRatio * 0.4) : 0,
    Math.min(0.3, bangs * 0.2),
    Math.min(0.55, angryEmoji * 0.35),
    Math.min(0.2, negative * 0.1),
  ];
  const anger = 1 - signs.reduce((keep, s) => keep * (1 - s), 1);

  const raw = positive + happyEmoji * 0.5 - negative - insults * 1.5 - angryEmoji - anger * 2;
  const sentiment = Math.max(-1, Math.min(1, Math.tanh(raw / 2)));
  return { sentiment: Number(sentiment.toFixed(3)), anger: Number(anger.toFixed(3)) };
}
