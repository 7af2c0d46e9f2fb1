/**
 * bench/faq worker: loads the generated corpus, trains, answers the messages, and reports each
 * phase to the main thread as it completes (so a phase that runs out of time still leaves the others).
 */
import { parentPort, workerData } from 'node:worker_threads';
import twitterText from 'twitter-text';
import { trainUnderstander } from '../../src/classifier/index.js';
import type { FaqEntry } from '../../src/core/corpus.js';
import type { ChannelCapabilities } from '../../src/core/ports.js';
import { fitAnswer } from '../../src/corpus/fit.js';
import { corpusToExamples, loadCorpus } from '../../src/corpus/load.js';

const { faqDir, intentsDir, messages } = workerData as { faqDir: string; intentsDir: string; messages: { text: string; label: string }[] };
const post = (message: unknown) => parentPort!.postMessage(message);

const xCaps: ChannelCapabilities = {
  publicReplies: true,
  privateMessages: true,
  maxLength: { public: 280, private: 10000 },
  measure: (text) => twitterText.parseTweet(text).weightedLength,
  quickReplies: 0,
  signsPublicReplies: true,
  maxThread: 3,
};

try {
  const t0 = performance.now();
  const corpus = await loadCorpus({ faqDir, intentsDir });
  const t1 = performance.now();
  const examples = corpusToExamples(corpus);
  post({ phase: 'loaded', loadMs: t1 - t0, entries: corpus.faq.length, examples: examples.length });

  const understander = await trainUnderstander(examples);
  const t2 = performance.now();
  const memory = process.memoryUsage();
  post({ phase: 'trained', trainMs: t2 - t1, heapUsed: memory.heapUsed, rss: memory.rss });

  const byLabel = new Map<string, FaqEntry>(corpus.faq.map((e) => [`faq:${e.id}`, e]));
  // Warm-up (JIT) of the whole path, then timed runs.
  for (const msg of messages.slice(0, 300)) {
    const top = understander.understand(msg.text).classification.ranked[0];
    const entry = top ? byLabel.get(top.label) : undefined;
    if (entry) fitAnswer(entry, xCaps, 'public');
  }
  const timings: number[] = [];
  const fitTimings: number[] = [];
  let correct = 0;
  for (const msg of messages) {
    const start = performance.now();
    const top = understander.understand(msg.text).classification.ranked[0];
    const understood = performance.now();
    const entry = top ? byLabel.get(top.label) : undefined;
    const posts = entry ? fitAnswer(entry, xCaps, 'public') : [];
    const end = performance.now();
    timings.push(end - start);
    fitTimings.push(end - understood);
    if (top?.label === msg.label && posts.length > 0) correct++;
  }
  post({ phase: 'answered', timings, fitTimings, correct });
} catch (err) {
  post({ phase: 'error', message: err instanceof Error ? err.message : String(err) });
}
