/**
 * @module channels/twitter/text
 * X's length rules: 280 weighted characters per post (twitter-text v3: CJK and emoji weigh
 * double, every URL counts 23), and the numbered thread used when a text still does not fit.
 */
import { createRequire } from 'node:module';
import type TwitterText from 'twitter-text';
import type { QuickReplyOption, Reply } from '../../core/types.js';

let twitterText: typeof TwitterText | undefined;
/**
 * twitter-text, loaded when a post is first measured (about 75 ms of CPU: a start with X off
 * never pays it), through `require`: a CommonJS package, the same module an import gives.
 */
function twitter(): typeof TwitterText {
  return (twitterText ??= createRequire(import.meta.url)('twitter-text') as typeof TwitterText);
}

/** Longest post, in weighted characters. */
export const MAX_POST = 280;
/** Longest DM text. */
export const MAX_DM = 10_000;

/** The weighted length X counts for a post. */
export function weightedLength(text: string): number {
  return twitter().parseTweet(text).weightedLength;
}

/** The text of any reply kind; quick-reply options become a list (X v2 DMs have no buttons). */
export function replyText(reply: Reply): string {
  if (reply.kind === 'quick_replies' && reply.options.length > 0) {
    return `${reply.text}\n${reply.options.map((o: QuickReplyOption) => `• ${o.title}`).join('\n')}`;
  }
  return reply.text;
}

/** Cuts one word that alone is too long into pieces that fit. */
function cutWord(word: string, fits: (s: string) => boolean): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const ch of word) {
    if (current !== '' && !fits(current + ch)) {
      pieces.push(current);
      current = '';
    }
    current += ch;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

/**
 * Splits `text` into posts that each measure at most `max`: the text itself when it fits,
 * otherwise word-packed parts numbered "1/3 ", "2/3 ", … (the safety net behind the pipeline's
 * own fitting).
 */
export function splitForThread(text: string, max: number, measure: (s: string) => number = weightedLength): string[] {
  const clean = text.trim();
  if (measure(clean) <= max) return [clean];
  const reserve = '99/99 ';
  const fits = (s: string) => measure(reserve + s) <= max;
  const words = clean.split(/\s+/).flatMap((w) => (fits(w) ? [w] : cutWord(w, fits)));
  const bodies: string[] = [];
  let current = '';
  for (const word of words) {
    const next = current === '' ? word : `${current} ${word}`;
    if (fits(next)) current = next;
    else {
      bodies.push(current);
      current = word;
    }
  }
  if (current !== '') bodies.push(current);
  return bodies.map((b, i) => `${i + 1}/${bodies.length} ${b}`);
}

/** Splits a DM longer than X allows into pieces at whitespace. */
export function splitDm(text: string, max = MAX_DM): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = Math.max(rest.lastIndexOf(' ', max), rest.lastIndexOf('\n', max));
    if (cut < max / 2) cut = max;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') parts.push(rest);
  return parts;
}
