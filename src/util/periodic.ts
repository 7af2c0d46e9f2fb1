/**
 * @module util/periodic
 * A scheduled job's loop: between `start()` and `stop()` a timer runs the job every `intervalMs`
 * (never two runs at once: a tick during a run is skipped); a run that throws is reported and the
 * next tick tries again; `stop()` ends the timer and waits for the run in progress. The timer does
 * not keep the process alive. (Cases the bot closes and surveys, the retention job.)
 */

export interface PeriodicJob {
  start(): void;
  stop(): Promise<void>;
}

export function createPeriodicJob(options: { run(): Promise<unknown>; intervalMs: number; onError(err: unknown): void }): PeriodicJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  function tick(): void {
    if (running) return;
    running = options
      .run()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(tick, options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
