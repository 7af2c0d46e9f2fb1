/**
 * Misspelt words understood: a word the model never saw that is one edit from a training word of
 * its language is read as that word (classifier/spelling.ts), for its stem and its character n-grams.
 * Trained on the sample corpus as the server trains it; the mistyped questions of
 * tests/classifier/fixtures/typos.yaml are never trained on.
 * Measured when written (bench/nlu/exp/typos.ts): 52 of 53 right at ≥ 0.5 (42 of 53 without the
 * correction); the `misspelt` questions of off-topic.yaml 28 of 30 (21 without).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { createClassifier } from '../../src/classifier/index.js';
import { createSpeller, oneEditApart, slip } from '../../src/classifier/spelling.js';
import type { Understander } from '../../src/core/ports.js';
import { corpusToExamples, corpusTwins, loadCorpus } from '../../src/corpus/load.js';
import { throughModelCache } from '../helpers/banking.js';
import { SAMPLE_ORDER_PATTERN, trainSampleUnderstander } from '../helpers/sample-understander.js';

const ANSWER_THRESHOLD = 0.5; // src/config/config.ts default
const ORDER_PATTERN = SAMPLE_ORDER_PATTERN;

type Typos = Record<'it' | 'en', Record<string, string[]>>;
let understander: Understander;
let typos: Typos;
beforeAll(async () => {
  ({ understander } = await trainSampleUnderstander());
  typos = parse(await readFile(path.resolve('tests/classifier/fixtures/typos.yaml'), 'utf8')) as Typos;
});

const top = (text: string) => understander.understand(text).classification.ranked[0];

describe('misspelt questions on the sample corpus', () => {
  it('answers the mistyped questions of the fixture with their entry, in both languages', () => {
    for (const l of ['it', 'en'] as const) {
      const cases = Object.entries(typos[l]).flatMap(([id, texts]) => texts.map((text) => ({ text, id })));
      expect(cases.length).toBeGreaterThanOrEqual(25);
      const wrong = cases.filter(({ text, id }) => {
        const best = top(text);
        return best?.label !== `faq:${id}` || best.confidence < ANSWER_THRESHOLD;
      });
      // Measured 0 of 27 wrong in Italian, 1 of 26 in English ("opne": a four-letter word with two
      // letters swapped is left alone); without the correction 5 and 6.
      expect({ language: l, wrong: wrong.map((c) => c.text), share: (cases.length - wrong.length) / cases.length >= 0.92 }).toEqual({
        language: l,
        wrong: expect.any(Array),
        share: true,
      });
    }
  });

  it('understands the three messages that got a clarify or the off-topic answer', () => {
    const cases: Array<[string, string]> = [
      ['wher is my oder', 'faq:order-status'],
      ['dove è il mio ordne', 'faq:stato-ordine'],
      ['quanto ci vuole per la spedizone', 'faq:tempi-spedizione'],
    ];
    for (const [text, label] of cases) {
      const best = top(text);
      expect({ text, label: best?.label, confident: (best?.confidence ?? 0) >= ANSWER_THRESHOLD }).toEqual({ text, label, confident: true });
    }
  });

  it('corrects the same after the model is written to the cache and read back (what a worker or a restart gets)', async () => {
    const corpus = await loadCorpus({ faqDir: path.resolve('faq'), intentsDir: path.resolve('intents') });
    const trained = createClassifier({ twins: corpusTwins(corpus), orderNumberPattern: ORDER_PATTERN });
    await trained.train(corpusToExamples(corpus));
    const { restored, model } = await throughModelCache(trained);
    expect(model.knownWords.en.get('order')).toBeGreaterThan(10);
    for (const text of ['wher is my oder', 'dove è il mio ordne', 'quanto ci vuole per la spedizone']) {
      expect(restored.classify(text)).toEqual(trained.classify(text));
    }
  });
});

describe('the speller (spelling.ts)', () => {
  const speller = createSpeller(
    new Map([
      ['order', 12], ['ordine', 9], ['spedizione', 7], ['città', 2], ['where', 20], ['card', 3], ['cart', 3],
      ['the', 40], ['perché', 5], ['pacco', 6], ['write', 4], ['store', 5], ['sconto', 3], ['contact', 4],
    ]),
  );

  it('finds one Damerau edit: a letter missing, added, changed, two swapped', () => {
    expect(speller.correct('ordne')).toBe('ordine');
    expect(speller.correct('spedizone')).toBe('spedizione');
    expect(speller.correct('orrder')).toBe('order');
    expect(speller.correct('oredr')).toBe('order');
    expect(speller.correct('spedizoine')).toBe('spedizione');
    expect(speller.correct('spedizipne')).toBe('spedizione');
    expect(oneEditApart('abc', 'bca')).toBe(false);
    expect(oneEditApart('order', 'order')).toBe(false);
    expect(speller.correct('ordrre')).toBeUndefined();
  });

  it('reads accents as letters: a word without its accent is the accented one', () => {
    expect(speller.correct('citta')).toBe('città');
    expect(speller.correct('perche')).toBe('perché');
    expect(speller.correct('perchè')).toBe('perché');
  });

  it('takes slips of the fingers, not other words', () => {
    // A letter changed for a key far from it, the first letter, the last one: words of their own.
    for (const word of ['white', 'conto', 'story', 'ordinr']) expect([word, speller.correct(word)]).toEqual([word, undefined]);
    expect(slip('ordinr', 'ordine')).toBe(false);
    // Endings are grammar: a letter changed in the last two is another form of the word.
    expect([slip('aprite', 'aprire'), slip('ordime', 'ordine')]).toEqual([false, false]);
    // A letter changed for the key next to it, a doubled letter, the last two swapped.
    expect(speller.correct('ordone')).toBe('ordine');
    expect(speller.correct('paccco')).toBe('pacco');
    expect(speller.correct('paccp')).toBeUndefined();
    expect(speller.correct('pacoc')).toBe('pacco');
  });

  it('corrects a four-letter word for a missing letter only, and nothing shorter', () => {
    expect(speller.correct('oder')).toBe('order');
    expect(speller.correct('paco')).toBe('pacco');
    // "cadr" is "card" with two letters swapped, "carf" is "card" or "cart" with a letter changed: left alone.
    expect(speller.correct('cadr')).toBeUndefined();
    expect(speller.correct('carf')).toBeUndefined();
    expect(speller.correct('teh')).toBeUndefined();
  });

  it('takes the word in more examples when several are one edit away, and none when they tie', () => {
    // "cadta": r or s changed for d, the key next to both.
    expect(createSpeller(new Map([['carta', 4], ['casta', 1]])).correct('cadta')).toBe('carta');
    expect(createSpeller(new Map([['carta', 3], ['casta', 3]])).correct('cadta')).toBeUndefined();
  });

  it('never corrects numbers, codes or words with signs', () => {
    for (const word of ['0rder', 'ordne1', 'br12345', "ord'ne", 'or-der', '12345']) expect([word, speller.correct(word)]).toEqual([word, undefined]);
  });
});
