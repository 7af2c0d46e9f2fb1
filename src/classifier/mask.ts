/**
 * @module classifier/mask
 * Takes the customer's private data out of a message before the classifier sees it, so that
 * "dov'è il mio ordine? la mia email è … e il mio cell è …" is understood like "dov'è il mio
 * ordine?". The data is found by `detectEntities` (entities.ts); this module only decides what
 * to cut: the value itself, and the whole clause around it when that clause says nothing but
 * "here is my data" ("la mia email è …", "my number is …").
 */
import { detectEntities, type EntityOptions } from './entities.js';
import { fold, STOPWORDS } from './normalise.js';

/** Words that only announce or name a piece of data, in Italian and English (folded). */
const DATA_WORDS: ReadonlySet<string> = new Set(
  (
    'email e-mail mail posta indirizzo cell cellulare telefono tel telefonico fisso numero num nr n no ' +
    'recapito contatto riferimento iban conto bancario carta credito debito codice fiscale cf ordine ' +
    'ordinazione pratica scrivetemi scrivimi chiamatemi chiamami contattatemi contattami trovate trovi ' +
    'puoi potete pure questo questa ecco eccolo eccola comunque intanto invece seguente ' +
    'address phone mobile cell number no tel contact account bank card credit debit code order reference ' +
    'ref is are here it its my me mine can reach call email write text on at via also ' +
    'and or the a an of in by please pls just this following'
  )
    .split(/\s+/)
    .map(fold),
);

/** Clause boundaries: sentence punctuation, commas, colons, line breaks. */
const BOUNDARY = /[.!?;,:\n\r()]/;
/** Conjunctions that start a new clause ("… e il mio cell è …", "… and my phone is …"). */
const CONJUNCTION = /^(?:e|ed|and|o|or|oppure|anche|also)$/i;
const WORD = /[\p{L}\p{N}'’-]+/gu;

/**
 * Words that ask something (folded): a clause holding one is a question about the data ("where is
 * my order BR-…?", "dov'è l'ordine BR-…?"), not an announcement of it, so only the value goes.
 */
const QUESTION_WORDS: ReadonlySet<string> = new Set(
  'where when what why how which who whose status dove dov quando cosa perche come quale quali chi stato'.split(' ').map(fold),
);

const isDataWord = (word: string): boolean => {
  const w = fold(word.toLowerCase()).replace(/['’]/g, '');
  if (QUESTION_WORDS.has(w) || QUESTION_WORDS.has(w.replace(/^(dov|qual).*/, '$1'))) return false;
  return w.length === 0 || DATA_WORDS.has(w) || STOPWORDS.it.has(w) || STOPWORDS.en.has(w);
};

/**
 * "la mia email è", "il mio cell:", "my phone number is" right before a value: words that only
 * announce it, dropped with it even inside a clause that asks something ("come faccio a
 * disiscrivermi? la mia email è …" written without the question mark). A bare noun before a value
 * ("il mio ordine BR-…") is what the question is about, and stays.
 */
const ANNOUNCED = new RegExp(
  String.raw`(?:^|[\s,;:])(?:(?:la|il) mi[ao]|my)\s+(?:e-?mail|mail|indirizzo(?: e-?mail)?|cell(?:ulare)?|telefono|numero(?: di (?:telefono|cellulare|ordine))?|iban|codice fiscale|email address|e-?mail address|phone(?: number)?|mobile(?: number)?|number|order number)\s*(?:è|e'|é|is|=|:)\s*$`,
  'iu',
);

/**
 * Where the cut of a value starts: before the words that announce it, if any. They are looked for
 * in the value's clause (from `from`), and, when the value opens its clause right after a colon,
 * in the clause the colon ends ("…? il mio numero di telefono: 333 …").
 */
function announcedFrom(text: string, start: number, from: number): number {
  let scanFrom = from;
  if (text.slice(from, start).trim() === '' && from > 0 && text[from - 1] === ':') {
    scanFrom = from - 1;
    while (scanFrom > 0 && !BOUNDARY.test(text[scanFrom - 1]!)) scanFrom--;
  }
  const m = ANNOUNCED.exec(text.slice(scanFrom, start));
  if (!m) return start;
  const lead = /^[\s,;:]/.test(m[0]) ? 1 : 0;
  return scanFrom + m.index + lead;
}

/** Quick test: can the text hold an email or a number at all? (most messages cannot) */
const MAYBE_DATA = /[@\d]/;

/**
 * A masker for one brand's order-number pattern (compiled once; most messages pass one
 * regular-expression test and come back untouched). See `maskPrivateData`.
 */
export function createMasker(options: EntityOptions = {}): (text: string) => string {
  let order: RegExp | undefined;
  try {
    order = options.orderNumberPattern === undefined ? undefined : new RegExp(options.orderNumberPattern, 'i');
  } catch (e) {
    throw new Error(`order number pattern is not a valid regular expression: ${(e as Error).message}`, { cause: e });
  }
  return (text) => (MAYBE_DATA.test(text) || (order !== undefined && order.test(text)) ? maskPrivateData(text, options) : text);
}

/**
 * The message without its private data (emails, phones, IBANs, cards, codici fiscali, order
 * numbers). A clause made only of the data and words announcing it is dropped whole; elsewhere
 * only the value goes. A message that is nothing but data keeps its other words, if any.
 */
export function maskPrivateData(text: string, options: EntityOptions = {}): string {
  const entities = detectEntities(text, options).filter((e) => e.private);
  if (entities.length === 0) return text;

  // Spans to cut, from the end so earlier offsets stay valid.
  const cuts: Array<[number, number]> = [];
  for (const e of entities) {
    let start = e.start;
    while (start > 0 && !BOUNDARY.test(text[start - 1]!)) start--;
    let end = e.end;
    while (end < text.length && !BOUNDARY.test(text[end]!)) end++;
    // The clause's words other than the data: a conjunction ends it on either side.
    const before = [...text.slice(start, e.start).matchAll(WORD)];
    let from = start;
    // Where the conjunction starting the clause begins: a clause dropped whole takes it along.
    let dropFrom = start;
    for (let i = before.length - 1; i >= 0; i--) {
      if (CONJUNCTION.test(before[i]![0])) {
        from = start + before[i]!.index! + before[i]![0].length;
        dropFrom = start + before[i]!.index!;
        break;
      }
    }
    const after = [...text.slice(e.end, end).matchAll(WORD)];
    let to = end;
    for (const m of after) {
      if (CONJUNCTION.test(m[0])) {
        to = e.end + m.index!;
        break;
      }
    }
    const others = [...text.slice(from, e.start).matchAll(WORD), ...text.slice(e.end, to).matchAll(WORD)].map((m) => m[0]);
    // Other entities of the same clause are data too.
    const inClause = entities.filter((o) => o !== e && o.start >= from && o.end <= to);
    const words = others.filter((w) => !inClause.some((o) => text.slice(o.start, o.end).includes(w)));
    const announced = announcedFrom(text, e.start, from);
    if (words.every(isDataWord)) cuts.push([Math.min(dropFrom, announced), to]);
    else cuts.push([announced, e.end]);
  }
  cuts.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const c of cuts) {
    const last = merged[merged.length - 1];
    if (last && c[0] <= last[1]) last[1] = Math.max(last[1], c[1]);
    else merged.push([c[0], c[1]]);
  }
  let out = '';
  let at = 0;
  for (const [s, e] of merged) {
    out += `${text.slice(at, s)} `;
    at = e;
  }
  out += text.slice(at);
  // Nothing left but data words: keep the words around the values (they are the question).
  if (!/\p{L}/u.test(out)) {
    let bare = '';
    let pos = 0;
    for (const e of entities) {
      bare += `${text.slice(pos, e.start)} `;
      pos = e.end;
    }
    return bare + text.slice(pos);
  }
  return out;
}
