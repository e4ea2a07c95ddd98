-- Full-text search of subjects, bodies and sender names (tsvector with a GIN index).
ALTER TABLE mail_messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', sender_name), 'B') || setweight(to_tsvector('simple', body), 'C')) STORED;

CREATE INDEX mail_messages_search ON mail_messages USING GIN (search);
