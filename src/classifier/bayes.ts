/**
 * @module classifier/bayes
 * Multinomial naive Bayes over the linear model's sparse vectors (their tf-idf values taken as
 * counts), as a prior the logistic regression learns on top of (model.ts,
 * `ModelOptions.naiveBayes`): the regression's logits during training are its own plus a scale ×
 * naive Bayes's leave-one-out scores, so it learns what naive Bayes gets wrong; afterwards naive
 * Bayes's scores, linear in the features, are added into the regression's weights (`foldBayes`), so
 * the trained model is one linear model again (no state, no cost at classification).
 *
 * A class's score is Σ_f x_f · log(1 + N_cf / α) − (Σ_f x_f) · log(T_c + α·F): the naive Bayes
 * log-likelihood up to a term shared by every class (N_cf: the feature's mass in the class's
 * examples, T_c: the class's total mass, F: the number of features, α: additive smoothing).
 */

/** A sparse vector (the linear model's `SparseVector`). */
export interface SparseInput {
  idx: Int32Array;
  val: Float32Array;
}

/** Trained naive Bayes: per feature, the classes its examples have, with log(1 + N_cf / α). */
export interface NaiveBayes {
  /** Postings of feature f are [start[f], start[f + 1]), in class order. */
  start: Int32Array;
  label: Int32Array;
  value: Float32Array;
  /** Per class, the coefficient of the message's total feature mass: −log(T_c + α·F). */
  mass: Float32Array;
  alpha: number;
}

/** Counts the features of `xs` (labels `ys`) per class in one pass and returns the sparse model. */
export function trainBayes(xs: readonly SparseInput[], ys: ArrayLike<number>, featureCount: number, classCount: number, alpha: number): NaiveBayes {
  const C = classCount;
  // Examples by class (a counting sort), so one class's sums are made at a time in a dense scratch.
  const byClass = new Int32Array(C + 1);
  for (let i = 0; i < xs.length; i++) byClass[ys[i]! + 1]!++;
  for (let c = 0; c < C; c++) byClass[c + 1] = byClass[c + 1]! + byClass[c]!;
  const order = new Int32Array(xs.length);
  const next = byClass.slice(0, C);
  for (let i = 0; i < xs.length; i++) order[next[ys[i]!]!++] = i;
  const sums = new Float64Array(featureCount);
  const seen = new Uint8Array(featureCount);
  const touched = new Int32Array(featureCount);
  const classTotal = new Float64Array(C);
  /** Calls `emit` with each feature of class c and its mass in the class. */
  const eachOfClass = (c: number, emit: (f: number, n: number) => void) => {
    let n = 0;
    for (let o = byClass[c]!; o < byClass[c + 1]!; o++) {
      const x = xs[order[o]!]!;
      for (let k = 0; k < x.idx.length; k++) {
        const f = x.idx[k]!;
        if (!seen[f]) {
          seen[f] = 1;
          sums[f] = 0;
          touched[n++] = f;
        }
        sums[f] = sums[f]! + x.val[k]!;
      }
    }
    for (let t = 0; t < n; t++) {
      const f = touched[t]!;
      seen[f] = 0;
      emit(f, sums[f]!);
    }
  };
  // Two passes: the postings' count per feature, then the postings.
  const start = new Int32Array(featureCount + 1);
  for (let c = 0; c < C; c++) {
    eachOfClass(c, (f, n) => {
      start[f + 1]!++;
      classTotal[c] = classTotal[c]! + n;
    });
  }
  for (let f = 0; f < featureCount; f++) start[f + 1] = start[f + 1]! + start[f]!;
  const fill = start.slice(0, featureCount);
  const label = new Int32Array(start[featureCount]!);
  const value = new Float32Array(start[featureCount]!);
  for (let c = 0; c < C; c++) {
    eachOfClass(c, (f, n) => {
      const at = fill[f]!++;
      label[at] = c;
      value[at] = Math.log1p(n / alpha);
    });
  }
  const mass = new Float32Array(C);
  for (let c = 0; c < C; c++) mass[c] = -Math.log(classTotal[c]! + alpha * featureCount);
  return { start, label, value, mass, alpha };
}

/** Fills `out` (one per class) with the scores of `x`. */
export function bayesLogits(x: SparseInput, nb: NaiveBayes, out: Float64Array): void {
  let total = 0;
  for (let k = 0; k < x.idx.length; k++) total += x.val[k]!;
  for (let c = 0; c < out.length; c++) out[c] = total * nb.mass[c]!;
  for (let k = 0; k < x.idx.length; k++) {
    const f = x.idx[k]!;
    const v = x.val[k]!;
    for (let q = nb.start[f]!; q < nb.start[f + 1]!; q++) out[nb.label[q]!] = out[nb.label[q]!]! + v * nb.value[q]!;
  }
}

/**
 * `scale` × each training example's scores, C a row, as if the example were not in the counts (its
 * own class's score computed without it): what naive Bayes says of a question it never saw, so the
 * regression does not learn to lean on counts that contain the very example it is learning.
 */
export function bayesLeaveOneOut(xs: readonly SparseInput[], ys: ArrayLike<number>, nb: NaiveBayes, scale: number): Float32Array {
  const C = nb.mass.length;
  const featureCount = nb.start.length - 1;
  const alpha = nb.alpha;
  const out = new Float32Array(xs.length * C);
  const z = new Float64Array(C);
  xs.forEach((x, i) => {
    bayesLogits(x, nb, z);
    // The own class's score again without the example: its postings' masses less the example's.
    const y = ys[i]!;
    let total = 0;
    let own = 0;
    for (let k = 0; k < x.idx.length; k++) {
      const f = x.idx[k]!;
      const v = x.val[k]!;
      total += v;
      for (let q = nb.start[f]!; q < nb.start[f + 1]!; q++) {
        if (nb.label[q] !== y) continue;
        const n = alpha * Math.expm1(nb.value[q]!);
        own += v * Math.log1p(Math.max(0, n - v) / alpha);
        break;
      }
    }
    const classTotal = Math.exp(-nb.mass[y]!) - alpha * featureCount;
    z[y] = own - total * Math.log(Math.max(0, classTotal - total) + alpha * featureCount);
    const base = i * C;
    for (let c = 0; c < C; c++) out[base + c] = scale * z[c]!;
  });
  return out;
}

/** Adds `scale` × the scores into a linear model's weights (feature-major, C a row): they are linear in x. */
export function foldBayes(nb: NaiveBayes, weights: Float32Array, scale: number): void {
  const C = nb.mass.length;
  const featureCount = nb.start.length - 1;
  for (let f = 0; f < featureCount; f++) {
    const base = f * C;
    for (let c = 0; c < C; c++) weights[base + c] = weights[base + c]! + scale * nb.mass[c]!;
    for (let q = nb.start[f]!; q < nb.start[f + 1]!; q++) weights[base + nb.label[q]!] = weights[base + nb.label[q]!]! + scale * nb.value[q]!;
  }
}
