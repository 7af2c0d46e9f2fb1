/**
 * @module util/pump
 * The claim-and-send loop of a queue that many things may wake up: the outbox sender's (replies)
 * and the webhook dispatcher's (outbound events). `cycle` claims what is due and starts sending
 * it, up to the room there is. `kick()` runs a cycle now, or, when one is running, once more right
 * after it (never two at once, and kicks during a cycle are one more cycle, not many); between
 * `start()` and `stop()` a timer kicks every `pollMs`; `drain()` waits until nothing is claimed or
 * in flight and a last cycle found nothing to start; `stop()` ends the timer and waits for the
 * cycle in progress (what is in flight is the caller's to finish).
 */

/** A loop's controls. */
export interface Pump {
  kick(): void;
  /** Kicks now and every `pollMs` (the timer does not keep the process alive). */
  start(): void;
  drain(): Promise<void>;
  stop(): Promise<void>;
  /** True before `start` (when created stopped) and after `stop`: cycles then start nothing. */
  readonly stopped: boolean;
}

export interface PumpOptions {
  /** One pass: claim what is due and start sending it; look at `pump.stopped` to stop early. */
  cycle(): Promise<void>;
  /** The sends in flight (the caller adds and removes them). */
  inFlight: ReadonlySet<Promise<unknown>>;
  pollMs: number;
  /** A cycle that threw (the loop goes on at the next kick). */
  onError(err: unknown): void;
  /** Whether it starts stopped: kicks do nothing until `start()` (default false). */
  stopped?: boolean;
}

export function createPump(options: PumpOptions): Pump {
  const { inFlight } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = options.stopped ?? false;

  /** A cycle, and another while kicks came during it. */
  async function run(): Promise<void> {
    do {
      again = false;
      await options.cycle();
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
  }

  return {
    kick,
    get stopped() {
      return stopped;
    },
    start() {
      stopped = false;
      timer = setInterval(kick, options.pollMs);
      timer.unref();
      kick();
    },
    async drain() {
      for (;;) {
        while (running || inFlight.size > 0) {
          if (running) await running;
          if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        }
        if (stopped) return;
        await run();
        if (inFlight.size === 0 && !running) return;
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      while (running) await running;
    },
  };
}
