/** @module util/safe-equal — constant-time comparison of secrets (signatures, tokens). */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings in constant time: neither the content nor the length leaks through timing.
 * Both sides are hashed to equal length first, because timingSafeEqual throws on different
 * lengths and an early length check would leak the secret's length.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  const hl = createHmac('sha256', 'sportello-compare').update(left).digest();
  const hr = createHmac('sha256', 'sportello-compare').update(right).digest();
  return timingSafeEqual(hl, hr) && left.length === right.length;
}
