-- Version 10: the audit trail (issue 22): operators' and admins' actions, append-only. A trigger
-- refuses every UPDATE and DELETE, so no writer (nor a mistaken query) can change the record.
CREATE TABLE audit_log (
  n bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  doc jsonb NOT NULL,
  at timestamptz GENERATED ALWAYS AS (sportello_ts(doc->>'at')) STORED,
  operator_id text GENERATED ALWAYS AS (doc->>'operatorId') STORED
);
CREATE INDEX audit_log_at ON audit_log (at, n);
CREATE INDEX audit_log_operator ON audit_log (operator_id, at, n);

CREATE FUNCTION sportello_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION sportello_audit_append_only();
