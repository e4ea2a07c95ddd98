-- Full-text search of messages: a generated French tsvector with a GIN index; a
-- removed message's body is emptied, and so leaves the index.
ALTER TABLE chat_messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('french', body)) STORED;

CREATE INDEX chat_messages_search ON chat_messages USING GIN (search);
