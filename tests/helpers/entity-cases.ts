/**
 * Generators of private data as people write it, and of numbers that only look like it, for the
 * property-based tests of entity detection (tests/classifier) and of the privacy guard
 * (tests/pipeline). Check digits are computed here, independently of src/classifier/entities.ts.
 */
import fc from 'fast-check';
import type { Entity } from '../../src/core/ports.js';

/**
 * A piece of private data: `lead` is written just before it ("codice cliente: "), `tail` just after
 * it (" è il mio codice cliente"), `value` is what must be found.
 */
export interface PrivateCase {
  kind: Entity['kind'];
  lead: string;
  value: string;
  tail?: string;
}

const digit = fc.integer({ min: 0, max: 9 }).map(String);
const digits = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((d) => d.join(''));
const nonZero = fc.integer({ min: 1, max: 9 }).map(String);
const letterFrom = (alphabet: string) => fc.constantFrom(...alphabet.split(''));
const letters = (n: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') =>
  fc.array(letterFrom(alphabet), { minLength: n, maxLength: n }).map((l) => l.join(''));

/** Case as people type: as given, all lower, or all upper. */
const anyCase = (s: fc.Arbitrary<string>) =>
  fc.tuple(s, fc.constantFrom('keep', 'lower', 'upper')).map(([v, c]) => (c === 'lower' ? v.toLowerCase() : c === 'upper' ? v.toUpperCase() : v));

// ───────────────────────────── phones ─────────────────────────────

const IT_MOBILE_PREFIXES = ['320', '324', '327', '328', '329', '330', '333', '334', '335', '336', '337', '338', '339', '340', '342', '345', '346', '347', '348', '349', '366', '368', '377', '380', '388', '389', '391', '392', '393'];

/** An Italian mobile ("347 765 4321", "347.765.4321", "+39 347 7654321", "0039 347 765 4321", ...). */
const itMobile = fc
  .tuple(fc.constantFrom(...IT_MOBILE_PREFIXES), digits(3), digits(4), fc.integer({ min: 0, max: 11 }))
  .map(([p, a, b, f]) => {
    const n = `${p}${a}${b}`;
    return [
      `${p} ${a} ${b}`,
      n,
      `${p}.${a}.${b}`,
      `${p}-${a}-${b}`,
      `${p} ${a}${b}`,
      `${p}/${a}${b}`,
      `+39 ${p} ${a}${b}`,
      `+39 ${p} ${a} ${b}`,
      `0039 ${p} ${a} ${b}`,
      `+39-${p}-${a}-${b}`,
      `(+39) ${p} ${a} ${b}`,
      `+39${n}`,
    ][f]!;
  });

/** Italian landlines: area code and subscriber number lengths that exist. */
const IT_AREAS: Array<[string, number]> = [['02', 8], ['06', 8], ['06', 7], ['011', 7], ['055', 7], ['081', 7], ['051', 7], ['010', 7], ['041', 7], ['0471', 6]];

/** An Italian landline ("(02) 8765 4321", "06-5551234", "+39 02 8765 4321", "0039 06 5551234", ...). */
const itLandline = fc
  .tuple(fc.constantFrom(...IT_AREAS), fc.integer({ min: 2, max: 9 }), digits(7), fc.integer({ min: 0, max: 8 }))
  .map(([[area, len], first, rest, f]) => {
    const sub = `${first}${rest}`.slice(0, len);
    const half = Math.ceil(sub.length / 2);
    const spaced = `${sub.slice(0, half)} ${sub.slice(half)}`;
    return [
      `(${area}) ${spaced}`,
      `${area} ${spaced}`,
      `${area}-${sub}`,
      `${area} ${sub}`,
      `${area}/${sub}`,
      `${area}${sub}`,
      `+39 ${area} ${spaced}`,
      `0039 ${area} ${sub}`,
      `+39 (0)${area.slice(1)} ${spaced}`,
    ][f]!;
  });

/** Numbers abroad, with +CC or 00CC. */
const foreign = fc
  .tuple(
    fc.constantFrom('gb', 'fr', 'de', 'de-mobile', 'es', 'us', 'ch'),
    digits(8),
    fc.integer({ min: 2, max: 9 }),
    fc.boolean(),
  )
  .map(([country, d, x, plus]) => {
    const intl = (cc: string) => (plus ? `+${cc}` : `00${cc}`);
    switch (country) {
      case 'gb':
        return `${intl('44')} 20 7${d.slice(0, 3)} ${d.slice(3, 7)}`;
      case 'fr':
        // French mobiles 6x with x ≠ 3, 9 (those ranges are only partly assigned).
        return `${intl('33')} 6 ${'01245678'[Number(d[0]) % 8]}${d[1]} ${d.slice(2, 4)} ${d.slice(4, 6)} ${d.slice(6, 8)}`;
      case 'de':
        return `${intl('49')} 30 ${x}${d.slice(0, 6)}`;
      case 'de-mobile':
        return `${intl('49')} 151 ${d}`;
      case 'es':
        return `${intl('34')} 6${d.slice(0, 2)} ${d.slice(2, 5)} ${d.slice(5, 8)}`;
      case 'us':
        return `${intl('1')} (415) ${x}${d.slice(0, 2)}-${d.slice(2, 6)}`;
      default:
        return `${intl('41')} 44 ${x}${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4, 6)}`;
    }
  });

const phoneLead = fc.constantFrom('', '', 'tel. ', 'cell ', 'chiamatemi al ', 'call me on ', 'phone: ', 'whatsapp ');

export const phoneCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(phoneLead, fc.oneof(itMobile, itLandline, foreign))
  .map(([lead, value]) => ({ kind: 'phone', lead, value }));

// ───────────────────────────── IBAN ─────────────────────────────

/** mod 97 of an IBAN-style string (letters A=10 … Z=35), with BigInt: independent of the detector's loop. */
function mod97(s: string): bigint {
  const numeric = s.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  return BigInt(numeric) % 97n;
}

/** The IBAN of country `cc` for `bban`, with its check digits. */
export function makeIban(cc: string, bban: string): string {
  const check = 98n - mod97(`${bban}${cc}00`);
  return `${cc}${String(check).padStart(2, '0')}${bban}`;
}

const alnum = (n: number) => fc.array(letterFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), { minLength: n, maxLength: n }).map((l) => l.join(''));
/** Countries whose BBAN has no national check digits of its own (those with one, e.g. FR, ES, BE, are left out). */
const IBAN_BBANS: Array<[string, fc.Arbitrary<string>]> = [
  ['IT', fc.tuple(letters(1), digits(10), alnum(12)).map((p) => p.join(''))],
  ['SM', fc.tuple(letters(1), digits(10), alnum(12)).map((p) => p.join(''))],
  ['DE', digits(18)],
  ['GB', fc.tuple(letters(4), digits(14)).map((p) => p.join(''))],
  ['IE', fc.tuple(letters(4), digits(14)).map((p) => p.join(''))],
  ['NL', fc.tuple(letters(4), digits(10)).map((p) => p.join(''))],
  ['CH', fc.tuple(digits(5), alnum(12)).map((p) => p.join(''))],
  ['AT', digits(16)],
  ['LU', fc.tuple(digits(3), alnum(13)).map((p) => p.join(''))],
  ['GR', fc.tuple(digits(7), alnum(16)).map((p) => p.join(''))],
];

export const ibanCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(
    fc.oneof(...IBAN_BBANS.map(([cc, bban]) => bban.map((b) => makeIban(cc, b)))),
    fc.constantFrom('compact', 'grouped', 'grouped-lower'),
    fc.constantFrom('', 'IBAN ', 'iban: ', 'il mio IBAN è ', 'my IBAN is '),
  )
  .map(([iban, form, lead]) => {
    const grouped = iban.replace(/(.{4})(?=.)/g, '$1 ');
    const value = form === 'compact' ? iban : form === 'grouped' ? grouped : grouped.toLowerCase();
    return { kind: 'iban', lead, value };
  });

// ───────────────────────────── cards ─────────────────────────────

/** The Luhn check digit for `body` (computed from the right, doubling every second digit). */
function luhnDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

const cardNumber = fc.oneof(
  digits(14).map((d) => `4${d}`), // Visa, 16
  fc.tuple(fc.integer({ min: 1, max: 5 }), digits(13)).map(([x, d]) => `5${x}${d}`), // Mastercard, 16
  fc.tuple(fc.constantFrom('4', '7'), digits(12)).map(([x, d]) => `3${x}${d}`), // Amex, 15
).map((body) => body + luhnDigit(body));

export const cardCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(cardNumber, fc.constantFrom('', ' ', '-'), fc.constantFrom('', 'carta ', 'card ', 'la mia carta ', 'carta di credito n. '))
  .map(([n, sep, lead]) => {
    const groups = n.length === 15 ? [n.slice(0, 4), n.slice(4, 10), n.slice(10)] : (n.match(/.{4}/g) as string[]);
    return { kind: 'card', lead, value: sep === '' ? n : groups.join(sep) };
  });

// ───────────────────────────── email ─────────────────────────────

const word = fc.constantFrom('mario', 'rossi', 'giulia', 'bianchi', 'luca', 'tom', 'smith', 'anna', 'info', 'x', 'ab12', 'j');
const localPart = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.constantFrom('.', '_', '-'), fc.option(fc.constantFrom('ordini', 'shop', 'news', '2026', 'a.b'), { nil: undefined }))
  .map(([ws, sep, tag]) => ws.join(sep) + (tag ? `+${tag}` : ''));
const domain = fc
  .tuple(fc.array(fc.constantFrom('mail', 'posta', 'eu', 'shop', 'it-uffici', 'm2'), { maxLength: 2 }), fc.constantFrom('example', 'gmail', 'libero', 'azienda-srl'), fc.constantFrom('it', 'com', 'co.uk', 'org', 'email'))
  .map(([subs, base, tld]) => [...subs, base, tld].join('.'));

export const emailCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(anyCase(fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`)), fc.constantFrom('', 'mail ', 'email: ', 'scrivetemi a ', 'write to '))
  .map(([value, lead]) => ({ kind: 'email', lead, value }));

// ───────────────────────────── codice fiscale ─────────────────────────────

const CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
/** Value of a character: digits 0–9, letters 0–25. */
const cfValue = (c: string) => (c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : c.charCodeAt(0) - 65);

/** The check character of the first 15 characters of a codice fiscale. */
export function cfCheck(first15: string): string {
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    const v = cfValue(first15[i]!);
    sum += i % 2 === 0 ? CF_ODD[v]! : v;
  }
  return String.fromCharCode(65 + (sum % 26));
}

const OMOCODIA = 'LMNPQRSTUV';
const codiceFiscale = fc
  .tuple(letters(6), digits(2), letterFrom('ABCDEHLMPRST'), fc.integer({ min: 1, max: 71 }).filter((d) => d <= 31 || d >= 41), letters(1), digits(3), fc.nat(3))
  .map(([name, year, month, day, town, code, omocodia]) => {
    const chars = `${name}${year}${month}${String(day).padStart(2, '0')}${town}${code}`.split('');
    // Omocodia: the last digits replaced by letters, from the right.
    const digitPositions = [14, 13, 12, 10, 9, 7, 6];
    for (const p of digitPositions.slice(0, omocodia)) chars[p] = OMOCODIA[Number(chars[p])]!;
    const first15 = chars.join('');
    return first15 + cfCheck(first15);
  });

export const cfCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(anyCase(codiceFiscale), fc.constantFrom('', 'cf ', 'codice fiscale: ', 'il mio CF è ', 'tax code '))
  .map(([value, lead]) => ({ kind: 'codice_fiscale', lead, value }));

// ───────────────────────────── customer codes ─────────────────────────────

const CODE_LEADS = [
  'codice cliente ', 'codice cliente: ', 'il mio codice cliente è ', 'numero cliente ', 'n. cliente ', 'numero di contratto ',
  'contratto n. ', 'contratto nr. ', 'pratica n° ', 'pratica ', 'codice utenza ', 'il numero della pratica è ',
  'customer number ', 'customer ID: ', 'account number ', 'my account no. ', 'account # ', 'client code ', 'contract no. ',
  'customer code ',
];
/** Letters of codes: no O/R/B, so a code never reads as the default order-number pattern (BR…, ORD…). */
const CODE_LETTERS = 'ACDEFGHKLMNPSTUVXZ';
const customerCode = fc.oneof(
  fc.integer({ min: 6, max: 12 }).chain((n) => digits(n)),
  fc.tuple(anyCase(letters(2, CODE_LETTERS)), digits(6)).map(([l, d]) => `${l}${d}`),
  fc.tuple(letters(1, CODE_LETTERS), digits(7)).map(([l, d]) => `${l}-${d}`),
  fc.tuple(fc.integer({ min: 2015, max: 2026 }), digits(6)).map(([y, d]) => `${y}/${d}`),
  fc.tuple(letters(3, CODE_LETTERS), digits(4), letters(1, CODE_LETTERS)).map((p) => p.join('')),
);

export const customerCodeCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(fc.constantFrom(...CODE_LEADS), customerCode)
  .map(([lead, value]) => ({ kind: 'customer_code', lead, value }));

const ORDER_LEADS = [
  'ordine ', 'il mio ordine è ', 'ordine n. ', 'ordine n° ', "numero d'ordine ", 'numero ordine: ', 'ordine #',
  'order ', 'order number ', 'my order no. ', 'order #', 'order ID: ',
];

/** An order number in another brand's format, announced by "ordine"/"order" (the default pattern is BR-/ORD-). */
export const orderNumberCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(fc.constantFrom(...ORDER_LEADS), customerCode)
  .map(([lead, value]) => ({ kind: 'order_number', lead, value }));

/** What people write after a code they give first ("7700111222 è il mio codice cliente"). */
const CODE_TAILS = [
  ' è il mio codice cliente', ' è il codice cliente', ' (codice cliente)', ', codice cliente', ' - numero cliente',
  ' è il numero del mio contratto', ' è il numero della pratica', ' sarebbe il mio codice utenza', ' = codice cliente',
  ' is my customer code', ' is my account number', ' (customer number)', ', my client code', ' is the contract no.',
];

/** The words that follow a code given first. */
export const codeTail: fc.Arbitrary<string> = fc.constantFrom(...CODE_TAILS);

/** A customer code written before its keyword. */
export const customerCodeBeforeCase: fc.Arbitrary<PrivateCase> = fc
  .tuple(customerCode, fc.constantFrom(...CODE_TAILS))
  .map(([value, tail]) => ({ kind: 'customer_code', lead: '', value, tail }));

/** Any private case. */
export const privateCase: fc.Arbitrary<PrivateCase> = fc.oneof(phoneCase, ibanCase, cardCase, emailCase, cfCase, customerCodeCase, customerCodeBeforeCase, orderNumberCase);

// ───────────────────────────── look-alikes ─────────────────────────────

/** Numbers that are not private data: prices, dates, times, quantities, ranges, years, percentages, product codes. */
export const lookAlike: fc.Arbitrary<string> = fc.oneof(
  // prices
  fc.tuple(fc.integer({ min: 1, max: 999 }), digits(2)).chain(([e, c]) =>
    fc.constantFrom(`€ ${e},${c}`, `${e}.${c} EUR`, `€${e}`, `${e},${c} euro`, `$${e}.${c}`, `£${e}`, `1.${String(e).padStart(3, '0')},${c} €`),
  ),
  // dates
  fc.tuple(fc.integer({ min: 1, max: 28 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2020, max: 2027 })).chain(([d, m, y]) => {
    const dd = String(d).padStart(2, '0');
    const mm = String(m).padStart(2, '0');
    return fc.constantFrom(`${dd}/${mm}/${y}`, `${dd}-${mm}-${y}`, `${dd}.${mm}.${y}`, `${y}-${mm}-${dd}`, `${d}/${m}/${String(y).slice(2)}`, `${d} marzo ${y}`, `March ${d}th`);
  }),
  // times
  fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).chain(([h, m]) =>
    fc.constantFrom(`${h}:${String(m).padStart(2, '0')}`, `ore ${h}`, `${h}.${String(m).padStart(2, '0')}`, `dalle ${h} alle ${(h + 4) % 24}`),
  ),
  // quantities
  fc.tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('pezzi', 'kg', 'items', 'paia', 'pz', 'ml', 'cm', 'pieces')).map(([n, u]) => `${n} ${u}`),
  // ranges
  fc.tuple(fc.integer({ min: 1, max: 48 }), fc.integer({ min: 1, max: 72 }), fc.constantFrom('ore', 'giorni', 'days', 'hours', 'giorni lavorativi')).chain(([a, b, u]) =>
    fc.constantFrom(`${a}-${a + b} ${u}`, `${a}–${a + b} ${u}`, `${a}/${a + b} ${u}`),
  ),
  // years
  fc.integer({ min: 1990, max: 2030 }).chain((y) => fc.constantFrom(`nel ${y}`, `${y}`, `since ${y}`)),
  // percentages
  fc.integer({ min: 1, max: 100 }).chain((p) => fc.constantFrom(`${p}%`, `${p} %`, `-${p}%`)),
  // product codes and short numbers
  fc.tuple(fc.integer({ min: 1, max: 99 }), letters(1), digits(4), digits(10)).chain(([n, l, d4, d10]) =>
    fc.constantFrom(`SKU ${n}-${l}`, `art. ${d4}`, `modello XR-${n}`, `codice prodotto ${l}${d4}`, `EAN 80${d10}0`, `taglia ${n}`, `n. ${n}`, `${n}`, `product code ${l}-${d4}`),
  ),
);

// ───────────────────────────── sentences ─────────────────────────────

/** Sentences of customers in Italian and English; {v} and {x} are two slots, always with words between them. */
export const FRAMES = [
  'ciao, {v} grazie mille per {x}',
  'buongiorno! {x} — vi lascio {v}, fatemi sapere',
  'il pacco da {x} non è arrivato: {v}',
  '{v} è il mio, e l\'ordine costava {x}',
  'vi scrivo ({v}) perché {x} sono troppi',
  'salve, {v}. Consegna prevista {x}?',
  'RIMBORSATEMI {x} SUBITO!!! {v}',
  'hi, {v} thanks, about the {x} thing',
  'my parcel ({x}) never arrived: {v}',
  '{v} is mine, the price was {x}',
  'please reach me at {v} about the {x} item',
  'hello! {x} and I wrote {v}. any news?',
];

/** A sentence with `v` (between `lead` and `tail`) in slot {v} and `x` in slot {x}; returns where `v` starts. */
export function compose(frame: string, lead: string, v: string, x: string, tail = ''): { text: string; start: number } {
  const [before, after] = frame.split('{v}') as [string, string];
  const prefix = (before + lead).replace('{x}', x);
  return { text: prefix + v + tail + after.replace('{x}', x), start: prefix.length };
}
