-- Consents given by persons to OpenID Connect clients that ask for it. The released
-- attributes are part of the consent: when the administrator changes them, the
-- person is asked again.
CREATE TABLE oidc_consents (
    person_id  TEXT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    attributes TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, client_id)
);
