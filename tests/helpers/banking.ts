/** Banking77 cut to its first labels, and the weights a classifier trains on examples (classifier tests). */
import path from 'node:path';
import { createClassifier } from '../../src/classifier/model.js';
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
