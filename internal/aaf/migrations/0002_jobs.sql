-- Imports started from the console run in the background: their progress lives in
-- the database, so that whichever instance serves the page can show it.
CREATE TABLE aaf_jobs (
    id          TEXT PRIMARY KEY,
    actor_login TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,            -- running, done, failed
    files_done  BIGINT NOT NULL DEFAULT 0,
    files_total BIGINT NOT NULL DEFAULT 0,
    report_id   TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
