-- Connected services (connecteurs): the LMS, the vie-scolaire software, publishers'
-- resources... each shown as a tile to the persons allowed to use it, and reached
-- with single sign-on when its protocol says so.

-- structure_id is the structure whose local administrators manage the connector;
-- NULL for the deployment's own connectors, managed by super administrators.
-- profiles and attributes are space-separated lists; profiles '' means every profile.
CREATE TABLE connectors (
    id            TEXT PRIMARY KEY,
    structure_id  TEXT REFERENCES structures(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    icon          TEXT NOT NULL,
    url           TEXT NOT NULL,
    protocol      TEXT NOT NULL,          -- cas, lien
    profiles      TEXT NOT NULL DEFAULT '',
    attributes    TEXT NOT NULL DEFAULT '',
    single_logout BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX connectors_structure ON connectors(structure_id);

-- The structures whose persons see a deployment connector; none: every structure.
-- A structure's own connector is seen by the persons of that structure only.
CREATE TABLE connector_structures (
    connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    structure_id TEXT NOT NULL REFERENCES structures(id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, structure_id)
);

CREATE INDEX connector_structures_structure ON connector_structures(structure_id);
