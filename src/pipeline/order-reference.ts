/**
 * @module pipeline/order-reference
 * An order number and nothing else as the customer's message ("AB123456", "ordine 4455667",
 * "BR-123456 grazie"): the customer wants that order looked at. Read whole, there is nothing to
 * understand (a code), or one word that leans anywhere ("ordine" alone leaned on cancelling, at
 * 0.97); so the message is understood as the question of where the order is, asked in its
 * language, and the FAQ entry that answers it (the brand's: it asks for the order number) takes
 * the number as the detail given. The number itself is never read into the question.
 */
import type { Entity } from '../core/ports.js';
import type { Language } from '../core/types.js';

/** The question an order number alone asks. */
export const ORDER_QUESTION: Record<Language, string> = {
  it: "Dov'è il mio ordine?",
  en: 'Where is my order?',
};

/** Words that may stand beside an order number in a message that is only that number. */
const BESIDE = new Set([
  // the order, named
  'ordine', 'ordinazione', 'order', 'numero', 'number', 'num', 'n', 'nr', 'no', 'nº', 'codice', 'code', 'id',
  'il', 'mio', 'del', 'dell', 'di', 'd', 'è', 'e', 'ecco', 'my', 'the', 'is', 'it', 's', 'its', 'here', 'of',
  // greetings and courtesies
  'ciao', 'salve', 'buongiorno', 'buonasera', 'hi', 'hello', 'hey', 'grazie', 'thanks', 'thx', 'please', 'pls', 'per', 'favore',
]);

/**
 * True when the message is one order number (an `order_number` entity) with at most the words that
 * name it or greet ("ordine n. 4455667", "@brand AB123456", "hi, order BR-123456 please"), and no
 * other data: nothing but the number to act on.
 */
export function onlyOrderReference(text: string, entities: readonly Entity[]): boolean {
  const privateOnes = entities.filter((e) => e.private);
  if (privateOnes.length !== 1 || privateOnes[0]!.kind !== 'order_number' || text.length > 100) return false;
  const order = privateOnes[0]!;
  const rest = `${text.slice(0, order.start)} ${text.slice(order.end)}`.replace(/(?:^|\s)@\w+/g, ' ');
  const words = rest.toLowerCase().match(/[\p{L}\p{N}º]+/gu) ?? [];
  return words.length <= 6 && words.every((w) => BESIDE.has(w));
}

/** Words that ask where an order is or when it comes: "quando arriva", "when will it arrive", "tracking". */
const WHEREABOUTS: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?:arriv\p{L}*|consegn\p{L}*|spedit\p{L}*|spedizion\p{L}*|partit\p{L}*|traccia\p{L}*|tracking|dov['’]?\s*è|dove|quando|a che punto|stato)(?![\p{L}])/iu,
  en: /\b(?:arriv\w*|deliver\w*|ship(?:ped|ping)?|dispatch\w*|track\w*|where|when|status)\b/i,
};

/**
 * True when the message carries an order number and asks where that order is or when it comes
 * ("hi, my order number is BR-1122334, can you tell me when it arrives?", "order BR-1122334, when
 * will it arrive?"). With the number taken out what is left ("can you tell me when it arrives?")
 * says too little: read alone it was off topic.
 */
export function asksAboutGivenOrder(text: string, entities: readonly Entity[], language: Language): boolean {
  if (!entities.some((e) => e.private && e.kind === 'order_number')) return false;
  return WHEREABOUTS[language].test(withoutData(text, entities));
}

/** Words of an order on its way: "arriva", "consegnato", "shipped", "tracking" (not "dove" or "when" alone). */
const ON_ITS_WAY: Record<Language, RegExp> = {
  it: /(?<![\p{L}])(?:arriv\p{L}*|consegn\p{L}*|spedit\p{L}*|partit\p{L}*|traccia\p{L}*|tracking)(?![\p{L}])/iu,
  en: /\b(?:arriv\w*|deliver\w*|shipped|dispatch\w*|track\w*)\b/i,
};

/**
 * True when the message carries an order number and speaks of it on its way ("order BR-1122334,
 * when will it arrive?"): an entry that takes no order number found for it ("when will it arrive?"
 * read as a sold-out item's restock) is not what it asks.
 */
export function givenOrderOnItsWay(text: string, entities: readonly Entity[], language: Language): boolean {
  return entities.some((e) => e.private && e.kind === 'order_number') && ON_ITS_WAY[language].test(withoutData(text, entities));
}

/** The text with every private datum taken out (nothing of it is read into a question). */
export function withoutData(text: string, entities: readonly Entity[]): string {
  let out = text;
  for (const e of [...entities].filter((x) => x.private).sort((a, b) => b.start - a.start)) out = `${out.slice(0, e.start)} ${out.slice(e.end)}`;
  return out.replace(/\s+/g, ' ').trim();
}
