/**
 * Phrases recognised word for word (an intent with `match: exact`): "ok", "bye". They are not
 * learnt, so they leave the model's answers to everything else as they were.
 */
import { fileURLToPath } from 'node:url';
import { createClassifier } from '../../src/classifier/model.js';
import { crossValidate } from '../../src/classifier/evaluate.js';
import { corpusToExamples, loadCorpus } from '../../src/corpus/load.js';
import type { TrainingExample } from '../../src/core/ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

const learnt: TrainingExample[] = [
  { text: 'quali sono gli orari del negozio?', label: 'faq:orari', language: 'it' },
  { text: 'a che ora aprite?', label: 'faq:orari', language: 'it' },
  { text: 'siete aperti la domenica?', label: 'faq:orari', language: 'it' },
  { text: 'quanto costa la spedizione?', label: 'faq:spedizione', language: 'it' },
  { text: 'in quanti giorni arriva il pacco?', label: 'faq:spedizione', language: 'it' },
  { text: 'spedite in Svizzera?', label: 'faq:spedizione', language: 'it' },
];
const phrases: TrainingExample[] = [
  { text: 'ok', label: 'intent:acknowledgement', language: 'it', exact: true },
  { text: 'va bene', label: 'intent:acknowledgement', language: 'it', exact: true },
  { text: 'buona giornata', label: 'intent:goodbye', language: 'it', exact: true },
  // The same words as a learnt question: the question keeps its label.
  { text: 'spedite in Svizzera?', label: 'intent:goodbye', language: 'it', exact: true },
];

describe('phrases recognised word for word', () => {
  it('are recognised whatever the case, accents and punctuation, and only word for word', async () => {
    const model = createClassifier({ seed: 1 });
    await model.train([...learnt, ...phrases]);
    expect(model.classify('OK!').ranked).toEqual([{ label: 'intent:acknowledgement', confidence: 1 }]);
    expect(model.classify('Va bene.').ranked[0]).toEqual({ label: 'intent:acknowledgement', confidence: 1 });
    expect(model.classify('buona giornata!!').ranked[0]).toEqual({ label: 'intent:goodbye', confidence: 1 });
    // Anything more is read by the model.
    expect(model.classify('ok, quanto costa la spedizione?').ranked[0]!.label).toBe('faq:spedizione');
    expect(model.classify('spedite in Svizzera?').ranked[0]).toEqual({ label: 'faq:spedizione', confidence: 1 });
    expect(model.labels().map((l) => l.label)).toEqual(expect.arrayContaining(['intent:acknowledgement', 'intent:goodbye', 'faq:orari']));
  });

  it('recognise a few phrases of one label in a row, parted by punctuation, and nothing mixed', async () => {
    const model = createClassifier({ seed: 1 });
    await model.train([...learnt, ...phrases, { text: 'a presto', label: 'intent:goodbye', language: 'it', exact: true }]);
    expect(model.classify('Buona giornata, a presto!').ranked).toEqual([{ label: 'intent:goodbye', confidence: 1 }]);
    expect(model.classify('ok... va bene').ranked).toEqual([{ label: 'intent:acknowledgement', confidence: 1 }]);
    // Phrases of two labels, or a phrase and a question: the model reads the message.
    expect(model.classify('ok, buona giornata').ranked[0]!.confidence).toBeLessThan(1);
    expect(model.classify('va bene, quanto costa la spedizione?').ranked[0]!.label).toBe('faq:spedizione');
  });

  it('are not learnt: every other answer is the same as without them', async () => {
    const without = createClassifier({ seed: 1 });
    await without.train(learnt);
    const withPhrases = createClassifier({ seed: 1 });
    await withPhrases.train([...learnt, ...phrases]);
    for (const text of ['a che ora chiudete sabato?', 'il pacco arriva domani?', 'che tempo fa?', 'ok ma la spedizione?']) {
      expect(withPhrases.classify(text)).toEqual(without.classify(text));
    }
  });

  it('are in the sample intents, and cross-validation of the sample corpus never holds them out', async () => {
    const corpus = await loadCorpus({ faqDir: `${root}faq`, intentsDir: `${root}intents` });
    const examples = corpusToExamples(corpus);
    const exact = examples.filter((e) => e.exact);
    expect(new Set(exact.map((e) => e.label))).toEqual(new Set(['intent:goodbye', 'intent:acknowledgement', 'intent:bot_identity', 'intent:languages', 'intent:not_helpful', 'intent:help', 'intent:never_mind', 'intent:anyone_there', 'intent:how_are_you', 'intent:move_to_private', 'intent:order_number_where']));
    // No phrase is also a learnt question of another label (held out, it would be taken for the phrase's).
    const fold = (t: string) => t.toLowerCase().normalize('NFD').replace(/\p{M}/gu, '').replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
    const phraseLabel = new Map(exact.map((e) => [fold(e.text), e.label]));
    expect(examples.filter((e) => !e.exact && phraseLabel.has(fold(e.text)) && phraseLabel.get(fold(e.text)) !== e.label).map((e) => e.text)).toEqual([]);
    const tested: string[] = [];
    await crossValidate('sample', examples, () => {
      const model = createClassifier({ seed: 1 });
      return {
        train: (train) => model.train(train),
        predict: (text) => {
          tested.push(text);
          return model.classify(text).ranked[0] ?? { label: '', confidence: 0 };
        },
      };
    }, { folds: 2 });
    const learntTexts = new Set(examples.filter((e) => !e.exact).map((e) => e.text));
    expect(new Set(tested)).toEqual(learntTexts);
    expect(tested.filter((t) => exact.some((e) => e.text === t && !examples.some((o) => !o.exact && o.text === t)))).toEqual([]);
  }, 120_000);
});
