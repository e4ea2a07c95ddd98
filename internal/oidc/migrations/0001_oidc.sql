-- OpenID Connect provider: signing keys (private part encrypted with the
-- deployment's secret key) and grants (authorization codes, access and refresh
-- tokens), stored as SHA-256 hashes so that a copy of the database replays nothing.

CREATE TABLE oidc_keys (
    id             TEXT PRIMARY KEY,      -- the JWK "kid"
    created_at     BIGINT NOT NULL,
    private_sealed {{bytes}} NOT NULL     -- AES-256-GCM(nonce ‖ PKCS#1 DER)
);

CREATE TABLE oidc_grants (
    id_hash        TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,         -- code, access, refresh
    client_id      TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    person_id      TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL,         -- the Préau session: its end ends the grants
    family         TEXT NOT NULL,         -- every token descending from one code: a replayed refresh token revokes them all
    scope          TEXT NOT NULL,
    nonce          TEXT NOT NULL DEFAULT '',
    redirect_uri   TEXT NOT NULL DEFAULT '',
    code_challenge TEXT NOT NULL DEFAULT '',
    auth_at        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX oidc_grants_session ON oidc_grants(session_id);
CREATE INDEX oidc_grants_family ON oidc_grants(family);
CREATE INDEX oidc_grants_person ON oidc_grants(person_id);
CREATE INDEX oidc_grants_expires ON oidc_grants(expires_at);
