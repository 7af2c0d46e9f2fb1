/**
 * @module corpus/knowledge
 * The live knowledge source: loads and trains the corpus, watches `faq/` and `intents/`, and on
 * every edit retrains and swaps corpus + understander as one. A broken edit is reported
 * (log + `corpus.failed`) and the last good knowledge keeps answering.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Corpus, Knowledge, KnowledgeSource } from '../core/corpus.js';
import { CorpusError } from '../core/errors.js';
import type { DomainEvent } from '../core/events.js';
import { systemClock, type Clock, type Understander } from '../core/ports.js';
import type { Logger } from '../util/logger.js';
import { loadCorpus } from './load.js';

/** The outcome of a reload. */
export type ReloadResult = { ok: true; version: string } | { ok: false; problems: string[] };

/** A knowledge source that reloads itself (or on demand) and remembers the last failure. */
export interface LiveKnowledge extends KnowledgeSource {
  /** Loads and trains again; on failure the current knowledge stays. */
  reload(): Promise<ReloadResult>;
  /** The problems of the last failed reload, undefined once a reload succeeds. */
  lastError(): string[] | undefined;
  /** Stops watching and waits for a reload in flight. */
  close(): Promise<void>;
}

/** Options of the knowledge source. */
export interface KnowledgeSourceOptions {
  faqDir: string;
  intentsDir: string;
  /** The custom actions an entry's `handler` may name (checked at every load); absent: not checked. */
  handlers?: ReadonlySet<string>;
  /** Trains the understanding of one corpus (the classifier's `trainUnderstander`). */
  train: (corpus: Corpus) => Promise<Understander>;
  /** Reload when a file under the folders changes. */
  watch: boolean;
  logger: Logger;
  onEvent?: (event: DomainEvent) => void;
  clock?: Clock;
  /** Quiet time after the last change before reloading (default 150 ms). */
  debounceMs?: number;
}

function problemsOf(err: unknown): string[] {
  if (err instanceof CorpusError) return err.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  return [`training failed: ${err instanceof Error ? err.message : String(err)}`];
}

/** Loads and trains the corpus (throws CorpusError when the initial load fails) and keeps it live. */
export async function createKnowledgeSource(options: KnowledgeSourceOptions): Promise<LiveKnowledge> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 150;

  const initialCorpus = await loadCorpus(options);
  let knowledge: Knowledge = { corpus: initialCorpus, understander: await options.train(initialCorpus) };
  logger.info({ version: initialCorpus.version, faq: initialCorpus.faq.length, intents: initialCorpus.intents.length }, 'corpus loaded');

  let failure: string[] | undefined;
  let running: Promise<ReloadResult> | undefined;
  let again = false;
  let closed = false;

  const emit = (event: DomainEvent) => {
    try {
      options.onEvent?.(event);
    } catch (err) {
      logger.error({ err }, 'corpus event listener failed');
    }
  };

  async function reloadOnce(): Promise<ReloadResult> {
    try {
      const corpus = await loadCorpus(options);
      if (corpus.version !== knowledge.corpus.version) {
        const understander = await options.train(corpus);
        knowledge = { corpus, understander }; // one assignment: readers see the old or the new pair, never a mix
        logger.info({ version: corpus.version, faq: corpus.faq.length, intents: corpus.intents.length }, 'corpus reloaded');
        emit({ type: 'corpus.reloaded', version: corpus.version, at: clock.now().toISOString() });
      }
      failure = undefined;
      return { ok: true, version: corpus.version };
    } catch (err) {
      const problems = problemsOf(err);
      failure = problems;
      logger.error({ problems, version: knowledge.corpus.version }, `corpus reload failed, still answering from version ${knowledge.corpus.version}:\n${problems.join('\n')}`);
      emit({ type: 'corpus.failed', problems, at: clock.now().toISOString() });
      return { ok: false, problems };
    }
  }

  /** Runs reloads one at a time; a request during a reload runs once more after it. */
  function reload(): Promise<ReloadResult> {
    if (running) {
      again = true; // the loop below runs once more, so this caller's change is included
      return running;
    }
    running = (async () => {
      let result = await reloadOnce();
      while (again && !closed) {
        again = false;
        result = await reloadOnce();
      }
      return result;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Every change counts (editors write temporary files, then rename): an unchanged corpus
  // version makes the reload cheap (no retraining, no event).
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, debounceMs);
  };
  if (options.watch) {
    for (const dir of [options.faqDir, options.intentsDir]) {
      try {
        // Recursive watching of the folder (not the files) also sees editors that replace a file.
        const watcher = watch(dir, { recursive: true }, () => schedule());
        watcher.on('error', (err) => logger.error({ err, dir }, 'corpus watcher failed'));
        watchers.push(watcher);
      } catch (err) {
        logger.error({ err, dir }, 'cannot watch corpus folder; edits will need a restart or reload');
      }
    }
  }

  return {
    current: () => knowledge,
    reload,
    lastError: () => failure,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
      if (running) await running;
    },
  };
}
