/**
 * @module storage/desk-records
 * What both stores share for the desk's ports (issue 21): how text is cut into search words
 * (case and accents folded, so "perché" finds "perche" and "Perché"), how tags are normalised,
 * and the empty customer file. Search words match as word starts: "fattur" finds "fattura" and
 * "fatture" (Italian and English alike, without a stemmer that would know only one of them).
 */
import { StoreError } from '../core/errors.js';
import type { CustomerFile } from '../core/types.js';
import { searchWords } from '../util/fold.js';

export { foldText, queryWords, searchWords } from '../util/fold.js';

/** How many of the query `words` start a word of `text` (folded as the search folds). */
export function wordsFound(text: string, words: readonly string[]): number {
  const own = searchWords(text);
  return words.filter((w) => own.some((o) => o.startsWith(w))).length;
}

/** The message holding the most query words, the latest of equals; undefined when none holds any. */
export function matchingMessage<M extends { text: string; at: string }>(messages: Iterable<M>, words: readonly string[]): M | undefined {
  let best: M | undefined;
  let bestCount = 0;
  for (const m of messages) {
    const n = wordsFound(m.text, words);
    if (n > bestCount || (n > 0 && n === bestCount && best !== undefined && Date.parse(m.at) >= Date.parse(best.at))) {
      best = m;
      bestCount = n;
    }
  }
  return best;
}

/** Tags as stored: trimmed, lower-case, unique, sorted; empty ones dropped. */
export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0))].sort();
}

/** The file of a customer nothing was kept on yet. */
export function emptyCustomerFile(customerId: string): CustomerFile {
  return { customerId, tags: [], notes: [], links: [], updatedAt: new Date(0).toISOString() };
}

/** A record cannot be linked to itself. */
export function checkLink(a: string, b: string): void {
  if (a === b) throw new StoreError(`a customer record cannot be linked to itself (${a})`);
}
