-- Version 12: the search words of a message (and of a customer: name and handle) are written with
-- it, not computed by PostgreSQL.
-- As a generated column (versions 6 and 11) they cost PostgreSQL more than the rest of a message
-- row's insert: the fold (normalize, two regular expressions) and the text parser, about 20 µs a
-- message, two messages a turn (measured: bench/results/e2e.md, fourteenth session). The store
-- now folds the text in JavaScript, as the desk's query words are folded (util/fold.ts
-- `searchWords`: the index and the query can no longer disagree), and hands the words with the
-- turn: `array_to_tsvector` takes them without a parser. The words already stored stay as they are.
ALTER TABLE messages ALTER COLUMN words DROP EXPRESSION;
ALTER TABLE customers ALTER COLUMN words DROP EXPRESSION;
