/**
 * @module storage/postgres/outbox
 * Replies waiting to be sent. A claim walks the unsent items in claim order (index outbox_due),
 * keeps each conversation's first unsent item, stops at `limit`, locks them with
 * `FOR UPDATE SKIP LOCKED` and leases them in the same statement: instances polling together never
 * get the same item. Completions made together leave as one UPDATE (group commit).
 */
import { StoreError } from '../../core/errors.js';
import type { Outbox } from '../../core/ports.js';
import type { OutboxItem } from '../../core/types.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
import { json, type BatchOptions, type Connection } from './connection.js';

export function postgresOutbox(conn: Connection, batch: BatchOptions & { completionDelayMs: number }): Outbox {
  /**
   * Outbox completions: one UPDATE; two completions of one id in a batch apply in call order. Each
   * learns whether its conversation has unsent items after it (index outbox_unsent).
   */
  const completions = createBatcher<{ id: string; patch: Record<string, unknown> }, { more: boolean }>({
    maxBatch: batch.maxBatch,
    maxInFlight: batch.maxInFlight,
    // The reply has reached the platform already: recording it a few milliseconds later lets the
    // completions of a moderate stream share one statement (a conversation's next reply waits as long).
    delayMs: batch.completionDelayMs,
    async flush(items) {
      const merged = new Map<string, Record<string, unknown>>();
      for (const { id, patch } of items) merged.set(id, { ...merged.get(id), ...patch });
      // id = ANY($1): primary-key probes (a join with jsonb_array_elements was planned as a scan of the outbox).
      const rows = await conn.query<{ id: string; more: boolean }>(
        `UPDATE outbox SET doc = doc || ($2::jsonb -> id) WHERE id = ANY ($1::text[])
         RETURNING id, EXISTS (SELECT 1 FROM outbox p
                               WHERE p.conversation_id = outbox.conversation_id AND p.status IN ('pending', 'sending') AND p.seq > outbox.seq) AS more`,
        [[...merged.keys()], json(Object.fromEntries(merged))],
      );
      const more = new Map(rows.map((r) => [r.id, r.more]));
      return items.map(({ id }): Settled<{ more: boolean }> => {
        const m = more.get(id);
        return m === undefined ? { ok: false, error: new StoreError(`outbox item ${id} does not exist`) } : { ok: true, value: { more: m } };
      });
    },
  });

  return {
    async claim(now, room, leaseMs) {
      const channels = Object.entries(room).filter(([, n]) => n > 0);
      if (channels.length === 0) return [];
      // due: per channel with room, unsent items whose time has come, in time order, that are the
      // first unsent item of their conversation (no unsent item with a smaller seq), locked
      // (others' locked rows skipped), at most the channel's room (index outbox_due_by_channel).
      // The row's own status/not_before are re-checked after locking, so an item another instance
      // just claimed or completed is not taken.
      const rows = await conn.query<{ doc: OutboxItem; old_not_before: number; n: string }>(
        `WITH room AS (
           SELECT r.channel, r.n FROM unnest($2::text[], $4::integer[]) AS r(channel, n)
         ), due AS (
           SELECT d.id, d.not_before, d.n FROM room CROSS JOIN LATERAL (
             SELECT o.id, o.not_before, o.n FROM outbox o
             WHERE o.channel = room.channel AND o.status IN ('pending', 'sending') AND o.not_before <= $1::double precision
               AND NOT EXISTS (
                 SELECT 1 FROM outbox p
                 WHERE p.conversation_id = o.conversation_id AND p.status IN ('pending', 'sending') AND p.seq < o.seq)
             ORDER BY o.not_before, o.n
             LIMIT room.n
             FOR UPDATE OF o SKIP LOCKED
           ) d
         )
         UPDATE outbox o SET doc = o.doc || jsonb_build_object(
             'status', 'sending',
             'attempts', COALESCE((o.doc->>'attempts')::integer, 0) + 1,
             'notBefore', $1::double precision + $3::double precision)
         FROM due WHERE o.id = due.id
         RETURNING o.doc, due.not_before AS old_not_before, due.n`,
        [now, channels.map(([c]) => c), leaseMs, channels.map(([, n]) => n)],
      );
      return rows.sort((a, b) => a.old_not_before - b.old_not_before || Number(a.n) - Number(b.n)).map((r) => r.doc);
    },

    async complete(id, outcome) {
      conn.ensureOpen();
      let patch: Record<string, unknown>;
      if (outcome.status === 'sent') patch = { status: 'sent', sentAt: outcome.at, platformId: outcome.platformId };
      else if (outcome.status === 'retry') {
        patch = { status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error, ...(outcome.inDoubt !== undefined ? { inDoubt: outcome.inDoubt } : {}) };
      }
      else patch = { status: 'dead', lastError: outcome.error };
      return completions.add({ id, patch });
    },

    get: (id) => conn.firstDoc<OutboxItem>('SELECT doc FROM outbox WHERE id = $1', [id]),

    async list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.conversationId !== undefined) {
        params.push(filter.conversationId);
        where.push(`conversation_id = $${params.length}`);
      }
      if (filter.status !== undefined) {
        params.push(filter.status);
        where.push(`status = $${params.length}`);
      }
      return conn.docs<OutboxItem>(`SELECT doc FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n`, params);
    },
  };
}
