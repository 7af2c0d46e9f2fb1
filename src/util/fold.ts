/**
 * @module util/fold
 * Text folded for matching: lower case without accents, so "perché" finds "perche" and "Perché"
 * (the desk's search in both stores, and the saved replies' "/" search).
 */

/** Letters (any script) and digits: everything else separates words. */
const WORD = /[\p{L}\p{N}]+/gu;

/** Lower case without accents (NFD, combining marks dropped). */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** The distinct folded words of a text. */
export function searchWords(text: string): string[] {
  return [...new Set(foldText(text).match(WORD) ?? [])];
}

/** The words of a desk search (at most 12, each at most 64 characters): what every store matches as word starts. */
export function queryWords(text: string | undefined): string[] {
  if (text === undefined) return [];
  return searchWords(text)
    .map((w) => w.slice(0, 64))
    .slice(0, 12);
}
