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
