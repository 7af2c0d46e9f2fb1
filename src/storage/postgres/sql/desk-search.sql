-- Schema version 6: the desk's search (issue 21). Messages and customers carry their words as a
-- tsvector with the 'simple' configuration (no stemming: Italian and English alike) over text
-- folded to lower case without accents, GIN-indexed; a query matches each of its words as a word
-- start (`fattur:*`). Everything but letters and digits separates words (so "order-123" holds
-- "order" and "123", and an address "anna@example.com" its three parts), as in JavaScript. JavaScript folds the query's words the same way (storage/desk-records.ts).
CREATE OR REPLACE FUNCTION sportello_fold(t text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(lower(translate(coalesce(t, ''),
    'ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖòóôõöÙÚÛÜùúûüÇçÑñÝýÿŠšŽžČčĆćŘřĚěŁłŃńŚśŹźŻżĄąĘę',
    'AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNnYyySsZzCcCcRrEeLlNnSsZzZzAaEe')), '[^[:alnum:]]+', ' ', 'g')
$$;

ALTER TABLE messages ADD COLUMN IF NOT EXISTS words tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, sportello_fold(doc->>'text'))) STORED;
CREATE INDEX IF NOT EXISTS messages_words ON messages USING gin (words);

ALTER TABLE customers ADD COLUMN IF NOT EXISTS words tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, sportello_fold(coalesce(doc->>'name', '') || ' ' || coalesce(doc->>'handle', '')))) STORED;
CREATE INDEX IF NOT EXISTS customers_words ON customers USING gin (words);
