/**
 * @module storage/lowdb/outbox
 * Replies waiting to be sent. A claim walks the conversations' unsent heads in time order (a
 * priority queue) and changes memory only: one process owns the file and `init()` frees every
 * lease, so a lease need not reach the disk. Only items whose turn is on disk are handed out.
 */
import { StoreError } from '../../core/errors.js';
import type { Outbox } from '../../core/ports.js';
import type { OutboxItem } from '../../core/types.js';
import type { DueHead } from './memory.js';
import type { LowdbParts } from './parts.js';
import { clone, freezeDeep, type Put } from './records.js';

export function lowdbOutbox({ mem, file, ensureOpen }: LowdbParts): Outbox {
  return {
    async claim(at, room, leaseMs) {
      ensureOpen();
      const heads: Array<{ item: OutboxItem; notBefore: number; order: number }> = [];
      const taken = new Set<string>();
      for (const [channel, limit] of Object.entries(room)) {
        const dueHeads = mem.dueHeads.get(channel);
        if (!dueHeads) continue;
        let count = 0;
        let notYetOnDisk: DueHead | undefined;
        while (count < limit && !dueHeads.isEmpty() && dueHeads.front()!.notBefore <= at) {
          const entry = dueHeads.dequeue()!;
          const item = mem.outbox.get(entry.id);
          // Only a current head counts: the entry may describe a head that was since claimed, sent or retried.
          if (!item || item.notBefore !== entry.notBefore || taken.has(item.id)) continue;
          if (item.status !== 'pending' && item.status !== 'sending') continue;
          if (mem.unsentByConversation.get(item.conversationId)?.[0]?.id !== item.id) continue;
          if ((mem.outboxWrittenBy.get(item.id) ?? 0) > mem.durableSeq) {
            // Not on disk yet: neither are the ones queued after it, almost always (the newest).
            // Stop here rather than walk them all on every claim; the next write's claim gets them.
            notYetOnDisk = entry;
            break;
          }
          taken.add(item.id);
          heads.push({ item, notBefore: entry.notBefore, order: entry.order });
          count += 1;
        }
        if (notYetOnDisk) dueHeads.enqueue(notYetOnDisk);
      }
      // In time order across channels, as one queue would hand them out.
      heads.sort((a, b) => a.notBefore - b.notBefore || a.order - b.order);
      const claimed = heads.map(({ item: head }): OutboxItem => ({ ...head, status: 'sending', attempts: head.attempts + 1, notBefore: at + leaseMs }));
      // A claim changes memory only. After a crash the item is pending on disk, as a lease would
      // be freed anyway; only its attempt count is one lower. The send's completion (or retry)
      // writes the whole item, attempts included.
      if (claimed.length) mem.applyAll(claimed.map((item): Put => ['outbox', freezeDeep(item)]), 0);
      // Frozen, like every record the store keeps: handed out as they are.
      return claimed;
    },

    async complete(id, outcome) {
      ensureOpen();
      const item = mem.outbox.get(id);
      if (!item) throw new StoreError(`outbox item ${id} does not exist`);
      if (outcome.status === 'sent') {
        await file.commit([['sent', { id, sentAt: outcome.at, platformId: outcome.platformId, attempts: item.attempts }]]);
      } else {
        const updated: OutboxItem =
          outcome.status === 'retry'
            ? { ...item, status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error, ...(outcome.inDoubt !== undefined ? { inDoubt: outcome.inDoubt } : {}) }
            : { ...item, status: 'dead', lastError: outcome.error };
        await file.commit([['outbox', updated]]);
      }
      return { more: (mem.unsentByConversation.get(item.conversationId) ?? []).some((other) => other.seq > item.seq) };
    },

    async get(id) {
      ensureOpen();
      const item = mem.outbox.get(id);
      return item && clone(item);
    },

    async list(filter) {
      ensureOpen();
      const source = filter.conversationId !== undefined ? (mem.outboxByConversation.get(filter.conversationId) ?? []) : mem.outbox.values();
      const found: OutboxItem[] = [];
      for (const item of source) if (filter.status === undefined || item.status === filter.status) found.push(item);
      found.sort((a, b) => (mem.outboxOrder.get(a.id) ?? 0) - (mem.outboxOrder.get(b.id) ?? 0));
      return found.map(clone);
    },
  };
}
