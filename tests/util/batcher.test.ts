import { createBatcher, type Settled } from '../../src/util/batcher.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A flush that records its batches and doubles numbers (odd ones fail), after `delayMs`. */
function recorder(delayMs = 0) {
  const batches: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const flush = async (items: number[]): Promise<Settled<number>[]> => {
    batches.push(items);
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    await sleep(delayMs);
    concurrent -= 1;
    return items.map((n) => (n % 2 ? { ok: false, error: new Error(`odd ${n}`) } : { ok: true, value: n * 2 }));
  };
  return { batches, flush, maxConcurrent: () => maxConcurrent };
}

describe('the batcher', () => {
  it('with delayMs, lets calls made a few milliseconds apart share a batch', async () => {
    const r = recorder();
    const batcher = createBatcher({ flush: r.flush, delayMs: 40 });
    const first = batcher.add(2);
    await sleep(5);
    const second = batcher.add(4);
    expect(await Promise.all([first, second])).toEqual([4, 8]);
    expect(r.batches).toEqual([[2, 4]]);
    // Without a delay, the same two calls leave one by one.
    const plain = recorder();
    const eager = createBatcher({ flush: plain.flush });
    const a = eager.add(2);
    await sleep(5);
    await Promise.all([a, eager.add(4)]);
    expect(plain.batches).toEqual([[2], [4]]);
  });

  it('sends calls made in the same turn of the event loop as one batch, each caller getting its own outcome', async () => {
    const r = recorder();
    const batcher = createBatcher({ flush: r.flush });
    const results = await Promise.allSettled([0, 1, 2, 3].map((n) => batcher.add(n)));
    expect(r.batches).toEqual([[0, 1, 2, 3]]);
    expect(results.map((x) => (x.status === 'fulfilled' ? x.value : (x.reason as Error).message))).toEqual([0, 'odd 1', 4, 'odd 3']);
    expect(batcher.size()).toBe(0);
  });

  it('collects calls made while the batches in flight run into the next batch', async () => {
    const r = recorder(20);
    const batcher = createBatcher({ flush: r.flush, maxInFlight: 1 });
    const first = batcher.add(0);
    await sleep(5);
    const later = [2, 4, 6].map((n) => batcher.add(n));
    expect(batcher.size()).toBe(4);
    await Promise.all([first, ...later]);
    expect(r.batches).toEqual([[0], [2, 4, 6]]);
  });

  it('keeps batches within maxBatch and no more than maxInFlight of them running at once', async () => {
    const r = recorder(5);
    const batcher = createBatcher({ flush: r.flush, maxBatch: 3, maxInFlight: 2 });
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.add(i * 2)));
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => i * 4));
    expect(r.batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(r.batches.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(r.maxConcurrent()).toBe(2);
  });

  it('fails every item of a batch whose flush throws, and goes on with the next batch', async () => {
    let calls = 0;
    const batcher = createBatcher<number, number>({
      flush: async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('connection lost');
        return items.map((n) => ({ ok: true, value: n }));
      },
    });
    const failed = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(failed.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    expect(await batcher.add(3)).toBe(3);
  });

  it('refuses a flush that answers for the wrong number of items', async () => {
    const batcher = createBatcher<number, number>({ flush: async () => [] });
    await expect(batcher.add(1)).rejects.toThrow(/0 outcomes for 1 items/);
  });
});
