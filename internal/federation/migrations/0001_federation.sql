-- Federated login: external OpenID Connect providers the super administrators
-- configure (their client secret encrypted with the deployment's secret key), the
-- links persons confirmed between an external identity and their account, and the
-- sign-ins under way (state, nonce and PKCE verifier; single use).

CREATE TABLE federation_providers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    secret_sealed  {{bytes}},               -- AES-256-GCM(nonce ‖ secret); NULL: public client
    claim          TEXT NOT NULL,           -- the claim of the ID token that names the person
    match_attr     TEXT NOT NULL,           -- the person attribute it is matched with: externalId, login
    created_at     BIGINT NOT NULL
);

CREATE TABLE federation_links (
    provider_id TEXT NOT NULL REFERENCES federation_providers(id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,              -- the claim's value
    person_id   TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);

CREATE INDEX federation_links_person ON federation_links(person_id);

CREATE TABLE federation_flows (
    id_hash      TEXT PRIMARY KEY,          -- SHA-256 of the state (then of the link handle)
    provider_id  TEXT NOT NULL REFERENCES federation_providers(id) ON DELETE CASCADE,
    nonce        TEXT NOT NULL DEFAULT '',
    verifier     TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',  -- a link waiting for the password: the external identity
    person_id    TEXT NOT NULL DEFAULT '',  -- and the account it matched
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE INDEX federation_flows_expires ON federation_flows(expires_at);
