-- CAS tickets. They live in the database so that any instance validates a ticket
-- another instance issued. id_hash is the SHA-256 of the ticket: whoever reads the
-- database cannot use a ticket still valid.
CREATE TABLE cas_tickets (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,            -- ST (service), PT (proxy), PGT (proxy-granting)
    person_id    TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    session_id   TEXT NOT NULL,            -- the Préau session it was issued in, for single logout
    connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    service      TEXT NOT NULL,            -- ST, PT: the exact service URL; PGT: the callback URL
    new_login    BOOLEAN NOT NULL,         -- issued right after the person typed their password
    auth_at      BIGINT NOT NULL,          -- when the person authenticated
    proxies      TEXT NOT NULL DEFAULT '', -- PT, PGT: the proxy callback URLs, nearest first, space-separated
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0,
    -- Once an ST or PT is validated it is worth nothing, and becomes the SessionIndex
    -- of the single logout message its service receives when the session ends.
    slo_index    TEXT NOT NULL DEFAULT ''
);

CREATE INDEX cas_tickets_session ON cas_tickets(session_id);
CREATE INDEX cas_tickets_person ON cas_tickets(person_id);
CREATE INDEX cas_tickets_expires ON cas_tickets(expires_at);
