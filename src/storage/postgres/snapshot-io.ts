/** @module storage/postgres/snapshot-io — `sportello export` and `sportello import` on the shared store. */
import type { PoolClient } from 'pg';
import { ConflictError } from '../../core/errors.js';
import type { AuditEntry, Case, Conversation, Customer, CustomerFile, EventDelivery, FaqSuggestion, HeardRecord, InboundMessage, Operator, OutboxItem, SavedReply, StoredMessage } from '../../core/types.js';
import { parseStoreSnapshot, type InboundRecord, type StoreSnapshot } from '../snapshot.js';
import { isPgError, json, UNIQUE_VIOLATION, type Connection } from './connection.js';
import { customerWords, messageWords } from './words.js';

/** Upserts many documents with one statement. */
async function upsertDocs(client: PoolClient, table: 'conversations' | 'cases' | 'suggestions' | 'operators' | 'outbox' | 'deliveries' | 'saved_replies' | 'heard', items: readonly object[]): Promise<void> {
  if (!items.length) return;
  await client.query(
    `INSERT INTO ${table} (id, doc)
     SELECT e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
     ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`,
    [json(items)],
  );
}

/** Upserts messages or customers with their search words (words.ts), as a turn's commit writes them. */
async function upsertSearchable(client: PoolClient, table: 'messages' | 'customers', items: readonly object[], words: string[]): Promise<void> {
  if (!items.length) return;
  await client.query(
    `INSERT INTO ${table} (id, doc, words)
     SELECT e->>'id', e, array_to_tsvector(string_to_array(w, ' '))
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) JOIN unnest($2::text[]) WITH ORDINALITY AS u(w, k) ON k = i
     ORDER BY i
     ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, words = EXCLUDED.words`,
    [json(items), words],
  );
}

/** The whole store as one document, read in one consistent snapshot. */
export function exportAll(conn: Connection): Promise<StoreSnapshot> {
  return conn.transaction(async (client) => {
    const all = async <T>(table: string): Promise<T[]> => (await client.query<{ doc: T }>(`SELECT doc FROM ${table} ORDER BY n`)).rows.map((r) => r.doc);
    const inbound = await client.query<{ channel: string; id: string; message: InboundMessage | null; accepted_at: Date; processed_at: Date | null }>(
      'SELECT channel, id, message, accepted_at, processed_at FROM inbound ORDER BY n',
    );
    const values = await client.query<{ name: string; value: string; expires_at: Date | null }>(
      'SELECT name, value, expires_at FROM store_values WHERE expires_at IS NULL OR expires_at > now() ORDER BY name',
    );
    const expiring = values.rows.filter((r) => r.expires_at);
    return {
      format: 'sportello-store',
      version: 1,
      exportedAt: new Date().toISOString(),
      customers: await all<Customer>('customers'),
      conversations: await all<Conversation>('conversations'),
      cases: await all<Case>('cases'),
      messages: await all<StoredMessage>('messages'),
      outbox: await all<OutboxItem>('outbox'),
      deliveries: await all<EventDelivery>('deliveries'),
      inbound: inbound.rows.map((r): InboundRecord => ({
        channel: r.channel,
        id: r.id,
        acceptedAt: r.accepted_at.toISOString(),
        ...(r.processed_at ? { processedAt: r.processed_at.toISOString() } : {}),
        ...(r.message && !r.processed_at ? { message: r.message } : {}),
      })),
      operators: await all<Operator>('operators'),
      suggestions: await all<FaqSuggestion>('suggestions'),
      heard: await all<HeardRecord>('heard'),
      customerFiles: await all<CustomerFile>('customer_files'),
      savedReplies: await all<SavedReply>('saved_replies'),
      audit: (await client.query<{ doc: AuditEntry }>('SELECT doc FROM audit_log ORDER BY n')).rows.map((r) => r.doc),
      values: Object.fromEntries(values.rows.map((r) => [r.name, r.value])),
      ...(expiring.length ? { valueExpiresAt: Object.fromEntries(expiring.map((r) => [r.name, r.expires_at!.toISOString()])) } : {}),
    };
  }, 'REPEATABLE READ READ ONLY');
}

/** Merges a snapshot in, in one transaction (upsert by id; idempotent). */
export async function importAll(conn: Connection, snapshot: StoreSnapshot): Promise<void> {
  const data = parseStoreSnapshot(snapshot);
  try {
    await conn.transaction(async (client) => {
      await upsertSearchable(client, 'customers', data.customers, data.customers.map((c) => customerWords(c)));
      await upsertDocs(client, 'conversations', data.conversations);
      await upsertDocs(client, 'cases', data.cases);
      await upsertSearchable(client, 'messages', data.messages, data.messages.map((m) => messageWords(m.text)));
      if (data.outbox.length) {
        await upsertDocs(client, 'outbox', data.outbox);
        await client.query(
          `INSERT INTO outbox_sequences (conversation_id, last_seq)
           SELECT conversation_id, max(seq) FROM outbox GROUP BY conversation_id
           ON CONFLICT (conversation_id) DO UPDATE SET last_seq = GREATEST(outbox_sequences.last_seq, EXCLUDED.last_seq)`,
        );
      }
      await upsertDocs(client, 'deliveries', data.deliveries ?? []);
      if (data.inbound.length) {
        // A message already processed here stays processed; pending ones keep their order.
        await client.query(
          `INSERT INTO inbound (channel, id, message, accepted_at, processed_at)
           SELECT e->>'channel', e->>'id', CASE WHEN e ? 'processedAt' THEN NULL ELSE e->'message' END,
                  COALESCE(sportello_ts(e->>'acceptedAt'), now()), sportello_ts(e->>'processedAt')
           FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
           ON CONFLICT (channel, id) DO UPDATE SET
             processed_at = COALESCE(inbound.processed_at, EXCLUDED.processed_at),
             message = CASE WHEN COALESCE(inbound.processed_at, EXCLUDED.processed_at) IS NULL THEN inbound.message ELSE NULL END`,
          [json(data.inbound)],
        );
      }
      await upsertDocs(client, 'operators', data.operators);
      await upsertDocs(client, 'suggestions', data.suggestions);
      await upsertDocs(client, 'heard', data.heard ?? []);
      await upsertDocs(client, 'saved_replies', data.savedReplies ?? []);
      if (data.audit?.length) {
        // Append-only: entries already there are left as they are.
        await client.query(
          `INSERT INTO audit_log (id, doc) SELECT e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i ON CONFLICT (id) DO NOTHING`,
          [json(data.audit)],
        );
      }
      if (data.customerFiles?.length) {
        await client.query(
          `INSERT INTO customer_files (customer_id, doc)
           SELECT e->>'customerId', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
           ON CONFLICT (customer_id) DO UPDATE SET doc = EXCLUDED.doc`,
          [json(data.customerFiles)],
        );
      }
      const values = Object.entries(data.values);
      if (values.length) {
        const expiry = data.valueExpiresAt ?? {};
        await client.query(
          `INSERT INTO store_values (name, value, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
           ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
          [values.map(([k]) => k), values.map(([, v]) => v), values.map(([k]) => expiry[k] ?? null)],
        );
      }
    });
  } catch (err) {
    const cause = (err as Error).cause;
    if (isPgError(cause, UNIQUE_VIOLATION) && cause.constraint === 'operators_name') {
      throw new ConflictError(`an operator in the snapshot has a name another operator already has: ${cause.message}`, { cause });
    }
    throw err;
  }
}
