/**
 * The claim-and-send loop the outbox sender and the webhook dispatcher share: kicks during a
 * cycle make one more cycle (never two at once), a stopped loop ignores kicks, drain waits for
 * what is in flight and for a last cycle that starts nothing, stop waits for the running cycle.
 */
import { describe, expect, it } from '@jest/globals';
import { createPump } from '../../src/util/pump.js';

/** A promise and its resolver. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('createPump', () => {
  it('runs one cycle at a time, and kicks during a cycle as one more cycle', async () => {
    let cycles = 0;
    let concurrent = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const pump = createPump({
      pollMs: 60_000,
      inFlight: new Set(),
      onError: () => undefined,
      async cycle() {
        cycles += 1;
        concurrent += 1;
        most = Math.max(most, concurrent);
        if (cycles <= 2) await new Promise<void>((r) => gates.push(r));
        concurrent -= 1;
      },
    });
    pump.kick();
    pump.kick();
    pump.kick();
    expect(cycles).toBe(1);
    gates.shift()!();
    while (cycles < 2) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await pump.drain();
    expect(cycles).toBe(3); // the kicks, then drain's last look
    expect(most).toBe(1);
  });

  it('created stopped, ignores kicks until started; stopped, ignores them again', async () => {
    let cycles = 0;
    const pump = createPump({ stopped: true, pollMs: 60_000, inFlight: new Set(), onError: () => undefined, cycle: async () => void (cycles += 1) });
    pump.kick();
    expect(cycles).toBe(0);
    expect(pump.stopped).toBe(true);
    pump.start();
    await pump.drain();
    expect(cycles).toBeGreaterThanOrEqual(1);
    await pump.stop();
    const before = cycles;
    pump.kick();
    await pump.drain();
    expect(cycles).toBe(before);
  });

  it('drains what is in flight, and reports a failed cycle without stopping', async () => {
    const inFlight = new Set<Promise<void>>();
    const send = deferred();
    const errors: unknown[] = [];
    let cycles = 0;
    const pump = createPump({
      pollMs: 60_000,
      inFlight,
      onError: (err) => errors.push(err),
      async cycle() {
        cycles += 1;
        if (cycles === 1) throw new Error('claim failed');
        if (cycles === 2) {
          const p = send.promise.finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
      },
    });
    pump.kick();
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([new Error('claim failed')]);
    pump.kick();
    let drained = false;
    const draining = pump.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false);
    send.resolve();
    await draining;
    expect(inFlight.size).toBe(0);
  });
});
