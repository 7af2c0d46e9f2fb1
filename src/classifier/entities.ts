/**
 * @module classifier/entities
 * Finds data in a customer's message as people write it: email (plus tags, subdomains), phone
 * (Italian and international, any common punctuation, validated by libphonenumber-js), IBAN
 * (with or without spaces, validated by ibantools), payment card (spaces or dashes, Luhn checked),
 * codice fiscale (any case, check character verified), order number (the brand's pattern, or
 * an account-like code next to "ordine", "order number" in any format), customer code (an
 * account-like code next to words such as "codice cliente", "account number", before or after
 * them) and dates. The privacy guard redacts the private kinds; values must never be logged.
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString } from 'libphonenumber-js/core';
// The full ("max") metadata: it knows each country's number types, so a brand's toll-free line is told apart.
import phoneMetadata from 'libphonenumber-js/metadata.max.json';
import { getCountrySpecifications, isValidIBAN } from 'ibantools';
import type { Entity } from '../core/ports.js';
import { NUMERIC_DATE } from '../util/numeric-date.js';

/** Options for entity detection. */
export interface EntityOptions {
  /** Regular expression (source) of the brand's order numbers; default `\b(?:BR|ORD)-?\d{5,10}\b`. */
  orderNumberPattern?: string;
}

/** The default order-number pattern, the same as config's ORDER_NUMBER_PATTERN default. */
export const DEFAULT_ORDER_NUMBER_PATTERN = '\\b(?:BR|ORD)-?\\d{5,10}\\b';

type Kind = Entity['kind'];

const PRIVATE_KINDS: ReadonlySet<Kind> = new Set<Kind>([
  'email',
  'phone',
  'iban',
  'card',
  'codice_fiscale',
  'order_number',
  'customer_code',
]);

// ───────────────────────────── checksums ─────────────────────────────

/** True when the digits pass the Luhn check used by payment cards. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN length by country, from ibantools' country specifications (every country that has IBANs). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(getCountrySpecifications()).flatMap(([cc, spec]) => (spec.chars ? [[cc, spec.chars]] : [])),
);

/**
 * True when `iban` (no spaces, upper case) is a valid IBAN: its country's length and BBAN format,
 * mod 97, and the national check digits where the country has them (ibantools).
 */
export function isIbanValid(iban: string): boolean {
  return /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban) && isValidIBAN(iban);
}

const CF_ODD: Record<string, number> = {
  '0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
  A: 1, B: 0, C: 5, D: 7, E: 9, F: 13, G: 15, H: 17, I: 19, J: 21, K: 2, L: 4, M: 18, N: 20,
  O: 11, P: 3, Q: 6, R: 8, S: 12, T: 14, U: 16, V: 10, W: 22, X: 25, Y: 24, Z: 23,
};

/** True when `cf` (upper case) is a well-formed Italian codice fiscale with the right check character. */
export function isCodiceFiscaleValid(cf: string): boolean {
  // Omocodia: any of the 7 digit positions may be replaced by a letter of LMNPQRSTUV.
  const shape = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;
  if (!shape.test(cf)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const ch = cf[i]!;
    if (i % 2 === 0) sum += CF_ODD[ch] ?? 0;
    else sum += /\d/.test(ch) ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 65;
  }
  return String.fromCharCode(65 + (sum % 26)) === cf[15];
}

// ───────────────────────────── patterns ─────────────────────────────

/** An email; it starts only where a run of local-part characters starts (linear in the text). */
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const IBAN = /\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}\b/g;
/** Card candidates: groups of digits joined by single spaces or dashes; first digit 2–6 (the card networks). */
const CARD = /(?<![\p{L}\p{N}_+])[2-6]\d*(?:[ -]\d+)*(?![\p{L}\p{N}_])/gu;
const CODICE_FISCALE = /\b[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]\b/g;
/**
 * Phone candidates: a run of digits with the punctuation people put in numbers (spaces, dots,
 * dashes, slashes, brackets, a leading +), not glued to a word. Only runs with 6 or more digits
 * are handed to libphonenumber-js, which decides (so a message without such a run costs a regex).
 */
const PHONE_RUN = /(?<![\p{L}\p{N}_@])[+(]*\d[\d \t\u00a0().\/-]*/gu;
const PHONE_START = /^[(]*(?:\+|[035])/;
/** Phone types that are not a person's number (a brand's toll-free line is not private data). */
const PUBLIC_PHONE_TYPES: ReadonlySet<string> = new Set(['TOLL_FREE', 'PREMIUM_RATE', 'SHARED_COST']);
/** A date written like a landline ("03-12-2026", "03.12.26") is a date, never a phone. */

const IT_MONTHS = 'gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|genn?|febb?|mar|apr|magg?|giu|lug|ago|sett?|ott|nov|dic';
const EN_MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec';
const DATE_PATTERNS: RegExp[] = [
  /\b\d{4}-\d{1,2}-\d{1,2}\b/g,
  /\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b/g,
  new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?\\s+(?:${IT_MONTHS}|${EN_MONTHS})\\.?(?:\\s+\\d{4})?\\b`, 'gi'),
  new RegExp(`\\b(?:${EN_MONTHS})\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?(?:,?\\s+\\d{4})?\\b`, 'gi'),
];

/**
 * Customer codes: words that announce an account-like code, in Italian and English. A code is
 * looked for in the few tokens after one of them ("codice cliente: 00123456", "numero di
 * contratto n. 2024/778812", "my account number is AB1234567").
 */
const CODE_KEYWORD = /(?<![\p{L}\p{N}_])(?:codice|cliente|contratto|pratica|utenza|account|customer|client|contract|number|numero|ordine|ordinazione|order)(?![\p{L}\p{N}_])/giu;
/**
 * Keywords that announce an order: the code next to them is an order number whatever the brand's
 * pattern ("il mio ordine è 4455-8890", "order number 10234567"), so another brand's format counts.
 */
const ORDER_KEYWORD = /^ord/i;
/** "numero", "number": keywords that also announce phone numbers, so phones are looked for first. */
const WEAK_KEYWORD = /^num/i;
/** Words before a keyword that make it announce something else: "order number", "tracking number", "numero di telefono". */
const NOT_A_CUSTOMER_CODE = new Set([
  'ordine', 'ordini', 'order', 'orders', 'prodotto', 'prodotti', 'articolo', 'articoli', 'product', 'products', 'item',
  'items', 'sku', 'ean', 'modello', 'model', 'sconto', 'promo', 'promozionale', 'coupon', 'voucher', 'discount', 'regalo',
  'gift', 'tracking', 'spedizione', 'shipment', 'shipping', 'postale', 'postal', 'zip', 'cap', 'iva', 'vat', 'fiscale',
  'telefono', 'phone', 'cellulare', 'mobile', 'tel', 'carta', 'card', 'pezzi', 'pieces', 'volte', 'times',
]);
/** What may follow a number that makes it a price, a quantity or a share, never a code. */
const UNIT_AFTER = /^\s*(?:%|€|\$|£|eur\b|euro\b|euros\b|usd\b|gbp\b|pezzi\b|pz\b|pieces\b|pcs\b|items?\b|articoli\b|units?\b|unità|kg\b|g\b|cm\b|mm\b|ml\b|ore\b|hours\b|giorni\b|days\b)/i;
/** Words that "announce" nothing else: the code still follows ("il mio codice cliente è", "customer ID no."). */
const CODE_FILLERS = new Set([
  'di', 'del', 'della', 'dello', 'd', 'mio', 'mia', 'il', 'lo', 'la', 'è', 'e', 'é', 'sono', 'sarebbe', 'ecco', 'seguente',
  'is', 'my', 'the', 'of', 'our', 'your', 'it', 's', 'here', 'was', 'no', 'n', 'nr', 'num', 'numero', 'number', 'id',
  'code', 'codice', 'cliente', 'customer', 'account', 'client', 'contratto', 'contract', 'pratica', 'utenza', 'utente',
  'user', 'reference', 'riferimento', 'rif', 'ref', 'identificativo', 'identifier',
]);
/** Tokens after a keyword: words, codes (letters/digits joined by - or /), or one punctuation mark. */
const CODE_TOKEN = /[\p{L}\p{N}]+(?:[-/][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;
/** How many tokens after a keyword may stand before the code ("codice cliente è il seguente: X"). */
const CODE_LOOKAHEAD = 6;

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

function isValidDate(raw: string): boolean {
  const iso = /^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})$/.exec(raw);
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$/.exec(raw);
  if (iso) return inRange(Number(iso[2]), Number(iso[3]));
  if (dmy) return inRange(Number(dmy[2]), Number(dmy[1]));
  const day = /\d{1,2}/.exec(raw);
  return day ? Number(day[0]) >= 1 && Number(day[0]) <= 31 : false;
}

function inRange(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** Compiles the brand's order-number pattern (per call: cheap, and no shared state). */
function orderRegex(source: string): RegExp {
  try {
    return new RegExp(source, 'gi');
  } catch (e) {
    throw new Error(`order number pattern is not a valid regular expression: ${(e as Error).message}`, { cause: e });
  }
}

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    yield m;
  }
}

/** Card lengths by preference: the common 16 and 15 (Amex) first, then the rest of 13–19. */
const CARD_LENGTHS = [16, 15, 19, 14, 13, 18, 17];

/**
 * The card in a run of digit groups ("4111 1111 1111 1111", "4111-1111-1111-1111 3"): the
 * Luhn-valid span of whole groups from the first, grouped as cards are printed (one block, blocks
 * of four, or Amex's 4-6-5), of the most common card length. Returns the span's end offset
 * within the run, or -1.
 */
function cardInRun(run: string): number {
  const groups: Array<{ end: number; digits: number; sizes: string }> = [];
  let digits = 0;
  let sizes = '';
  for (const m of run.matchAll(/\d+/g)) {
    digits += m[0].length;
    if (digits > 19) break;
    sizes += (sizes ? '-' : '') + m[0].length;
    groups.push({ end: m.index + m[0].length, digits, sizes });
  }
  for (const length of CARD_LENGTHS) {
    const g = groups.find((x) => x.digits === length);
    if (g && CARD_GROUPING.test(g.sizes) && isLuhnValid(digitsOf(run.slice(0, g.end)))) return g.end;
  }
  return -1;
}

/** How card numbers are grouped: one block, blocks of four (the last may be shorter), or 4-6-5 / 4-6-4. */
const CARD_GROUPING = /^(?:\d+|(?:4-)+[1-4]|4-6-[45])$/;

/**
 * The span without the brackets around it: "(02 8765 4321)" and "((02) 8765 4321)" are the
 * numbers inside, "(02) 8765 4321" keeps its bracket; an unmatched one at either edge goes too.
 */
function withoutEnclosingBrackets(text: string, start: number, end: number): [number, number] {
  for (;;) {
    if (text[start] === '(') {
      let depth = 0;
      let close = -1;
      for (let i = start; i < end && close < 0; i++) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')' && --depth === 0) close = i;
      }
      if (close === -1 || close === end - 1) {
        // Unmatched, or matched by the last character: the brackets enclose the number.
        start++;
        if (close === end - 1) end--;
        continue;
      }
    }
    const span = text.slice(start, end);
    if (text[end - 1] === ')' && span.split(')').length > span.split('(').length) {
      end--;
      continue;
    }
    return [start, end];
  }
}

/** True when `token` has the shape of an account-like code: a long digit string or a letter-digit one. */
function isCodeShaped(token: string): boolean {
  if (!/^[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*$/.test(token)) return false;
  const digits = token.replace(/[^0-9]/g, '').length;
  const letters = token.replace(/[^A-Za-z]/g, '').length;
  if (digits + letters > 24) return false;
  if (letters === 0) return digits >= 6 && !(NUMERIC_DATE.test(token) && isValidDate(token));
  return digits >= 4 && digits + letters >= 6;
}

/**
 * Finds entities in `text`, most specific kinds first; a span claimed by one kind (a card)
 * is not reported again as another (a phone). Sorted by position.
 */
export function detectEntities(text: string, options: EntityOptions = {}): Entity[] {
  const found: Entity[] = [];
  const taken = (start: number, end: number) => found.some((e) => start < e.end && end > e.start);
  const add = (kind: Kind, start: number, end: number) => {
    // Trim separators a loose pattern may have swallowed at its edges.
    while (end > start && /[\s.-]/.test(text[end - 1]!)) end--;
    while (start < end && /[\s.-]/.test(text[start]!)) start++;
    if (end <= start || taken(start, end)) return;
    found.push({ kind, value: text.slice(start, end), start, end, private: PRIVATE_KINDS.has(kind) });
  };

  if (text.includes('@')) for (const m of matches(EMAIL, text)) add('email', m.index, m.index + m[0].length);
  for (const m of matches(IBAN, text)) {
    const compact = m[0].replace(/ /g, '').toUpperCase();
    // The loose pattern may glue the next words ("… 0123 456 grazie"): the IBAN is the prefix of its country's length.
    const length = IBAN_LENGTHS[compact.slice(0, 2)];
    if (length === undefined || compact.length < length || !isIbanValid(compact.slice(0, length))) continue;
    let seen = 0;
    let end = m.index;
    while (seen < length && end < text.length) {
      if (text[end] !== ' ') seen++;
      end++;
    }
    add('iban', m.index, end);
  }
  for (const m of matches(CODICE_FISCALE, text)) {
    if (isCodiceFiscaleValid(m[0].toUpperCase())) add('codice_fiscale', m.index, m.index + m[0].length);
  }
  const orderPattern = orderRegex(options.orderNumberPattern ?? DEFAULT_ORDER_NUMBER_PATTERN);
  for (const m of matches(orderPattern, text)) add('order_number', m.index, m.index + m[0].length);
  for (const m of matches(CARD, text)) {
    if (m[0].length < 13) continue;
    const end = cardInRun(m[0]);
    if (end > 0) add('card', m.index, m.index + end);
  }
  // "codice cliente 0612345678": next to a strong keyword a code is a customer code, even where it
  // could be dialled; next to "numero"/"number" alone ("il mio numero è 347…") a phone comes first.
  const keywords = [...matches(CODE_KEYWORD, text)];
  for (const k of keywords) if (!WEAK_KEYWORD.test(k[0]) && !findCustomerCode(text, k, add)) findCustomerCodeBefore(text, k, add);
  for (const m of matches(PHONE_RUN, text)) {
    // The pattern takes the whole run (no backtracking: linear in the text); trim what trails the
    // last digit, and a last group glued to a word ("4321abc").
    let run = m[0].replace(/[^\d)]+$/, '');
    if (/^[\p{L}\p{N}_@]/u.test(text.slice(m.index + m[0].length, m.index + m[0].length + 1)) && run.length === m[0].length) {
      run = run.replace(/[\s.\/-]*\d+$/, '');
    }
    // Worth asking the library: 6+ digits, not a date, not inside a card or an IBAN already found, and
    // starting as a phone does: +CC, 00CC, an Italian landline (0…), mobile (3…) or VoIP (5…) number.
    if (!PHONE_START.test(run) || digitsOf(run).length < 6 || NUMERIC_DATE.test(run) || taken(m.index, m.index + run.length)) continue;
    // Most runs are one number: parsing the whole run costs about half of a search in it.
    const whole = parsePhoneNumberFromString(run, { defaultCountry: 'IT', extract: false }, phoneMetadata);
    const numbers = whole?.isValid() ? [{ startsAt: 0, endsAt: run.length, number: whole }] : findPhoneNumbersInText(run, { defaultCountry: 'IT' }, phoneMetadata);
    for (const n of numbers) {
      if (NUMERIC_DATE.test(run.slice(n.startsAt, n.endsAt).replace(/^\(|\)$/g, ''))) continue;
      const type = n.number.getType();
      if (type !== undefined && PUBLIC_PHONE_TYPES.has(type)) continue;
      const [start, end] = withoutEnclosingBrackets(text, m.index + n.startsAt, m.index + n.endsAt);
      add('phone', start, end);
    }
  }
  for (const re of DATE_PATTERNS) {
    for (const m of matches(re, text)) {
      if (isValidDate(m[0])) add('date', m.index, m.index + m[0].length);
    }
  }
  for (const k of keywords) if (WEAK_KEYWORD.test(k[0])) findCustomerCode(text, k, add);
  if (found.length === 0) findLoneCode(text, add);
  return found.sort((a, b) => a.start - b.start);
}

/**
 * What may stand beside a lone code: mentions, a greeting, a courtesy, "#", "n." ("@brand
 * AB123456", "ciao, #4455667", "BR123456 grazie"). Any other word makes it something else.
 */
const BESIDE_A_LONE_CODE = /^(?:ciao|salve|buongiorno|buonasera|hi|hello|hey|grazie|thanks|thx|please|pls|n|nr|no)$/i;

/**
 * A message that is one account-like code and nothing else ("AB123456", "4455667", "@brand
 * #4455667"): customers send their order number so, as the first thing, without the brand's format
 * or a word announcing it. It is their order number (private): not repeated, not kept in logs.
 */
function findLoneCode(text: string, add: (kind: Kind, start: number, end: number) => void): void {
  if (text.length > 80) return;
  let code: RegExpExecArray | undefined;
  CODE_TOKEN.lastIndex = 0;
  for (const t of text.matchAll(CODE_TOKEN)) {
    const token = t[0];
    if (/^[^\p{L}\p{N}]$/u.test(token) || BESIDE_A_LONE_CODE.test(token)) continue;
    // A mention ("@bottegarossi"): its name is no word of the message.
    if (t.index > 0 && text[t.index - 1] === '@') continue;
    if (!/\d/.test(token) || code !== undefined || !isCodeAt(text, token, t.index)) return;
    code = t;
  }
  if (code) add('order_number', code.index, code.index + code[0].length);
}

/** What a code next to the keyword `k` is: an order number next to "ordine"/"order", else a customer code. */
function codeKind(k: RegExpExecArray): Kind {
  return ORDER_KEYWORD.test(k[0]) ? 'order_number' : 'customer_code';
}

/** True when the keyword `k` announces something else: "order number", "tracking number", "phone number". */
function announcesSomethingElse(text: string, k: RegExpExecArray): boolean {
  const previous = /(\p{L}+)[^\p{L}\p{N}]{1,3}$/u.exec(text.slice(Math.max(0, k.index - 24), k.index))?.[1];
  return previous !== undefined && NOT_A_CUSTOMER_CODE.has(previous.toLowerCase());
}

/** True when `token` at `start` is a code, not a price, a quantity or a decimal number. */
function isCodeAt(text: string, token: string, start: number): boolean {
  const end = start + token.length;
  const price = /[€$£]\s*$/.test(text.slice(Math.max(0, start - 3), start)) || UNIT_AFTER.test(text.slice(end, end + 10));
  const decimal = /^[.,:][0-9]/.test(text.slice(end, end + 2)); // "1234567,89", "123456.78"
  return isCodeShaped(token) && !price && !decimal;
}

/**
 * Looks for a customer code in the few tokens after the keyword `k`, across filler words only.
 * True when the look ended on a number (a code, or a number that is not one).
 */
function findCustomerCode(text: string, k: RegExpExecArray, add: (kind: Kind, start: number, end: number) => void): boolean {
  // "order number 123…", "tracking number …", "phone number …": the code belongs to something else.
  if (announcesSomethingElse(text, k)) return true;
  CODE_TOKEN.lastIndex = k.index + k[0].length;
  for (let i = 0; i < CODE_LOOKAHEAD; i++) {
    const t = CODE_TOKEN.exec(text);
    if (!t) return false;
    const token = t[0];
    if (/\d/.test(token)) {
      if (isCodeAt(text, token, t.index)) add(codeKind(k), t.index, t.index + token.length);
      return true; // a number that is not a code (a quantity, a price) ends the look
    }
    if (!CODE_FILLERS.has(token.toLowerCase()) && !/^[:#°.='’-]$/.test(token)) return false;
  }
  return false;
}

/** Tokens of a text, for looking back from a keyword. */
function tokensBefore(text: string, end: number): RegExpExecArray[] {
  const offset = Math.max(0, end - 120);
  CODE_TOKEN.lastIndex = 0; // matchAll starts where the shared pattern's last search stopped
  const tokens = [...text.slice(offset, end).matchAll(CODE_TOKEN)];
  return tokens.map((t) => Object.assign(t, { index: t.index + offset }));
}

/**
 * The code written before its keyword ("7700111222 è il mio codice cliente", "AB12345 is my
 * customer code", "7700111222 (codice cliente)"): looked for in the few tokens before a strong
 * keyword, across filler words only, unless the keyword names something else ("codice sconto",
 * "codice del prodotto", "codice fiscale").
 */
function findCustomerCodeBefore(text: string, k: RegExpExecArray, add: (kind: Kind, start: number, end: number) => void): void {
  if (announcesSomethingElse(text, k)) return;
  CODE_TOKEN.lastIndex = k.index + k[0].length;
  for (let i = 0; i < CODE_LOOKAHEAD; i++) {
    const t = CODE_TOKEN.exec(text);
    if (!t || /^[^\p{L}\p{N}]$/u.test(t[0])) break;
    const word = t[0].toLowerCase();
    if (NOT_A_CUSTOMER_CODE.has(word)) return;
    if (!CODE_FILLERS.has(word)) break;
  }
  const before = tokensBefore(text, k.index);
  for (let i = before.length - 1; i >= 0 && i >= before.length - CODE_LOOKAHEAD; i--) {
    const t = before[i]!;
    const token = t[0];
    if (/\d/.test(token)) {
      // "ordine BR-1234567 codice …", "fiscale": a code that some other word announces is not this one.
      const previous = before[i - 1]?.[0].toLowerCase();
      if (previous !== undefined && NOT_A_CUSTOMER_CODE.has(previous)) return;
      if (isCodeAt(text, token, t.index)) add(codeKind(k), t.index, t.index + token.length);
      return;
    }
    if (!CODE_FILLERS.has(token.toLowerCase()) && !/^[:#°.='’(),-]$/.test(token)) return;
  }
}

/** Replaces every private entity with a placeholder such as `{email}` or `{card}`; dates stay. */
export function redactEntities(text: string, entities: readonly Entity[]): string {
  const privateOnes = entities.filter((e) => e.private).sort((a, b) => b.start - a.start);
  let out = text;
  let lastStart = Number.POSITIVE_INFINITY;
  for (const e of privateOnes) {
    if (e.end > lastStart) continue; // overlapping spans: the later one already covers it
    out = out.slice(0, e.start) + `{${e.kind}}` + out.slice(e.end);
    lastStart = e.start;
  }
  return out;
}
