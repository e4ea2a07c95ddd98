-- Persons that left the directory's feeds are not deleted at once: removed_at says
-- since when they are missing (0: not missing). After a grace period they lose access
-- (state 'removed', their previous state kept in removed_state so that a return
-- restores it); after a second period they are purged.

ALTER TABLE persons ADD COLUMN removed_at BIGINT NOT NULL DEFAULT 0;

ALTER TABLE persons ADD COLUMN removed_state TEXT NOT NULL DEFAULT '';

CREATE INDEX persons_removed ON persons(removed_at) WHERE removed_at > 0;
