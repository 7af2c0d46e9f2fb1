/**
 * One measurement in its own process (so peak memory is that system's alone):
 * `node --import tsx bench/nlu/worker.ts sportello|nlpjs DATASET_PATH THRESHOLD [KSHOT SEED]` prints an EvalReport as JSON.
 * With KSHOT, both libraries train on the same K examples per label (drawn with SEED).
 */
import { createRequire } from 'node:module';
import { kShotDataset, loadDataset } from '../../src/classifier/datasets.js';
import { evaluateSystem, OUT_OF_SCOPE, type EvaluatedSystem } from '../../src/classifier/evaluate.js';
import { sportelloSystem } from '../../src/classifier/evaluate.js';
import type { TrainingExample } from '../../src/core/ports.js';

interface NlpResult {
  intent: string;
  score: number;
}
interface NlpManagerLike {
  addDocument(locale: string, utterance: string, intent: string): void;
  train(): Promise<void>;
  process(locale: string, utterance: string): Promise<NlpResult>;
}

/** NLP.js (node-nlp 4.27) in its best case: training documents shuffled, no NER, no autosave. */
function nlpjsSystem(language: string): EvaluatedSystem {
  const require = createRequire(import.meta.url);
  const { NlpManager } = require('node-nlp') as { NlpManager: new (settings: object) => NlpManagerLike };
  const manager = new NlpManager({ languages: [language], forceNER: false, autoSave: false, autoLoad: false, nlu: { log: false }, ner: { builtins: [] } });
  return {
    async train(examples: readonly TrainingExample[]) {
      // NLP.js learns in the order given: shuffling is its best case (file order drops Banking77 to 53%).
      // Held-out examples (a validation split) are Sportello's calibration data: NLP.js does not calibrate.
      const shuffled = examples.filter((e) => !e.heldOut);
      let seed = 7;
      for (let i = shuffled.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const j = seed % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      for (const e of shuffled) manager.addDocument(language, e.text, e.label);
      await manager.train();
    },
    async predict(text: string) {
      const r = await manager.process(language, text);
      if (!r.intent || r.intent === 'None') return { label: OUT_OF_SCOPE, confidence: r.score ?? 0 };
      return { label: r.intent, confidence: r.score };
    },
  };
}

const [system, datasetPath, thresholdArg, kshotArg, seedArg] = process.argv.slice(2);
if (!system || !datasetPath) {
  process.stderr.write('usage: worker.ts sportello|nlpjs DATASET_PATH [THRESHOLD]\n');
  process.exit(2);
}
const full = await loadDataset(datasetPath);
const dataset = kshotArg ? kShotDataset(full, Number(kshotArg), Number(seedArg ?? 1)) : full;
// NLP.js has no out-of-scope label of its own (it answers None): the context is Sportello's.
const evaluated = system === 'nlpjs' ? () => nlpjsSystem(dataset.language ?? 'en') : sportelloSystem;
const threshold = thresholdArg === undefined ? 0.5 : Number(thresholdArg);
const report = await evaluateSystem(dataset, evaluated, { threshold, sweep: [0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7] });
process.stdout.write(`${JSON.stringify({ system, kshot: kshotArg ? Number(kshotArg) : null, ...report })}\n`);
