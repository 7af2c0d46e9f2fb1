/**
 * @module storage/postgres/conversations
 * Turns and the reads of conversations, cases and messages, in the shared database.
 *
 * Group commit: turn contexts and turn commits made in the same turn of the event loop (or while
 * earlier ones are in flight) go to PostgreSQL as one statement each (util/batcher), so a busy
 * instance pays one round trip, and for commits one transaction and one WAL flush, per batch
 * instead of per message. Every caller still gets its own result or error.
 *
 * Two instances never race on a conversation, without holding a lock across a turn: each turn
 * reads the revisions of what it reads (`loadContext`), and its commit writes a stored conversation
 * or case only if it read it and its revision is unchanged (checked under the rows' locks, in the
 * same transaction as the writes: sql/functions.sql). The loser of a race is refused with
 * TurnConflictError, having written nothing, and its caller runs it again on the fresh state: the
 * two turns apply one after the other, as with a lock. Within one instance a keyed mutex
 * serialises turns per conversation, so an instance never conflicts with itself.
 */
import { emptyRevisions, type ContextQuery, type Conversations, type History, type TurnContext, type TurnRecord } from '../../core/ports.js';
import type { Case, Conversation, Customer, OutboxItem, StoredMessage } from '../../core/types.js';
import { AlreadyProcessedError, StoreError, TurnConflictError } from '../../core/errors.js';
import { createBatcher, type Settled } from '../../util/batcher.js';
import { createKeyedMutex } from '../../util/keyed-mutex.js';
import { customerWords, messageWords } from './words.js';
import { json, UNIQUE_VIOLATION, type BatchOptions, type Connection } from './connection.js';
import type { TurnOutcomes } from './inbox.js';

/**
 * Turns per sportello_commit_turns call: a failing batch is applied turn by turn, each in a
 * subtransaction, and a transaction with more than 64 of them overflows PostgreSQL's per-backend
 * subtransaction cache (slower snapshots for every session), so commit batches stay below that.
 */
const MAX_TURNS_PER_COMMIT = 50;

/** One turn's outcome from sportello_commit_turns. */
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
  requested_case: Case | null;
  requested_case_rev: string | null;
  related: Array<{ doc: Conversation; rev: number }> | null;
}

export function postgresConversations(conn: Connection, batch: BatchOptions, inbox: TurnOutcomes, housekeeping: () => void): Conversations {
  const localLocks = createKeyedMutex();

  /**
   * Turn commits: one call of sportello_commit_turns, one outcome per turn; a turn with `claim`
   * gets the items leased to it in the commit (their ids and seq numbers).
   */
  const commits = createBatcher<{ turn: TurnRecord; claim?: { now: number; until: number } }, Record<string, number>>({
    maxBatch: Math.min(batch.maxBatch, MAX_TURNS_PER_COMMIT),
    maxInFlight: batch.maxInFlight,
    async flush(calls) {
      // Each message's search words go with the turn (words.ts; the function writes them beside the message).
      const records = calls.map(({ turn: { events: _events, ...record }, claim }) => {
        const words = record.messages.length > 0 ? record.messages.map((m) => messageWords(m.text)) : undefined;
        return { ...record, ...(words ? { words } : {}), ...(record.customer ? { customerWords: customerWords(record.customer) } : {}), ...(claim ? { claim } : {}) };
      });
      const rows = await conn.query<{ outcomes: CommitOutcome[] }>('SELECT sportello_commit_turns($1::jsonb) AS outcomes', [json(records)]);
      const outcomes = rows[0]?.outcomes ?? [];
      return calls.map(({ turn }, i): Settled<Record<string, number>> => {
        const o = outcomes[i];
        if (o?.s === 'ok') return { ok: true, value: o.l ?? {} };
        return { ok: false, error: commitError(turn, o) };
      });
    },
  });

  /** Turn contexts: one read for the whole batch, in one snapshot. */
  const contexts = createBatcher<ContextQuery, TurnContext>({
    ...batch,
    async flush(queries) {
      const rows = await conn.query<ContextRow>(
        `SELECT q.i,
                (SELECT doc FROM customers WHERE id = q.e->>'customerId') AS customer,
                cv.doc AS conversation, cv.rev AS conversation_rev,
                kc.doc AS kase, kc.rev AS kase_rev,
                oc.doc AS open_case, oc.rev AS open_case_rev,
                lc.doc AS linked_case, lc.rev AS linked_case_rev,
                rc.doc AS requested_case, rc.rev AS requested_case_rev,
                rel.related
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS q(e, i)
         -- LIMIT 1 keeps each lookup a nested index probe (a join could be planned as a scan of the table).
         LEFT JOIN LATERAL (SELECT id, doc, rev FROM conversations WHERE key = q.e->>'key' LIMIT 1) cv ON true
         LEFT JOIN LATERAL (SELECT doc, rev FROM cases WHERE id = cv.doc->>'caseId' LIMIT 1) kc ON true
         LEFT JOIN LATERAL (
           SELECT doc, rev FROM cases WHERE customer_id = q.e->>'customerId' AND status = 'open'
           ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1) oc ON true
         LEFT JOIN LATERAL (
           SELECT doc, rev FROM cases WHERE customer_id = q.e->>'linkedCustomerId' AND status = 'open'
           ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1) lc ON true
         LEFT JOIN LATERAL (SELECT doc, rev FROM cases WHERE id = q.e->>'caseId' LIMIT 1) rc ON true
         LEFT JOIN LATERAL (
           SELECT jsonb_agg(jsonb_build_object('doc', c.doc, 'rev', c.rev) ORDER BY c.n) AS related
           FROM (SELECT jsonb_array_elements_text(kc.doc->'conversationIds')
                 UNION SELECT jsonb_array_elements_text(oc.doc->'conversationIds')
                 UNION SELECT jsonb_array_elements_text(lc.doc->'conversationIds')
                 UNION SELECT jsonb_array_elements_text(rc.doc->'conversationIds')
                 UNION SELECT o.id FROM jsonb_array_elements_text(COALESCE(q.e->'otherKeys', '[]')) AS k(key)
                       CROSS JOIN LATERAL (SELECT id FROM conversations WHERE key = k.key LIMIT 1) o) AS r(id)
           -- One primary-key probe per id. "id = ANY(ARRAY(…))" was planned, on a young table
           -- (a plan made early and kept by the connection), as a scan of every conversation for
           -- each turn of the batch: the cost grew with the table.
           CROSS JOIN LATERAL (SELECT doc, rev, n FROM conversations WHERE id = r.id LIMIT 1) c
           WHERE r.id IS DISTINCT FROM cv.id) rel ON true
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
        const cases = [[r.kase, r.kase_rev], [r.open_case, r.open_case_rev], [r.linked_case, r.linked_case_rev], [r.requested_case, r.requested_case_rev]] as const;
        for (const [doc, rev] of cases) {
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
            ...(r.requested_case ? { requestedCase: r.requested_case } : {}),
          },
        };
      });
    },
  });

  return {
    withLock(key, fn) {
      // In this process only; across instances the commit's revision check takes the lock's place.
      return localLocks.run(key, async () => {
        conn.ensureOpen();
        return fn();
      });
    },

    async loadContext(q) {
      conn.ensureOpen();
      return contexts.add(q);
    },

    async commit(turn, options) {
      conn.ensureOpen();
      if (!turn.expect) throw new TurnConflictError('a turn must say which revisions it read (expect)');
      housekeeping();
      const claim = options?.claim && { now: options.claim.now, until: options.claim.now + options.claim.leaseMs };
      let leased: Record<string, number>;
      try {
        leased = await commits.add(claim ? { turn, claim } : { turn });
      } catch (err) {
        // The inbox may have left the turn's message for this commit to record (see inbox.ts).
        if (turn.inbound) {
          if (err instanceof AlreadyProcessedError) inbox.kept(turn.inbound.channel, turn.inbound.id);
          // A conflict is run again by the caller; anything else will not commit soon.
          else if (!(err instanceof TurnConflictError)) inbox.failed(turn.inbound.channel, turn.inbound.id);
        }
        throw err;
      }
      if (turn.inbound) inbox.kept(turn.inbound.channel, turn.inbound.id);
      if (!claim) return [];
      // As sportello_add_outbox wrote them.
      return turn.outbox.flatMap((item): OutboxItem[] => {
        const seq = leased[item.id];
        return seq === undefined ? [] : [{ ...item, seq, status: 'sending', attempts: item.attempts + 1, notBefore: claim.until }];
      });
    },

    get: (id) => conn.firstDoc<Conversation>('SELECT doc FROM conversations WHERE id = $1', [id]),
    findByKey: (key) => conn.firstDoc<Conversation>('SELECT doc FROM conversations WHERE key = $1', [key]),

    async list(filter) {
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
      if (filter.updatedBefore !== undefined) {
        params.push(filter.updatedBefore);
        where.push(`updated_at < $${params.length}::timestamptz`);
      }
      let sql = `SELECT doc FROM conversations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY updated_at DESC NULLS LAST, id COLLATE "C"`;
      if (filter.limit !== undefined) {
        params.push(Math.max(0, filter.limit));
        sql += ` LIMIT $${params.length}`;
      }
      return conn.docs<Conversation>(sql, params);
    },

    getCase: (id) => conn.firstDoc<Case>('SELECT doc FROM cases WHERE id = $1', [id]),
    findOpenCase: (customerId) =>
      conn.firstDoc<Case>(
        `SELECT doc FROM cases WHERE customer_id = $1 AND status = 'open' ORDER BY opened_at DESC NULLS LAST, n DESC LIMIT 1`,
        [customerId],
      ),
    listCases: (customerId) => conn.docs<Case>('SELECT doc FROM cases WHERE customer_id = $1 ORDER BY opened_at NULLS FIRST, n', [customerId]),

    casesAwaitingSurvey: ({ resolvedFrom, resolvedTo, limit }) =>
      // The partial index cases_awaiting_survey (schema version 5) holds exactly these cases.
      conn.docs<Case>(
        `SELECT doc FROM cases
         WHERE status = 'resolved' AND (NOT (doc ? 'survey') OR (doc->'survey') ? 'followUpDue')
           AND sportello_ts(doc->>'resolvedAt') >= $1::timestamptz AND sportello_ts(doc->>'resolvedAt') < $2::timestamptz
         ORDER BY sportello_ts(doc->>'resolvedAt'), id COLLATE "C" LIMIT $3`,
        [resolvedFrom, resolvedTo, Math.max(0, limit)],
      ),

    async listMessages(filter) {
      if (filter.conversationId !== undefined) {
        const params: unknown[] = [filter.conversationId];
        let sql = 'SELECT doc FROM messages WHERE conversation_id = $1';
        if (filter.caseId !== undefined) {
          params.push(filter.caseId);
          sql += ' AND case_id = $2';
        }
        return conn.docs<StoredMessage>(`${sql} ORDER BY at NULLS FIRST, n`, params);
      }
      if (filter.caseId !== undefined) {
        return conn.docs<StoredMessage>('SELECT doc FROM messages WHERE case_id = $1 ORDER BY at NULLS FIRST, n', [filter.caseId]);
      }
      return conn.docs<StoredMessage>('SELECT doc FROM messages ORDER BY at NULLS FIRST, n');
    },

    async history({ from, to }) {
      // One statement, one snapshot: the period's cases (by opening, or a message in the period:
      // indexes cases_opened and messages_at), all their messages, their conversations (a
      // conversation's case changes when a new one opens: its messages keep theirs) and those
      // conversations' outbox items.
      const rows = await conn.query<{ h: History }>(
        `WITH period_cases AS (
           SELECT id FROM cases WHERE opened_at >= $1::timestamptz AND opened_at < $2::timestamptz
           UNION
           SELECT case_id FROM messages WHERE at >= $1::timestamptz AND at < $2::timestamptz
         ),
         c AS (SELECT cases.doc, cases.opened_at, cases.n FROM cases JOIN period_cases USING (id)),
         m AS (SELECT messages.doc, messages.at, messages.n, messages.case_id, messages.conversation_id
               FROM messages WHERE case_id IN (SELECT id FROM period_cases)),
         conversation_ids AS (
           SELECT conversation_id AS id FROM m
           UNION
           SELECT jsonb_array_elements_text(doc->'conversationIds') FROM c
         ),
         v AS (SELECT conversations.doc, conversations.n FROM conversations JOIN conversation_ids USING (id))
         SELECT json_build_object(
           'cases', COALESCE((SELECT json_agg(doc ORDER BY opened_at, n) FROM c), '[]'),
           'messages', COALESCE((SELECT json_agg(doc ORDER BY at, n) FROM m), '[]'),
           'conversations', COALESCE((SELECT json_agg(doc ORDER BY n) FROM v), '[]'),
           'replies', COALESCE((SELECT json_agg(outbox.doc ORDER BY outbox.n) FROM outbox WHERE conversation_id IN (SELECT id FROM conversation_ids)), '[]')
         ) AS h`,
        [from, to],
      );
      return rows[0]!.h;
    },
  };
}
