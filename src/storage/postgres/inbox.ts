/**
 * @module storage/postgres/inbox
 * Accepted messages. In a shared database every write is a round trip, so while few messages are
 * waiting (`deferBelow`) a new message is not inserted on its own: the commit of the turn that
 * processes it records it (as received and processed, or refuses it as already processed), and
 * `durable` resolves then — one transaction per message instead of two. A message whose turn
 * fails, or has not committed within `deferMs`, is inserted on its own (then `durable` resolves),
 * so an acknowledged message is always kept. Under a burst, messages are inserted at once, many
 * per statement, so acknowledgements do not wait for turns queued behind others.
 */
import type { Acceptance, Inbox } from '../../core/ports.js';
import type { InboundMessage } from '../../core/types.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
import { json, type BatchOptions, type Connection } from './connection.js';

const inboundKey = (channel: string, id: string): string => `${channel}\u0000${id}`;

/** What the shared store's commits tell its inbox about a turn's message. */
export interface TurnOutcomes {
  /** The turn of (channel, id) committed, or found the message processed: the message is kept. */
  kept(channel: string, id: string): void;
  /** The turn of (channel, id) failed for good: the message is recorded on its own now. */
  failed(channel: string, id: string): void;
  /** Writes every deferred message now (before the store closes). */
  drain(): Promise<void>;
}

interface Deferred {
  msg: InboundMessage;
  durable: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
}

export function postgresInbox(conn: Connection, batch: BatchOptions & { deferBelow: number; deferMs: number }): Inbox & TurnOutcomes {
  const deferred = new Map<string, Deferred>();

  /**
   * Inserts: one statement per batch; a (channel, id) seen twice in one batch is new only for its
   * first caller. Rows go in key order, so two instances inserting overlapping batches (a webhook
   * delivered to both) lock them in the same order instead of deadlocking; their numbers (the
   * order pending() gives) follow arrival.
   */
  const inserts = createBatcher<InboundMessage, boolean>({
    ...batch,
    async flush(msgs) {
      // Numbered in arrival order (pending() replays in that order), inserted in key order.
      const rows = await conn.query<{ channel: string; id: string }>(
        `WITH arrived AS (
           SELECT e, nextval(pg_get_serial_sequence('inbound', 'n')) AS n
           FROM (SELECT e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i) AS ordered)
         INSERT INTO inbound (channel, id, n, message)
         SELECT e->>'channel', e->>'id', n, e FROM arrived ORDER BY e->>'channel' COLLATE "C", e->>'id' COLLATE "C"
         ON CONFLICT (channel, id) DO NOTHING RETURNING channel, id`,
        [json(msgs)],
      );
      const fresh = new Set(rows.map((r) => inboundKey(r.channel, r.id)));
      return msgs.map((m): Settled<boolean> => ({ ok: true, value: fresh.delete(inboundKey(m.channel, m.id)) }));
    },
  });

  /** Inserts a deferred message on its own (already there, processed or not, is kept too). */
  function writeAlone(key: string): void {
    const d = deferred.get(key);
    if (!d) return;
    deferred.delete(key);
    clearTimeout(d.timer);
    inserts.add(d.msg).then(() => d.resolve(), (err: unknown) => d.reject(err));
  }

  function kept(channel: string, id: string): void {
    const key = inboundKey(channel, id);
    const d = deferred.get(key);
    if (!d) return;
    deferred.delete(key);
    clearTimeout(d.timer);
    d.resolve();
  }

  return {
    async accept(msg): Promise<Acceptance> {
      conn.ensureOpen();
      const key = inboundKey(msg.channel, msg.id);
      const waiting = deferred.get(key);
      if (waiting) return { fresh: false, durable: waiting.durable };
      if (deferred.size < batch.deferBelow) {
        let resolve!: () => void;
        let reject!: (err: unknown) => void;
        const durable = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        durable.catch(() => undefined);
        const timer = setTimeout(() => writeAlone(key), batch.deferMs);
        timer.unref();
        deferred.set(key, { msg, durable, resolve, reject, timer });
        // Fresh as far as this instance knows: a message processed elsewhere is found at commit
        // (AlreadyProcessedError), and its turn writes nothing.
        return { fresh: true, durable };
      }
      return { fresh: await inserts.add(msg), durable: Promise.resolve() };
    },

    async pending(limit) {
      const rows = await conn.query<{ message: InboundMessage }>(
        `SELECT message FROM inbound WHERE processed_at IS NULL AND message IS NOT NULL ORDER BY n LIMIT $1`,
        [Math.max(0, limit)],
      );
      return rows.map((r) => r.message);
    },

    kept,
    failed: (channel, id) => writeAlone(inboundKey(channel, id)),

    async drain() {
      const all = [...deferred.entries()];
      for (const [key] of all) writeAlone(key);
      await Promise.allSettled(all.map(([, d]) => d.durable));
    },
  };
}
