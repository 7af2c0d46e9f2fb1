/**
 * @module pipeline/labels
 * Classifier labels (`faq:<id>`, `intent:<name>`) and what they stand for in the corpus.
 */
import type { FaqEntry, IntentDef } from '../core/corpus.js';
import type { Understanding } from '../core/ports.js';
import type { Language } from '../core/types.js';

/** A label read against the corpus: its FAQ entry or its intent. */
export type ResolvedLabel = { label: string; confidence: number; entry?: FaqEntry; intent?: IntentDef };

/** True for a quick-reply payload that names a label (`faq:<id>`, `intent:<name>`). */
export function isLabel(payload: string): boolean {
  return payload.startsWith('faq:') || payload.startsWith('intent:');
}

/** The text a label's payload stands for (its first question). */
export function labelText(label: string, knowledge: { corpus: { faq: FaqEntry[] } }): string | undefined {
  return knowledge.corpus.faq.find((e) => `faq:${e.id}` === label)?.questions[0];
}

/** Resolves a classifier label to its FAQ entry or intent. */
export function resolveLabel(label: string, confidence: number, corpus: { faq: FaqEntry[]; intents: IntentDef[] }, language: Language): ResolvedLabel {
  if (label.startsWith('faq:')) {
    const id = label.slice(4);
    return { label, confidence, entry: corpus.faq.find((e) => e.id === id) };
  }
  const name = label.startsWith('intent:') ? label.slice(7) : label;
  const intent = corpus.intents.find((i) => i.name === name && i.locale === language) ?? corpus.intents.find((i) => i.name === name);
  return { label, confidence, intent };
}

/** The action of the intent the message is best read as (greet, thank…), undefined when it is an FAQ entry or nothing. */
export function bestIntentAction(understanding: Understanding, corpus: { faq: FaqEntry[]; intents: IntentDef[] }): string | undefined {
  const best = understanding.classification.ranked[0];
  return best === undefined ? undefined : resolveLabel(best.label, best.confidence, corpus, understanding.language).intent?.action;
}
