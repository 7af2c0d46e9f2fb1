/**
 * @module classifier/entities
 * Finds data in a customer's message: email, phone, IBAN (mod-97 checked), payment card
 * (Luhn checked), codice fiscale (check character verified), order number (brand pattern)
 * and dates. The privacy guard redacts the private kinds; values must never be logged.
 */
import type { Entity } from '../core/ports.js';

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

/** Lengths of IBANs by country (the common SEPA ones); unknown countries accept 15–34. */
const IBAN_LENGTHS: Record<string, number> = {
  IT: 27, SM: 27, VA: 22, DE: 22, FR: 27, ES: 24, GB: 22, IE: 22, NL: 18, BE: 16, AT: 20,
  CH: 21, PT: 25, LU: 20, MC: 27, GR: 27, PL: 28, SE: 24, DK: 18, FI: 18, NO: 15, CZ: 24,
  SK: 24, SI: 19, HR: 21, HU: 28, RO: 24, BG: 22, MT: 31, CY: 28, LT: 20, LV: 21, EE: 20,
};

/** True when `iban` (no spaces, upper case) has a valid length for its country and passes mod 97. */
export function isIbanValid(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const expected = IBAN_LENGTHS[iban.slice(0, 2)];
  if (expected !== undefined && iban.length !== expected) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
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

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const IBAN = /\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}\b/g;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const CODICE_FISCALE = /\b[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]\b/g;
/** International (+CC or 00CC) numbers, then Italian mobiles (3xx) and landlines (0x). */
const PHONE_INTL = /(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\w)/g;
const PHONE_IT = /(?<![\w+])(?:3\d{2}[ .-]?\d{3}[ .-]?\d{3,4}|0\d{1,3}[ .-]?\d{3,4}[ .-]?\d{3,4})(?!\w)/g;

const IT_MONTHS = 'gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|genn?|febb?|mar|apr|magg?|giu|lug|ago|sett?|ott|nov|dic';
const EN_MONTHS = 'january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec';
const DATE_PATTERNS: RegExp[] = [
  /\b\d{4}-\d{1,2}-\d{1,2}\b/g,
  /\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b/g,
  new RegExp(`\\b\\d{1,2}(?:st|nd|rd|th)?\\s+(?:${IT_MONTHS}|${EN_MONTHS})\\.?(?:\\s+\\d{4})?\\b`, 'gi'),
  new RegExp(`\\b(?:${EN_MONTHS})\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?(?:,?\\s+\\d{4})?\\b`, 'gi'),
];

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

function isValidDate(raw: string): boolean {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(raw);
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

  for (const m of matches(EMAIL, text)) add('email', m.index, m.index + m[0].length);
  for (const m of matches(IBAN, text)) {
    const compact = m[0].replace(/ /g, '').toUpperCase();
    // A valid IBAN may be followed by a word glued by the loose pattern; try its exact length.
    const expected = IBAN_LENGTHS[compact.slice(0, 2)];
    if (isIbanValid(compact)) add('iban', m.index, m.index + m[0].length);
    else if (expected !== undefined && compact.length > expected && isIbanValid(compact.slice(0, expected))) {
      let seen = 0;
      let end = m.index;
      while (seen < expected && end < text.length) {
        if (text[end] !== ' ') seen++;
        end++;
      }
      add('iban', m.index, end);
    }
  }
  for (const m of matches(CODICE_FISCALE, text)) {
    if (isCodiceFiscaleValid(m[0].toUpperCase())) add('codice_fiscale', m.index, m.index + m[0].length);
  }
  const orderPattern = orderRegex(options.orderNumberPattern ?? DEFAULT_ORDER_NUMBER_PATTERN);
  for (const m of matches(orderPattern, text)) add('order_number', m.index, m.index + m[0].length);
  for (const m of matches(CARD, text)) {
    const digits = digitsOf(m[0]);
    if (digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits)) add('card', m.index, m.index + m[0].length);
  }
  for (const m of matches(PHONE_INTL, text)) {
    const n = digitsOf(m[0]).length;
    if (n >= 8 && n <= 15) add('phone', m.index, m.index + m[0].length);
  }
  for (const m of matches(PHONE_IT, text)) {
    const n = digitsOf(m[0]).length;
    if (n >= 9 && n <= 11) add('phone', m.index, m.index + m[0].length);
  }
  for (const re of DATE_PATTERNS) {
    for (const m of matches(re, text)) {
      if (isValidDate(m[0])) add('date', m.index, m.index + m[0].length);
    }
  }
  return found.sort((a, b) => a.start - b.start);
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
