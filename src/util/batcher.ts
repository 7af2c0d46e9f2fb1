/**
 * @module util/batcher
 * Group commit for a store: calls made in the same turn of the event loop, or while earlier
 * batches are still in flight, are handed to `flush` together, so many callers share one round
 * trip (and, for writes, one transaction and one WAL flush). Each caller still gets its own
 * result or its own error.
 */

/** One item's outcome, as `flush` reports it. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** How a batcher groups and applies calls. */
export interface BatcherOptions<I, O> {
  /** Applies a batch; returns one outcome per item, in the items' order. Throwing fails every item. */
  flush(items: I[]): Promise<Settled<O>[]>;
  /** Most items in one batch (default 200). */
  maxBatch?: number;
  /** Batches in flight at once (default 2); calls made meanwhile wait and form the next batch. */
  maxInFlight?: number;
  /**
   * How long a batch waits for more calls before it leaves (default 0: at the end of the current
   * turn of the event loop). For calls nobody waits on urgently, so that at moderate rates they
   * still share round trips.
   */
  delayMs?: number;
}

/** Collects calls into batches. */
export interface Batcher<I, O> {
  /** Queues one item; resolves or rejects with its own outcome once its batch is applied. */
  add(item: I): Promise<O>;
  /** Items queued or in flight. */
  size(): number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** Creates a batcher around `options.flush`. */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const maxBatch = Math.max(1, options.maxBatch ?? 200);
  const maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  const delayMs = Math.max(0, options.delayMs ?? 0);
  let queue: Waiting<I, O>[] = [];
  let inFlight = 0;
  let inFlightItems = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    // setImmediate, not a microtask: every I/O callback of this loop iteration (each webhook
    // request, each finished read) gets to add its call before the batch leaves.
    if (delayMs > 0) setTimeout(start, delayMs);
    else setImmediate(start);
  }

  function start(): void {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      inFlight += 1;
      inFlightItems += batch.length;
      void run(batch).finally(() => {
        inFlight -= 1;
        inFlightItems -= batch.length;
        schedule();
      });
    }
  }

  async function run(batch: Waiting<I, O>[]): Promise<void> {
    let outcomes: Settled<O>[];
    try {
      outcomes = await options.flush(batch.map((w) => w.item));
      if (outcomes.length !== batch.length) {
        throw new Error(`batch flush returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) w.resolve(outcome.value);
      else w.reject(outcome.error);
    });
  }

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    size: () => queue.length + inFlightItems,
  };
}
