/**
 * @module storage/postgres/customer-data
 * A customer's data on the shared store (issue 22): found, gathered, erased, each erasure one
 * transaction (the customer's row locked first, so two erasures of one customer run one after the
 * other). Kept records are anonymised in SQL as storage/customer-records.ts does in memory; the
 * search columns are generated from the documents, so they lose the erased texts with them.
 * Old row versions stay in the table files until PostgreSQL's (auto)vacuum reclaims them.
 */
import type { AuditTrail, CustomerData, CustomerRecords, ErasureResult, RetentionRule } from '../../core/ports.js';
import { ConflictError } from '../../core/errors.js';
import type { AuditEntry } from '../../core/types.js';
import type { Case, Conversation, Customer, CustomerFile, EventDelivery, FaqSuggestion, HeardRecord, OutboxItem, StoredMessage } from '../../core/types.js';
import { customerMarks, ERASED } from '../customer-records.js';
import { isPgError, json, UNIQUE_VIOLATION, type Connection } from './connection.js';
import type { PoolClient } from 'pg';

/** A row whose text holds one of the marks ($1). */
const MARKED = (expr: string) => `EXISTS (SELECT 1 FROM unnest($1::text[]) AS mark WHERE strpos(${expr}, mark) > 0)`;

export function postgresCustomerData(conn: Connection): CustomerData {
  async function gather(customerId: string, client?: PoolClient, lock = false): Promise<CustomerRecords | undefined> {
    const docs = async <T>(text: string, params: unknown[]): Promise<T[]> => (await conn.query<{ doc: T }>(text, params, client)).map((r) => r.doc);
    const [customer] = await docs<Customer>(`SELECT doc FROM customers WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [customerId]);
    if (!customer) return undefined;
    const conversations = await docs<Conversation>('SELECT doc FROM conversations WHERE customer_id = $1 ORDER BY n', [customerId]);
    const conversationIds = conversations.map((c) => c.id);
    const cases = await docs<Case>(
      'SELECT doc FROM cases WHERE customer_id = $1 OR id = ANY($2::text[]) ORDER BY n',
      [customerId, conversations.map((c) => c.caseId)],
    );
    const messages = await docs<StoredMessage>('SELECT doc FROM messages WHERE conversation_id = ANY($1::text[]) ORDER BY at, n', [conversationIds]);
    const outbox = await docs<OutboxItem>('SELECT doc FROM outbox WHERE conversation_id = ANY($1::text[]) ORDER BY conversation_id, seq', [conversationIds]);
    const marks = customerMarks(
      customer,
      messages.filter((m) => m.direction === 'in' && m.platformId).map((m) => m.platformId!),
      conversationIds,
    );
    const deliveries = await docs<EventDelivery>(`SELECT doc FROM deliveries WHERE ${MARKED('doc::text')} ORDER BY n`, [marks]);
    const suggestions = await docs<FaqSuggestion>("SELECT doc FROM suggestions WHERE doc->>'caseId' = ANY($1::text[]) ORDER BY n", [cases.map((c) => c.id)]);
    const values = await conn.query<{ name: string; value: string }>(
      `SELECT name, value FROM store_values WHERE (${MARKED('name')} OR ${MARKED('value')}) AND (expires_at IS NULL OR expires_at > now()) ORDER BY name`,
      [marks],
      client,
    );
    const [file] = await docs<CustomerFile>('SELECT doc FROM customer_files WHERE customer_id = $1', [customerId]);
    const heard = await docs<HeardRecord>("SELECT doc FROM heard WHERE doc->>'channel' = $1 AND doc->'author'->>'id' = $2 ORDER BY at, n", [customer.channel, customer.platformId]);
    return { customer, ...(file ? { file } : {}), conversations, cases, messages, outbox, deliveries, suggestions, values: values.map((v) => ({ name: v.name, value: v.value })), heard };
  }

  return {
    async find(text, limit) {
      conn.ensureOpen();
      return conn.docs<Customer>(
        `SELECT doc FROM customers
         WHERE strpos(lower(coalesce(doc->>'name', '') || chr(1) || coalesce(doc->>'handle', '') || chr(1) || id || chr(1) || coalesce(doc->>'platformId', '')), lower($1)) > 0
         ORDER BY sportello_ts(doc->>'lastSeenAt') DESC NULLS LAST, id COLLATE "C" LIMIT $2`,
        [text, limit],
      );
    },

    async collect(customerId) {
      conn.ensureOpen();
      return gather(customerId);
    },

    async erase(customerId, { pseudonym }) {
      conn.ensureOpen();
      return conn.transaction((client) => eraseIn(client, customerId, pseudonym));
    },

    async expired(rule, limit) {
      conn.ensureOpen();
      const rows = await conn.query<{ id: string }>(`SELECT c.id FROM customers c WHERE ${EXPIRED} ORDER BY sportello_ts(c.doc->>'lastSeenAt'), c.id COLLATE "C" LIMIT $5`, [...ruleParams(rule), limit]);
      return rows.map((r) => r.id);
    },

    async expire(rule, { limit, pseudonym }) {
      conn.ensureOpen();
      // One statement takes the expired records no other instance holds (SKIP LOCKED) and checks
      // them under the lock (a record written to meanwhile is no longer expired); another instance
      // running the job at the same moment takes the others, so each record is erased once.
      return conn.transaction(async (client) => {
        const taken = await conn.query<{ id: string }>(
          `SELECT c.id FROM customers c WHERE ${EXPIRED} ORDER BY sportello_ts(c.doc->>'lastSeenAt'), c.id COLLATE "C" LIMIT $5 FOR UPDATE OF c SKIP LOCKED`,
          [...ruleParams(rule), limit],
          client,
        );
        const done: Array<{ customerId: string; result: ErasureResult }> = [];
        for (const { id } of taken) {
          const result = await eraseIn(client, id, pseudonym());
          if (result) done.push({ customerId: id, result });
        }
        return done;
      });
    },
  };

  /** Erases one record within `client`'s transaction (its customer row locked first); undefined when there is none. */
  async function eraseIn(client: PoolClient, customerId: string, pseudonym: string): Promise<ErasureResult | undefined> {
    const r = await gather(customerId, client, true);
    if (!r) return undefined;
    const q = (text: string, params: unknown[]) => conn.query<{ id: string }>(text, params, client);
    const conversationIds = r.conversations.map((c) => c.id);
    const caseIds = r.cases.map((c) => c.id);
    const marks = customerMarks(
      r.customer,
      r.messages.filter((m) => m.direction === 'in' && m.platformId).map((m) => m.platformId!),
      conversationIds,
    );
    const conversations = await q(
      `UPDATE conversations SET doc = (doc - 'threadId' - 'ref' - 'lastInboundId' - 'dataRequest')
         || jsonb_build_object('customerId', $2::text, 'key', 'erased:' || id)
       WHERE customer_id = $1 RETURNING id`,
      [customerId, pseudonym],
    );
    const cases = await q(
      `UPDATE cases SET doc = (doc #- '{survey,comment}')
         || jsonb_build_object('customerId', CASE WHEN customer_id = $2 THEN $3::text ELSE customer_id END)
       WHERE id = ANY($1::text[]) RETURNING id`,
      [caseIds, customerId, pseudonym],
    );
    const messages = await q(
      `UPDATE messages SET doc = (doc - 'platformId') || jsonb_build_object('text', ''), words = ''::tsvector WHERE conversation_id = ANY($1::text[]) RETURNING id`,
      [conversationIds],
    );
    const outbox = await q(
      `UPDATE outbox SET doc = (doc - 'inReplyTo' - 'ref' - 'platformId')
         || jsonb_build_object('recipient', $2::text, 'reply', jsonb_build_object('kind', 'text', 'text', ''))
         || CASE WHEN status IN ('pending', 'sending') THEN jsonb_build_object('status', 'dead', 'lastError', $3::text) ELSE '{}'::jsonb END
       WHERE conversation_id = ANY($1::text[]) RETURNING id`,
      [conversationIds, pseudonym, ERASED],
    );
    const deliveries = await q(`DELETE FROM deliveries WHERE ${MARKED('doc::text')} RETURNING id`, [marks]);
    const suggestions = await q(`DELETE FROM suggestions WHERE doc->>'caseId' = ANY($1::text[]) AND status <> 'approved' RETURNING id`, [caseIds]);
    const values = await q(`DELETE FROM store_values WHERE ${MARKED('name')} OR ${MARKED('value')} RETURNING name AS id`, [marks]);
    // Their messages and their ids go (a platform delivering one again after the erasure would start afresh).
    const inbound = await q(
      `DELETE FROM inbound WHERE channel = $1
         AND (id = ANY($3::text[]) OR message->'customer'->>'platformId' = $2 OR (length($2) >= 3 AND strpos(id, $2) > 0)) RETURNING id`,
      [r.customer.channel, r.customer.platformId, r.messages.filter((m) => m.direction === 'in' && m.platformId).map((m) => m.platformId!)],
    );
    // Listening's volumes keep counting their posts, without author or words (as anonymiseHeard).
    const heard = await q(
      `UPDATE heard SET doc = (doc - 'text' - 'author') || jsonb_build_object('author', jsonb_build_object('id', $3::text), 'text', '')
       WHERE doc->>'channel' = $1 AND doc->'author'->>'id' = $2 RETURNING id`,
      [r.customer.channel, r.customer.platformId, pseudonym],
    );
    const files = await q('DELETE FROM customer_files WHERE customer_id = $1 RETURNING customer_id AS id', [customerId]);
    await q(
      `UPDATE customer_files SET doc = doc || jsonb_build_object(
         'links', (SELECT coalesce(jsonb_agg(l ORDER BY l COLLATE "C"), '[]'::jsonb) FROM jsonb_array_elements_text(doc->'links') AS l WHERE l <> $1::text))
       WHERE doc->'links' ? $1`,
      [customerId],
    );
    await q('DELETE FROM customers WHERE id = $1', [customerId]);
    const result: ErasureResult = {
      pseudonym,
      removed: { customers: 1, files: files.length, deliveries: deliveries.length, suggestions: suggestions.length, values: values.length, inbound: inbound.length },
      anonymised: { conversations: conversations.length, cases: cases.length, messages: messages.length, outbox: outbox.length, heard: heard.length },
    };
    return result;
  }
}

/**
 * Whether customer `c` is expired by a retention rule (RetentionRule; as isExpired on the embedded
 * store): $1 the channels' cutoffs (jsonb, channel → ISO or null: kept), $2 the channels whose
 * nameless visitors get $3 instead (text[], and an ISO time or NULL), $4 the other channels' cutoff.
 * A NULL cutoff expires nothing.
 */
const CUTOFF = `(CASE WHEN $3::text IS NOT NULL AND c.doc->>'channel' = ANY($2::text[]) AND coalesce(c.doc->>'name', '') = '' AND coalesce(c.doc->>'handle', '') = ''
  THEN sportello_ts($3::text) WHEN $1::jsonb ? (c.doc->>'channel') THEN sportello_ts($1::jsonb->>(c.doc->>'channel')) ELSE sportello_ts($4::text) END)`;
const EXPIRED = `sportello_ts(c.doc->>'lastSeenAt') < ${CUTOFF}
  AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.customer_id = c.id AND k.status = 'open')
  AND NOT EXISTS (
    SELECT 1 FROM conversations v WHERE v.customer_id = c.id
      AND (v.state <> 'resolved' OR v.updated_at IS NULL OR v.updated_at >= ${CUTOFF}
        OR EXISTS (SELECT 1 FROM cases k WHERE k.id = v.case_id AND k.status = 'open')
        OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = v.id AND m.at >= ${CUTOFF})))`;

const ruleParams = (rule: RetentionRule): unknown[] => [JSON.stringify(rule.channels), [...(rule.anonymous?.channels ?? [])], rule.anonymous?.before ?? null, rule.others ?? null];

/** The audit trail on the shared store (sql/audit.sql: a trigger refuses updates and deletes). */
export function postgresAudit(conn: Connection): AuditTrail {
  return {
    async append(entry) {
      conn.ensureOpen();
      try {
        await conn.query('INSERT INTO audit_log (id, doc) VALUES ($1, $2::jsonb)', [entry.id, json(entry)]);
      } catch (err) {
        if (isPgError(err, UNIQUE_VIOLATION) || isPgError((err as Error).cause, UNIQUE_VIOLATION)) throw new ConflictError(`audit entry ${entry.id} already exists`);
        throw err;
      }
    },

    list({ from, operatorId, limit }) {
      conn.ensureOpen();
      return conn.docs<AuditEntry>(
        'SELECT doc FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::text IS NULL OR operator_id = $2) ORDER BY at, n LIMIT $3',
        [from ?? null, operatorId ?? null, limit],
      );
    },

    // The cursor is the row's `n` (its place in the order appended); one that names no row gives
    // an empty page (the row comparison with NULL is never true).
    async page({ from, to, operatorId, action, limit, newestFirst, after }) {
      conn.ensureOpen();
      const cursor = after === undefined ? null : /^\d{1,18}$/.test(after) ? after : '-1';
      const sql = newestFirst
        ? 'SELECT n::text AS n, doc FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) AND ($3::text IS NULL OR operator_id = $3) AND ($4::text IS NULL OR doc->>\'action\' = $4) AND ($5::bigint IS NULL OR (at, n) < (SELECT at, n FROM audit_log WHERE n = $5)) ORDER BY at DESC, n DESC LIMIT $6'
        : 'SELECT n::text AS n, doc FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2) AND ($3::text IS NULL OR operator_id = $3) AND ($4::text IS NULL OR doc->>\'action\' = $4) AND ($5::bigint IS NULL OR (at, n) > (SELECT at, n FROM audit_log WHERE n = $5)) ORDER BY at, n LIMIT $6';
      const rows = await conn.query<{ n: string; doc: AuditEntry }>(sql, [from ?? null, to ?? null, operatorId ?? null, action ?? null, cursor, limit + 1]);
      const entries = rows.slice(0, limit).map((r) => r.doc);
      return rows.length > limit ? { entries, next: rows[limit - 1]!.n } : { entries };
    },
  };
}
