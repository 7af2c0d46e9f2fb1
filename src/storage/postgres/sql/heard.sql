-- Schema version 8: posts heard by listening (docs/listening.md), newest first by when they were
-- written; `at` is an ISO time in UTC (Date.toISOString), so text order is time order.
CREATE TABLE heard (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  at text GENERATED ALWAYS AS (doc->>'at') STORED,
  class text GENERATED ALWAYS AS (doc->>'class') STORED,
  topic text GENERATED ALWAYS AS (doc->>'topic') STORED
);
CREATE UNIQUE INDEX heard_n ON heard (n);
CREATE INDEX heard_at ON heard (at DESC, n DESC);
