/** @module storage/postgres/suggestions — FAQ suggestions waiting for review. */
import { ConflictError } from '../../core/errors.js';
import type { Suggestions } from '../../core/ports.js';
import type { FaqSuggestion } from '../../core/types.js';
import { isPgError, json, splitChange, UNIQUE_VIOLATION, type Connection } from './connection.js';

export function postgresSuggestions(conn: Connection): Suggestions {
  return {
    async add(s) {
      try {
        await conn.query('INSERT INTO suggestions (id, doc) VALUES ($1, $2::jsonb)', [s.id, json(s)]);
      } catch (err) {
        const cause = (err as Error).cause;
        if (isPgError(cause, UNIQUE_VIOLATION)) throw new ConflictError(`suggestion ${s.id} already exists`, { cause });
        throw err;
      }
    },

    async update(id, change, options) {
      const { set, remove } = splitChange(change);
      const deliveries = options?.deliveries ?? [];
      if (deliveries.length === 0) {
        return conn.firstDoc<FaqSuggestion>('UPDATE suggestions SET doc = (doc - $2::text[]) || $3::jsonb WHERE id = $1 RETURNING doc', [id, remove, json(set)]);
      }
      // The approval and the events it causes: one statement, so one transaction.
      return conn.firstDoc<FaqSuggestion>(
        `WITH s AS (UPDATE suggestions SET doc = (doc - $2::text[]) || $3::jsonb WHERE id = $1 RETURNING doc),
         d AS (INSERT INTO deliveries (id, doc)
               SELECT e->>'id', e FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS t(e, i) WHERE EXISTS (SELECT 1 FROM s) ORDER BY i)
         SELECT doc FROM s`,
        [id, remove, json(set), json(deliveries)],
      );
    },

    list: (filter) =>
      filter?.status !== undefined
        ? conn.docs<FaqSuggestion>('SELECT doc FROM suggestions WHERE status = $1 ORDER BY n', [filter.status])
        : conn.docs<FaqSuggestion>('SELECT doc FROM suggestions ORDER BY n'),
  };
}
