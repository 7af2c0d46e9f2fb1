import twitterText from 'twitter-text';
import type { FaqEntry } from '../../src/core/corpus.js';
import type { ChannelCapabilities } from '../../src/core/ports.js';
import { clarifyOptions, fitAnswer, splitIntoThread } from '../../src/corpus/fit.js';
import { loadCorpus } from '../../src/corpus/load.js';
import { SAMPLE_FAQ, SAMPLE_INTENTS } from './helpers.js';

const weighted = (text: string) => twitterText.parseTweet(text).weightedLength;

/** Capabilities like X's: 280 weighted characters in public, threads of up to 3. */
const xCaps: ChannelCapabilities = {
  publicReplies: true,
  privateMessages: true,
  maxLength: { public: 280, private: 10000 },
  measure: weighted,
  quickReplies: 0,
  signsPublicReplies: true,
  maxThread: 3,
};

/** Capabilities like Messenger's: 2,000 characters, one message, 13 quick replies. */
const messengerCaps: ChannelCapabilities = {
  publicReplies: false,
  privateMessages: true,
  maxLength: { public: 2000, private: 2000 },
  measure: (text) => text.length,
  quickReplies: 13,
  signsPublicReplies: false,
  maxThread: 1,
};

function entry(answer: string, answer_short?: string): FaqEntry {
  return { id: 'test', locale: 'it', questions: ['domanda?'], answer, answer_short, private: false, escalate: false, tags: [], file: 'test.yaml' };
}

const sentence = (n: number) => `Questa è la frase numero ${n} della risposta, scritta apposta per essere lunga.`;
const sentences = (count: number) => Array.from({ length: count }, (_, i) => sentence(i + 1)).join(' ');

describe('fitting an answer to a channel', () => {
  it('sends an answer that fits as it is', () => {
    expect(fitAnswer(entry('Lun-ven 9-18.'), xCaps, 'public')).toEqual(['Lun-ven 9-18.']);
  });

  it('uses answer_short on X when the answer is over 280 weighted characters', () => {
    const long = sentences(5);
    expect(weighted(long)).toBeGreaterThan(280);
    expect(fitAnswer(entry(long, 'Versione breve.'), xCaps, 'public')).toEqual(['Versione breve.']);
  });

  it('keeps the full answer in private on X, where the limit is wider', () => {
    const long = sentences(5);
    expect(fitAnswer(entry(long, 'Versione breve.'), xCaps, 'private')).toEqual([long]);
  });

  it('splits a long answer without answer_short into a numbered thread at sentence boundaries', () => {
    const long = sentences(5);
    const posts = fitAnswer(entry(long), xCaps, 'public');
    expect(posts.length).toBe(2);
    posts.forEach((post, i) => {
      expect(post.startsWith(`${i + 1}/2 `)).toBe(true);
      expect(weighted(post)).toBeLessThanOrEqual(280);
      expect(post).toMatch(/\.$/);
    });
    expect(posts.map((p) => p.replace(/^\d+\/\d+ /, '')).join(' ')).toBe(long);
  });

  it('counts like X does: CJK characters weigh two, so a 200-character answer needs a thread', () => {
    const cjk = '我们的商店周一至周五营业。'.repeat(16).slice(0, 200);
    expect(cjk.length).toBe(200);
    const posts = fitAnswer(entry(cjk), xCaps, 'public');
    expect(posts.length).toBe(2);
    for (const post of posts) expect(weighted(post)).toBeLessThanOrEqual(280);
  });

  it('counts a link as 23 characters, so a long URL does not force a thread', () => {
    const answer = `Trovi tutte le misure nella guida alle taglie: https://www.example.com/${'guida/'.repeat(30)}taglie ${'e '.repeat(60)}fine.`;
    expect(answer.length).toBeGreaterThan(280);
    expect(weighted(answer)).toBeLessThanOrEqual(280);
    expect(fitAnswer(entry(answer), xCaps, 'public')).toEqual([answer]);
  });

  it('never goes beyond 3 posts on X: the last one is truncated with an ellipsis', () => {
    const long = sentences(30);
    const posts = fitAnswer(entry(long), xCaps, 'public');
    expect(posts).toHaveLength(3);
    posts.forEach((post, i) => {
      expect(post.startsWith(`${i + 1}/3 `)).toBe(true);
      expect(weighted(post)).toBeLessThanOrEqual(280);
    });
    expect(posts[2]).toMatch(/…$/);
  });

  it('falls back to words, then characters, when one sentence is longer than a post', () => {
    const words = Array.from({ length: 80 }, (_, i) => `parola${i}`).join(' ');
    const posts = splitIntoThread(words, 280, 3, weighted);
    expect(posts.length).toBe(3);
    for (const post of posts) expect(weighted(post)).toBeLessThanOrEqual(280);
    expect(posts.map((p) => p.replace(/^\d+\/\d+ /, '')).join(' ')).toBe(words);
    const giant = 'x'.repeat(600);
    const cut = splitIntoThread(giant, 280, 3, weighted);
    for (const post of cut) expect(weighted(post)).toBeLessThanOrEqual(280);
    expect(cut.map((p) => p.replace(/^\d+\/\d+ /, '')).join('')).toBe(giant);
  });

  it('sends up to 2,000 characters as one Messenger message and truncates beyond', () => {
    const fits = 'a '.repeat(990) + 'fine.';
    expect(fitAnswer(entry(fits), messengerCaps, 'private')).toEqual([fits]);
    const tooLong = sentences(40);
    expect(tooLong.length).toBeGreaterThan(2000);
    const [only, ...rest] = fitAnswer(entry(tooLong), messengerCaps, 'private');
    expect(rest).toEqual([]);
    expect(only!.length).toBeLessThanOrEqual(2000);
    expect(only).toMatch(/…$/);
    expect(tooLong.startsWith(only!.slice(0, -1))).toBe(true);
  });

  it('fits every answer of the sample corpus on X within its limit', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    for (const e of corpus.faq) {
      const posts = fitAnswer(e, xCaps, 'public');
      expect(posts).toHaveLength(1); // the sample has answer_short wherever needed
      expect(weighted(posts[0]!)).toBeLessThanOrEqual(280);
    }
  });
});

describe('clarify options', () => {
  it('offers the best guesses of the customer language as quick replies of at most 20 characters', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    const ranked = [
      { label: 'faq:tempi-spedizione', confidence: 0.4 },
      { label: 'intent:greeting', confidence: 0.3 },
      { label: 'faq:shipping-times', confidence: 0.2 },
      { label: 'faq:spedizione-express', confidence: 0.2 },
      { label: 'faq:resi', confidence: 0.1 },
      { label: 'faq:orari-apertura', confidence: 0.1 },
    ];
    const options = clarifyOptions(ranked, corpus, 3, 'it');
    expect(options.map((o) => o.payload)).toEqual(['faq:tempi-spedizione', 'faq:spedizione-express', 'faq:resi']);
    for (const o of options) {
      expect(o.title.length).toBeGreaterThan(0);
      expect(Array.from(o.title).length).toBeLessThanOrEqual(20);
    }
    expect(clarifyOptions(['faq:resi', 'faq:returns'], corpus, messengerCaps.quickReplies, 'en')).toEqual([{ title: 'Returns', payload: 'faq:returns' }]);
    expect(options[0]).toEqual({ title: 'Tempi spedizione', payload: 'faq:tempi-spedizione' });
  });

  it('offers nothing on a channel without quick replies', async () => {
    const corpus = await loadCorpus({ faqDir: SAMPLE_FAQ, intentsDir: SAMPLE_INTENTS });
    expect(clarifyOptions([{ label: 'faq:resi', confidence: 0.4 }], corpus, xCaps.quickReplies, 'it')).toEqual([]);
  });
});
