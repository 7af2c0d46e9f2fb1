-- Schema version 4: what `sportello report` reads (conversations.history) is found by time,
-- without scanning the tables: messages by their time, cases by when they opened.
CREATE INDEX IF NOT EXISTS messages_at ON messages (at);
CREATE INDEX IF NOT EXISTS cases_opened ON cases (opened_at);
