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

export { foldText, searchWords } from '../util/fold.js';

/** The words of a query (at most 12, each at most 64 characters): what every store matches as word starts. */
export function queryWords(text: string | undefined): string[] {
  if (text === undefined) return [];
  return searchWords(text)
    .map((w) => w.slice(0, 64))
    .slice(0, 12);
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
