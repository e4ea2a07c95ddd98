-- SAML 2.0 service providers are connectors too: their entity ID (unique among SAML
-- connectors, checked by the service), their assertion consumer service addresses
-- (space-separated, matched exactly; the first is the default), their single logout
-- address, their request-signing certificate (PEM, optional: when set, their requests
-- must be signed) and whether the connector is the GAR (national resources gateway),
-- which receives the GAR attribute set.
ALTER TABLE connectors ADD COLUMN entity_id TEXT NOT NULL DEFAULT '';

ALTER TABLE connectors ADD COLUMN acs_urls TEXT NOT NULL DEFAULT '';

ALTER TABLE connectors ADD COLUMN slo_url TEXT NOT NULL DEFAULT '';

ALTER TABLE connectors ADD COLUMN sp_cert TEXT NOT NULL DEFAULT '';

ALTER TABLE connectors ADD COLUMN gar BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX connectors_entity ON connectors(entity_id);
