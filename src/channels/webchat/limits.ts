/**
 * @module channels/webchat/limits
 * What keeps one anonymous client from flooding the web chat: rate limits (token buckets) per
 * session and per address, and a count of open event streams per address. All in memory, per
 * instance: a flood is refused before it costs a store read. With N instances behind a balancer a
 * client gets at most N times each limit.
 *
 * Addresses are grouped as a network sees them: an IPv4 address alone (an IPv4-mapped IPv6
 * address is its IPv4 address), an IPv6 address by its /64 (one household or host holds a whole
 * /64, so rotating addresses inside it gains nothing).
 */
import { isIPv6 } from 'node:net';

/** The group an address is limited in: IPv4 as is, IPv6 by its /64 prefix. */
export function addressGroup(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  // Expand `::` to reach the first four groups (the /64).
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** A refusal: retry after this many seconds. */
export interface Refusal {
  retryAfterSeconds: number;
}

/**
 * Token buckets by key: each holds up to `burst` tokens and gains `perWindow` tokens every
 * `windowMs`; a call takes one or is refused with the time until one is back. Full buckets are
 * forgotten (they say nothing), so memory follows the clients active in the last window.
 */
export interface RateLimiter {
  take(key: string): Refusal | undefined;
  /** Keys currently tracked (tests, metrics). */
  readonly size: number;
}

export function createRateLimiter(options: { perWindow: number; windowMs: number; burst?: number; now: () => number }): RateLimiter {
  const { perWindow, windowMs, now } = options;
  const burst = options.burst ?? perWindow;
  const ratePerMs = perWindow / windowMs;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = now();

  /** Drops the buckets that have refilled: a client quiet for a window costs nothing. */
  function sweep(t: number): void {
    if (t - sweptAt < windowMs) return;
    sweptAt = t;
    for (const [key, b] of buckets) if (b.tokens + (t - b.at) * ratePerMs >= burst) buckets.delete(key);
  }

  return {
    take(key) {
      const t = now();
      sweep(t);
      const b = buckets.get(key);
      const tokens = b ? Math.min(burst, b.tokens + (t - b.at) * ratePerMs) : burst;
      if (tokens < 1) {
        if (b) Object.assign(b, { tokens, at: t });
        return { retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / ratePerMs / 1000)) };
      }
      if (b) Object.assign(b, { tokens: tokens - 1, at: t });
      else buckets.set(key, { tokens: tokens - 1, at: t });
      return undefined;
    },
    get size() {
      return buckets.size;
    },
  };
}

/** Counts what is open per key (event streams per address), up to a cap. */
export interface OpenCounter {
  /** Counts one more for `key`; false (nothing counted) when `key` is at the cap. */
  open(key: string): boolean;
  close(key: string): void;
  count(key: string): number;
}

export function createOpenCounter(cap: number): OpenCounter {
  const open = new Map<string, number>();
  return {
    open(key) {
      const n = open.get(key) ?? 0;
      if (n >= cap) return false;
      open.set(key, n + 1);
      return true;
    },
    close(key) {
      const n = (open.get(key) ?? 0) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    },
    count: (key) => open.get(key) ?? 0,
  };
}
