/** @module storage/values — how both stores name a namespaced value. */
import { StoreError } from '../core/errors.js';

const NAMESPACE = /^[a-z0-9_-]+$/;

/** The stored name of a value: `namespace:key` (so `twitter:cursor` is key `cursor` of namespace `twitter`). */
export function valueName(ns: string, key: string): string {
  if (!NAMESPACE.test(ns)) throw new StoreError(`invalid value namespace "${ns}": use lower-case letters, digits, _ and -`);
  return `${ns}:${key}`;
}

/** A time to live must be a positive number of milliseconds. */
export function checkTtl(ttlMs: number | undefined): void {
  if (ttlMs !== undefined && !(Number.isFinite(ttlMs) && ttlMs > 0)) throw new StoreError(`invalid time to live ${ttlMs}: use a positive number of milliseconds`);
}

/** The whole number a counter holds; StoreError when the value stored under `name` is not one. */
export function counterValue(name: string, value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw new StoreError(`value ${name} is not a counter (it holds ${JSON.stringify(value.slice(0, 40))})`);
  return Number(value);
}
