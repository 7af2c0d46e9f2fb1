/**
 * @module handoff/public-guard
 * Private data never goes public, an operator's reply included: a public reply is checked before
 * it is written. Order numbers, payment cards, codici fiscali and customer codes are a customer's
 * whoever writes them, and are never written in public. Emails, phones and IBANs may be the
 * brand's own (assistenza@brand.it, the IBAN for bank transfers): they are refused when they are
 * the customer's, i.e. when the customer wrote them in one of their conversations.
 */
import { detectEntities } from '../classifier/entities.js';
import type { Entity } from '../core/ports.js';

/** Kinds that are always somebody's own. */
const ALWAYS_PRIVATE: ReadonlySet<Entity['kind']> = new Set(['order_number', 'card', 'codice_fiscale', 'customer_code']);
/** Kinds refused when the customer gave them. */
const THE_CUSTOMERS: ReadonlySet<Entity['kind']> = new Set(['email', 'phone', 'iban']);

/** How each kind is named to the operator (never its value). */
const NAMES: Record<string, string> = {
  email: 'email address',
  phone: 'phone number',
  iban: 'IBAN',
  card: 'card number',
  codice_fiscale: 'codice fiscale',
  order_number: 'order number',
  customer_code: 'customer code',
};

/** A public reply refused because it holds private data (422; the kinds, never the values). */
export class PrivateDataInPublicError extends Error {
  readonly statusCode = 422;
  constructor(readonly kinds: readonly string[]) {
    super(
      `this public reply contains the customer's ${kinds.map((k) => NAMES[k] ?? k).join(', ')}: private data is never written in public. Remove it, or reply in private. Nothing was sent.`,
    );
  }
}

/** A value as compared: emails without case, numbers and IBANs by their letters and digits. */
function comparable(e: Entity): string {
  if (e.kind === 'email') return e.value.toLowerCase();
  if (e.kind === 'phone') return e.value.replace(/\D/g, '');
  return e.value.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

/** Two phones are one when the longer ends with the shorter (a country prefix or not), 8 digits at least. */
function samePhone(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 8 && long.endsWith(short);
}

/**
 * The private kinds in `text` that may not go out in public (empty: it may). `customerTexts`
 * gives what the customer wrote (read only when the reply holds an email, phone or IBAN).
 */
export async function privateDataInPublic(
  text: string,
  customerTexts: () => Promise<readonly string[]>,
  options: { orderNumberPattern?: string } = {},
): Promise<string[]> {
  const entityOptions = options.orderNumberPattern ? { orderNumberPattern: options.orderNumberPattern } : {};
  const found = detectEntities(text, entityOptions).filter((e) => e.private);
  const kinds = new Set<string>(found.filter((e) => ALWAYS_PRIVATE.has(e.kind)).map((e) => e.kind));
  const maybe = found.filter((e) => THE_CUSTOMERS.has(e.kind));
  if (maybe.length > 0) {
    const given = (await customerTexts()).flatMap((t) => detectEntities(t, entityOptions).filter((e) => THE_CUSTOMERS.has(e.kind)));
    for (const e of maybe) {
      const value = comparable(e);
      const theirs = given.some((g) => g.kind === e.kind && (e.kind === 'phone' ? samePhone(comparable(g), value) : comparable(g) === value));
      if (theirs) kinds.add(e.kind);
    }
  }
  return [...kinds];
}
