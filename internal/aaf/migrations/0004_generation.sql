-- The lock row counts the imports that committed: an import that read a full export
-- before its transaction applies what it set aside only if no other import committed
-- in between.
ALTER TABLE aaf_lock ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
