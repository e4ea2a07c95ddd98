-- SAML 2.0 identity provider: signing keys (private part encrypted with the
-- deployment's secret key), the authentication requests received (their IDs are
-- single-use: a replayed request is refused), and the sessions opened at service
-- providers (for single logout).

CREATE TABLE saml_keys (
    id             TEXT PRIMARY KEY,
    created_at     BIGINT NOT NULL,
    private_sealed {{bytes}} NOT NULL     -- AES-256-GCM(nonce ‖ PKCS#1 DER)
);

-- One row per request accepted from a service provider (or started by Préau for an
-- IdP-initiated sign-on, request_id ''). The browser holds the handle, stored here as
-- its SHA-256; the response is issued once.
CREATE TABLE saml_requests (
    id_hash      TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL,            -- the AuthnRequest ID, answered in InResponseTo
    connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    acs_url      TEXT NOT NULL,
    relay_state  TEXT NOT NULL DEFAULT '',
    force_authn  BOOLEAN NOT NULL DEFAULT FALSE,
    passive      BOOLEAN NOT NULL DEFAULT FALSE,
    transient    BOOLEAN NOT NULL DEFAULT FALSE, -- a transient NameID was asked for
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0
);

-- A request ID is accepted once per service provider.
CREATE UNIQUE INDEX saml_requests_id ON saml_requests(connector_id, request_id) WHERE request_id <> '';
CREATE INDEX saml_requests_expires ON saml_requests(expires_at);

-- Sessions at service providers: the SessionIndex and NameID a logout message names.
CREATE TABLE saml_sessions (
    session_index TEXT PRIMARY KEY,
    session_id    TEXT NOT NULL,           -- the Préau session
    person_id     TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    connector_id  TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    name_id       TEXT NOT NULL,
    name_format   TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE INDEX saml_sessions_session ON saml_sessions(session_id);
CREATE INDEX saml_sessions_person ON saml_sessions(person_id);
CREATE INDEX saml_sessions_created ON saml_sessions(created_at);
