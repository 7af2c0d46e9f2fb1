-- The functions that write turns. Re-created (CREATE OR REPLACE) by every `migrate`, so this file
-- is always what the database runs: change it here, there is no migration to add.
--
-- A batch of turns is written one way: sportello_apply_turns, one statement per table for the
-- whole batch. sportello_commit_turns first tries the whole batch at once; if that raises (a turn
-- conflicts, its message was already processed, a key is taken, two turns write one row), it
-- applies the same function to each turn alone, each in a sub-block (a subtransaction), so a
-- failing turn fails alone and the others are written.

-- The outbox items of a batch of turns (or of one), after the rest of their turns is written.
-- Returns the items leased to their turns (turn->'claim') as {id: seq}.
CREATE OR REPLACE FUNCTION sportello_add_outbox(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_last jsonb;
  v_busy jsonb := '{}';
  v_claimed jsonb;
BEGIN
  -- Outbox items are numbered per conversation in turn order, after the conversation's last
  -- number. The sequence rows are locked first, in conversation id order: every writer of a
  -- conversation's outbox takes that lock, so what the statements below read of the
  -- conversation's unsent items is settled.
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

-- A batch of turns (TurnRecord as JSON, events left out) written by one statement per table: each
-- statement's executor start-up, plan lookup and PL/pgSQL glue are paid once per batch. The result
-- is that of applying the turns one after the other as long as no two of them write the same row;
-- every case where that could differ raises instead (the same row upserted twice: "cannot affect
-- row a second time"; a revision check or an "already processed" message; a key taken). Rows
-- shared between concurrent batches are locked in id order (byte order).
--   SP409: a message of the batch was already processed (→ AlreadyProcessedError).
--   SP410: a conversation or case is not as its turn read it (→ TurnConflictError): it changed
--          since (its revision is not the one in turn->'expect'), or it is already stored and
--          the turn did not read it (not in turn->'expect' at all).
CREATE OR REPLACE FUNCTION sportello_apply_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_want bigint;
  v_done bigint;
  v_row record;
BEGIN
  -- The inbound messages, marked processed (the body is dropped). The row lock serialises two
  -- instances committing the same message; the loser finds it processed.
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

  -- The customer, with their search words (name and handle: turn->'customerWords', words.ts).
  INSERT INTO customers (id, doc, words)
    SELECT e->'customer'->>'id', e->'customer', array_to_tsvector(string_to_array(e->>'customerWords', ' ')) FROM jsonb_array_elements(turns) AS t(e)
    WHERE jsonb_typeof(e->'customer') = 'object' ORDER BY e->'customer'->>'id' COLLATE "C"
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, words = EXCLUDED.words;

  -- Conversations the turns did not read: new ones only. One already stored fails its turn.
  WITH x AS (
    SELECT v.c->>'id' AS id, v.c AS doc
    FROM jsonb_array_elements(turns) AS t(e), jsonb_array_elements(COALESCE(e->'conversations', '[]')) AS v(c)
    WHERE e->'expect'->'conversations'->>(v.c->>'id') IS NULL),
  u AS (
    INSERT INTO conversations (id, doc) SELECT id, doc FROM x ORDER BY id COLLATE "C"
    ON CONFLICT (id) DO NOTHING RETURNING 1)
  SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM u) INTO v_want, v_done;
  IF v_done <> v_want THEN
    RAISE EXCEPTION 'a turn writes a stored conversation it did not read' USING ERRCODE = 'SP410';
  END IF;

  -- Conversations the turns read: written only at the revision read. At READ COMMITTED a
  -- concurrent writer's row is waited for and re-checked: its new revision fails the test. One
  -- primary-key statement a row, in id order (rows shared between concurrent batches are locked
  -- in that order). A set-based join was planned by the table's size when the connection first
  -- ran it, and a plan made on a young table (a scan of the table, or a probe of every id for
  -- each row) was kept while the table grew.
  FOR v_row IN
    SELECT v.c->>'id' AS id, v.c AS doc, (e->'expect'->'conversations'->>(v.c->>'id'))::bigint AS rev
    FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i), jsonb_array_elements(COALESCE(e->'conversations', '[]')) AS v(c)
    WHERE e->'expect'->'conversations'->>(v.c->>'id') IS NOT NULL
    ORDER BY v.c->>'id' COLLATE "C", i
  LOOP
    UPDATE conversations SET doc = v_row.doc WHERE id = v_row.id AND rev = v_row.rev;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'a conversation changed since its turn read it' USING ERRCODE = 'SP410';
    END IF;
  END LOOP;

  -- Cases the turns did not read: new ones only.
  WITH x AS (
    SELECT e->'case'->>'id' AS id, e->'case' AS doc FROM jsonb_array_elements(turns) AS t(e)
    WHERE jsonb_typeof(e->'case') = 'object' AND e->'expect'->'cases'->>(e->'case'->>'id') IS NULL),
  u AS (
    INSERT INTO cases (id, doc) SELECT id, doc FROM x ORDER BY id COLLATE "C"
    ON CONFLICT (id) DO NOTHING RETURNING 1)
  SELECT (SELECT count(*) FROM x), (SELECT count(*) FROM u) INTO v_want, v_done;
  IF v_done <> v_want THEN
    RAISE EXCEPTION 'a turn writes a stored case it did not read' USING ERRCODE = 'SP410';
  END IF;

  -- Cases the turns read, row by row like conversations. Most turns hand back their case
  -- unchanged: then nothing is written (no new row version, no index entries, no WAL), only the
  -- revision is checked (a new statement: it sees what an earlier turn of the batch wrote, whose
  -- newer revision fails the check, and the batch is then applied turn by turn).
  FOR v_row IN
    SELECT e->'case'->>'id' AS id, e->'case' AS doc, (e->'expect'->'cases'->>(e->'case'->>'id'))::bigint AS rev
    FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i)
    WHERE jsonb_typeof(e->'case') = 'object' AND e->'expect'->'cases'->>(e->'case'->>'id') IS NOT NULL
    ORDER BY e->'case'->>'id' COLLATE "C", i
  LOOP
    UPDATE cases SET doc = v_row.doc WHERE id = v_row.id AND rev = v_row.rev AND doc IS DISTINCT FROM v_row.doc;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM cases WHERE id = v_row.id AND rev = v_row.rev) THEN
      RAISE EXCEPTION 'a case changed since its turn read it' USING ERRCODE = 'SP410';
    END IF;
  END LOOP;

  -- Messages in turn order, so that n orders them as one turn after the other would. A message
  -- with an id already stored replaces it in place. Its search words come with the turn
  -- (turn->'words': one string of words separated by spaces per message, in order; words.ts).
  INSERT INTO messages (id, doc, words)
    SELECT m->>'id', m, array_to_tsvector(string_to_array(e->'words'->>(j::integer - 1), ' '))
    FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i), jsonb_array_elements(COALESCE(e->'messages', '[]')) WITH ORDINALITY AS v(m, j)
    ORDER BY i, j
    ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, words = EXCLUDED.words;

  -- Outbound event deliveries (webhooks), in turn order. Turns carry them only when a subscription
  -- wants their events: without one, this costs one look at the batch and no statement.
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(turns) AS t(e) WHERE jsonb_typeof(e->'deliveries') = 'array') THEN
    INSERT INTO deliveries (id, doc)
      SELECT d->>'id', d
      FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i), jsonb_array_elements(COALESCE(e->'deliveries', '[]')) WITH ORDINALITY AS v(d, j)
      ORDER BY i, j;
  END IF;

  RETURN sportello_add_outbox(turns);
END
$$;

-- Many turns in one statement, so one transaction and one WAL flush for all of them (group
-- commit). Returns one outcome per turn, in order: {"s":"ok"} (with "l": the turn's leased outbox
-- items as {id: seq}, when it has some) | {"s":"processed"} | {"s":"conflict","m":…} |
-- {"s":"error","c":sqlstate,"k":constraint,"m":…}.
CREATE OR REPLACE FUNCTION sportello_commit_turns(turns jsonb) RETURNS jsonb
  LANGUAGE plpgsql AS $$
DECLARE
  v_turn jsonb;
  v_claimed jsonb;
  v_out jsonb := '[]';
  v_state text;
  v_constraint text;
  v_message text;
BEGIN
  -- The whole batch at once, in one sub-block (one subtransaction: turns rarely fail). A batch of
  -- one goes straight to the loop below, which does the same.
  IF jsonb_array_length(turns) > 1 THEN
    BEGIN
      v_claimed := sportello_apply_turns(turns);
      RETURN COALESCE((
        SELECT jsonb_agg(CASE WHEN c.ids IS NULL THEN '{"s":"ok"}'::jsonb ELSE jsonb_build_object('s', 'ok', 'l', c.ids) END ORDER BY t.i)
        FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i)
        LEFT JOIN LATERAL (
          SELECT jsonb_object_agg(o->>'id', v_claimed->(o->>'id')) AS ids
          FROM jsonb_array_elements(COALESCE(t.e->'outbox', '[]')) AS o WHERE v_claimed ? (o->>'id')) c ON true), '[]');
    EXCEPTION WHEN OTHERS THEN
      NULL;
    END;
  END IF;

  -- Turn by turn, each in a sub-block of its own, so a failing turn fails alone.
  FOR v_turn IN SELECT e FROM jsonb_array_elements(turns) WITH ORDINALITY AS t(e, i) ORDER BY i LOOP
    BEGIN
      v_claimed := sportello_apply_turns(jsonb_build_array(v_turn));
      v_out := v_out || CASE WHEN v_claimed = '{}' THEN '{"s":"ok"}'::jsonb ELSE jsonb_build_object('s', 'ok', 'l', v_claimed) END;
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
