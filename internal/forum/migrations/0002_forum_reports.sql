-- Reports (signalements) of forum messages; outcome: '' while open, removed or dismissed.
CREATE TABLE forum_reports (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES forum_messages(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL,
    reporter_id  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',
    resolved_by  TEXT NOT NULL DEFAULT '',
    resolved_at  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);

CREATE INDEX forum_reports_open ON forum_reports(structure_id, outcome, created_at);
