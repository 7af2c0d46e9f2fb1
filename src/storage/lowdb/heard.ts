/** @module storage/lowdb/heard — posts heard by listening. */
import { StoreError } from '../../core/errors.js';
import type { HeardItems } from '../../core/ports.js';
import type { HeardRecord } from '../../core/types.js';
import type { LowdbParts } from './parts.js';
import { clone, time, type Put } from './records.js';

export function lowdbHeard({ mem, file, ensureOpen }: LowdbParts): HeardItems {
  return {
    async add(items, options) {
      ensureOpen();
      const fresh = new Map<string, HeardRecord>();
      for (const item of items) if (!mem.heard.has(item.id) && !fresh.has(item.id)) fresh.set(item.id, item);
      const deliveries = options?.deliveries ?? [];
      for (const d of deliveries) if (mem.deliveries.has(d.id)) throw new StoreError(`delivery ${d.id} already exists`);
      if (fresh.size === 0 && deliveries.length === 0) return;
      // The posts and the alerts they raised: one journal line.
      await file.commit([...[...fresh.values()].map((h): Put => ['heard', clone(h)]), ...deliveries.map((d): Put => ['delivery', clone(d)])]);
    },

    async list(filter) {
      ensureOpen();
      const from = filter.from !== undefined ? time(filter.from) : -Infinity;
      const to = filter.to !== undefined ? time(filter.to) : Infinity;
      const found: Array<{ h: HeardRecord; n: number }> = [];
      let n = 0;
      for (const h of mem.heard.values()) {
        n += 1;
        const at = time(h.at);
        if (at < from || at >= to) continue;
        if (filter.class !== undefined && h.class !== filter.class) continue;
        if (filter.topic !== undefined && h.topic !== filter.topic) continue;
        found.push({ h, n });
      }
      found.sort((a, b) => time(b.h.at) - time(a.h.at) || b.n - a.n);
      let start = 0;
      if (filter.before !== undefined) {
        // The next page: what comes after the page's last post in this order.
        const mark = mem.heard.get(filter.before);
        if (!mark) return [];
        const markAt = time(mark.at);
        const markN = [...mem.heard.keys()].indexOf(filter.before) + 1;
        start = found.findIndex((f) => time(f.h.at) < markAt || (time(f.h.at) === markAt && f.n < markN));
        if (start < 0) return [];
      }
      return found.slice(start, start + Math.max(0, filter.limit)).map((f) => clone(f.h));
    },

    async get(id) {
      ensureOpen();
      const h = mem.heard.get(id);
      return h && clone(h);
    },
  };
}
