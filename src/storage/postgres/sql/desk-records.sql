-- Schema version 7: the desk's records (issue 21). The team's file on each customer record
-- (tags, notes, links; written by operators, never by turns) and the saved replies.
CREATE TABLE IF NOT EXISTS customer_files (
  customer_id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_files_tags ON customer_files USING gin ((doc->'tags'));

CREATE TABLE IF NOT EXISTS saved_replies (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  language text GENERATED ALWAYS AS (doc->>'language') STORED,
  shortcut text GENERATED ALWAYS AS (doc->>'shortcut') STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS saved_replies_shortcut ON saved_replies (language, shortcut);
