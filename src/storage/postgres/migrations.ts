/**
 * @module storage/postgres/migrations
 * Versioned schema changes, applied in order at `init()` (or `sportello migrate`) under an
 * advisory lock, each in its own transaction, recorded in `schema_migrations`. Never edit a
 * released migration: add the next version.
 *
 * Each domain object is stored whole as `doc jsonb` (the source of truth, so fields added to a
 * domain type need no migration); the columns queries filter and sort on are generated from it.
 */
import type { Pool, PoolClient } from 'pg';

/** One schema change. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** All migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
-- ISO-8601 text to timestamptz for generated columns. Only text carrying its offset (Z or
-- +hh:mm, as toISOString writes) is cast, so the result never depends on the session time zone:
-- the function really is immutable. Anything else becomes NULL (sorted last) instead of failing.
-- Plain SQL, no exception block: a PL/pgSQL handler would open a subtransaction on every row.
CREATE FUNCTION sportello_ts(t text) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN t ~ '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$' THEN t::timestamptz END
$$;

CREATE TABLE customers (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL
);

CREATE TABLE conversations (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  key text GENERATED ALWAYS AS (doc->>'key') STORED,
  state text GENERATED ALWAYS AS (doc->>'state') STORED,
  customer_id text GENERATED ALWAYS AS (doc->>'customerId') STORED,
  case_id text GENERATED ALWAYS AS (doc->>'caseId') STORED,
  assignee text GENERATED ALWAYS AS (doc->>'assignee') STORED,
  updated_at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'updatedAt')) STORED
);
CREATE UNIQUE INDEX conversations_key ON conversations (key);
CREATE INDEX conversations_state ON conversations (state, updated_at DESC);
CREATE INDEX conversations_customer ON conversations (customer_id);
CREATE INDEX conversations_case ON conversations (case_id);
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE assignee IS NOT NULL;

CREATE TABLE cases (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  customer_id text GENERATED ALWAYS AS (doc->>'customerId') STORED,
  status text GENERATED ALWAYS AS (doc->>'status') STORED,
  opened_at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'openedAt')) STORED
);
CREATE INDEX cases_customer ON cases (customer_id, opened_at);

CREATE TABLE messages (
  n bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  doc jsonb NOT NULL,
  conversation_id text GENERATED ALWAYS AS (doc->>'conversationId') STORED,
  case_id text GENERATED ALWAYS AS (doc->>'caseId') STORED,
  at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'at')) STORED
);
CREATE INDEX messages_conversation ON messages (conversation_id, at, n);
CREATE INDEX messages_case ON messages (case_id, at, n);

CREATE TABLE outbox (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  conversation_id text GENERATED ALWAYS AS (doc->>'conversationId') STORED,
  seq integer GENERATED ALWAYS AS ((doc->>'seq')::integer) STORED,
  status text GENERATED ALWAYS AS (doc->>'status') STORED,
  not_before double precision GENERATED ALWAYS AS ((doc->>'notBefore')::double precision) STORED
);
CREATE UNIQUE INDEX outbox_conversation_seq ON outbox (conversation_id, seq);
CREATE INDEX outbox_unsent ON outbox (conversation_id, seq) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_status ON outbox (status, n);

-- The last seq handed out per conversation; its row lock orders concurrent turns.
CREATE TABLE outbox_sequences (
  conversation_id text PRIMARY KEY,
  last_seq integer NOT NULL
);

-- Every inbound message id seen (idempotency). The message is kept until a turn processes it.
CREATE TABLE inbound (
  channel text NOT NULL,
  id text NOT NULL,
  n bigserial NOT NULL,
  message jsonb,
  accepted_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  PRIMARY KEY (channel, id)
);
CREATE INDEX inbound_pending ON inbound (n) WHERE processed_at IS NULL AND message IS NOT NULL;
CREATE INDEX inbound_processed ON inbound (processed_at) WHERE processed_at IS NOT NULL;

CREATE TABLE operators (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  name text GENERATED ALWAYS AS (doc->>'name') STORED
);
CREATE UNIQUE INDEX operators_name ON operators (name);

CREATE TABLE suggestions (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  status text GENERATED ALWAYS AS (doc->>'status') STORED
);

CREATE TABLE store_values (
  name text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'commit a turn in one call',
    sql: `
-- A turn (TurnRecord as JSON) written by one call, so one round trip: the inbound message marked
-- processed FIRST (raising SQLSTATE SP409 when it already was: the caller maps it to
-- AlreadyProcessedError, and the statement's implicit transaction writes nothing), then the
-- customer, conversations, case and messages upserted by id, then the outbox items numbered per
-- conversation (1, 2, 3… in turn order) and inserted. Any error (a conversation key already
-- taken, an outbox id already used) aborts the whole call: all or nothing.
CREATE FUNCTION sportello_commit_turn(turn jsonb) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_group record;
  v_last integer;
  v_first jsonb := '{}';
BEGIN
  IF jsonb_typeof(turn->'inbound') = 'object' THEN
    -- The row lock serialises two instances committing the same message; the loser finds it
    -- processed and raises. The body is dropped once processed.
    INSERT INTO inbound (channel, id, processed_at) VALUES (turn->'inbound'->>'channel', turn->'inbound'->>'id', now())
      ON CONFLICT (channel, id) DO UPDATE SET processed_at = now(), message = NULL WHERE inbound.processed_at IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'message %/% was already processed', turn->'inbound'->>'channel', turn->'inbound'->>'id'
        USING ERRCODE = 'SP409';
    END IF;
  END IF;

  IF jsonb_typeof(turn->'customer') = 'object' THEN
    INSERT INTO customers (id, doc) VALUES (turn->'customer'->>'id', turn->'customer')
      ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;
  END IF;

  INSERT INTO conversations (id, doc)
    SELECT e->>'id', e FROM jsonb_array_elements(COALESCE(turn->'conversations', '[]')) WITH ORDINALITY AS t(e, i) ORDER BY i
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  IF jsonb_typeof(turn->'case') = 'object' THEN
    INSERT INTO cases (id, doc) VALUES (turn->'case'->>'id', turn->'case')
      ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;
  END IF;

  INSERT INTO messages (id, doc)
    SELECT e->>'id', e FROM jsonb_array_elements(COALESCE(turn->'messages', '[]')) WITH ORDINALITY AS t(e, i) ORDER BY i
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  IF jsonb_array_length(COALESCE(turn->'outbox', '[]')) > 0 THEN
    -- One sequence row per conversation, taken in conversation id order (byte order), so concurrent
    -- turns touching several conversations lock them in one order.
    FOR v_group IN
      SELECT e->>'conversationId' AS conversation_id, count(*)::integer AS items
      FROM jsonb_array_elements(turn->'outbox') AS t(e)
      GROUP BY 1 ORDER BY (e->>'conversationId') COLLATE "C"
    LOOP
      INSERT INTO outbox_sequences (conversation_id, last_seq) VALUES (v_group.conversation_id, v_group.items)
        ON CONFLICT (conversation_id) DO UPDATE SET last_seq = outbox_sequences.last_seq + EXCLUDED.last_seq
        RETURNING last_seq INTO v_last;
      v_first := v_first || jsonb_build_object(v_group.conversation_id, v_last - v_group.items + 1);
    END LOOP;
    INSERT INTO outbox (id, doc)
      SELECT e->>'id', e || jsonb_build_object('seq',
               (v_first->>(e->>'conversationId'))::integer - 1
               + row_number() OVER (PARTITION BY e->>'conversationId' ORDER BY i))
      FROM jsonb_array_elements(turn->'outbox') WITH ORDINALITY AS t(e, i) ORDER BY i;
  END IF;
END
$$;
`,
  },
  {
    version: 3,
    name: 'revisions and batched turns',
    sql: `
-- Optimistic concurrency: every write of a conversation or case gives it a new revision (a trigger,
-- so no writer can forget it: turns, claims, imports, older instances during an upgrade).
ALTER TABLE conversations ADD COLUMN rev bigint NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN rev bigint NOT NULL DEFAULT 0;
CREATE FUNCTION sportello_next_rev() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.rev := OLD.rev + 1;
  RETURN NEW;
END
$$;
CREATE TRIGGER conversations_rev BEFORE UPDATE ON conversations FOR EACH ROW EXECUTE FUNCTION sportello_next_rev();
CREATE TRIGGER cases_rev BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION sportello_next_rev();

-- Unsent outbox items in the order claims take them, so a claim reads about as many rows as it
-- takes instead of the whole backlog.
CREATE INDEX outbox_due ON outbox (not_before, n) WHERE status IN ('pending', 'sending');

-- sportello_apply_turn below replaces migration 2's function: drop it rather than keep a second,
-- diverging copy of the turn's SQL.
DROP FUNCTION sportello_commit_turn(jsonb);

-- One turn, as sportello_commit_turn (migration 2) plus the revision check: a conversation or
-- case listed in turn->'expect' is written only if its revision is still the one the turn read,
-- else SQLSTATE SP410 (conflict). Conversations and cases not listed are upserted as before.
CREATE FUNCTION sportello_apply_turn(turn jsonb) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_group record;
  v_last integer;
  v_first jsonb := '{}';
  v_doc jsonb;
  v_rev text;
BEGIN
  IF jsonb_typeof(turn->'inbound') = 'object' THEN
    INSERT INTO inbound (channel, id, processed_at) VALUES (turn->'inbound'->>'channel', turn->'inbound'->>'id', now())
      ON CONFLICT (channel, id) DO UPDATE SET processed_at = now(), message = NULL WHERE inbound.processed_at IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'message %/% was already processed', turn->'inbound'->>'channel', turn->'inbound'->>'id'
        USING ERRCODE = 'SP409';
    END IF;
  END IF;

  IF jsonb_typeof(turn->'customer') = 'object' THEN
    INSERT INTO customers (id, doc) VALUES (turn->'customer'->>'id', turn->'customer')
      ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;
  END IF;

  FOR v_doc IN SELECT e FROM jsonb_array_elements(COALESCE(turn->'conversations', '[]')) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    v_rev := turn->'expect'->'conversations'->>(v_doc->>'id');
    IF v_rev IS NULL THEN
      INSERT INTO conversations (id, doc) VALUES (v_doc->>'id', v_doc) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;
    ELSE
      -- At READ COMMITTED a concurrent writer's row is waited for and re-checked: its new revision fails the test.
      UPDATE conversations SET doc = v_doc WHERE id = v_doc->>'id' AND rev = v_rev::bigint;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % changed since the turn read it', v_doc->>'id' USING ERRCODE = 'SP410';
      END IF;
    END IF;
  END LOOP;

  IF jsonb_typeof(turn->'case') = 'object' THEN
    v_rev := turn->'expect'->'cases'->>(turn->'case'->>'id');
    -- Most turns hand back their case unchanged: then nothing is written (no new row version, no
    -- index entries, no WAL), only the revision is checked.
    IF v_rev IS NULL THEN
      INSERT INTO cases (id, doc) VALUES (turn->'case'->>'id', turn->'case')
        ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc WHERE cases.doc IS DISTINCT FROM EXCLUDED.doc;
    ELSE
      UPDATE cases SET doc = turn->'case' WHERE id = turn->'case'->>'id' AND rev = v_rev::bigint AND doc IS DISTINCT FROM turn->'case';
      IF NOT FOUND THEN
        PERFORM 1 FROM cases WHERE id = turn->'case'->>'id' AND rev = v_rev::bigint AND doc = turn->'case';
        IF NOT FOUND THEN
          RAISE EXCEPTION 'case % changed since the turn read it', turn->'case'->>'id' USING ERRCODE = 'SP410';
        END IF;
      END IF;
    END IF;
  END IF;

  INSERT INTO messages (id, doc)
    SELECT e->>'id', e FROM jsonb_array_elements(COALESCE(turn->'messages', '[]')) WITH ORDINALITY AS t(e, i) ORDER BY i
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  IF jsonb_array_length(COALESCE(turn->'outbox', '[]')) > 0 THEN
    FOR v_group IN
      SELECT e->>'conversationId' AS conversation_id, count(*)::integer AS items
      FROM jsonb_array_elements(turn->'outbox') AS t(e)
      GROUP BY 1 ORDER BY (e->>'conversationId') COLLATE "C"
    LOOP
      INSERT INTO outbox_sequences (conversation_id, last_seq) VALUES (v_group.conversation_id, v_group.items)
        ON CONFLICT (conversation_id) DO UPDATE SET last_seq = outbox_sequences.last_seq + EXCLUDED.last_seq
        RETURNING last_seq INTO v_last;
      v_first := v_first || jsonb_build_object(v_group.conversation_id, v_last - v_group.items + 1);
    END LOOP;
    INSERT INTO outbox (id, doc)
      SELECT e->>'id', e || jsonb_build_object('seq',
               (v_first->>(e->>'conversationId'))::integer - 1
               + row_number() OVER (PARTITION BY e->>'conversationId' ORDER BY i))
      FROM jsonb_array_elements(turn->'outbox') WITH ORDINALITY AS t(e, i) ORDER BY i;
  END IF;
END
$$;

-- Many turns in one statement, so one transaction and one WAL flush for all of them (group
-- commit). Each turn runs in its own sub-block (a subtransaction): one that fails is rolled back
-- alone and reported, the others are written. Returns one outcome per turn, in order:
-- {"s":"ok"} | {"s":"processed"} | {"s":"conflict","m":…} | {"s":"error","c":sqlstate,"k":constraint,"m":…}.
CREATE FUNCTION sportello_commit_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_turn jsonb;
  v_out jsonb := '[]';
  v_state text;
  v_constraint text;
  v_message text;
BEGIN
  FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    BEGIN
      PERFORM sportello_apply_turn(v_turn);
      v_out := v_out || '{"s":"ok"}'::jsonb;
    EXCEPTION
      WHEN SQLSTATE 'SP409' THEN
        v_out := v_out || '{"s":"processed"}'::jsonb;
      WHEN SQLSTATE 'SP410' OR deadlock_detected OR serialization_failure THEN
        v_out := v_out || jsonb_build_object('s', 'conflict', 'm', SQLERRM);
      WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME, v_message = MESSAGE_TEXT;
        v_out := v_out || jsonb_build_object('s', 'error', 'c', v_state, 'k', v_constraint, 'm', v_message);
    END;
  END LOOP;
  RETURN v_out;
END
$$;
`,
  },
  {
    version: 4,
    name: 'fewer index writes per turn and per sent reply',
    sql: `
-- A turn rewrites its conversation's doc (and updated_at) but seldom its key, state, customer,
-- case or assignee. With updated_at in no index and room left on each page, such an update is a
-- HOT update: no index entry is written at all (it was six per turn). The queue is sorted on
-- the rows of its states, which are few.
DROP INDEX conversations_state;
CREATE INDEX conversations_state ON conversations (state);
ALTER TABLE conversations SET (fillfactor = 80);

-- Sent replies are most of the outbox, and nothing lists them by status alone (a conversation's
-- are found through outbox_conversation_seq): marking a reply sent no longer adds to this index.
DROP INDEX outbox_status;
CREATE INDEX outbox_status ON outbox (status, n) WHERE status <> 'sent';
`,
  },
  {
    version: 5,
    name: 'one subtransaction per batch of turns',
    sql: `
-- As migration 3's function, but a batch is first applied in one sub-block. A subtransaction per
-- turn gives each turn a transaction id of its own, kept in the commit record and in pg_subtrans
-- and checked by every snapshot that meets the rows; dropping it saved about 5 % of a turn's time
-- under load. Turns rarely fail. When one does, the whole sub-block is rolled back and the batch
-- is applied again turn by turn, each in its own sub-block as before, so a failing turn still
-- fails alone.
CREATE OR REPLACE FUNCTION sportello_commit_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_turn jsonb;
  v_out jsonb := '[]';
  v_state text;
  v_constraint text;
  v_message text;
BEGIN
  BEGIN
    FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
      PERFORM sportello_apply_turn(v_turn);
      v_out := v_out || '{"s":"ok"}'::jsonb;
    END LOOP;
    RETURN v_out;
  EXCEPTION WHEN OTHERS THEN
    -- Some turn failed: nothing of the batch is written; apply it turn by turn below.
    v_out := '[]';
  END;
  FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    BEGIN
      PERFORM sportello_apply_turn(v_turn);
      v_out := v_out || '{"s":"ok"}'::jsonb;
    EXCEPTION
      WHEN SQLSTATE 'SP409' THEN
        v_out := v_out || '{"s":"processed"}'::jsonb;
      WHEN SQLSTATE 'SP410' OR deadlock_detected OR serialization_failure THEN
        v_out := v_out || jsonb_build_object('s', 'conflict', 'm', SQLERRM);
      WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME, v_message = MESSAGE_TEXT;
        v_out := v_out || jsonb_build_object('s', 'error', 'c', v_state, 'k', v_constraint, 'm', v_message);
    END;
  END LOOP;
  RETURN v_out;
END
$$;
`,
  },
  {
    version: 6,
    name: 'a batch of turns as one set of statements',
    sql: `
-- The outbox items of a batch of turns (or of one), after the rest of their turns is written.
CREATE FUNCTION sportello_add_outbox(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_last jsonb;
  v_busy jsonb := '{}';
  v_claimed jsonb;
BEGIN
  -- Outbox items are numbered per conversation in turn order, after the conversation's last
  -- number. The sequence rows are locked first, in conversation id order (as in
  -- sportello_apply_turn): every writer of a conversation's outbox takes that lock, so what the
  -- statements below read of the conversation's unsent items is settled.
  WITH items AS (
    SELECT o.e->>'conversationId' AS conversation_id
    FROM jsonb_array_elements(turns) AS t(turn), jsonb_array_elements(COALESCE(t.turn->'outbox', '[]')) AS o(e)),
  seqs AS (
    INSERT INTO outbox_sequences (conversation_id, last_seq)
      SELECT conversation_id, count(*)::integer FROM items GROUP BY 1 ORDER BY conversation_id COLLATE "C"
      ON CONFLICT (conversation_id) DO UPDATE SET last_seq = outbox_sequences.last_seq + EXCLUDED.last_seq
      RETURNING conversation_id, last_seq)
  SELECT COALESCE(jsonb_object_agg(conversation_id, last_seq), '{}') INTO v_last FROM seqs;

  -- A turn that asks (turn->'claim': {now, until}) gets the items it may send at once leased to it
  -- in the same write, as a claim would (status sending, one attempt counted, reserved until
  -- "until"): an item due by "now" and first in line in its conversation (the batch's first for the
  -- conversation, none unsent before it). The others wait for a claim.
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(turns) AS t(e) WHERE jsonb_typeof(e->'claim') = 'object') THEN
    -- LATERAL … LIMIT 1: one probe of outbox_unsent per conversation (EXISTS was planned as a
    -- scan of every unsent item, which grows with a backlog).
    SELECT COALESCE(jsonb_object_agg(c.k, true), '{}') INTO v_busy
    FROM jsonb_object_keys(v_last) AS c(k)
    CROSS JOIN LATERAL (SELECT 1 FROM outbox p WHERE p.conversation_id = c.k AND p.status IN ('pending', 'sending') LIMIT 1) AS unsent;
  END IF;

  WITH items AS (
    SELECT o.e AS doc, o.e->>'conversationId' AS conversation_id, t.i, o.j, t.turn->'claim' AS claim,
           (v_last->>(o.e->>'conversationId'))::integer - count(*) OVER (PARTITION BY o.e->>'conversationId')
             + row_number() OVER (PARTITION BY o.e->>'conversationId' ORDER BY t.i, o.j) AS seq,
           row_number() OVER (PARTITION BY o.e->>'conversationId' ORDER BY t.i, o.j) = 1 AS first
    FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(turn, i), jsonb_array_elements(COALESCE(t.turn->'outbox', '[]')) WITH ORDINALITY AS o(e, j)),
  added AS (
    INSERT INTO outbox (id, doc)
      SELECT doc->>'id',
             CASE WHEN jsonb_typeof(claim) = 'object' AND first AND NOT (v_busy ? conversation_id)
                       AND (doc->>'notBefore')::double precision <= (claim->>'now')::double precision
                  THEN doc || jsonb_build_object('seq', seq, 'status', 'sending',
                                                 'attempts', COALESCE((doc->>'attempts')::integer, 0) + 1,
                                                 'notBefore', (claim->'until'))
                  ELSE doc || jsonb_build_object('seq', seq) END
      FROM items ORDER BY i, j
      RETURNING id, seq, status)
  SELECT COALESCE(jsonb_object_agg(id, seq) FILTER (WHERE status = 'sending'), '{}') INTO v_claimed FROM added;
  RETURN v_claimed;
END
$$;

-- A batch of turns written by one statement per table instead of about eight per turn: each
-- statement's executor start-up, plan lookup and PL/pgSQL glue are paid once per batch. The
-- result is that of applying the turns one after the other as long as no two of them write the
-- same row; every case where that could differ raises instead (the same row upserted twice:
-- "cannot affect row a second time"; a revision check or an "already processed" message; a
-- key taken), and sportello_commit_turns then applies the batch turn by turn (migration 5).
-- Rows shared between concurrent batches are locked in id order (byte order).
-- Returns the outbox items leased to their turns (turn->'claim', below) as {id: seq}.
CREATE FUNCTION sportello_apply_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_want bigint;
  v_done bigint;
  v_same bigint;
BEGIN
  -- The inbound messages, marked processed; any already processed: the batch takes the slow path.
  WITH x AS (
    SELECT e->'inbound'->>'channel' AS channel, e->'inbound'->>'id' AS id
    FROM jsonb_array_elements(turns) AS t(e) WHERE jsonb_typeof(e->'inbound') = 'object'),
  u AS (
    INSERT INTO inbound (channel, id, processed_at)
      SELECT channel, id, now() FROM x ORDER BY channel COLLATE "C", id COLLATE "C"
      ON CONFLICT (channel, id) DO UPDATE SET processed_at = now(), message = NULL WHERE inbound.processed_at IS NULL
      RETURNING 1)
  SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM u) INTO v_want, v_done;
  IF v_done <> v_want THEN
    RAISE EXCEPTION 'a message of the batch was already processed' USING ERRCODE = 'SP409';
  END IF;

  INSERT INTO customers (id, doc)
    SELECT e->'customer'->>'id', e->'customer' FROM jsonb_array_elements(turns) AS t(e)
    WHERE jsonb_typeof(e->'customer') = 'object' ORDER BY e->'customer'->>'id' COLLATE "C"
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  -- Conversations the turns did not read (new ones, operator actions): upserted.
  INSERT INTO conversations (id, doc)
    SELECT v.c->>'id', v.c FROM jsonb_array_elements(turns) AS t(e), jsonb_array_elements(COALESCE(e->'conversations', '[]')) AS v(c)
    WHERE e->'expect'->'conversations'->>(v.c->>'id') IS NULL ORDER BY v.c->>'id' COLLATE "C"
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  -- Conversations the turns read: written only at the revision read.
  WITH x AS (
    SELECT v.c->>'id' AS id, v.c AS doc, (e->'expect'->'conversations'->>(v.c->>'id'))::bigint AS rev
    FROM jsonb_array_elements(turns) AS t(e), jsonb_array_elements(COALESCE(e->'conversations', '[]')) AS v(c)
    WHERE e->'expect'->'conversations'->>(v.c->>'id') IS NOT NULL),
  u AS (
    -- = ANY(ARRAY(…)): primary-key probes (a join with x was planned as a scan of the table).
    UPDATE conversations c SET doc = x.doc FROM x
    WHERE c.id = ANY (ARRAY(SELECT id FROM x ORDER BY id COLLATE "C")) AND c.id = x.id AND c.rev = x.rev RETURNING 1)
  SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM u) INTO v_want, v_done;
  IF v_done <> v_want THEN
    RAISE EXCEPTION 'a conversation changed since its turn read it' USING ERRCODE = 'SP410';
  END IF;

  -- Cases: as in sportello_apply_turn, an unchanged case is not written, only its revision checked.
  INSERT INTO cases (id, doc)
    SELECT e->'case'->>'id', e->'case' FROM jsonb_array_elements(turns) AS t(e)
    WHERE jsonb_typeof(e->'case') = 'object' AND e->'expect'->'cases'->>(e->'case'->>'id') IS NULL
    ORDER BY e->'case'->>'id' COLLATE "C"
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc WHERE cases.doc IS DISTINCT FROM EXCLUDED.doc;
  WITH x AS (
    SELECT e->'case'->>'id' AS id, e->'case' AS doc, (e->'expect'->'cases'->>(e->'case'->>'id'))::bigint AS rev
    FROM jsonb_array_elements(turns) AS t(e)
    WHERE jsonb_typeof(e->'case') = 'object' AND e->'expect'->'cases'->>(e->'case'->>'id') IS NOT NULL),
  u AS (
    UPDATE cases c SET doc = x.doc FROM x
    WHERE c.id = ANY (ARRAY(SELECT id FROM x ORDER BY id COLLATE "C")) AND c.id = x.id AND c.rev = x.rev
      AND c.doc IS DISTINCT FROM x.doc RETURNING 1)
  SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM u) INTO v_want, v_done;
  IF v_done <> v_want THEN
    -- The rest must be unchanged at the revision read (a new statement: it sees what concurrent
    -- turns committed meanwhile; the cases written above now carry a newer revision).
    WITH x AS (
      SELECT e->'case'->>'id' AS id, e->'case' AS doc, (e->'expect'->'cases'->>(e->'case'->>'id'))::bigint AS rev
      FROM jsonb_array_elements(turns) AS t(e)
      WHERE jsonb_typeof(e->'case') = 'object' AND e->'expect'->'cases'->>(e->'case'->>'id') IS NOT NULL)
    SELECT count(*) INTO v_same FROM x JOIN cases c ON c.id = x.id AND c.rev = x.rev AND c.doc = x.doc
    WHERE c.id = ANY (ARRAY(SELECT id FROM x));
    IF v_done + v_same <> v_want THEN
      RAISE EXCEPTION 'a case changed since its turn read it' USING ERRCODE = 'SP410';
    END IF;
  END IF;

  -- Messages in turn order, so that n orders them as one turn after the other would.
  INSERT INTO messages (id, doc)
    SELECT m->>'id', m
    FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i), jsonb_array_elements(COALESCE(e->'messages', '[]')) WITH ORDINALITY AS v(m, j)
    ORDER BY i, j
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc;

  RETURN sportello_add_outbox(turns);
END
$$;

-- A single turn as sportello_apply_turn (migration 3) does it, its outbox items added by
-- sportello_add_outbox, so that it may lease them too. Returns the items leased, as {id: seq}.
CREATE FUNCTION sportello_apply_one_turn(turn jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM sportello_apply_turn(turn - 'outbox');
  RETURN sportello_add_outbox(jsonb_build_array(turn));
END
$$;

-- A batch turn by turn, each turn in a sub-block of its own, so a failing turn fails alone:
-- one outcome per turn ({"s":"ok"} with the leased items as "l", "processed", "conflict" or
-- "error"). The last resort of sportello_commit_turns, kept apart so that a later version of that
-- function need not restate it.
CREATE FUNCTION sportello_commit_turns_one_by_one(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_turn jsonb;
  v_out jsonb := '[]';
  v_one jsonb;
  v_state text;
  v_constraint text;
  v_message text;
BEGIN
  FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    BEGIN
      v_one := sportello_apply_one_turn(v_turn);
      v_out := v_out || CASE WHEN v_one = '{}' THEN '{"s":"ok"}'::jsonb ELSE jsonb_build_object('s', 'ok', 'l', v_one) END;
    EXCEPTION
      WHEN SQLSTATE 'SP409' THEN
        v_out := v_out || '{"s":"processed"}'::jsonb;
      WHEN SQLSTATE 'SP410' OR deadlock_detected OR serialization_failure THEN
        v_out := v_out || jsonb_build_object('s', 'conflict', 'm', SQLERRM);
      WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME, v_message = MESSAGE_TEXT;
        v_out := v_out || jsonb_build_object('s', 'error', 'c', v_state, 'k', v_constraint, 'm', v_message);
    END;
  END LOOP;
  RETURN v_out;
END
$$;

-- As migration 5's function, with two changes. A batch of three turns or more is first written
-- as one set (sportello_apply_turns); below that the set's statements cost more than they save
-- (replaying recorded turns one per call: 1.38 ms of CPU a turn as a set, 0.92 ms turn by turn),
-- and the batch is written turn by turn in one sub-block. When that raises (two turns writing
-- one row, a revision conflict, a processed message, a key taken), none of it is kept and the
-- batch is applied by sportello_commit_turns_one_by_one. And an outcome {"s":"ok"} may carry
-- "l": the turn's leased outbox items as {id: seq} (turn->'claim'); callers that ask for no
-- lease can ignore it.
CREATE OR REPLACE FUNCTION sportello_commit_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_turn jsonb;
  v_claimed jsonb := '{}';
BEGIN
  BEGIN
    IF jsonb_array_length(turns) >= 3 THEN
      v_claimed := sportello_apply_turns(turns);
    ELSE
      FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
        v_claimed := v_claimed || sportello_apply_one_turn(v_turn);
      END LOOP;
    END IF;
    RETURN COALESCE((
      SELECT jsonb_agg(CASE WHEN c.ids IS NULL THEN '{"s":"ok"}'::jsonb ELSE jsonb_build_object('s', 'ok', 'l', c.ids) END ORDER BY t.i)
      FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i)
      LEFT JOIN LATERAL (
        SELECT jsonb_object_agg(o->>'id', v_claimed->(o->>'id')) AS ids
        FROM jsonb_array_elements(COALESCE(t.e->'outbox', '[]')) AS o WHERE v_claimed ? (o->>'id')) c ON true), '[]');
  EXCEPTION WHEN OTHERS THEN
    NULL;
  END;
  RETURN sportello_commit_turns_one_by_one(turns);
END
$$;
`,
  },
];

/** The advisory lock key taken while migrating (an arbitrary constant: "sportello" in ASCII). */
export const MIGRATION_LOCK_KEY = '7309475736985652847';

/**
 * Applies every migration not yet recorded (in `schema` when given; the pool's sessions must
 * have it on their search_path). Safe when several instances start at once: they
 * queue on one advisory lock and the later ones find nothing left to do.
 */
export async function migrate(
  pool: Pool,
  schema?: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: number[]; current: number }> {
  const client: PoolClient = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      // The name was checked by the caller (lower-case letters, digits, _).
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const done = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
      const have = new Set(done.rows.map((r) => r.version));
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (have.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m.version);
        have.add(m.version);
      }
      return { applied, current: Math.max(0, ...have) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
