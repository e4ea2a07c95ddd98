-- Portals: the host name picks one. kind default, etablissement or partner.
CREATE TABLE portals (
    id                   TEXT PRIMARY KEY,
    host                 TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL,
    structure_id         TEXT REFERENCES structures(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    color_primary        TEXT NOT NULL DEFAULT '#1f4e8c',
    color_accent         TEXT NOT NULL DEFAULT '#b3441e',
    logo                 {{bytes}},
    logo_type            TEXT NOT NULL DEFAULT '',
    publication_director TEXT NOT NULL DEFAULT '',
    legal_notice         TEXT NOT NULL DEFAULT '',
    contact              TEXT NOT NULL DEFAULT '',
    updated_at           BIGINT NOT NULL
);

CREATE INDEX portals_structure ON portals(structure_id);
