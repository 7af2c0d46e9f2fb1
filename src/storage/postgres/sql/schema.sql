-- Sportello's tables (schema version 1). Applied once, by `migrate` (or `init()`); the functions
-- that write turns live in functions.sql and are re-created at every migrate.
--
-- Each domain object is stored whole as `doc jsonb` (the source of truth: adding an optional field
-- to a domain type needs no migration); the columns that queries filter and sort on are generated
-- from it and indexed. `n` keeps insertion order.

-- ISO-8601 text to timestamptz for generated columns. Only text carrying its offset (Z or +hh:mm,
-- as toISOString writes) is cast, so the result never depends on the session time zone: the
-- function really is immutable. Anything else becomes NULL (sorted last) instead of failing.
-- Plain SQL, no exception block: a PL/pgSQL handler would open a subtransaction on every row.
CREATE FUNCTION sportello_ts(t text) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN t ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$' THEN t::timestamptz END
$$;

-- Every update of a conversation or case gives it a new revision (a trigger, so no writer can
-- forget it): a turn's commit checks the revisions it read (optimistic concurrency).
CREATE FUNCTION sportello_next_rev() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.rev := OLD.rev + 1;
  RETURN NEW;
END
$$;

CREATE TABLE customers (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL
);

-- A turn rewrites its conversation's doc (and updated_at) but seldom its key, state, customer, case
-- or assignee. With updated_at in no index and a fifth of each page left free, such an update is a
-- HOT update: no index entry is written at all.
CREATE TABLE conversations (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  rev bigint NOT NULL DEFAULT 0,
  key text GENERATED ALWAYS AS (doc->>'key') STORED,
  state text GENERATED ALWAYS AS (doc->>'state') STORED,
  customer_id text GENERATED ALWAYS AS (doc->>'customerId') STORED,
  case_id text GENERATED ALWAYS AS (doc->>'caseId') STORED,
  assignee text GENERATED ALWAYS AS (doc->>'assignee') STORED,
  updated_at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'updatedAt')) STORED
) WITH (fillfactor = 80);
CREATE UNIQUE INDEX conversations_key ON conversations (key);
CREATE INDEX conversations_state ON conversations (state);
CREATE INDEX conversations_customer ON conversations (customer_id);
CREATE INDEX conversations_case ON conversations (case_id);
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE assignee IS NOT NULL;
CREATE TRIGGER conversations_rev BEFORE UPDATE ON conversations FOR EACH ROW EXECUTE FUNCTION sportello_next_rev();

CREATE TABLE cases (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  rev bigint NOT NULL DEFAULT 0,
  customer_id text GENERATED ALWAYS AS (doc->>'customerId') STORED,
  status text GENERATED ALWAYS AS (doc->>'status') STORED,
  opened_at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'openedAt')) STORED
);
CREATE INDEX cases_customer ON cases (customer_id, opened_at);
CREATE TRIGGER cases_rev BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION sportello_next_rev();

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
-- Sent replies are most of the outbox and nothing lists them by status alone: marking a reply sent
-- adds nothing to this index.
CREATE INDEX outbox_status ON outbox (status, n) WHERE status <> 'sent';
-- Unsent items in the order claims take them: a claim reads about as many rows as it takes.
CREATE INDEX outbox_due ON outbox (not_before, n) WHERE status IN ('pending', 'sending');

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

-- Namespaced values (`namespace:key`); one set with a time to live has expires_at.
CREATE TABLE store_values (
  name text PRIMARY KEY,
  value text NOT NULL,
  expires_at timestamptz
);
