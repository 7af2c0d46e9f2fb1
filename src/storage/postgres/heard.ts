/** @module storage/postgres/heard — posts heard by listening. */
import type { HeardItems } from '../../core/ports.js';
import type { HeardRecord } from '../../core/types.js';
import { json, type Connection } from './connection.js';

export function postgresHeard(conn: Connection): HeardItems {
  return {
    async add(items, options) {
      const deliveries = options?.deliveries ?? [];
      if (items.length === 0 && deliveries.length === 0) return;
      // A post already recorded keeps its first record; the alerts it raised go in the same statement.
      await conn.query(
        `WITH h AS (INSERT INTO heard (id, doc)
                    SELECT e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
                    ON CONFLICT (id) DO NOTHING)
         INSERT INTO deliveries (id, doc)
         SELECT e->>'id', e FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i`,
        [json(items), json(deliveries)],
      );
    },

    list(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.from !== undefined) add('at >= ?', new Date(filter.from).toISOString());
      if (filter.to !== undefined) add('at < ?', new Date(filter.to).toISOString());
      if (filter.class !== undefined) add('class = ?', filter.class);
      if (filter.topic !== undefined) add('topic = ?', filter.topic);
      // The next page: after the page's last post in this order (none when it is unknown).
      if (filter.before !== undefined) add('(at, n) < (SELECT at, n FROM heard WHERE id = ?)', filter.before);
      params.push(Math.max(0, filter.limit));
      return conn.docs<HeardRecord>(
        `SELECT doc FROM heard ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, n DESC LIMIT $${params.length}`,
        params,
      );
    },

    async get(id) {
      const [doc] = await conn.docs<HeardRecord>('SELECT doc FROM heard WHERE id = $1', [id]);
      return doc;
    },
  };
}
