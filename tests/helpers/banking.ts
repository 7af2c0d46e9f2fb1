/** Classifier tests' helpers: Banking77 cut to its first labels, a model's weights, a model through the cache. */
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createClassifier, type ModelSnapshot } from '../../src/classifier/model.js';
import { readCachedModel, writeCachedModel } from '../../src/classifier/model-cache.js';
import { loadDataset } from '../../src/classifier/datasets.js';
import type { TrainingExample } from '../../src/core/ports.js';

/** Banking77's training examples of its first `labels` labels. */
export async function bankingSubset(labels = 12): Promise<TrainingExample[]> {
  const d = await loadDataset(path.resolve('bench/datasets/banking77'));
  const kept = [...new Set(d.train.map((e) => e.label))].slice(0, labels);
  return d.train.filter((e) => kept.includes(e.label));
}

/** The linear model's weights after training on `examples`. */
export async function weightsOf(examples: TrainingExample[], options: Parameters<typeof createClassifier>[0] = {}): Promise<Float32Array> {
  const classifier = createClassifier(options);
  await classifier.train(examples);
  return classifier.snapshot().weights;
}

/** A trained classifier written to the model cache and read back into a new one (what a restart does). */
export async function throughModelCache(trained: ReturnType<typeof createClassifier>): Promise<{ restored: ReturnType<typeof createClassifier>; model: ModelSnapshot }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sportello-model-cache-'));
  try {
    const key = 'c'.repeat(64);
    await writeCachedModel(dir, key, trained.snapshot());
    const read = await readCachedModel(dir, key);
    if (!('model' in read)) throw new Error(`the model cache did not give the model back: ${JSON.stringify(read)}`);
    const restored = createClassifier();
    restored.restore(read.model);
    return { restored, model: read.model };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
