-- Version 3: each channel has its own send slots, so claims take due replies per channel. The
-- channel gets its own column and the due index leads with it: a claim for the web chat reads
-- about as many rows as it takes, however many replies wait for a platform that is down.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS channel text GENERATED ALWAYS AS (doc->>'channel') STORED;
CREATE INDEX IF NOT EXISTS outbox_due_by_channel ON outbox (channel, not_before, n) WHERE status IN ('pending', 'sending');
DROP INDEX IF EXISTS outbox_due;
