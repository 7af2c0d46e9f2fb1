/**
 * @module storage/lowdb/deliveries
 * Outbound event deliveries (webhooks). Written by turns and approvals (conversations.ts,
 * suggestions.ts); claimed here from each order key's first undelivered one. Like the outbox, a
 * claim changes memory only (one process owns the file; `init()` frees every lease) and hands out
 * only deliveries whose write is on disk.
 */
import { StoreError } from '../../core/errors.js';
import type { Deliveries } from '../../core/ports.js';
import type { EventDelivery } from '../../core/types.js';
import type { LowdbParts } from './parts.js';
import { clone, freezeDeep, type Put } from './records.js';

export function lowdbDeliveries({ mem, file, ensureOpen }: LowdbParts): Deliveries {
  return {
    async claim(now, limit, leaseMs) {
      ensureOpen();
      if (limit <= 0) return [];
      // Each order key's head, when due and on disk; a key with a delivery waiting holds back the rest.
      const heads: EventDelivery[] = [];
      for (const unsent of mem.unsentDeliveries.values()) {
        const head = unsent[0]!;
        if (head.notBefore > now || (mem.deliveryWrittenBy.get(head.id) ?? 0) > mem.durableSeq) continue;
        heads.push(head);
      }
      heads.sort((a, b) => a.notBefore - b.notBefore);
      const claimed = heads.slice(0, limit).map((d) => freezeDeep({ ...d, status: 'sending' as const, attempts: d.attempts + 1, notBefore: now + leaseMs }));
      if (claimed.length) mem.applyAll(claimed.map((d): Put => ['delivery', d]), 0);
      return claimed;
    },

    async complete(id, outcome) {
      ensureOpen();
      const d = mem.deliveries.get(id);
      if (!d) throw new StoreError(`delivery ${id} does not exist`);
      const { lastStatus: _status, lastError: _error, ...rest } = d;
      const status = outcome.httpStatus !== undefined ? { lastStatus: outcome.httpStatus } : {};
      const updated: EventDelivery =
        outcome.status === 'delivered'
          ? { ...rest, ...status, status: 'delivered', deliveredAt: outcome.at }
          : outcome.status === 'retry'
            ? { ...rest, ...status, status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error }
            : { ...rest, ...status, status: 'dead', lastError: outcome.error };
      await file.commitRecords([['delivery', updated]]);
    },

    async list(filter) {
      ensureOpen();
      const all = [...mem.deliveries.values()];
      let end = all.length;
      if (filter.before !== undefined) {
        end = all.findIndex((d) => d.id === filter.before);
        if (end < 0) return [];
      }
      const found: EventDelivery[] = [];
      for (let i = end - 1; i >= 0 && found.length < filter.limit; i -= 1) {
        const d = all[i]!;
        if (filter.status !== undefined && d.status !== filter.status) continue;
        if (filter.subscription !== undefined && d.subscription !== filter.subscription) continue;
        found.push(d);
      }
      return found.map(clone);
    },
  };
}
