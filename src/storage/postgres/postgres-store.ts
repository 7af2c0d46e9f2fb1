/**
 * @module storage/postgres/postgres-store
 * The shared store: several Sportello instances on one PostgreSQL database. Idempotency by a
 * primary key, turns in one transaction, claims by conditional UPDATE, the outbox by
 * `FOR UPDATE SKIP LOCKED`. See docs/storage.md.
 *
 * Group commit: accepts, turn contexts, turn commits and outbox completions made in the same turn
 * of the event loop (or while earlier ones are in flight) go to PostgreSQL as one statement each
 * (util/batcher), so a busy instance pays one round trip, and for writes one transaction and one
 * WAL flush, per batch instead of per message. Every caller still gets its own result or error.
 *
 * Two instances never race on a conversation, without holding a lock across a turn: each turn
 * reads the revisions of the conversations and case it reads (`loadTurnContext`), and its commit
 * writes them only if those revisions are unchanged (checked under the rows' locks, in the same
 * transaction as the writes). The loser of a race is refused with TurnConflictError, having
 * written nothing, and the pipeline runs it again on the fresh state: the two turns apply one
 * after the other, as with a lock. Within one instance a keyed mutex serialises turns per
 * conversation, so an instance never conflicts with itself.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { emptyRevisions, type ConversationFilter, type Store, type TurnContext, type TurnContextQuery, type TurnRecord } from '../../core/ports.js';
import type {
  Case,
  Conversation,
  Customer,
  FaqSuggestion,
  InboundMessage,
  Operator,
  OutboxItem,
  StoredMessage,
} from '../../core/types.js';
import { AlreadyProcessedError, ConflictError, StoreError, TurnConflictError } from '../../core/errors.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
import { createKeyedMutex } from '../../util/keyed-mutex.js';
import { parseStoreSnapshot, type InboundRecord, type StoreSnapshot } from '../snapshot.js';
import { migrate } from './migrations.js';

/** Options of the shared store. */
export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections for queries (default 10). */
  poolSize?: number;
  /** Ignored: conversations are no longer locked in PostgreSQL (see the module header). */
  lockPoolSize?: number;
  /** Calls of one kind (accept, turn context, commit, completion) sent as one statement, at most (default 200; commits 50). */
  maxBatch?: number;
  /** Batches of one kind in flight at once (default 2). */
  maxBatchesInFlight?: number;
  /** How long an outbox completion waits for others to be written with it (default 10 ms). */
  completionDelayMs?: number;
  /** Processed inbound ids older than this many days are forgotten (default 30). */
  retainProcessedInboundDays?: number;
  /**
   * A PostgreSQL schema to keep the tables in (created if missing), so several deployments or
   * test runs can share one database. Default: the connection's search_path (usually public).
   */
  schema?: string;
}

/** The shared store, plus what `sportello migrate/export/import` needs. */
export interface PostgresStore extends Store {
  /** Always there: a turn's replies are claimed in its commit (migration 6). */
  commitTurnAndClaim(turn: TurnRecord, now: number, leaseMs: number): Promise<OutboxItem[]>;
  /** Applies pending migrations (init() does it too); returns the versions applied now. */
  migrate(): Promise<{ applied: number[]; current: number }>;
  /** The whole store as one document, read in one consistent snapshot. */
  exportAll(): Promise<StoreSnapshot>;
  /** Merges a snapshot in, in one transaction (upsert by id; idempotent). */
  importAll(snapshot: StoreSnapshot): Promise<void>;
}

const UNIQUE_VIOLATION = '23505';
/**
 * Turns per sportello_commit_turns call: each runs in a subtransaction, and a transaction with
 * more than 64 of them overflows PostgreSQL's per-backend subtransaction cache (slower snapshots
 * for every session), so commit batches stay below that.
 */
const MAX_TURNS_PER_COMMIT = 50;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

interface PgError extends Error {
  code?: string;
  constraint?: string;
}

const isPgError = (err: unknown, code: string): err is PgError => err instanceof Error && (err as PgError).code === code;

/** Splits a change into keys to set and keys to remove (those whose value is undefined). */
function splitChange(change: object): { set: Record<string, unknown>; remove: string[] } {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [k, v] of Object.entries(change)) {
    if (k === 'id') continue;
    if (v === undefined) remove.push(k);
    else set[k] = v;
  }
  return { set, remove };
}

const json = (value: unknown): string => JSON.stringify(value);

const inboundKey = (channel: string, id: string): string => `${channel}\u0000${id}`;

/** One turn's outcome from sportello_commit_turns (migrations 3, 5, 6). */
interface CommitOutcome {
  s: 'ok' | 'processed' | 'conflict' | 'error';
  /** The turn's outbox items leased to it in the commit, as {id: seq}. */
  l?: Record<string, number>;
  /** SQLSTATE, constraint and message of an error. */
  c?: string;
  k?: string | null;
  m?: string;
}

/** The error a turn's caller gets for a failed outcome. */
function commitError(turn: TurnRecord, o: CommitOutcome | undefined): Error {
  if (!o) return new StoreError('postgres store: no outcome reported for a turn');
  if (o.s === 'processed' && turn.inbound) return new AlreadyProcessedError(turn.inbound.channel, turn.inbound.id);
  if (o.s === 'conflict') return new TurnConflictError(`postgres store: ${o.m ?? 'the turn raced another'}`);
  // A new conversation whose key another one took meanwhile: the turn raced the one that created it.
  if (o.c === UNIQUE_VIOLATION && o.k === 'conversations_key') {
    return new TurnConflictError(`postgres store: duplicate value violates conversations_key: ${o.m ?? ''}`);
  }
  if (o.c === UNIQUE_VIOLATION) {
    return new StoreError(`postgres store: duplicate value violates ${o.k || 'a unique constraint'}: ${o.m ?? ''}`);
  }
  return new StoreError(`postgres store: ${o.m ?? o.s}${o.c ? ` (SQLSTATE ${o.c})` : ''}`);
}

/** One row of the turn-context read. */
interface ContextRow {
  i: string;
  customer: Customer | null;
  conversation: Conversation | null;
  conversation_rev: string | null;
  kase: Case | null;
  kase_rev: string | null;
  open_case: Case | null;
  open_case_rev: string | null;
  linked_case: Case | null;
  linked_case_rev: string | null;
  related: Array<{ doc: Conversation; rev: number }> | null;
}

/** Creates the PostgreSQL store over `options.url`; `init()` migrates the schema. */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const poolSize = options.poolSize ?? 10;
  const retainDays = options.retainProcessedInboundDays ?? 30;
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
    throw new StoreError(`invalid PostgreSQL schema name "${options.schema}": use lower-case letters, digits and _`);
  }
  // Every session reads and writes timestamps in UTC, in the chosen schema, and runs single
  // statements (a whole turn is one) at READ COMMITTED whatever the database's default: the
  // turn's inbound check relies on it (a concurrent duplicate waits, then sees "processed").
  const sessionOptions = `-c TimeZone=UTC -c default_transaction_isolation=read\\ committed${options.schema ? ` -c search_path=${options.schema}` : ''}`;
  const pool: Pool = new pg.Pool({ connectionString: options.url, max: poolSize, options: sessionOptions });
  const localLocks = createKeyedMutex();
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxBatchesInFlight ?? 2;
  const completionDelayMs = options.completionDelayMs ?? 10;
  let state: 'new' | 'open' | 'closed' = 'new';
  let lastPrune = 0;

  // An idle client that errors (server restart) must not crash the process; the pool drops it.
  const onIdleError = (err: Error): void => {
    process.emitWarning(`sportello postgres store: idle connection error: ${err.message}`);
  };
  pool.on('error', onIdleError);

  function ensureOpen(): void {
    if (state !== 'open') throw new StoreError(state === 'new' ? 'postgres store used before init()' : 'postgres store used after close()');
  }

  // Statement names, one per distinct SQL text (parameterised statements only), so each
  // connection parses and plans a statement once and then only binds and executes it. The texts
  // are the store's own (filters add at most a few variants), so the map stays small.
  const statementNames = new Map<string, string>();
  function statementName(text: string): string {
    let name = statementNames.get(text);
    if (name === undefined) {
      name = `sportello_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      statementNames.set(text, name);
    }
    return name;
  }

  async function query<R extends QueryResultRow>(text: string, params: unknown[] = [], client?: PoolClient): Promise<R[]> {
    ensureOpen();
    try {
      const result = params.length
        ? await (client ?? pool).query<R>({ name: statementName(text), text, values: params })
        : await (client ?? pool).query<R>(text, params);
      return result.rows;
    } catch (err) {
      throw wrap(err);
    }
  }

  function wrap(err: unknown): Error {
    if (err instanceof StoreError || err instanceof ConflictError) return err;
    const e = err as PgError;
    if (e.code === UNIQUE_VIOLATION) {
      return new StoreError(`postgres store: duplicate value violates ${e.constraint ?? 'a unique constraint'}: ${e.message}`, { cause: err });
    }
    return new StoreError(`postgres store: ${e.message}`, { cause: err });
  }

  async function transaction<T>(fn: (client: PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
    ensureOpen();
    const client = await pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        process.emitWarning(`sportello postgres store: rollback failed: ${rollbackErr.message}`);
      });
      throw wrap(err);
    } finally {
      client.release();
    }
  }

  async function docs<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const rows = await query<{ doc: T }>(text, params);
    return rows.map((r) => r.doc);
  }

  async function firstDoc<T>(text: string, params: unknown[] = []): Promise<T | undefined> {
    return (await docs<T>(text, params))[0];
  }

  async function pruneInbound(): Promise<void> {
    lastPrune = Date.now();
    await query(`DELETE FROM inbound WHERE processed_at < now() - make_interval(days => $1::int)`, [retainDays]);
  }

  /** Upserts many documents with one statement. */
  async function upsertDocs(client: PoolClient, table: 'customers' | 'conversations' | 'cases' | 'messages' | 'suggestions' | 'operators', items: readonly object[]): Promise<void> {
    if (!items.length) return;
    await client.query(
      `INSERT INTO ${table} (id, doc)
       SELECT e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
       ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`,
      [json(items)],
    );
  }

  // ── group commit: one statement per batch of calls of one kind ──

  /** Accepts: one INSERT; a (channel, id) seen twice in one batch is new only for its first caller. */
  const accepts = createBatcher<InboundMessage, boolean>({
    maxBatch,
    maxInFlight,
    async flush(msgs) {
      const rows = await query<{ channel: string; id: string }>(
        `INSERT INTO inbound (channel, id, message)
         SELECT e->>'channel', e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
         ON CONFLICT (channel, id) DO NOTHING RETURNING channel, id`,
        [json(msgs)],
      );
      const fresh = new Set(rows.map((r) => inboundKey(r.channel, r.id)));
      return msgs.map((m): Settled<boolean> => ({ ok: true, value: fresh.delete(inboundKey(m.channel, m.id)) }));
    },
  });

  /**
   * Turn commits: one call of sportello_commit_turns (migrations 5–6), one outcome per turn; a
   * turn with `claim` gets the items leased to it in the commit (their ids and seq numbers).
   */
  const commits = createBatcher<{ turn: TurnRecord; claim?: { now: number; until: number } }, Record<string, number>>({
    maxBatch: Math.min(maxBatch, MAX_TURNS_PER_COMMIT),
    maxInFlight,
    async flush(calls) {
      const records = calls.map(({ turn: { events: _events, ...record }, claim }) => (claim ? { ...record, claim } : record));
      const rows = await query<{ outcomes: CommitOutcome[] }>('SELECT sportello_commit_turns($1::jsonb) AS outcomes', [json(records)]);
      const outcomes = rows[0]?.outcomes ?? [];
      return calls.map(({ turn }, i): Settled<Record<string, number>> => {
        const o = outcomes[i];
        if (o?.s === 'ok') return { ok: true, value: o.l ?? {} };
        return { ok: false, error: commitError(turn, o) };
      });
    },
  });

  /** Turn contexts: one read for the whole batch, in one snapshot. */
  const contexts = createBatcher<TurnContextQuery, TurnContext>({
    maxBatch,
    maxInFlight,
    async flush(queries) {
      const rows = await query<ContextRow>(
        `SELECT q.i,
                (SELECT doc FROM customers WHERE id = q.e->>'customerId') AS customer,
                cv.doc AS conversation, cv.rev AS conversation_rev,
                kc.doc AS kase, kc.rev AS kase_rev,
                oc.doc AS open_case, oc.rev AS open_case_rev,
                lc.doc AS linked_case, lc.rev AS linked_case_rev,
                rel.related
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS q(e, i)
         -- LIMIT 1 keeps each lookup a nested index probe (a join could be planned as a scan of the table).
         LEFT JOIN LATERAL (SELECT id, doc, rev FROM conversations WHERE key = q.e->>'key' LIMIT 1) cv ON true
         LEFT JOIN LATERAL (SELECT doc, rev FROM cases WHERE id = cv.doc->>'caseId' LIMIT 1) kc ON true
         LEFT JOIN LATERAL (
           SELECT doc, rev FROM cases WHERE customer_id = q.e->>'customerId' AND status = 'open'
           ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1) oc ON true
         -- The linked customer: given, or named by a stored value (a primary-key probe).
         LEFT JOIN LATERAL (
           SELECT COALESCE(q.e->>'linkedCustomerId',
                           (SELECT (q.e->'linkedCustomerIdFrom'->>'prefix') || v.value FROM store_values v
                            WHERE v.name = q.e->'linkedCustomerIdFrom'->>'value')) AS id) link ON true
         LEFT JOIN LATERAL (
           SELECT doc, rev FROM cases WHERE customer_id = link.id AND status = 'open'
           ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1) lc ON true
         LEFT JOIN LATERAL (
           SELECT jsonb_agg(jsonb_build_object('doc', c.doc, 'rev', c.rev) ORDER BY c.n) AS related
           FROM conversations c
           -- = ANY(ARRAY(…)): primary-key lookups; IN (SELECT …) is planned as a scan of all conversations.
           WHERE c.id = ANY (ARRAY(SELECT jsonb_array_elements_text(kc.doc->'conversationIds')
                                   UNION SELECT jsonb_array_elements_text(oc.doc->'conversationIds')
                                   UNION SELECT jsonb_array_elements_text(lc.doc->'conversationIds')))
             AND c.id IS DISTINCT FROM cv.id) rel ON true
         ORDER BY q.i`,
        [json(queries)],
      );
      return rows.map((r): Settled<TurnContext> => {
        const revisions = emptyRevisions();
        const related = (r.related ?? []).map((x) => {
          revisions.conversations[x.doc.id] = x.rev;
          return x.doc;
        });
        if (r.conversation) revisions.conversations[r.conversation.id] = Number(r.conversation_rev);
        for (const [doc, rev] of [[r.kase, r.kase_rev], [r.open_case, r.open_case_rev], [r.linked_case, r.linked_case_rev]] as const) {
          if (doc) revisions.cases[doc.id] = Number(rev);
        }
        return {
          ok: true,
          value: {
            customer: r.customer ?? undefined,
            conversation: r.conversation ?? undefined,
            case: r.kase ?? undefined,
            openCase: r.open_case ?? undefined,
            linkedOpenCase: r.linked_case ?? undefined,
            related,
            revisions,
          },
        };
      });
    },
  });

  /** Named values: one SELECT per batch (the Messenger adapter reads one per send). */
  const valueReads = createBatcher<string, string | undefined>({
    maxBatch,
    maxInFlight,
    async flush(names) {
      const rows = await query<{ name: string; value: string }>('SELECT name, value FROM store_values WHERE name = ANY ($1::text[])', [[...new Set(names)]]);
      const found = new Map(rows.map((r) => [r.name, r.value]));
      return names.map((n): Settled<string | undefined> => ({ ok: true, value: found.get(n) }));
    },
  });

  /**
   * Outbox completions: one UPDATE; two completions of one id in a batch apply in call order. Each
   * learns whether its conversation has unsent items after it (index outbox_unsent).
   */
  const completions = createBatcher<{ id: string; patch: Record<string, unknown> }, { more: boolean }>({
    maxBatch,
    maxInFlight,
    // The reply has reached the platform already: recording it a few milliseconds later lets the
    // completions of a moderate stream share one statement (a conversation's next reply waits as long).
    delayMs: completionDelayMs,
    async flush(items) {
      const merged = new Map<string, Record<string, unknown>>();
      for (const { id, patch } of items) merged.set(id, { ...merged.get(id), ...patch });
      // id = ANY($1): primary-key probes (a join with jsonb_array_elements was planned as a scan of the outbox).
      const rows = await query<{ id: string; more: boolean }>(
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

  /** Forgets old processed ids now and then, without holding up the caller. */
  function pruneNowAndThen(): void {
    if (Date.now() - lastPrune <= PRUNE_EVERY_MS) return;
    pruneInbound().catch((err: Error) => process.emitWarning(`sportello postgres store: pruning processed inbound ids failed: ${err.message}`));
  }

  const store: PostgresStore = {
    // A turn records its own message (sportello_apply_turn inserts it as processed, or refuses it
    // as already processed): one transaction per message (see Store.acceptsInTurn).
    acceptsInTurn: true,

    async init() {
      if (state === 'open') return;
      if (state === 'closed') throw new StoreError('postgres store cannot be reopened after close(); create a new one');
      try {
        await migrate(pool, options.schema);
      } catch (err) {
        throw new StoreError(`cannot prepare the PostgreSQL database: ${(err as Error).message}`, { cause: err });
      }
      state = 'open';
      await pruneInbound();
    },

    async migrate() {
      try {
        return await migrate(pool, options.schema);
      } catch (err) {
        throw new StoreError(`cannot migrate the PostgreSQL database: ${(err as Error).message}`, { cause: err });
      }
    },

    async close() {
      if (state === 'closed') return;
      state = 'closed';
      await pool.end();
    },

    async acceptInbound(msg) {
      ensureOpen();
      pruneNowAndThen();
      return accepts.add(msg);
    },

    async pendingInbound(limit) {
      const rows = await query<{ message: InboundMessage }>(
        `SELECT message FROM inbound WHERE processed_at IS NULL AND message IS NOT NULL ORDER BY n LIMIT $1`,
        [Math.max(0, limit)],
      );
      return rows.map((r) => r.message);
    },

    withConversationLock(key, fn) {
      // In this process only; across instances commitTurn's revision check takes the lock's place.
      return localLocks.run(key, async () => {
        ensureOpen();
        return fn();
      });
    },

    async commitTurn(turn: TurnRecord) {
      ensureOpen();
      pruneNowAndThen();
      await commits.add({ turn });
    },

    async commitTurnAndClaim(turn: TurnRecord, now: number, leaseMs: number) {
      ensureOpen();
      pruneNowAndThen();
      const until = now + leaseMs;
      const leased = await commits.add({ turn, claim: { now, until } });
      // As sportello_apply_turns wrote them (migration 6).
      return turn.outbox.flatMap((item): OutboxItem[] => {
        const seq = leased[item.id];
        return seq === undefined ? [] : [{ ...item, seq, status: 'sending', attempts: item.attempts + 1, notBefore: until }];
      });
    },

    async loadTurnContext(q) {
      ensureOpen();
      return contexts.add(q);
    },

    getCustomer: (id) => firstDoc<Customer>('SELECT doc FROM customers WHERE id = $1', [id]),
    getConversation: (id) => firstDoc<Conversation>('SELECT doc FROM conversations WHERE id = $1', [id]),
    findConversationByKey: (key) => firstDoc<Conversation>('SELECT doc FROM conversations WHERE key = $1', [key]),

    async listConversations(filter: ConversationFilter) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.states) {
        params.push(filter.states);
        where.push(`state = ANY($${params.length}::text[])`);
      }
      if (filter.caseId !== undefined) {
        params.push(filter.caseId);
        where.push(`case_id = $${params.length}`);
      }
      if (filter.customerId !== undefined) {
        params.push(filter.customerId);
        where.push(`customer_id = $${params.length}`);
      }
      if (filter.assignee !== undefined) {
        params.push(filter.assignee);
        where.push(`assignee = $${params.length}`);
      }
      let sql = `SELECT doc FROM conversations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY updated_at DESC NULLS LAST, id COLLATE "C"`;
      if (filter.limit !== undefined) {
        params.push(Math.max(0, filter.limit));
        sql += ` LIMIT $${params.length}`;
      }
      return docs<Conversation>(sql, params);
    },

    getCase: (id) => firstDoc<Case>('SELECT doc FROM cases WHERE id = $1', [id]),
    findOpenCase: (customerId) =>
      firstDoc<Case>(
        `SELECT doc FROM cases WHERE customer_id = $1 AND status = 'open' ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1`,
        [customerId],
      ),
    listCases: (customerId) =>
      docs<Case>('SELECT doc FROM cases WHERE customer_id = $1 ORDER BY opened_at NULLS FIRST, n', [customerId]),

    async listMessages(filter) {
      if (filter.conversationId !== undefined) {
        const params: unknown[] = [filter.conversationId];
        let sql = 'SELECT doc FROM messages WHERE conversation_id = $1';
        if (filter.caseId !== undefined) {
          params.push(filter.caseId);
          sql += ' AND case_id = $2';
        }
        return docs<StoredMessage>(`${sql} ORDER BY at NULLS FIRST, n`, params);
      }
      if (filter.caseId !== undefined) {
        return docs<StoredMessage>('SELECT doc FROM messages WHERE case_id = $1 ORDER BY at NULLS FIRST, n', [filter.caseId]);
      }
      return docs<StoredMessage>('SELECT doc FROM messages ORDER BY at NULLS FIRST, n');
    },

    async compareAndSetConversation(id, expected, change) {
      const { set, remove } = splitChange(change);
      const mode = expected.assignee === undefined ? 'any' : expected.assignee === null ? 'none' : 'is';
      // One statement: the row lock makes concurrent claims queue, and each re-checks the
      // WHERE clause against the winner's row, so exactly one succeeds.
      return firstDoc<Conversation>(
        `UPDATE conversations SET doc = (doc - $3::text[]) || $4::jsonb
         WHERE id = $1 AND state = ANY($2::text[])
           AND CASE $5::text WHEN 'none' THEN assignee IS NULL WHEN 'is' THEN assignee IS NOT DISTINCT FROM $6::text ELSE true END
         RETURNING doc`,
        [id, expected.states, remove, json(set), mode, typeof expected.assignee === 'string' ? expected.assignee : null],
      );
    },

    async claimOutbox(now, limit, leaseMs) {
      if (limit <= 0) return [];
      // due: unsent items whose time has come, in time order (index outbox_due, migration 3),
      // that are the first unsent item of their conversation (no unsent item with a smaller seq),
      // locked (others' locked rows skipped). The walk stops after `limit` of them, so a long
      // backlog does not make every claim read all of it. The row's own status/not_before are
      // re-checked after locking, so an item another instance just claimed or completed is not taken.
      const rows = await query<{ doc: OutboxItem; old_not_before: number; n: string }>(
        `WITH due AS (
           SELECT o.id, o.not_before, o.n FROM outbox o
           WHERE o.status IN ('pending', 'sending') AND o.not_before <= $1::double precision
             AND NOT EXISTS (
               SELECT 1 FROM outbox p
               WHERE p.conversation_id = o.conversation_id AND p.status IN ('pending', 'sending') AND p.seq < o.seq)
           ORDER BY o.not_before, o.n
           LIMIT $2
           FOR UPDATE OF o SKIP LOCKED
         )
         UPDATE outbox o SET doc = o.doc || jsonb_build_object(
             'status', 'sending',
             'attempts', COALESCE((o.doc->>'attempts')::integer, 0) + 1,
             'notBefore', $1::double precision + $3::double precision)
         FROM due WHERE o.id = due.id
         RETURNING o.doc, due.not_before AS old_not_before, due.n`,
        [now, limit, leaseMs],
      );
      return rows
        .sort((a, b) => a.old_not_before - b.old_not_before || Number(a.n) - Number(b.n))
        .map((r) => r.doc);
    },

    async completeOutbox(id, outcome) {
      ensureOpen();
      let patch: Record<string, unknown>;
      if (outcome.status === 'sent') patch = { status: 'sent', sentAt: outcome.at, platformId: outcome.platformId };
      else if (outcome.status === 'retry') patch = { status: 'pending', notBefore: outcome.notBefore, lastError: outcome.error };
      else patch = { status: 'dead', lastError: outcome.error };
      return completions.add({ id, patch });
    },

    getOutboxItem: (id) => firstDoc<OutboxItem>('SELECT doc FROM outbox WHERE id = $1', [id]),

    async listOutbox(filter) {
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
      return docs<OutboxItem>(`SELECT doc FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n`, params);
    },

    async addOperator(op) {
      try {
        await query('INSERT INTO operators (id, doc) VALUES ($1, $2::jsonb)', [op.id, json(op)]);
      } catch (err) {
        const cause = (err as Error).cause;
        if (isPgError(cause, UNIQUE_VIOLATION)) {
          throw new ConflictError(
            cause.constraint === 'operators_name' ? `an operator named ${op.name} already exists` : `operator ${op.id} already exists`,
            { cause },
          );
        }
        throw err;
      }
    },

    getOperator: (id) => firstDoc<Operator>('SELECT doc FROM operators WHERE id = $1', [id]),
    findOperatorByName: (name) => firstDoc<Operator>('SELECT doc FROM operators WHERE name = $1', [name]),
    listOperators: () => docs<Operator>('SELECT doc FROM operators ORDER BY n'),

    async addSuggestion(s) {
      try {
        await query('INSERT INTO suggestions (id, doc) VALUES ($1, $2::jsonb)', [s.id, json(s)]);
      } catch (err) {
        const cause = (err as Error).cause;
        if (isPgError(cause, UNIQUE_VIOLATION)) throw new ConflictError(`suggestion ${s.id} already exists`, { cause });
        throw err;
      }
    },

    async updateSuggestion(id, change) {
      const { set, remove } = splitChange(change);
      return firstDoc<FaqSuggestion>('UPDATE suggestions SET doc = (doc - $2::text[]) || $3::jsonb WHERE id = $1 RETURNING doc', [id, remove, json(set)]);
    },

    listSuggestions: (filter) =>
      filter?.status !== undefined
        ? docs<FaqSuggestion>('SELECT doc FROM suggestions WHERE status = $1 ORDER BY n', [filter.status])
        : docs<FaqSuggestion>('SELECT doc FROM suggestions ORDER BY n'),

    async getValue(name) {
      ensureOpen();
      return valueReads.add(name);
    },

    async setValue(name, value) {
      await query('INSERT INTO store_values (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value', [name, value]);
    },

    async exportAll() {
      return transaction(async (client) => {
        const all = async <T>(table: string): Promise<T[]> => (await client.query<{ doc: T }>(`SELECT doc FROM ${table} ORDER BY n`)).rows.map((r) => r.doc);
        const inbound = await client.query<{ channel: string; id: string; message: InboundMessage | null; accepted_at: Date; processed_at: Date | null }>(
          'SELECT channel, id, message, accepted_at, processed_at FROM inbound ORDER BY n',
        );
        const values = await client.query<{ name: string; value: string }>('SELECT name, value FROM store_values ORDER BY name');
        const snapshot: StoreSnapshot = {
          format: 'sportello-store',
          version: 1,
          exportedAt: new Date().toISOString(),
          customers: await all<Customer>('customers'),
          conversations: await all<Conversation>('conversations'),
          cases: await all<Case>('cases'),
          messages: await all<StoredMessage>('messages'),
          outbox: await all<OutboxItem>('outbox'),
          inbound: inbound.rows.map((r): InboundRecord => ({
            channel: r.channel,
            id: r.id,
            acceptedAt: r.accepted_at.toISOString(),
            ...(r.processed_at ? { processedAt: r.processed_at.toISOString() } : {}),
            ...(r.message && !r.processed_at ? { message: r.message } : {}),
          })),
          operators: await all<Operator>('operators'),
          suggestions: await all<FaqSuggestion>('suggestions'),
          values: Object.fromEntries(values.rows.map((r) => [r.name, r.value])),
        };
        return snapshot;
      }, 'REPEATABLE READ READ ONLY');
    },

    async importAll(snapshot) {
      const data = parseStoreSnapshot(snapshot);
      try {
        await transaction(async (client) => {
          await upsertDocs(client, 'customers', data.customers);
          await upsertDocs(client, 'conversations', data.conversations);
          await upsertDocs(client, 'cases', data.cases);
          await upsertDocs(client, 'messages', data.messages);
          if (data.outbox.length) {
            await client.query(
              `INSERT INTO outbox (id, doc)
               SELECT e->>'id', e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i
               ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`,
              [json(data.outbox)],
            );
            await client.query(
              `INSERT INTO outbox_sequences (conversation_id, last_seq)
               SELECT conversation_id, max(seq) FROM outbox GROUP BY conversation_id
               ON CONFLICT (conversation_id) DO UPDATE SET last_seq = GREATEST(outbox_sequences.last_seq, EXCLUDED.last_seq)`,
            );
          }
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
          const values = Object.entries(data.values);
          if (values.length) {
            await client.query(
              `INSERT INTO store_values (name, value) SELECT * FROM unnest($1::text[], $2::text[])
               ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
              [values.map(([k]) => k), values.map(([, v]) => v)],
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
    },
  };
  return store;
}
