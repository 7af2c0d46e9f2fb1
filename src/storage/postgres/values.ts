/**
 * @module storage/postgres/values
 * Namespaced values with an optional expiry (`store_values`, named `namespace:key`). Reads made
 * together leave as one SELECT (a channel may read one per send). Expired values are never
 * returned, and are deleted with old inbound ids (hourly).
 */
import type { KeyValues } from '../../core/ports.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
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

    async delete(ns, key) {
      await conn.query('DELETE FROM store_values WHERE name = $1', [valueName(ns, key)]);
    },
  };
}
