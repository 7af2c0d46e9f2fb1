/**
 * @module classifier/normalise
 * Social-text normalisation: mentions, URLs, hashtags, emoji, repeated letters and
 * punctuation, chat abbreviations, case and accent folding. Terms for the classifier are
 * Snowball stems (Italian) and compromise root forms (English, contractions expanded),
 * memoised per word inside one normaliser so classification stays fast.
 */
import type Compromise from 'compromise';
import { createRequire } from 'node:module';
import type Snowball from 'snowball-stemmers';
import type { Language } from '../core/types.js';

const require = createRequire(import.meta.url);
// compromise's one-file CommonJS build (its package's `require` entry), not its ES modules (`import`:
// some hundred files): the same code and the same answers (checked on the 10,261 English words of
// the corpora and benchmark datasets), loaded in half the CPU time (about 0.3 s less per thread at start).
const nlp = require('compromise') as typeof Compromise;
// snowball-stemmers is one CommonJS file of 23,000 lines: imported from an ES module, Node first
// scans all of it for its export names (some 75 ms of CPU at each start); required, it is not.
const snowball = require('snowball-stemmers') as typeof Snowball;

const URL_RE = /\b(?:https?:\/\/|www\.)\S+/giu;
const MENTION_RE = /(^|[^\w@])@\w{1,30}/gu;
const HASHTAG_RE = /#([\p{L}\p{N}_]+)/gu;
const EMOJI_RE = /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{FE0F}\u{200D}\u{1F3FB}-\u{1F3FF}]/gu;
const REPEATED_PUNCT_RE = /([!?.,])\1+/g;
/** Text with nothing for the social clean-up to do: no @, #, URL, emoji, repeated punctuation or tripled letters. */
const PLAIN_RE = /^(?!.*(?:[@#]|https?:|www\.|([!?.,])\1|(\p{L})\2\2))[^\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{FE0F}\u{200D}]*$/su;

/** Chat abbreviations, by language: token → expansion. */
const ABBREVIATIONS: Record<Language, Record<string, string>> = {
  it: {
    nn: 'non', xke: 'perché', xké: 'perché', xkè: 'perché', xche: 'perché', xché: 'perché', xchè: 'perché',
    pk: 'perché', pke: 'perché', perke: 'perché', perkè: 'perché', xk: 'perché', cmq: 'comunque',
    x: 'per', ke: 'che', ki: 'chi', tt: 'tutto', tutt: 'tutto', qlc: 'qualche', qlcs: 'qualcosa',
    qlcn: 'qualcuno', qlk: 'qualche', sn: 'sono', dv: 'dove', msg: 'messaggio', grz: 'grazie', grazi: 'grazie',
    xo: 'però', xò: 'però', cm: 'come', qnd: 'quando', qndo: 'quando', qnt: 'quanto', qnto: 'quanto',
    anke: 'anche', bn: 'bene', nnt: 'niente', dx: 'destra', sx: 'sinistra', ord: 'ordine', tel: 'telefono',
    tvb: 'ti voglio bene', risp: 'rispondete', gg: 'giorni', sett: 'settimana', cel: 'cellulare',
  },
  en: {
    u: 'you', ur: 'your', r: 'are', pls: 'please', plz: 'please', pleas: 'please', thx: 'thanks', thanx: 'thanks',
    tnx: 'thanks', ty: 'thank you', im: 'i am', dont: 'do not', cant: 'can not', wont: 'will not', didnt: 'did not',
    doesnt: 'does not', isnt: 'is not', hasnt: 'has not', havent: 'have not', wasnt: 'was not', arent: 'are not',
    idk: 'i do not know', btw: 'by the way', asap: 'as soon as possible', ppl: 'people', msg: 'message',
    b4: 'before', cuz: 'because', coz: 'because', bc: 'because', becuz: 'because', y: 'why', wat: 'what',
    wen: 'when', abt: 'about', acct: 'account', acc: 'account', pmt: 'payment', hv: 'have', gonna: 'going to',
    wanna: 'want to', gotta: 'have to', ive: 'i have', whats: 'what is', wheres: 'where is', hows: 'how is',
    tmrw: 'tomorrow', tmr: 'tomorrow', tho: 'though', thru: 'through', yr: 'your', cc: 'credit card', pw: 'password',
  },
};

/** Function words: known everywhere, so they say nothing about whether a message is in scope. */
export const STOPWORDS: Record<Language, ReadonlySet<string>> = {
  it: new Set(
    ('il lo la i gli le un uno una di a da in con su per tra fra che non e è ma o sono sei siete ho hai ha ' +
      'abbiamo avete hanno mi ti ci vi si se del dello della dei degli delle al allo alla ai agli alle dal ' +
      'dalla dai dalle nel nello nella nei negli nelle sul sulla sui come dove quando perché cosa chi quanto ' +
      'quale quali questo questa questi queste quello quella mio mia miei mie tuo tua vostro vostra nostro ' +
      'nostra suo sua loro ancora già più molto anche io tu lui lei noi voi ed ad né poi qui qua là lì così ' +
      'solo sempre mai niente nulla tutto tutti essere avere fare fa fatto stato stata sto sta era ne c l d ' +
      'un\' dov cos quest quell tanto po ecco allora quindi però comunque oppure anzi magari volta')
      .split(/\s+/)
      .map(fold),
  ),
  en: new Set(
    ('the a an of to in on for with at by from is are was were be been being have has had do does did i you ' +
      'he she it we they me him her us them my your his its our their mine yours not no and or but if so ' +
      'what where when why how which who whom this that these those can could would should will shall may ' +
      'might must am just still yet also too very really there here then than now about into out up down ' +
      'over again some any all each more most other such only own same s t don get got go going one ' +
      'guys please thing things something')
      .split(/\s+/),
  ),
};

/** Removes diacritics: "perché" → "perche". */
export function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}+/gu, '');
}

function splitCamel(tag: string): string {
  return tag.replace(/_/g, ' ').replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2');
}

/**
 * Social clean-up before tokenising: drops URLs, @mentions and emoji, opens hashtags
 * (`#SpedizioneGratis` → `Spedizione Gratis`), collapses `!!!` and `sooooo`. Keeps case.
 */
export function cleanSocialText(text: string, language: Language): string {
  let out = text.length > 5000 ? text.slice(0, 5000) : text;
  // Most messages are plain: one cheap test skips the clean-up passes.
  if (PLAIN_RE.test(out)) return out;
  out = out.replace(URL_RE, ' ');
  out = out.replace(MENTION_RE, '$1 ');
  out = out.replace(HASHTAG_RE, (_m, tag: string) => ` ${splitCamel(tag)} `);
  out = out.replace(EMOJI_RE, ' ');
  out = out.replace(REPEATED_PUNCT_RE, '$1');
  // Letters repeated 3+ times are emphasis. Italian words never triple a letter; English keeps two ("goood" → "good").
  out = out.replace(/(\p{L})\1{2,}/gu, language === 'it' ? '$1' : '$1$1');
  return out;
}

const WORD_RE: Record<Language, RegExp> = {
  // Italian elisions split: "dov'è" → "dov", "è"; "l'ordine" → "l", "ordine".
  it: /[\p{L}\p{N}]+/gu,
  // English keeps the apostrophe for contractions: "hasn't".
  en: /[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu,
};

/**
 * Plurals and superlatives that end like an imperative with "mi" attached ("reclami", "ultimi",
 * "prossimi", "minimi"): left whole by `splitEnclitic`.
 */
const NOT_ENCLITIC = /^(?:(?:recl|richi|pigi|catr|cert|besti|fogli)ami|.*(?:ssimi|esimi|ltimi|ntimi|ttimi|nimi))$/;
const DOUBLED_ENCLITIC: Record<string, string> = {
  dammi: 'dare', dimmi: 'dire', fammi: 'fare', stammi: 'stare', ditemi: 'dire', fatemi: 'fare', datemi: 'dare',
};

/**
 * An Italian imperative with the pronoun "mi" attached, as two words: "trovami" → "trova mi",
 * "ricordami" → "ricorda mi", "mandatemi" → "mandate mi", "dimmi" → "dire mi". Snowball's Italian
 * stemmer takes pronouns off infinitives and gerunds only ("ricordarmi" → "ricord"), so
 * "trovami" was the stem "trovam", shared with nothing else the customer or the corpus writes
 * ("trova", "trovare"), and its character n-grams ("ami>") tied it to every other "…ami".
 * Second person singular of -are verbs (…a + mi) and of -ere / -ire verbs (…i + mi) with at least
 * five letters before the pronoun, and second person plural (…ate / …ete / …ite + mi); other
 * pronouns ("regalo", "profilo", "scala" end like "-lo", "-la") and "-ci" ("pubblici",
 * "efficaci") are left alone. Returns undefined for any other word.
 */
export function splitEnclitic(word: string): [string, string] | undefined {
  if (word.length < 5 || !word.endsWith('mi')) return undefined;
  const doubled = DOUBLED_ENCLITIC[word];
  if (doubled !== undefined) return [doubled, 'mi'];
  const plural = /^(.{2,}[aei]te)mi$/u.exec(word);
  if (plural) return [plural[1]!, 'mi'];
  if (NOT_ENCLITIC.test(word)) return undefined;
  const singular = /^(.{4,}[ai])mi$/u.exec(word);
  return singular ? [singular[1]!, 'mi'] : undefined;
}

/** Lower-cased words of a cleaned text, chat abbreviations expanded, Italian enclitic "mi" split off (still accented). */
export function words(text: string, language: Language): string[] {
  const cleaned = cleanSocialText(text, language).toLowerCase();
  const out: string[] = [];
  const abbreviations = ABBREVIATIONS[language];
  const curly = cleaned.includes('’');
  for (const m of cleaned.matchAll(WORD_RE[language])) {
    const w = curly ? m[0].replace(/’/g, "'") : m[0];
    const expansion = abbreviations[w];
    if (expansion !== undefined) out.push(...expansion.split(' '));
    else if (language === 'it' && w.endsWith('mi')) out.push(...(splitEnclitic(w) ?? [w]));
    else out.push(w);
  }
  return out;
}

/** English words that go through compromise (contractions, roots); others are stemmed as they are. */
const COMPROMISE_WORD = /^[a-z]+(?:'[a-z]+)*$/;
/**
 * Words per compromise document when many are analysed at once: its cost per word grows with the
 * document (9,313 words: 1.6 s in documents of 500, 3.5 s in one, 10 s one word each).
 */
const COMPROMISE_BATCH = 250;

/**
 * compromise's reading of single words: for each, its normal text (contractions expanded) and its
 * root text. The words go one per line of one document: each line is a sentence, tagged on its own
 * as a document of that word alone would be.
 */
function compromiseAnalyses(list: readonly string[]): Array<[normal: string, root: string]> {
  const doc = nlp(list.join('\n'));
  doc.contractions().expand();
  const sentences = doc.sentences();
  // One sentence per word, by construction (lowercase letters and apostrophes only): kept as a check.
  if (sentences.length !== list.length) throw new Error(`compromise read ${sentences.length} sentences in ${list.length} words`);
  const normals = sentences.map((s) => s.text('normal')) as string[];
  doc.compute('root');
  const roots = doc.sentences().map((s) => s.text('root')) as string[];
  return list.map((_, i) => [normals[i]!, roots[i]!]);
}

let englishLexicon: Readonly<Record<string, unknown>> | undefined;

/**
 * True when compromise's English lexicon (some 25,000 words) has the word or its root ("selling"
 * → "sell", "tiles" → "tile"): a word of the language, not a misspelling, even when the model
 * never saw it (spelling.ts corrects only words that are not). Misspellings are not in it ("oder",
 * "shiping", "recieved", "acount"). One compromise reading per call: for unknown words only.
 */
export function isEnglishWord(word: string): boolean {
  englishLexicon ??= (nlp.model() as { one: { lexicon: Record<string, unknown> } }).one.lexicon;
  if (Object.hasOwn(englishLexicon, word)) return true;
  if (!COMPROMISE_WORD.test(word)) return false;
  const [, root] = compromiseAnalyses([word])[0]!;
  return root.split(/\s+/).every((r) => r.length > 0 && Object.hasOwn(englishLexicon!, r));
}

/** Turns text into folded words and classifier terms, memoising per word. */
export interface Normaliser {
  /** The normalised surface text: folded, abbreviations and English contractions expanded. */
  normalise(text: string, language: Language): string;
  /**
   * Folded surface words (for character n-grams) and their stems/roots (for word features).
   * `correct`, when given, sees each word with its terms and may name another word to analyse in
   * its place (a misspelling's correction, spelling.ts).
   */
  analyse(text: string, language: Language, correct?: (word: string, terms: readonly string[]) => string | undefined): { surface: string[]; terms: string[] };
  /**
   * Analyses the words of many texts ahead (training): new English words go through compromise
   * a few hundred at a time, one word per line of one document, instead of one document each.
   * The analyses are the same (checked on the 9,313 English words of the corpora and datasets)
   * and memoised, so `analyse` then finds them; a fraction of the time (a third to a sixth).
   */
  prepare(texts: ReadonlyArray<{ text: string; language: Language }>): void;
}

/**
 * Creates a normaliser with its own memo of per-word analyses (bounded by `maxCache` words).
 * `englishRoots: false` keeps compromise for contractions only (Snowball does the rest): for
 * very large vocabularies, where compromise's cost per new word would dominate training.
 */
export function createNormaliser(options: { maxCache?: number; englishRoots?: boolean } = {}): Normaliser {
  const maxCache = options.maxCache ?? 200_000;
  const englishRoots = options.englishRoots ?? true;
  const itStemmer = snowball.newStemmer('italian');
  const enStemmer = snowball.newStemmer('english');
  const memo: Record<Language, Map<string, { surface: string[]; terms: string[] }>> = {
    it: new Map(),
    en: new Map(),
  };

  function analyseWord(word: string, language: Language): { surface: string[]; terms: string[] } {
    const cached = memo[language].get(word);
    if (cached) return cached;
    let result: { surface: string[]; terms: string[] };
    if (/^\d+$/.test(word)) {
      // Amounts, quantities and codes: their value rarely names the intent, their presence may.
      result = { surface: [word.length > 3 ? '0000' : '00'], terms: ['<num>'] };
    } else if (language === 'it') {
      const f = fold(word);
      result = { surface: [f], terms: [fold(itStemmer.stem(word))] };
    } else if (!englishRoots && /^[a-z]+$/.test(word)) {
      result = { surface: [word], terms: [enStemmer.stem(word)] };
    } else if (COMPROMISE_WORD.test(word)) {
      const [normal, root] = compromiseAnalyses([word])[0]!;
      result = englishResult(word, normal, root);
    } else {
      const f = fold(word);
      result = { surface: [f], terms: [enStemmer.stem(f)] };
    }
    if (memo[language].size < maxCache) memo[language].set(word, result);
    return result;
  }

  /** English words compromise reads: the surface text and the roots, contractions expanded. */
  function englishResult(word: string, normalText: string, rootText: string): { surface: string[]; terms: string[] } {
    const normal = normalText.toLowerCase().split(/\s+/).filter(Boolean);
    const roots = rootText.toLowerCase().split(/\s+/).filter(Boolean);
    const surface = normal.length > 0 ? normal.map((w) => w.replace(/[^a-z0-9']/g, '')) : [word];
    const base = roots.length === surface.length ? roots : surface;
    return { surface, terms: base.map((r) => enStemmer.stem(r.replace(/[^a-z0-9]/g, '')) || r) };
  }

  function prepare(texts: ReadonlyArray<{ text: string; language: Language }>): void {
    if (!englishRoots) return;
    const pending = new Set<string>();
    for (const { text, language } of texts) {
      if (language !== 'en') continue;
      for (const w of words(text, 'en')) if (COMPROMISE_WORD.test(w) && !memo.en.has(w)) pending.add(w);
    }
    const list = [...pending].slice(0, Math.max(0, maxCache - memo.en.size));
    for (let i = 0; i < list.length; i += COMPROMISE_BATCH) {
      const batch = list.slice(i, i + COMPROMISE_BATCH);
      compromiseAnalyses(batch).forEach(([normal, root], j) => memo.en.set(batch[j]!, englishResult(batch[j]!, normal, root)));
    }
  }

  function analyse(
    text: string,
    language: Language,
    correct?: (word: string, terms: readonly string[]) => string | undefined,
  ): { surface: string[]; terms: string[] } {
    const surface: string[] = [];
    const terms: string[] = [];
    for (const w of words(text, language)) {
      let a = analyseWord(w, language);
      const meant = correct?.(w, a.terms);
      if (meant !== undefined) a = analyseWord(meant, language);
      surface.push(...a.surface);
      terms.push(...a.terms);
    }
    return { surface, terms };
  }

  return {
    analyse,
    prepare,
    normalise: (text, language) => analyse(text, language).surface.join(' '),
  };
}

/** Normalises one text (see `Normaliser.normalise`); for many texts create one normaliser and reuse it. */
export function normalise(text: string, language: Language): string {
  return createNormaliser({ maxCache: 0 }).normalise(text, language);
}
