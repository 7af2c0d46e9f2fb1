/**
 * @module classifier/mlp
 * The second member of the classifier's ensemble for corpora with many examples per label: a small
 * neural network over the word-stem and stem-bigram features of the linear model's sparse vectors
 * (an embedding bag: the sum of the features' rows, weighted by their values), a ReLU hidden layer
 * and a softmax output, trained by Adam. It makes other mistakes than the linear model (a hidden
 * layer combines words; no character n-grams), so their averaged probabilities are right more often
 * (model.ts, `ModelOptions.ensemble`).
 */
import { Worker } from 'node:worker_threads';

/** A sparse vector (the linear model's `SparseVector`). */
export interface SparseInput {
  idx: Int32Array;
  val: Float32Array;
}

/** A trained network: plain data (typed arrays and numbers), so it is part of the model snapshot. */
export interface Network {
  hidden: number;
  /** Feature id of the linear model to input row (-1: a feature the network does not read). */
  inputMap: Int32Array;
  /** Input rows, `hidden` wide: row r is [r * hidden, (r + 1) * hidden). */
  w1: Float32Array;
  b1: Float32Array;
  /** Output rows, one per class, `hidden` wide. */
  w2: Float32Array;
  b2: Float32Array;
  /** Softmax temperature, fitted on the held-out examples like the linear model's. */
  temperature: number;
}

export interface NetworkOptions {
  hidden: number;
  epochs: number;
  learningRate: number;
  /** Input dropout (as the linear model's). */
  dropout: number;
  seed: number;
}

/** Which features the network reads: words and stem bigrams (ids of features named `w …` and `b …`). */
export function wordInputs(featureIndex: ReadonlyMap<string, number>): { map: Int32Array; rows: number } {
  const map = new Int32Array(featureIndex.size).fill(-1);
  let rows = 0;
  for (const [feature, id] of featureIndex) if (feature.startsWith('w ') || feature.startsWith('b ')) map[id] = rows++;
  return { map, rows };
}

/** The features of `x` the network reads, renumbered to its rows and scaled to unit length. */
export function networkInput(x: SparseInput, map: Int32Array): SparseInput {
  let n = 0;
  for (let k = 0; k < x.idx.length; k++) if (map[x.idx[k]!]! >= 0) n++;
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  let norm = 0;
  n = 0;
  for (let k = 0; k < x.idx.length; k++) {
    const row = map[x.idx[k]!]!;
    if (row < 0) continue;
    idx[n] = row;
    val[n++] = x.val[k]!;
    norm += x.val[k]! * x.val[k]!;
  }
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < n; k++) val[k] = val[k]! / norm;
  return { idx, val };
}

/**
 * The output weights hidden unit by hidden unit (`w2` transposed: row j is unit j's weight for each
 * class), made at a network's first classification: the output layer then adds one contiguous row
 * per active unit, as the linear model's logits do, in the same order of additions.
 */
const outputRows = new WeakMap<Network, Float32Array>();

function outputRowsOf(net: Network): Float32Array {
  let rows = outputRows.get(net);
  if (!rows) {
    const H = net.hidden;
    const C = net.b2.length;
    rows = new Float32Array(C * H);
    for (let c = 0; c < C; c++) for (let j = 0; j < H; j++) rows[j * C + c] = net.w2[c * H + j]!;
    outputRows.set(net, rows);
  }
  return rows;
}

/** Fills `out` (one per class) with the network's logits for an input made by `networkInput`; `h` (hidden long) is scratch. */
export function networkLogits(x: SparseInput, net: Network, out: Float64Array, h: Float64Array): void {
  const H = net.hidden;
  const { w1, b1, b2 } = net;
  const C = b2.length;
  for (let j = 0; j < H; j++) h[j] = b1[j]!;
  for (let k = 0; k < x.idx.length; k++) {
    const base = x.idx[k]! * H;
    const v = x.val[k]!;
    for (let j = 0; j < H; j++) h[j] = h[j]! + v * w1[base + j]!;
  }
  // The output layer reads only the hidden units the ReLU left on (often half): the others add 0.
  const rows = outputRowsOf(net);
  const C4 = C - (C % 4);
  for (let c = 0; c < C; c++) out[c] = b2[c]!;
  for (let j = 0; j < H; j++) {
    const a = h[j]!;
    if (!(a > 0)) {
      h[j] = 0;
      continue;
    }
    const base = j * C;
    let c = 0;
    for (; c < C4; c += 4) {
      out[c] = out[c]! + a * rows[base + c]!;
      out[c + 1] = out[c + 1]! + a * rows[base + c + 1]!;
      out[c + 2] = out[c + 2]! + a * rows[base + c + 2]!;
      out[c + 3] = out[c + 3]! + a * rows[base + c + 3]!;
    }
    for (; c < C; c++) out[c] = out[c]! + a * rows[base + c]!;
  }
}

/**
 * Trains a network on inputs made by `networkInput` (`rows` input rows): Adam with the rate falling
 * linearly to a tenth, lazily (only the rows of an example's features, the hidden units it
 * activates and the classes with a gradient are updated).
 *
 * Self-contained (no module-level names: its constants, the seeded generator — util/random's
 * mulberry32, the same draws — and the shuffle are inside), because `trainNetworkConcurrently` runs
 * its source text in a worker thread, which works alike from the TypeScript sources, dist/ and a
 * bundle. `inputMap` is only carried into the result.
 */
export function trainNetwork(xs: readonly SparseInput[], ys: Int32Array, rows: number, classCount: number, inputMap: Int32Array, opts: NetworkOptions): Network {
  /** Scale of the input rows' initial uniform weights. */
  const INIT = 0.1;
  /** Output classes whose gradient is below this are not updated for that example (lazy Adam): the speed-up. */
  const SKIP = 1e-3;
  const BETA1 = 0.9;
  const BETA2 = 0.999;
  const EPS = 1e-8;
  const seededRandom = (seed: number): (() => number) => {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  };
  const shuffle = (items: number[], random: () => number): void => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const swap = items[i]!;
      items[i] = items[j]!;
      items[j] = swap;
    }
  };
  const H = opts.hidden;
  const C = classCount;
  const random = seededRandom(opts.seed + 101);
  const w1 = new Float32Array(rows * H);
  for (let i = 0; i < w1.length; i++) w1[i] = (random() * 2 - 1) * INIT;
  const b1 = new Float32Array(H).fill(0.1);
  const w2 = new Float32Array(C * H);
  const b2 = new Float32Array(C);
  const m1 = new Float32Array(w1.length);
  const v1 = new Float32Array(w1.length);
  const m2 = new Float32Array(w2.length);
  const v2 = new Float32Array(w2.length);
  const mb1 = new Float64Array(H);
  const vb1 = new Float64Array(H);
  const mb2 = new Float64Array(C);
  const vb2 = new Float64Array(C);
  const h = new Float64Array(H);
  const dh = new Float64Array(H);
  const z = new Float64Array(C);
  const activeUnits = new Int32Array(H);
  let longest = 0;
  for (const x of xs) longest = Math.max(longest, x.idx.length);
  const keptIdx = new Int32Array(longest);
  const keptVal = new Float32Array(longest);
  const dropRandom = seededRandom(opts.seed + 103);
  const dropout = opts.dropout;
  const keepScale = 1 / (1 - dropout);
  const order = Array.from(xs.keys());
  const steps = opts.epochs * xs.length;
  let t = 0;
  let p1 = 1;
  let p2 = 1;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffle(order, random);
    for (let o = 0; o < order.length; o++) {
      const i = order[o]!;
      const x = xs[i]!;
      let n = 0;
      for (let k = 0; k < x.idx.length; k++) {
        if (dropout > 0 && dropRandom() < dropout) continue;
        keptIdx[n] = x.idx[k]!;
        keptVal[n++] = x.val[k]! * keepScale;
      }
      // Forward.
      for (let j = 0; j < H; j++) h[j] = b1[j]!;
      for (let k = 0; k < n; k++) {
        const base = keptIdx[k]! * H;
        const v = keptVal[k]!;
        for (let j = 0; j < H; j++) h[j] = h[j]! + v * w1[base + j]!;
      }
      for (let j = 0; j < H; j++) if (h[j]! < 0) h[j] = 0;
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        let s = b2[c]!;
        const base = c * H;
        for (let j = 0; j < H; j++) s += h[j]! * w2[base + j]!;
        z[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(z[c]! - max);
        z[c] = e;
        sum += e;
      }
      // Backward, with Adam's bias correction folded into the rate.
      t++;
      p1 *= BETA1;
      p2 *= BETA2;
      const lr = (opts.learningRate * (1 - (0.9 * (t - 1)) / steps) * Math.sqrt(1 - p2)) / (1 - p1);
      for (let j = 0; j < H; j++) dh[j] = 0;
      const y = ys[i]!;
      for (let c = 0; c < C; c++) {
        const g = z[c]! / sum - (c === y ? 1 : 0);
        if (g > -SKIP && g < SKIP) continue;
        const mb = BETA1 * mb2[c]! + (1 - BETA1) * g;
        const vb = BETA2 * vb2[c]! + (1 - BETA2) * g * g;
        mb2[c] = mb;
        vb2[c] = vb;
        b2[c] = b2[c]! - (lr * mb) / (Math.sqrt(vb) + EPS);
        const base = c * H;
        for (let j = 0; j < H; j++) {
          const w = base + j;
          dh[j] = dh[j]! + g * w2[w]!;
          const gw = g * h[j]!;
          const mw = BETA1 * m2[w]! + (1 - BETA1) * gw;
          const vw = BETA2 * v2[w]! + (1 - BETA2) * gw * gw;
          m2[w] = mw;
          v2[w] = vw;
          w2[w] = w2[w]! - (lr * mw) / (Math.sqrt(vw) + EPS);
        }
      }
      let active = 0;
      for (let j = 0; j < H; j++) if (h[j]! > 0 && dh[j] !== 0) activeUnits[active++] = j;
      for (let a = 0; a < active; a++) {
        const j = activeUnits[a]!;
        const g = dh[j]!;
        const mb = BETA1 * mb1[j]! + (1 - BETA1) * g;
        const vb = BETA2 * vb1[j]! + (1 - BETA2) * g * g;
        mb1[j] = mb;
        vb1[j] = vb;
        b1[j] = b1[j]! - (lr * mb) / (Math.sqrt(vb) + EPS);
      }
      for (let k = 0; k < n; k++) {
        const base = keptIdx[k]! * H;
        const v = keptVal[k]!;
        for (let a = 0; a < active; a++) {
          const j = activeUnits[a]!;
          const w = base + j;
          const g = v * dh[j]!;
          const mw = BETA1 * m1[w]! + (1 - BETA1) * g;
          const vw = BETA2 * v1[w]! + (1 - BETA2) * g * g;
          m1[w] = mw;
          v1[w] = vw;
          w1[w] = w1[w]! - (lr * mw) / (Math.sqrt(vw) + EPS);
        }
      }
    }
  }
  return { hidden: H, inputMap, w1, b1, w2, b2, temperature: 1 };
}

/**
 * The worker thread's program: `trainNetwork`'s own source text and a few lines that unpack the
 * inputs, train and send the weights back (transferred, not copied). A source text rather than a
 * file, so the worker starts the same way from the TypeScript sources (tsx, jest), dist/ and a
 * bundle (bench:nlu bundles its worker), with no loader to register. `__name`: the helper esbuild
 * (tsx) calls in compiled code to keep function names.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const __name = (f) => f;
const trainNetwork = ${trainNetwork.toString()};
const { offsets, idx, val, ys, rows, classCount, opts } = workerData;
const xs = [];
for (let i = 0; i + 1 < offsets.length; i++) xs.push({ idx: idx.subarray(offsets[i], offsets[i + 1]), val: val.subarray(offsets[i], offsets[i + 1]) });
const net = trainNetwork(xs, ys, rows, classCount, new Int32Array(0), opts);
parentPort.postMessage(net, [net.w1.buffer, net.b1.buffer, net.w2.buffer, net.b2.buffer]);
`;

/**
 * `trainNetwork` in a worker thread, so it runs beside the linear model's training on a second core
 * (model.ts starts it first, trains the linear model, then waits): the same network, the same
 * weights (it is deterministic for one seed), in about the linear model's time instead of after it.
 * If the worker cannot start or fails, it trains here instead (with a process warning):
 * `inWorker` tells which.
 */
export function trainNetworkConcurrently(
  xs: readonly SparseInput[],
  ys: Int32Array,
  rows: number,
  classCount: number,
  inputMap: Int32Array,
  opts: NetworkOptions,
): Promise<{ network: Network; inWorker: boolean }> {
  // The inputs packed into shared memory: the worker reads them where they are (no copy on its side),
  // and nothing here is detached (see below). The fallback reads the same arrays, so `xs`, a few
  // objects per question, can go as soon as they are packed.
  const offsets = new Int32Array(new SharedArrayBuffer((xs.length + 1) * 4));
  for (let i = 0; i < xs.length; i++) offsets[i + 1] = offsets[i]! + xs[i]!.idx.length;
  const total = offsets[xs.length]!;
  const idx = new Int32Array(new SharedArrayBuffer(total * 4));
  const val = new Float32Array(new SharedArrayBuffer(total * 4));
  xs.forEach((x, i) => {
    idx.set(x.idx, offsets[i]!);
    val.set(x.val, offsets[i]!);
  });
  const labels = new Int32Array(new SharedArrayBuffer(ys.length * 4));
  labels.set(ys);
  const count = xs.length;
  // Said, not hidden: the model is the same, but training takes the network's time more.
  const fallBack = (err: unknown) => {
    process.emitWarning(`the classifier's network trains in the main thread: its worker thread failed (${err instanceof Error ? err.message : String(err)})`, { code: 'SPORTELLO_NETWORK_WORKER' });
    const inputs = Array.from({ length: count }, (_, i) => ({ idx: idx.subarray(offsets[i]!, offsets[i + 1]!), val: val.subarray(offsets[i]!, offsets[i + 1]!) }));
    return { network: trainNetwork(inputs, labels, rows, classCount, inputMap, opts), inWorker: false };
  };
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // Plain JavaScript: none of this process's flags (a TypeScript loader, jest's) is needed.
        execArgv: [],
        // Shared, not transferred: detaching an ArrayBuffer in this thread would cost every typed
        // array access of its optimised code a check from then on (V8's detaching protector; measured:
        // Banking77 classifications per CPU second 18.1–18.7 k → 15.7–16.1 k with the transfer).
        // Copied (until the nineteenth session), they cost CLINC150's peak about 10 MB more (under tsx: 278, 287 → 268, 274 MB).
        workerData: { offsets, idx, val, ys: labels, rows, classCount, opts },
      });
    } catch (err) {
      resolve(fallBack(err));
      return;
    }
    // Answered once the worker has exited (its thread gone), so the caller classifies alone.
    let trained: Network | undefined;
    let failure: unknown;
    worker.once('message', (net: Omit<Network, 'inputMap'>) => {
      trained = { ...net, inputMap };
    });
    worker.once('error', (err) => (failure = err));
    worker.once('exit', (code) => resolve(trained ? { network: trained, inWorker: true } : fallBack(failure ?? new Error(`the worker exited with code ${code}`))));
  });
}
