/**
 * Test helper: the project's sample corpus (faq/, intents/) trained as the server trains it
 * (the default order-number pattern, Italian by default, twins as one class).
 */
import path from 'node:path';
import { trainUnderstander } from '../../src/classifier/index.js';
import type { Understander } from '../../src/core/ports.js';
import { corpusToExamples, corpusTwins, loadCorpus } from '../../src/corpus/load.js';

/** config's ORDER_NUMBER_PATTERN default. */
export const SAMPLE_ORDER_PATTERN = '\\b(?:BR|ORD)-?\\d{5,10}\\b';

/** Loads the sample corpus and trains an understander on it as the server does. */
export async function trainSampleUnderstander(): Promise<{ corpus: Awaited<ReturnType<typeof loadCorpus>>; understander: Understander }> {
  const corpus = await loadCorpus({ faqDir: path.resolve('faq'), intentsDir: path.resolve('intents') });
  const understander = await trainUnderstander(corpusToExamples(corpus), {
    orderNumberPattern: SAMPLE_ORDER_PATTERN,
    defaultLanguage: 'it',
    model: { twins: corpusTwins(corpus) },
  });
  return { corpus, understander };
}
