-- Schema version 2: outbound event deliveries (webhooks), a queue of their own beside the outbox.
-- Written by sportello_apply_turns (functions.sql) and by approvals; claimed per order key (the
-- subscription and the conversation) in insertion order (n).
CREATE TABLE deliveries (
  id text PRIMARY KEY,
  n bigserial NOT NULL,
  doc jsonb NOT NULL,
  order_key text GENERATED ALWAYS AS (doc->>'orderKey') STORED,
  status text GENERATED ALWAYS AS (doc->>'status') STORED,
  subscription text GENERATED ALWAYS AS (doc->>'subscription') STORED,
  not_before double precision GENERATED ALWAYS AS ((doc->>'notBefore')::double precision) STORED
);
CREATE UNIQUE INDEX deliveries_n ON deliveries (n);
-- Each order key's undelivered deliveries: "is there one before this?" is one probe.
CREATE INDEX deliveries_unsent ON deliveries (order_key, n) WHERE status IN ('pending', 'sending');
-- Undelivered deliveries in the order claims take them.
CREATE INDEX deliveries_due ON deliveries (not_before, n) WHERE status IN ('pending', 'sending');
