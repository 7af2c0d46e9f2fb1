/**
 * @module storage/postgres/deliveries
 * Outbound event deliveries (webhooks). Written by sportello_apply_turns with the turn that causes
 * them (sql/functions.sql) and by approvals (suggestions.ts). A claim walks the undelivered ones
 * in claim order (index deliveries_due), keeps each order key's first (no undelivered one before
 * it, index deliveries_unsent), stops at `limit`, locks them with `FOR UPDATE SKIP LOCKED` and
 * leases them in the same statement: instances polling together never get the same delivery.
 */
import { StoreError } from '../../core/errors.js';
import type { Deliveries } from '../../core/ports.js';
import type { EventDelivery } from '../../core/types.js';
import { json, type Connection } from './connection.js';

export function postgresDeliveries(conn: Connection): Deliveries {
  return {
    async claim(now, limit, leaseMs) {
      if (limit <= 0) return [];
      const rows = await conn.query<{ doc: EventDelivery; old_not_before: number; n: string }>(
        `WITH due AS (
           SELECT d.id, d.not_before, d.n FROM deliveries d
           WHERE d.status IN ('pending', 'sending') AND d.not_before <= $1::double precision
             AND NOT EXISTS (
               SELECT 1 FROM deliveries p
               WHERE p.order_key = d.order_key AND p.status IN ('pending', 'sending') AND p.n < d.n)
           ORDER BY d.not_before, d.n
           LIMIT $2
           FOR UPDATE OF d SKIP LOCKED
         )
         UPDATE deliveries d SET doc = d.doc || jsonb_build_object(
             'status', 'sending',
             'attempts', COALESCE((d.doc->>'attempts')::integer, 0) + 1,
             'notBefore', $1::double precision + $3::double precision)
         FROM due WHERE d.id = due.id
         RETURNING d.doc, due.not_before AS old_not_before, due.n`,
        [now, limit, leaseMs],
      );
      return rows.sort((a, b) => a.old_not_before - b.old_not_before || Number(a.n) - Number(b.n)).map((r) => r.doc);
    },

    async complete(id, outcome) {
      const status = outcome.httpStatus !== undefined ? { lastStatus: outcome.httpStatus } : {};
      const patch =
        outcome.status === 'delivered'
          ? { ...status, status: 'delivered', deliveredAt: outcome.at }
          : outcome.status === 'retry'
            ? { ...status, status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error }
            : { ...status, status: 'dead', lastError: outcome.error };
      // lastStatus and lastError describe the last attempt only: dropped, then set again if it has them.
      const rows = await conn.query<{ id: string }>(
        `UPDATE deliveries SET doc = (doc - ARRAY['lastStatus', 'lastError']) || $2::jsonb WHERE id = $1 RETURNING id`,
        [id, json(patch)],
      );
      if (rows.length === 0) throw new StoreError(`delivery ${id} does not exist`);
    },

    async list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.before !== undefined) add('n < COALESCE((SELECT n FROM deliveries WHERE id = ?), 0)', filter.before);
      if (filter.status !== undefined) add('status = ?', filter.status);
      if (filter.subscription !== undefined) add('subscription = ?', filter.subscription);
      params.push(filter.limit);
      return conn.docs<EventDelivery>(`SELECT doc FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n DESC LIMIT $${params.length}`, params);
    },
  };
}
