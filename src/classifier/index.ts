/**
 * @module classifier
 * Understanding a customer's message: language, ranked labels with calibrated confidence,
 * entities and sentiment. Implements the `Classifier` and `Understander` ports.
 */
import type { TrainingExample, Understander, Understanding } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { detectEntities } from './entities.js';
import { weighLanguage } from './language.js';
import { createClassifier, type ModelOptions } from './model.js';
import { analyseSentiment } from './sentiment.js';

export { createClassifier, type ModelOptions, type TrainableClassifier } from './model.js';
export { detectEntities, redactEntities, isLuhnValid, isIbanValid, isCodiceFiscaleValid } from './entities.js';
export { detectLanguage, languageScore } from './language.js';
export { maskPrivateData } from './mask.js';
export { analyseSentiment } from './sentiment.js';
export { normalise, createNormaliser, type Normaliser } from './normalise.js';

/** Options of the understander. */
export interface UnderstanderOptions {
  /** The brand's order-number pattern (config ORDER_NUMBER_PATTERN). */
  orderNumberPattern?: string;
  /** Language assumed when a message gives no clue and the conversation has none (config DEFAULT_LOCALE). */
  defaultLanguage?: Language;
  /** Classifier tuning, rarely needed. */
  model?: ModelOptions;
}

/** Trains a classifier on the examples and returns the understander built around it. */
export async function trainUnderstander(
  examples: readonly TrainingExample[],
  options: UnderstanderOptions = {},
): Promise<Understander> {
  const defaultLanguage = options.defaultLanguage ?? 'it';
  const classifier = createClassifier({
    ...options.model,
    defaultLanguage,
    ...(options.orderNumberPattern ? { orderNumberPattern: options.orderNumberPattern } : {}),
  });
  await classifier.train(examples);
  const entityOptions = options.orderNumberPattern ? { orderNumberPattern: options.orderNumberPattern } : {};
  return {
    understand(text: string, context?: { previousLanguage?: Language }): Understanding {
      const input = typeof text === 'string' ? text : '';
      const { language, settled } = weighLanguage(input, context?.previousLanguage, defaultLanguage);
      const { sentiment, anger } = analyseSentiment(input, language);
      return {
        language,
        languageSettled: settled,
        classification: classifier.classify(input, { language }),
        entities: detectEntities(input, entityOptions),
        sentiment,
        anger,
      };
    },
  };
}
