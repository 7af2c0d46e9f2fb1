/**
 * @module util/log-throttle
 * Keeps a log line that anyone can cause (a webhook without a valid signature, a login refused by
 * the limit) from becoming a flood: the first occurrence of a kind is logged, the others within
 * the window only counted, and the next line written says how many were left out. Without it one
 * client sending bad deliveries in a loop wrote some 500 kB of warnings a second into the logs.
 * Counters (`/metrics`) still count every one.
 */

/** What `take` says: log now (with how many were left out since the last line), or not. */
export type Throttled = { log: true; suppressed: number } | { log: false };

export interface LogThrottle {
  /** Counts one occurrence of `kind`: whether to write it, and how many were not written before it. */
  take(kind: string): Throttled;
}

/**
 * Creates a throttle: at most one line per `kind` every `windowMs` (default a minute). Kinds are
 * fixed names chosen by the code (never an address or a name sent by a client), so memory stays
 * small.
 */
export function createLogThrottle(options: { windowMs?: number; now?: () => number } = {}): LogThrottle {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const kinds = new Map<string, { loggedAt: number; suppressed: number }>();
  return {
    take(kind) {
      const t = now();
      const k = kinds.get(kind);
      if (!k || t - k.loggedAt >= windowMs) {
        const suppressed = k?.suppressed ?? 0;
        kinds.set(kind, { loggedAt: t, suppressed: 0 });
        return { log: true, suppressed };
      }
      k.suppressed += 1;
      return { log: false };
    },
  };
}
