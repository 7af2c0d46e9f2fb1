/**
 * @module storage/postgres/desk
 * The desk's ports on the shared store (issue 21): conversation search with PostgreSQL full-text
 * search (sql/desk-search.sql: each query word found as a word start through the GIN indexes of
 * messages and customers), the customer files and the saved replies (sql/desk-records.sql).
 */
import { ConflictError } from '../../core/errors.js';
import type { ConversationHit, ConversationSearch, CustomerFiles, SavedReplies } from '../../core/ports.js';
import type { Conversation, Customer, CustomerFile, SavedReply, StoredMessage } from '../../core/types.js';
import { checkLink, emptyCustomerFile, normaliseTags, queryWords } from '../desk-records.js';
import { isPgError, json, UNIQUE_VIOLATION, type Connection } from './connection.js';

/**
 * One statement for every query (null parameters switch filters off), so each connection
 * prepares it once. $1: the words as tsquery texts (`'word':*`, cast without the text parser: a
 * word is letters and digits only, so nothing in it can be tsquery syntax); a conversation matches
 * when every word is found in one of its messages or in its customer's name or handle.
 */
const FIND = `
WITH w AS (SELECT ord, q::tsquery AS tq FROM unnest($1::text[]) WITH ORDINALITY AS t(q, ord)),
hits AS (
  SELECT w.ord, m.conversation_id AS id FROM w JOIN messages m ON m.words @@ w.tq
  UNION
  SELECT w.ord, c.id FROM w JOIN customers u ON u.words @@ w.tq JOIN conversations c ON c.customer_id = u.id
),
matched AS (SELECT id FROM hits GROUP BY id HAVING count(DISTINCT ord) = cardinality($1::text[])),
found AS (
  SELECT c.id, c.doc, c.customer_id, c.updated_at FROM conversations c
  WHERE (cardinality($1::text[]) = 0 OR c.id IN (SELECT id FROM matched))
    AND ($2::text[] IS NULL OR c.state = ANY($2::text[]))
    AND ($3::text[] IS NULL OR c.doc->>'channel' = ANY($3::text[]))
    AND ($4::text[] IS NULL OR c.doc->>'language' = ANY($4::text[]))
    AND ($5::text IS NULL OR c.assignee = $5)
    AND ($6::numeric IS NULL OR (c.doc->'queue'->>'priority')::numeric = $6)
    AND ($7::text IS NULL OR c.doc->'queue'->>'reason' = $7)
    AND ($8::text[] IS NULL OR c.customer_id = ANY($8::text[]))
    AND ($9::timestamptz IS NULL OR c.updated_at >= $9)
    AND ($10::timestamptz IS NULL OR sportello_ts(c.doc->>'createdAt') < $10)
    AND ($11::boolean IS NULL OR ((SELECT m.doc->'author'->>'kind' FROM messages m
          WHERE m.conversation_id = c.id AND m.doc->>'direction' <> 'note' ORDER BY m.at DESC, m.n DESC LIMIT 1) IS NOT DISTINCT FROM 'operator') = $11)
),
page AS (SELECT * FROM found ORDER BY updated_at DESC NULLS LAST, id COLLATE "C" LIMIT $12 OFFSET $13)
SELECT p.doc AS conversation, u.doc AS customer, lm.doc AS last, mm.doc AS match, (SELECT count(*) FROM found)::int AS total
FROM page p
LEFT JOIN customers u ON u.id = p.customer_id
LEFT JOIN LATERAL (SELECT m.doc FROM messages m WHERE m.conversation_id = p.id AND m.doc->>'direction' <> 'note' ORDER BY m.at DESC, m.n DESC LIMIT 1) lm ON true
LEFT JOIN LATERAL (
  SELECT x.doc FROM (
    SELECT m.doc, m.at, m.n, (SELECT count(*) FROM w WHERE m.words @@ w.tq) AS k FROM messages m
    WHERE cardinality($1::text[]) > 0 AND m.conversation_id = p.id
  ) x WHERE x.k > 0 ORDER BY x.k DESC, x.at DESC, x.n DESC LIMIT 1
) mm ON true
ORDER BY p.updated_at DESC NULLS LAST, p.id COLLATE "C"`;

const COUNT = FIND.replace(/page AS[\s\S]*$/, 'x AS (SELECT 1) SELECT count(*)::int AS total FROM found');

export function postgresSearch(conn: Connection): ConversationSearch {
  return {
    async find(q) {
      const params = [
        queryWords(q.text).map((w) => `'${w}':*`),
        q.states ?? null,
        q.channels ? [...q.channels] : null,
        q.languages ? [...q.languages] : null,
        q.assignee ?? null,
        q.priority ?? null,
        q.reason ?? null,
        q.customerIds ? [...q.customerIds] : null,
        q.from ?? null,
        q.to ?? null,
        q.waitingOnCustomer ?? null,
      ];
      const rows = await conn.query<{ conversation: Conversation; customer: Customer | null; last: StoredMessage | null; match: StoredMessage | null; total: number }>(FIND, [
        ...params,
        q.limit,
        q.offset,
      ]);
      const hits = rows.map(
        (r): ConversationHit => ({
          conversation: r.conversation,
          ...(r.customer ? { customer: r.customer } : {}),
          ...(r.last ? { lastMessage: r.last } : {}),
          ...(r.match ? { match: r.match } : {}),
        }),
      );
      // A page past the end has no row to carry the total.
      const total = rows[0]?.total ?? (q.offset > 0 ? (await conn.query<{ total: number }>(COUNT, params))[0]?.total ?? 0 : 0);
      return { hits, total };
    },
  };
}

/** Adds link $2 to the file of customer $1 (created if missing), unless it holds it already. */
const ADD_LINK = `
INSERT INTO customer_files (customer_id, doc)
VALUES ($1, jsonb_build_object('customerId', $1::text, 'tags', '[]'::jsonb, 'notes', '[]'::jsonb, 'links', jsonb_build_array($2::text), 'updatedAt', $3::text))
ON CONFLICT (customer_id) DO UPDATE SET doc = customer_files.doc || jsonb_build_object(
  'links', (SELECT jsonb_agg(l ORDER BY l COLLATE "C") FROM (SELECT jsonb_array_elements_text(customer_files.doc->'links') AS l UNION SELECT $2::text) s),
  'updatedAt', $3::text)
WHERE NOT customer_files.doc->'links' ? $2`;

export function postgresCustomerFiles(conn: Connection): CustomerFiles {
  const upsert = async (customerId: string, change: string, params: unknown[], fresh: Partial<CustomerFile>): Promise<CustomerFile> => {
    const initial = { ...emptyCustomerFile(customerId), ...fresh };
    const doc = await conn.firstDoc<CustomerFile>(
      `INSERT INTO customer_files (customer_id, doc) VALUES ($1, $2::jsonb)
       ON CONFLICT (customer_id) DO UPDATE SET doc = ${change} RETURNING doc`,
      [customerId, json(initial), ...params],
    );
    return doc!;
  };
  return {
    async get(customerId) {
      return (await conn.firstDoc<CustomerFile>('SELECT doc FROM customer_files WHERE customer_id = $1', [customerId])) ?? emptyCustomerFile(customerId);
    },

    addNote(customerId, note) {
      // Appended in the statement: two operators' notes at once are both kept.
      return upsert(
        customerId,
        `customer_files.doc || jsonb_build_object('notes', (customer_files.doc->'notes') || jsonb_build_array($3::jsonb), 'updatedAt', $4::text)`,
        [json(note), note.at],
        { notes: [note], updatedAt: note.at },
      );
    },

    setTags(customerId, tags, at) {
      const normal = normaliseTags(tags);
      return upsert(customerId, `customer_files.doc || jsonb_build_object('tags', $3::jsonb, 'updatedAt', $4::text)`, [json(normal), at], { tags: normal, updatedAt: at });
    },

    async link(a, b, at) {
      checkLink(a, b);
      await conn.transaction(async (client) => {
        // Both sides in one transaction, in id order (two links made at once never deadlock).
        for (const [x, y] of a < b ? [[a, b], [b, a]] : [[b, a], [a, b]]) await conn.query(ADD_LINK, [x, y, at], client);
      });
    },

    async unlink(a, b, at) {
      await conn.transaction(async (client) => {
        for (const [x, y] of a < b ? [[a, b], [b, a]] : [[b, a], [a, b]]) {
          await conn.query(
            `UPDATE customer_files SET doc = doc || jsonb_build_object(
               'links', (SELECT coalesce(jsonb_agg(l ORDER BY l COLLATE "C"), '[]'::jsonb) FROM jsonb_array_elements_text(doc->'links') AS l WHERE l <> $2::text),
               'updatedAt', $3::text)
             WHERE customer_id = $1 AND doc->'links' ? $2`,
            [x, y, at],
            client,
          );
        }
      });
    },

    async withTag(tag) {
      const [normal] = normaliseTags([tag]);
      if (normal === undefined) return [];
      const rows = await conn.query<{ customer_id: string }>(`SELECT customer_id FROM customer_files WHERE doc->'tags' ? $1 ORDER BY customer_id COLLATE "C"`, [normal]);
      return rows.map((r) => r.customer_id);
    },
  };
}

export function postgresSavedReplies(conn: Connection): SavedReplies {
  return {
    list: (filter) =>
      filter?.language !== undefined
        ? conn.docs<SavedReply>('SELECT doc FROM saved_replies WHERE language = $1 ORDER BY language COLLATE "C", shortcut COLLATE "C", id COLLATE "C"', [filter.language])
        : conn.docs<SavedReply>('SELECT doc FROM saved_replies ORDER BY language COLLATE "C", shortcut COLLATE "C", id COLLATE "C"'),

    get: (id) => conn.firstDoc<SavedReply>('SELECT doc FROM saved_replies WHERE id = $1', [id]),

    async put(reply) {
      try {
        await conn.query('INSERT INTO saved_replies (id, doc) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc', [reply.id, json(reply)]);
      } catch (err) {
        const cause = (err as Error).cause;
        if (isPgError(cause, UNIQUE_VIOLATION)) throw new ConflictError(`another ${reply.language} saved reply already has the shortcut "${reply.shortcut}"`, { cause });
        throw err;
      }
    },

    async delete(id) {
      return (await conn.query('DELETE FROM saved_replies WHERE id = $1 RETURNING id', [id])).length > 0;
    },
  };
}
