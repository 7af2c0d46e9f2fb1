/**
 * @module storage/postgres/words
 * The desk search's words of a message or a customer, as the shared store writes them (migration
 * 12): the folded words of its text (a customer: name and handle) (util/fold.ts `searchWords`, the same fold as the query's words),
 * separated by spaces, for `array_to_tsvector(string_to_array(…, ' '))`. A word longer than
 * PostgreSQL takes in a tsvector (2,047 bytes) is left out, as its text parser leaves it out.
 */
import { searchWords } from '../../util/fold.js';

const MAX_WORD_BYTES = 2047;

/** The text's search words, separated by spaces ('' for none). */
export function messageWords(text: string | undefined): string {
  if (!text) return '';
  const words = searchWords(text);
  // A word is letters and digits only (no space); at most 4 bytes a character in UTF-8.
  return (words.some((w) => w.length * 4 > MAX_WORD_BYTES) ? words.filter((w) => Buffer.byteLength(w, 'utf8') <= MAX_WORD_BYTES) : words).join(' ');
}

/** A customer's search words: their name and handle. */
export function customerWords(customer: { name?: string; handle?: string }): string {
  return messageWords(`${customer.name ?? ''} ${customer.handle ?? ''}`);
}
