/**
 * @module classifier
 * Understanding a customer's message: language, ranked labels with calibrated confidence,
 * entities and sentiment. Implements the `Classifier` and `Understander` ports.
 */
import type { TrainingExample, Understander, Understanding } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { detectEntities } from './entities.js';
import { weighLanguage } from './language.js';
import { createClassifier, type ModelOptions, type ModelSnapshot, type TrainableClassifier } from './model.js';
import { modelKey, readCachedModel, writeCachedModel } from './model-cache.js';
import { analyseSentiment } from './sentiment.js';

export { createClassifier, type ModelOptions, type ModelSnapshot, type TrainableClassifier } from './model.js';
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

/** Where trained models are kept between starts (model-cache.ts), and who hears of a file it had to ignore. */
export interface ModelCacheOptions {
  dir: string;
  /** A cache file ignored (corrupt, another version) or not written; training goes on. Default: a process warning. */
  onProblem?: (message: string) => void;
}

/** A trained understander with its model as data (for worker threads) and whether the cache gave it. */
export interface TrainedUnderstanding {
  understander: Understander;
  model: ModelSnapshot;
  fromCache: boolean;
}

function classifierFor(options: UnderstanderOptions): TrainableClassifier {
  return createClassifier({
    ...options.model,
    defaultLanguage: options.defaultLanguage ?? 'it',
    ...(options.orderNumberPattern ? { orderNumberPattern: options.orderNumberPattern } : {}),
  });
}

function understanderAround(classifier: TrainableClassifier, options: UnderstanderOptions): Understander {
  const defaultLanguage = options.defaultLanguage ?? 'it';
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

/**
 * Trains a classifier on the examples (or, with `cache`, reads the model trained before on the
 * same examples, options and code) and returns the understander built around it, with the model.
 */
export async function trainUnderstanding(
  examples: readonly TrainingExample[],
  options: UnderstanderOptions = {},
  cache?: ModelCacheOptions,
): Promise<TrainedUnderstanding> {
  const classifier = classifierFor(options);
  const report = cache?.onProblem ?? ((message: string) => process.emitWarning(`sportello model cache: ${message}`));
  const key = cache ? modelKey(examples, options) : undefined;
  if (cache && key) {
    const found = await readCachedModel(cache.dir, key);
    if ('model' in found) {
      classifier.restore(found.model);
      return { understander: understanderAround(classifier, options), model: found.model, fromCache: true };
    }
    if ('ignored' in found) report(`${found.ignored}; training again`);
  }
  await classifier.train(examples);
  const model = classifier.snapshot();
  if (cache && key) {
    try {
      await writeCachedModel(cache.dir, key, model);
    } catch (err) {
      report(`cannot write the trained model to ${cache.dir}: ${(err as Error).message}`);
    }
  }
  return { understander: understanderAround(classifier, options), model, fromCache: false };
}

/** Trains a classifier on the examples and returns the understander built around it. */
export async function trainUnderstander(examples: readonly TrainingExample[], options: UnderstanderOptions = {}): Promise<Understander> {
  return (await trainUnderstanding(examples, options)).understander;
}

/** The understander of a model trained elsewhere (`TrainedUnderstanding.model`) with the same options: a worker thread's copy. */
export function understanderFromModel(model: ModelSnapshot, options: UnderstanderOptions = {}): Understander {
  const classifier = classifierFor(options);
  classifier.restore(model);
  return understanderAround(classifier, options);
}
