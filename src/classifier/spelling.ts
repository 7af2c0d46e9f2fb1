/**
 * @module classifier/spelling
 * Misspelt words read as the corpus word they were meant to be: a word whose stem the model never
 * saw ("oder", «ordne», «spedizone») that is one edit (a letter missing, added or changed, or two
 * letters swapped: Damerau's edits) from a word of the training examples in the same language is
 * replaced by that word before its features are built (model.ts, at classification), so stems and
 * character n-grams both come from "order", «ordine», «spedizione». Only unknown words are looked
 * at; known ones cost one vocabulary look-up. Accents are folded first ("perche" is "perché").
 *
 * The edit must look like a slip of the fingers, not another word (`slip`): the first letter
 * right, a changed letter a key next to the right one, an added letter doubled or next to a
 * neighbour, nothing changed in the ending. Never corrected: words with digits or other signs
 * (codes, amounts; private data is masked before, mask.ts), words shorter than four letters (a
 * three-letter word is one edit from dozens), a four-letter word except for a letter missing
 * ("oder" → "order"), and English words compromise's lexicon knows (model.ts, normalise.ts
 * `isEnglishWord`: "sell" is not "spell"). Several corpus words one edit away: the one in the most
 * training examples, when it is in more than each of the others; otherwise none.
 * Measured in bench/nlu/notes.md (twentieth session).
 */
import { fold } from './normalise.js';

/** Known words of one language: each word (lower case, as `words` gives it) to the number of training examples it is in. */
export type KnownWords = ReadonlyMap<string, number>;

/** Typed words shorter than this are never corrected. */
export const SPELL_MIN_LENGTH = 4;
/** Typed words shorter than this are corrected only for a missing letter. */
const SPELL_ANY_EDIT_LENGTH = 5;
/** Letters only (any script's), as a customer's words are: nothing with digits, apostrophes or signs. */
const LETTERS = /^\p{L}+$/u;

/** The word with each letter left out in turn. */
function deletions(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
}

/**
 * True when `a` and `b` are one Damerau edit apart (optimal string alignment): one letter
 * inserted, deleted or substituted, or two adjacent letters swapped. Equal words are not.
 */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b) return false;
  const la = a.length;
  const lb = b.length;
  if (la - lb > 1 || lb - la > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** Rows of the keyboard (QWERTY, as Italian keyboards are too), each shifted half a key right of the one above. */
const ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm'];
/** Each letter to the letters of the keys around it. */
const AROUND: ReadonlyMap<string, string> = (() => {
  const around = new Map<string, string>();
  ROWS.forEach((row, r) => {
    for (let i = 0; i < row.length; i++) {
      const near = [row[i - 1], row[i + 1], ROWS[r - 1]?.[i], ROWS[r - 1]?.[i + 1], ROWS[r + 1]?.[i - 1], ROWS[r + 1]?.[i]];
      around.set(row[i]!, near.filter((c): c is string => c !== undefined).join(''));
    }
  });
  return around;
})();
const nextTo = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && (a === b || (AROUND.get(a)?.includes(b) ?? false));

/**
 * True when `typed`, one edit from `meant` (`oneEditApart`), is the kind of slip a fast typist
 * makes rather than another word: the first letter right (typists rarely miss it; «conto» is not
 * «sconto», "gmail" not "email"); a letter changed only for the key next to it ("white" is not
 * "write", "tiles" not "times"), and not in the last two letters (Italian endings: «aprite» is not
 * «aprire», «avete» not «avere»); a letter added only doubled or next to a neighbour's key
 * («resso», "hirring"), not last; a letter missing anywhere but last ("story" is not "store",
 * "german" not "germany"); two letters swapped anywhere but first («rotot», "declinde").
 */
export function slip(typed: string, meant: string): boolean {
  if (typed[0] !== meant[0]) return false;
  let i = 0;
  while (i < typed.length && i < meant.length && typed[i] === meant[i]) i++;
  if (typed.length === meant.length) {
    if (i + 1 < typed.length && typed[i] === meant[i + 1] && typed[i + 1] === meant[i]) return true;
    return i < typed.length - 2 && nextTo(typed[i], meant[i]);
  }
  if (typed.length > meant.length) {
    // typed[i] is the letter added: not at the end, next to (or the same as) a letter beside it.
    if (i >= typed.length - 1) return false;
    return nextTo(typed[i], typed[i - 1]) || nextTo(typed[i], typed[i + 1]);
  }
  // meant[i] is the letter missing: anywhere but last.
  return i < meant.length - 1;
}

/** A corrector over one language's known words: `correct(word)` gives the word meant, or undefined. */
export interface Speller {
  correct(word: string): string | undefined;
}

/**
 * Builds the look-up over known words (symmetric deletion: each folded word and its one-letter
 * deletions to the words they come from), a few dozen milliseconds for ten thousand words.
 */
export function createSpeller(known: KnownWords): Speller {
  /** Folded word → the written form seen most often and the examples it is in (accented forms together). */
  const byFolded = new Map<string, { word: string; count: number; best: number }>();
  for (const [word, count] of known) {
    if (!LETTERS.test(word)) continue;
    const f = fold(word);
    if (f.length < SPELL_MIN_LENGTH) continue;
    const seen = byFolded.get(f);
    if (!seen) byFolded.set(f, { word, count, best: count });
    else {
      if (count > seen.best) {
        seen.word = word;
        seen.best = count;
      }
      seen.count += count;
    }
  }
  const index = new Map<string, string[]>();
  const add = (key: string, f: string) => {
    const list = index.get(key);
    if (!list) index.set(key, [f]);
    else if (list[list.length - 1] !== f) list.push(f);
  };
  for (const f of byFolded.keys()) {
    add(f, f);
    for (const d of deletions(f)) add(d, f);
  }

  function correct(word: string): string | undefined {
    if (word.length < SPELL_MIN_LENGTH || !LETTERS.test(word)) return undefined;
    const f = fold(word);
    if (f.length < SPELL_MIN_LENGTH) return undefined;
    // Only its accents differ from a known word's.
    const same = byFolded.get(f);
    if (same) return same.word === word ? undefined : same.word;
    const shortWord = f.length < SPELL_ANY_EDIT_LENGTH;
    let best: { word: string; count: number } | undefined;
    let tied = false;
    const seen = new Set<string>();
    for (const key of [f, ...deletions(f)]) {
      for (const candidate of index.get(key) ?? []) {
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        if (shortWord && candidate.length !== f.length + 1) continue;
        if (!oneEditApart(f, candidate)) continue;
        if (!slip(f, candidate)) continue;
        const entry = byFolded.get(candidate)!;
        if (!best || entry.count > best.count) {
          best = entry;
          tied = false;
        } else if (entry.count === best.count) tied = true;
      }
    }
    return best && !tied ? best.word : undefined;
  }

  return { correct };
}
