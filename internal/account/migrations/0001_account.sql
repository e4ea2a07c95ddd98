-- Credentials, activation, password resets and server-side sessions.

CREATE TABLE credentials (
    person_id        TEXT PRIMARY KEY REFERENCES persons(id) ON DELETE CASCADE,
    password_hash    TEXT NOT NULL DEFAULT '',
    activation_hash  TEXT NOT NULL DEFAULT '',   -- SHA-256 of the activation code
    activation_until BIGINT NOT NULL DEFAULT 0,
    failed_count     BIGINT NOT NULL DEFAULT 0,
    locked_until     BIGINT NOT NULL DEFAULT 0,
    password_changed BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX password_resets_person ON password_resets(person_id);

-- Sessions are stored under the SHA-256 of their id: reading the table gives no session.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);

CREATE INDEX sessions_person ON sessions(person_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- Fixed-window counters shared by every instance (login attempts per address...).
CREATE TABLE rate_counters (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL
);

-- "Mot de passe oublié" finds accounts by e-mail address, case-insensitively; without
-- this index every request would scan the persons table.
CREATE INDEX account_persons_email ON persons(lower(email));
