/**
 * @module listening
 * Listening beyond @mentions: each heard item is understood (the pipeline's understander),
 * classed (care | praise | noise | spam), given a topic, and counted by the spike detector,
 * which raises alerts. Knows no channel and no store: sources (X recent search, Page feed
 * webhooks) and `sportello replay` feed it; care items go on to the pipeline.
 */
import { faqLabel, type Corpus } from '../core/corpus.js';
import type { Understander, Understanding } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { classifyHeard, createRepeatMemory, type HeardClass } from './classify.js';
import { isExcluded, type ListeningSettings } from './config.js';
import { createSpikeDetector, type SpikeAlert } from './detector.js';

export { classifyHeard, createRepeatMemory, HEARD_CLASSES, type HeardClass, type HeardJudgement } from './classify.js';
export { createSpikeDetector, poissonTail, DEFAULT_DETECTOR, SENSITIVITIES, SENSITIVITY_PRESETS, type DetectorSettings, type SpikeAlert, type Sensitivity } from './detector.js';
export { listeningFileSchema, listeningSettings, loadListeningFile, isExcluded, ListeningFileError, type ListeningSettings, type ListeningFile } from './config.js';
export { contentTerms, brandWords } from './text.js';

/** Where a heard item comes from and how it reached the brand. */
export const HEARD_KINDS = ['mention', 'post', 'comment', 'dm'] as const;
export type HeardKind = (typeof HEARD_KINDS)[number];

/** One item heard on a platform. */
export interface HeardItem {
  id: string;
  /** ISO time. */
  at: string;
  channel: string;
  kind: HeardKind;
  author: { id: string; handle?: string; followers?: number };
  text: string;
}

/** What listening makes of an item. */
export interface HeardResult {
  class: HeardClass;
  sentiment: number;
  language: Language;
  topic?: string;
  /** The topic of the open spike (a polemic, an outage) the item belongs to, if any. */
  spike?: string;
  /** Left out by the listening file's `exclude`: recorded as noise, not counted. */
  excluded: boolean;
  understanding: Understanding;
  alerts: SpikeAlert[];
}

/** Hears items in time order. */
export interface Listener {
  hear(item: HeardItem): Promise<HeardResult>;
}

const privateLabelsOf = new WeakMap<Corpus, ReadonlySet<string>>();

/** The labels of a corpus's private FAQ entries (`ClassifyOptions.careLabels`), kept per corpus. */
export function privateEntryLabels(corpus: Corpus): ReadonlySet<string> {
  let labels = privateLabelsOf.get(corpus);
  if (!labels) {
    labels = new Set(corpus.faq.filter((e) => e.private).map((e) => faqLabel(e.id)));
    privateLabelsOf.set(corpus, labels);
  }
  return labels;
}

/**
 * Creates a listener around the pipeline's understander. `careLabels`: the current corpus's labels
 * that are a request for care by themselves (`privateEntryLabels`).
 */
export function createListener(options: { settings: ListeningSettings; understander: () => Understander; answerThreshold: number; careLabels?: () => ReadonlySet<string> }): Listener {
  const detector = createSpikeDetector(options.settings.detector);
  const repeats = createRepeatMemory();
  return {
    async hear(item) {
      const u = options.understander();
      const understanding = u.understandAsync ? await u.understandAsync(item.text) : u.understand(item.text);
      const excluded = isExcluded(item.text, options.settings.exclude);
      const careLabels = options.careLabels?.();
      const judged = classifyHeard(item.text, understanding, { answerThreshold: options.answerThreshold, addressed: item.kind !== 'post', ...(careLabels ? { careLabels } : {}) }, repeats.seen(item.author.id, item.text));
      const cls: HeardClass = excluded ? 'noise' : judged.class;
      const observed = excluded
        ? { topic: detector.topicOf(item.text, understanding.language), alerts: [] }
        : detector.observe({
            id: item.id,
            at: new Date(item.at).getTime(),
            source: item.channel,
            language: understanding.language,
            text: item.text,
            author: item.author,
            negative: judged.negative,
            spam: cls === 'spam',
          });
      return { class: cls, sentiment: judged.sentiment, language: understanding.language, ...(observed.topic ? { topic: observed.topic } : {}), ...('spike' in observed && observed.spike ? { spike: observed.spike } : {}), excluded, understanding, alerts: observed.alerts };
    },
  };
}
