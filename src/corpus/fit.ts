/**
 * @module corpus/fit
 * Fits an FAQ answer to a channel: the full answer when it fits, else `answer_short`, else a
 * numbered thread ("1/2 …") split at sentence and word boundaries, else a truncated thread.
 * Every length is measured with the channel's own `measure` (X: twitter-text weighted length).
 */
import { faqLabel, type Corpus, type FaqEntry } from '../core/corpus.js';
import type { ChannelCapabilities, LabelScore } from '../core/ports.js';
import type { Language, QuickReplyOption, Visibility } from '../core/types.js';

/** The ellipsis appended to a truncated post. */
export const ELLIPSIS = '…';
/** Longest quick-reply title (Messenger's limit). */
export const MAX_QUICK_REPLY_TITLE = 20;

type Measure = (text: string) => number;

/** Splits text into sentences, keeping their punctuation. */
function sentences(text: string): string[] {
  return text
    .trim()
    .split(/(?<=[.!?…;])\s+/u)
    .filter((s) => s.length > 0);
}

/** Cuts `text` to the longest word-boundary prefix that, followed by an ellipsis, fits `max`. */
export function truncateToFit(text: string, max: number, measure: Measure, prefix = ''): string {
  const whole = prefix + text;
  if (measure(whole) <= max) return whole;
  const words = text.split(/\s+/u).filter(Boolean);
  let lo = 0;
  let hi = words.length;
  // Largest k such that prefix + first k words + ellipsis fits.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${prefix}${words.slice(0, mid).join(' ')}${ELLIPSIS}`) <= max) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) return `${prefix}${words.slice(0, lo).join(' ').replace(/[\s,;:.]+$/u, '')}${ELLIPSIS}`;
  // Not even one word fits: cut by code points.
  const chars = Array.from(text);
  let n = chars.length;
  while (n > 0 && measure(`${prefix}${chars.slice(0, n).join('')}${ELLIPSIS}`) > max) n--;
  return `${prefix}${chars.slice(0, n).join('')}${ELLIPSIS}`;
}

/** Breaks a piece that alone does not fit into word chunks that do (long words cut by characters). */
function breakPiece(piece: string, fits: (s: string) => boolean): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of piece.split(/\s+/u).filter(Boolean)) {
    const candidate = current ? `${current} ${word}` : word;
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current) out.push(current);
    if (fits(word)) {
      current = word;
      continue;
    }
    // A single word longer than a post: cut it by characters.
    let rest = Array.from(word);
    current = '';
    while (rest.length > 0) {
      let n = rest.length;
      while (n > 1 && !fits(rest.slice(0, n).join(''))) n--;
      const chunk = rest.slice(0, n).join('');
      rest = rest.slice(n);
      if (rest.length > 0) out.push(chunk);
      else current = chunk;
    }
  }
  if (current) out.push(current);
  return out;
}

/**
 * Greedily packs the text into bodies that each fit `fits` (sentences first, then words);
 * undefined as soon as more than `limit` are needed.
 */
function packBodies(text: string, fits: (body: string) => boolean, limit: number): string[] | undefined {
  const bodies: string[] = [];
  let current = '';
  for (const sentence of sentences(text)) {
    const candidate = current ? `${current} ${sentence}` : sentence;
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current) bodies.push(current);
    current = '';
    if (fits(sentence)) {
      current = sentence;
    } else {
      const chunks = breakPiece(sentence, fits);
      bodies.push(...chunks.slice(0, -1));
      current = chunks[chunks.length - 1] ?? '';
    }
    if (bodies.length > limit) return undefined;
  }
  if (current) bodies.push(current);
  return bodies.length > limit ? undefined : bodies;
}

const threadPrefix = (i: number, count: number): string => `${i}/${count} `;

/**
 * Splits `text` into a numbered thread of at most `maxThread` posts that each fit `max`; when
 * even that is not enough, the last post is truncated with an ellipsis.
 */
export function splitIntoThread(text: string, max: number, maxThread: number, measure: Measure): string[] {
  const clean = text.trim().replace(/\s+/gu, ' ');
  if (measure(clean) <= max) return [clean];
  if (maxThread <= 1) return [truncateToFit(clean, max, measure)];
  for (let count = 2; count <= maxThread; count++) {
    // Every body must fit after the widest prefix of this count ("3/3 "); fewer posts only narrow it.
    const widest = threadPrefix(count, count);
    const bodies = packBodies(clean, (body) => measure(widest + body) <= max, count);
    if (bodies) return bodies.map((body, i) => threadPrefix(i + 1, bodies.length) + body);
  }
  // Too long for the whole thread: fill maxThread - 1 posts, then truncate the rest into the last.
  const count = maxThread;
  const fits = (body: string) => measure(threadPrefix(count, count) + body) <= max;
  const posts: string[] = [];
  let rest = clean;
  for (let i = 1; i < count; i++) {
    const body = takeFitting(rest, fits);
    posts.push(threadPrefix(i, count) + body);
    rest = rest.slice(body.length).trim();
  }
  posts.push(truncateToFit(rest, max, measure, threadPrefix(count, count)));
  return posts;
}

/** The longest run of whole sentences (else words) at the start of `text` that fits. */
function takeFitting(text: string, fits: (s: string) => boolean): string {
  let taken = '';
  for (const sentence of sentences(text)) {
    const candidate = taken ? `${taken} ${sentence}` : sentence;
    if (!fits(candidate)) break;
    taken = candidate;
  }
  if (taken) return taken;
  return breakPiece(text, fits)[0] ?? '';
}

/**
 * The posts to send for an FAQ entry on a channel: the answer if it fits, else `answer_short`
 * if it fits, else a numbered thread of at most `caps.maxThread` posts (truncated if need be).
 */
export function fitAnswer(entry: FaqEntry, caps: ChannelCapabilities, visibility: Visibility): string[] {
  const max = caps.maxLength[visibility];
  const answer = entry.answer.trim();
  if (caps.measure(answer) <= max) return [answer];
  const short = entry.answer_short?.trim();
  if (short && caps.measure(short) <= max) return [short];
  return splitIntoThread(answer, max, Math.max(1, caps.maxThread), caps.measure);
}

/**
 * A quick-reply title of at most 20 characters for an FAQ entry: its id in words
 * ("spedizione-express" → "Spedizione express"), else its shortest question that fits,
 * else the id in words, cut with an ellipsis.
 */
export function entryTitle(entry: FaqEntry): string {
  const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const fromId = capitalise(entry.id.replace(/-+/gu, ' '));
  if (Array.from(fromId).length <= MAX_QUICK_REPLY_TITLE) return fromId;
  const question = entry.questions
    .map((q) => q.trim())
    .filter((q) => Array.from(q).length <= MAX_QUICK_REPLY_TITLE)
    .sort((a, b) => a.length - b.length)[0];
  if (question) return capitalise(question);
  return truncateToFit(fromId, MAX_QUICK_REPLY_TITLE, (s) => Array.from(s).length);
}

/**
 * Options for a clarify turn: the best-ranked FAQ entries in the customer's language (labels or
 * ranked guesses, best first), at most `max` (a channel's quick replies, or the few named in the
 * text where it has none), each titled in ≤ 20 characters, payload = the label.
 */
export function clarifyOptions(
  ranked: readonly (LabelScore | string)[],
  corpus: Corpus,
  max: number,
  language: Language,
): QuickReplyOption[] {
  if (max <= 0) return [];
  const byLabel = new Map<string, FaqEntry>(corpus.faq.map((e) => [faqLabel(e.id), e]));
  const options: QuickReplyOption[] = [];
  const titles = new Set<string>();
  for (const guess of ranked) {
    if (options.length >= max) break;
    const label = typeof guess === 'string' ? guess : guess.label;
    const entry = byLabel.get(label);
    if (!entry || entry.locale !== language) continue;
    const title = entryTitle(entry);
    if (titles.has(title.toLowerCase())) continue;
    titles.add(title.toLowerCase());
    options.push({ title, payload: label });
  }
  return options;
}
