-- Schema version 5: the survey job's work list (conversations.casesAwaitingSurvey), resolved cases
-- without a survey decided yet, or whose low score's follow-up is still to be opened, by
-- resolution time. A partial index: a case leaves it when its survey is sent or skipped (and its
-- follow-up opened), so it stays as small as the cases still waiting. Cases are rewritten only
-- when they change (not on every turn), so indexing their doc costs turns nothing.
CREATE INDEX IF NOT EXISTS cases_awaiting_survey ON cases (sportello_ts(doc->>'resolvedAt'))
  WHERE status = 'resolved' AND (NOT (doc ? 'survey') OR (doc->'survey') ? 'followUpDue');
