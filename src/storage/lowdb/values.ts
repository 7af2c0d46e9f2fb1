/**
 * @module storage/lowdb/values
 * Namespaced values with an optional expiry, stored as `namespace:key`. An expired value is never
 * returned; expired values are pruned with old inbound ids (hourly, and at start). An increment
 * reads and changes memory synchronously (one process owns the file), so callers racing each other
 * each get their own number; it resolves once its journal line is on disk.
 */
import type { KeyValues } from '../../core/ports.js';
import { checkTtl, counterValue, valueName } from '../values.js';
import type { LowdbParts } from './parts.js';

export function lowdbValues({ mem, file, ensureOpen, now }: LowdbParts): KeyValues {
  return {
    async get(ns, key) {
      ensureOpen();
      const v = mem.values.get(valueName(ns, key));
      return v && (v.expiresAt === undefined || v.expiresAt > now()) ? v.value : undefined;
    },

    async set(ns, key, value, options) {
      ensureOpen();
      const name = valueName(ns, key);
      const ttl = options?.ttlMs;
      checkTtl(ttl);
      await file.commit([['value', ttl !== undefined ? { name, value, expiresAt: now() + ttl } : { name, value }]]);
    },

    async increment(ns, key, options) {
      ensureOpen();
      const name = valueName(ns, key);
      const ttl = options?.ttlMs;
      checkTtl(ttl);
      const at = now();
      const stored = mem.values.get(name);
      const live = stored && (stored.expiresAt === undefined || stored.expiresAt > at) ? stored : undefined;
      const next = (live ? counterValue(name, live.value) : 0) + 1;
      const expiresAt = live ? live.expiresAt : ttl !== undefined ? at + ttl : undefined;
      await file.commit([['value', expiresAt !== undefined ? { name, value: String(next), expiresAt } : { name, value: String(next) }]]);
      return next;
    },

    async delete(ns, key) {
      ensureOpen();
      const name = valueName(ns, key);
      if (mem.values.has(name)) await file.commit([['value-delete', { name }]]);
    },
  };
}
