/**
 * @module core/corpus
 * The knowledge the bot answers from: FAQ entries and intents (formats: docs/formats.md),
 * and the trained understanding that goes with one version of them.
 */
import type { Understander } from './ports.js';
import type { Language } from './types.js';

/** What the bot does when an intent is recognised. */
export const INTENT_ACTIONS = ['answer', 'escalate', 'dm_prompt', 'greet', 'thank', 'resolve', 'withdraw', 'none'] as const;
export type IntentAction = (typeof INTENT_ACTIONS)[number];

/**
 * The customer data a FAQ entry may ask for (`asks_for`): the private kinds of entity the
 * understanding detects. A pending request is filled only by a message carrying one of them.
 */
export const DATA_KINDS = ['order_number', 'customer_code', 'email', 'phone', 'iban', 'card', 'codice_fiscale'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

/** One FAQ entry, as loaded from `faq/**\/*.yaml`. */
export interface FaqEntry {
  id: string;
  locale: Language;
  questions: string[];
  answer: string;
  answer_short?: string;
  /** The answer needs the customer's own data: move to a private channel first. */
  private: boolean;
  /** After this answer a person must follow up (the case is queued). */
  escalate: boolean;
  /**
   * What the answer asks the customer for, in private (`private: true` entries): a later message
   * fills the request only if it carries one of these. Absent: any identifying data fills it.
   */
  asks_for?: DataKind[];
  /**
   * A custom action answers instead of the fixed answer (src/actions/, docs/extending.md): with
   * `private: true`, once the customer has given the data in private; otherwise wherever asked.
   */
  handler?: string;
  tags: string[];
  source?: { kind: 'learned'; case?: string; approved_by?: string; at?: string };
  /** Id of the entry giving the same answer in the other language (its twin), when linked. */
  same_as?: string;
  /** The file it came from, relative to the FAQ folder. */
  file: string;
}

/** One intent, as loaded from `intents/**\/*.yaml`. */
export interface IntentDef {
  name: string;
  locale: Language;
  action: IntentAction;
  examples: string[];
  /** Optional reply for `answer` intents. */
  answer?: string;
  /**
   * `exact`: the examples are recognised word for word (case, accents and punctuation aside) and
   * not learnt by the classifier: short closers and acknowledgements ("ok", "bye", "perfetto")
   * teach a model nothing and would take confidence from the FAQ's answers. Default `learn`.
   */
  match?: 'learn' | 'exact';
  file: string;
}

/** One loaded, valid version of the FAQ and intents. */
export interface Corpus {
  faq: FaqEntry[];
  intents: IntentDef[];
  /** Content hash: changes whenever any file's content changes. */
  version: string;
}

/** A corpus with the understanding trained on it: swapped as one on reload. */
export interface Knowledge {
  corpus: Corpus;
  understander: Understander;
}

/** Where the pipeline gets the current knowledge (live reload swaps it). */
export interface KnowledgeSource {
  current(): Knowledge;
}

/** Classifier label of a FAQ entry. */
export const faqLabel = (id: string): string => `faq:${id}`;
/** Classifier label of an intent. */
export const intentLabel = (name: string): string => `intent:${name}`;
