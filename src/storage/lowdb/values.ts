/**
 * @module storage/lowdb/values
 * Namespaced values with an optional expiry, stored as `namespace:key`. An expired value is never
 * returned; expired values are pruned with old inbound ids (hourly, and at start).
 */
import type { KeyValues } from '../../core/ports.js';
import { checkTtl, valueName } from '../values.js';
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

    async delete(ns, key) {
      ensureOpen();
      const name = valueName(ns, key);
      if (mem.values.has(name)) await file.commit([['value-delete', { name }]]);
    },
  };
}
