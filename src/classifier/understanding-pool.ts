/**
 * @module classifier/understanding-pool
 * Understanding off the main thread. Worker threads hold a copy of each trained model and answer
 * `understandAsync` calls, sent to them in one message per turn of the event loop, so the thread
 * that serves webhooks and writes the store does not spend its time on language detection,
 * classification, entities and sentiment (about a sixth of a message's cost).
 *
 * The model is trained once, in the main thread (or read from the model cache: model-cache.ts),
 * and handed to the workers as data (a structured clone of its maps and typed arrays): a worker
 * never trains. The main thread keeps its copy: suggestions, the operator API and the CLI call
 * `understand` directly, and it answers whenever the workers cannot — before a worker has the
 * model, or after a worker failed (it is not restarted; the main thread carries on alone and the
 * failure is reported).
 *
 * Workers start when first needed — the first call made while the main thread is busy — not with
 * the pool: a quiet server never pays for a second thread's start (Node, the classifier's modules
 * and compromise's lexicon: half a second of CPU), and the start of a busy one is not slowed by it.
 */
import { availableParallelism } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { TrainingExample, Understander, Understanding } from '../core/ports.js';
import type { Language } from '../core/types.js';
import { trainUnderstanding, type ModelCacheOptions, type UnderstanderOptions } from './index.js';
import type { ModelSnapshot } from './model.js';

/** Messages to a worker. */
export type ToWorker =
  | { type: 'load'; model: number; snapshot: ModelSnapshot; options: UnderstanderOptions }
  | { type: 'understand'; model: number; requests: Array<{ id: number; text: string; previousLanguage?: Language }> }
  | { type: 'drop'; model: number };

/** Messages from a worker. */
export type FromWorker =
  | { type: 'loaded'; model: number }
  | { type: 'failed'; model: number; error: string }
  | { type: 'understood'; results: Array<{ id: number; value?: Understanding; error?: string }> };

/** Options of the pool. */
export interface UnderstandingPoolOptions {
  /** Worker threads (default: 1 when the machine has two cores or more, else 0: understanding stays in the calling thread). */
  threads?: number;
  /** Told when a worker fails or cannot load a model (the main thread's model answers instead). */
  onError?: (err: Error) => void;
  /**
   * Calls go to the workers only while the main thread's event loop is busier than this share of
   * the time (0 … 1, measured over the last 200 ms; default 0.5). A quiet thread answers at once:
   * a trip to another thread and back costs more than it saves when nothing else is waiting.
   */
  offloadAbove?: number;
  /** Keep trained models on disk between starts (see model-cache.ts); default: no cache. */
  modelCache?: ModelCacheOptions;
}

/** Trains understanders whose `understandAsync` runs in worker threads. */
export interface UnderstandingPool {
  /** Trains in the main thread (or reads the model cache) and hands the model to the workers. */
  train(examples: readonly TrainingExample[], options?: UnderstanderOptions): Promise<Understander>;
  /** Worker threads running now (they start with the first call made while the main thread is busy). */
  threads(): number;
  /** Calls of `understandAsync` answered so far by the workers and by the main thread's model. */
  answered(): { worker: number; mainThread: number };
  /** Stops the workers (calls still waiting are answered by the main thread's model). */
  close(): Promise<void>;
}

/** The default number of worker threads: one when there is a second core to run it. */
export function defaultUnderstandingThreads(): number {
  return availableParallelism() >= 2 ? 1 : 0;
}

interface Waiting {
  resolve(value: Understanding): void;
  /** Answers with the main thread's model instead. */
  fallBack(): void;
}

interface PoolWorker {
  worker: Worker;
  alive: boolean;
  /** Models loaded in this worker. */
  ready: Set<number>;
  /** Calls sent and not yet answered, by id. */
  waiting: Map<number, Waiting>;
}

// Compiled (dist/), the worker runs its own module; from the TypeScript sources (tests, benchmarks)
// it starts from an entry that registers tsx first (worker threads do not inherit the loader).
const ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./understanding-worker-entry.mjs', import.meta.url)
  : new URL('./understanding-worker.js', import.meta.url);

/** Starts `options.threads` understanding workers. */
export function createUnderstandingPool(options: UnderstandingPoolOptions = {}): UnderstandingPool {
  const count = Math.max(0, Math.floor(options.threads ?? defaultUnderstandingThreads()));
  const report = options.onError ?? ((err: Error) => process.emitWarning(`sportello understanding pool: ${err.message}`));
  let nextModel = 0;
  let nextId = 0;
  let nextWorker = 0;
  let closed = false;
  const answered = { worker: 0, mainThread: 0 };
  const offloadAbove = options.offloadAbove ?? 0.5;
  /** Event loop utilisation: the last window's share, and where the current window started. */
  let busy = 0;
  let windowStart: EventLoopUtilization = performance.eventLoopUtilization();
  let windowEnds = 0;
  function loopIsBusy(): boolean {
    if (offloadAbove <= 0) return true;
    const now = performance.now();
    if (now >= windowEnds) {
      const current = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(current, windowStart).utilization;
      windowStart = current;
      windowEnds = now + 200;
    }
    return busy > offloadAbove;
  }
  /** Models still in use: the newest and the one before (turns under way may still ask it), as data for the workers. */
  const kept: Array<{ model: number; snapshot: ModelSnapshot; options: UnderstanderOptions }> = [];

  const workers: PoolWorker[] = [];
  let started = false;

  /** Starts the workers (once) and gives them the models in use. */
  function start(): void {
    started = true;
    for (let i = 0; i < count; i++) {
      const worker = new Worker(ENTRY);
      // Never keeps the process alive on its own.
      worker.unref();
      const w: PoolWorker = { worker, alive: true, ready: new Set(), waiting: new Map() };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'loaded') w.ready.add(message.model);
        else if (message.type === 'failed') report(new Error(`a worker could not load model ${message.model}: ${message.error}`));
        else {
          for (const r of message.results) {
            const waiting = w.waiting.get(r.id);
            if (!waiting) continue;
            w.waiting.delete(r.id);
            if (r.value) {
              answered.worker += 1;
              waiting.resolve(r.value);
            } else waiting.fallBack();
          }
        }
      });
      const fail = (err: Error) => {
        if (!w.alive) return;
        w.alive = false;
        if (!closed) report(new Error(`an understanding worker stopped (${err.message}); the main thread understands instead`));
        for (const waiting of w.waiting.values()) waiting.fallBack();
        w.waiting.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
      workers.push(w);
      for (const k of kept) load(w, k);
    }
  }

  function load(w: PoolWorker, k: (typeof kept)[number]): void {
    w.worker.postMessage({ type: 'load', model: k.model, snapshot: k.snapshot, options: k.options } satisfies ToWorker);
  }

  /** Calls made in this turn of the event loop, per model; they leave together. */
  let batch = new Map<number, Array<{ id: number; text: string; previousLanguage?: Language; waiting: Waiting }>>();
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const current = batch;
    batch = new Map();
    for (const [model, calls] of current) {
      const target = pick(model);
      if (!target) {
        for (const c of calls) c.waiting.fallBack();
        continue;
      }
      for (const c of calls) target.waiting.set(c.id, c.waiting);
      const message: ToWorker = { type: 'understand', model, requests: calls.map(({ id, text, previousLanguage }) => ({ id, text, previousLanguage })) };
      target.worker.postMessage(message);
    }
  }

  /** The next live worker that has `model`, round robin. */
  function pick(model: number): PoolWorker | undefined {
    for (let i = 0; i < workers.length; i++) {
      const w = workers[(nextWorker + i) % workers.length]!;
      if (w.alive && w.ready.has(model)) {
        nextWorker = (nextWorker + i + 1) % workers.length;
        return w;
      }
    }
    return undefined;
  }

  function offloaded(local: Understander, model: number): Understander {
    const inMainThread = (text: string, context?: { previousLanguage?: Language }) => {
      answered.mainThread += 1;
      return local.understand(text, context);
    };
    return {
      understand: (text, context) => local.understand(text, context),
      understandAsync(text, context) {
        if (closed || !loopIsBusy()) return Promise.resolve(inMainThread(text, context));
        if (!started && count > 0) start();
        if (!workers.some((w) => w.alive && w.ready.has(model))) return Promise.resolve(inMainThread(text, context));
        return new Promise<Understanding>((resolve) => {
          const waiting: Waiting = { resolve, fallBack: () => resolve(inMainThread(text, context)) };
          let calls = batch.get(model);
          if (!calls) batch.set(model, (calls = []));
          calls.push({ id: nextId++, text, previousLanguage: context?.previousLanguage, waiting });
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        });
      },
    };
  }

  return {
    async train(examples, trainOptions = {}) {
      const trained = await trainUnderstanding(examples, trainOptions, options.modelCache);
      if (closed || count === 0) return trained.understander;
      const k = { model: nextModel++, snapshot: trained.model, options: trainOptions };
      kept.push(k);
      for (const w of workers) if (w.alive) load(w, k);
      while (kept.length > 2) {
        const old = kept.shift()!.model;
        for (const w of workers) {
          w.ready.delete(old);
          if (w.alive) w.worker.postMessage({ type: 'drop', model: old } satisfies ToWorker);
        }
      }
      return offloaded(trained.understander, k.model);
    },

    threads: () => workers.filter((w) => w.alive).length,

    answered: () => ({ ...answered }),

    async close() {
      if (closed) return;
      closed = true;
      // Calls not answered yet are answered now, by the main thread's model (a worker's late
      // answer finds nobody waiting and is dropped).
      const queued = batch;
      batch = new Map();
      for (const calls of queued.values()) for (const c of calls) c.waiting.fallBack();
      for (const w of workers) {
        for (const waiting of w.waiting.values()) waiting.fallBack();
        w.waiting.clear();
      }
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}
