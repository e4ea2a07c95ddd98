-- OpenID Connect clients are connectors too: their redirect URIs (space-separated,
-- matched exactly) and the SHA-256 of their secret ('' for public clients, which
-- rely on PKCE alone).
ALTER TABLE connectors ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';

ALTER TABLE connectors ADD COLUMN client_secret_hash TEXT NOT NULL DEFAULT '';
