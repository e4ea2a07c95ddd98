-- Every login and every administrative action.
CREATE TABLE audit_log (
    id           {{serial}},
    at           BIGINT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    actor_login  TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    structure_id TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    success      BOOLEAN NOT NULL DEFAULT TRUE,
    details      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);
CREATE INDEX audit_log_structure ON audit_log(structure_id, at);
