/**
 * @module storage/postgres/values
 * Namespaced values with an optional expiry (`store_values`, named `namespace:key`). Reads made
 * together leave as one SELECT (a channel may read one per send). Expired values are never
 * returned, and are deleted with old inbound ids (hourly). An increment is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`: the row's lock orders increments from every
 * instance, and each gets its own number.
 */
import type { KeyValues } from '../../core/ports.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
import { StoreError } from '../../core/errors.js';
import { checkTtl, valueName } from '../values.js';
import type { BatchOptions, Connection } from './connection.js';

export function postgresValues(conn: Connection, batch: BatchOptions): KeyValues {
  const reads = createBatcher<string, string | undefined>({
    ...batch,
    async flush(names) {
      const rows = await conn.query<{ name: string; value: string }>(
        'SELECT name, value FROM store_values WHERE name = ANY ($1::text[]) AND (expires_at IS NULL OR expires_at > now())',
        [[...new Set(names)]],
      );
      const found = new Map(rows.map((r) => [r.name, r.value]));
      return names.map((n): Settled<string | undefined> => ({ ok: true, value: found.get(n) }));
    },
  });

  return {
    async get(ns, key) {
      const name = valueName(ns, key);
      conn.ensureOpen();
      return reads.add(name);
    },

    async set(ns, key, value, options) {
      const name = valueName(ns, key);
      const ttl = options?.ttlMs;
      checkTtl(ttl);
      await conn.query(
        `INSERT INTO store_values (name, value, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::double precision / 1000))
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
        [name, value, ttl ?? null],
      );
    },

    async increment(ns, key, options) {
      const name = valueName(ns, key);
      const ttl = options?.ttlMs;
      checkTtl(ttl);
      conn.ensureOpen();
      // An expired row counts as absent: it starts again at 1 with a new expiry.
      const rows = await conn.query<{ value: string; counter: boolean }>(
        `INSERT INTO store_values AS v (name, value, expires_at) VALUES ($1, '1', now() + make_interval(secs => $2::double precision / 1000))
         ON CONFLICT (name) DO UPDATE SET
           value = CASE WHEN v.expires_at <= now() THEN '1'
                        WHEN v.value ~ '^-?[0-9]{1,15}$' THEN (v.value::bigint + 1)::text
                        ELSE v.value END,
           expires_at = CASE WHEN v.expires_at <= now() THEN EXCLUDED.expires_at ELSE v.expires_at END
         RETURNING value, (value ~ '^-?[0-9]{1,15}$') AS counter`,
        [name, ttl ?? null],
      );
      const row = rows[0];
      if (!row || row.counter === false) throw new StoreError(`value ${name} is not a counter (it holds ${JSON.stringify(row?.value.slice(0, 40))})`);
      return Number(row.value);
    },

    async delete(ns, key) {
      await conn.query('DELETE FROM store_values WHERE name = $1', [valueName(ns, key)]);
    },
  };
}
