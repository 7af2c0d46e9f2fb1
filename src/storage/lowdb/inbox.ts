/**
 * @module storage/lowdb/inbox
 * Accepted messages. A duplicate is told from memory at once; a new message is recorded in memory
 * and written with the next journal append (`durable`), usually together with its turn's commit,
 * since the turn is decided while the record is being written.
 */
import type { Inbox } from '../../core/ports.js';
import type { InboundMessage } from '../../core/types.js';
import type { LowdbParts } from './parts.js';
import { clone, inboundKey } from './records.js';

export function lowdbInbox({ mem, file, ensureOpen, now }: LowdbParts): Inbox {
  return {
    async accept(msg) {
      ensureOpen();
      if (mem.inbound.has(inboundKey(msg.channel, msg.id))) return { fresh: false, durable: Promise.resolve() };
      const durable = file.commitRecords([['inbound', { channel: msg.channel, id: msg.id, acceptedAt: new Date(now()).toISOString(), message: msg }]]);
      // Awaited by the caller before it acknowledges; handled here too, so a failure while the
      // caller waits for something else is not reported as unhandled.
      durable.catch(() => undefined);
      return { fresh: true, durable };
    },

    async pending(limit) {
      ensureOpen();
      const result: InboundMessage[] = [];
      for (const key of mem.pendingInboundKeys) {
        if (result.length >= limit) break;
        const message = mem.inbound.get(key)?.message;
        if (message) result.push(clone(message) as InboundMessage);
      }
      return result;
    },
  };
}
