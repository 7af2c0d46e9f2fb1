/** @module storage/lowdb/suggestions — FAQ suggestions waiting for review. */
import { ConflictError, StoreError } from '../../core/errors.js';
import type { Suggestions } from '../../core/ports.js';
import type { LowdbParts } from './parts.js';
import { clone, merge, type Put } from './records.js';

export function lowdbSuggestions({ mem, file, ensureOpen }: LowdbParts): Suggestions {
  return {
    async add(s) {
      ensureOpen();
      if (mem.suggestions.has(s.id)) throw new ConflictError(`suggestion ${s.id} already exists`);
      await file.commit([['suggestion', clone(s)]]);
    },

    async update(id, change, options) {
      ensureOpen();
      const current = mem.suggestions.get(id);
      if (!current) return undefined;
      const deliveries = options?.deliveries ?? [];
      for (const d of deliveries) if (mem.deliveries.has(d.id)) throw new StoreError(`delivery ${d.id} already exists`);
      const { id: _ignoredId, ...rest } = change;
      const updated = merge(current, rest);
      // The approval and the events it causes: one journal line.
      await file.commit([['suggestion', clone(updated)], ...deliveries.map((d): Put => ['delivery', clone(d)])]);
      return clone(updated);
    },

    async list(filter) {
      ensureOpen();
      return [...mem.suggestions.values()].filter((s) => filter?.status === undefined || s.status === filter.status).map(clone);
    },
  };
}
